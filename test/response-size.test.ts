import { expandResponse, type GuardResponse, type GuardWireResponse, isIndexed } from '../client/contract';
import { fitResponse, jsonBytes } from '../lambdas/guard/response-size';

// A request of 6 recipients: two allowed, two suppressed, two invalid, in mixed order.
const request = {
  recipients: ['bad-1', ' Kept@example.org', 'gone@example.org', 'bad-2', 'left@example.org ', 'also-gone@example.org'],
};
const full: GuardResponse = {
  proceed: true,
  problems: [],
  sender: { identity: 'example.com', region: 'us-east-1', verified: true } as unknown as GuardResponse['sender'],
  account: {} as GuardResponse['account'],
  recipients: {
    total: 6,
    allowed: ['Kept@example.org', 'left@example.org'],
    suppressed: [
      { address: 'gone@example.org', reason: 'BOUNCE', regions: ['us-east-1'], since: '2026-01-01T00:00:00.000Z' },
      { address: 'also-gone@example.org', reason: 'COMPLAINT', regions: ['eu-west-1'], since: '2026-01-02T00:00:00.000Z' },
    ],
    invalid: [
      { address: 'bad-1', error: 'recipients[0] "bad-1" is not a valid address: it has no @' },
      { address: 'bad-2', error: 'recipients[3] "bad-2" is not a valid address: it has no @' },
    ],
    duplicates: 0,
  },
};
const positions = { allowed: [1, 4], suppressed: [2, 5], invalid: [0, 3] };

describe('Function: fitResponse', () => {
  it('returns the full form when it fits', () => {
    // Act
    const fitted = fitResponse(full, positions, jsonBytes, jsonBytes(full));

    // Assess
    expect(fitted).toEqual({ response: full, form: 'full', omitted: 0 });
  });

  it('names recipients by position when the full form is one byte too large, and the client expands it back exactly', () => {
    // Act
    const fitted = fitResponse(full, positions, jsonBytes, jsonBytes(full) - 1);

    // Assess
    expect(fitted.form).toBe('indexed');
    expect(fitted.omitted).toBe(0);
    expect(isIndexed(fitted.response)).toBe(true);
    expect(fitted.response.recipients).toMatchObject({ form: 'indexed', total: 6, allowedIndexes: [1, 4], duplicates: 0 });
    expect(fitted.response.recipients).not.toHaveProperty('omitted');
    expect(JSON.stringify(fitted.response)).not.toContain('@example.org');
    expect(expandResponse(fitted.response, request)).toEqual(full);
  });

  it('leaves out invalid entries first, then suppressed ones, counting them, and never shortens the allowed list', () => {
    // Prepare: the indexed form, and its size without one invalid entry.
    const indexed = fitResponse(full, positions, jsonBytes, jsonBytes(full) - 1).response;
    const limit = jsonBytes(indexed) - 1;

    // Act
    const one = fitResponse(full, positions, jsonBytes, limit);
    const most = fitResponse(full, positions, jsonBytes, jsonBytes(indexed) - 200);

    // Assess
    expect(jsonBytes(one.response)).toBeLessThanOrEqual(limit);
    expect(one.response.recipients).toMatchObject({ invalid: [{ index: 0 }], omitted: { invalid: 1, suppressed: 0 } });
    expect(one.omitted).toBe(1);
    expect(jsonBytes(most.response)).toBeLessThanOrEqual(jsonBytes(indexed) - 200);
    expect(most.response.recipients).toMatchObject({ allowedIndexes: [1, 4], invalid: [], omitted: { invalid: 2 } });
    const expanded = expandResponse(most.response, request);
    expect(expanded.recipients.allowed).toEqual(full.recipients.allowed);
    expect(expanded.recipients.omitted?.invalid).toBe(2);
    expect(expanded.recipients.suppressed.length + expanded.recipients.omitted!.suppressed).toBe(2);
  });

  it('throws rather than return an answer over the limit', () => {
    // Act / Assess
    expect(() => fitResponse(full, positions, jsonBytes, 100)).toThrow(RangeError);
  });
});

describe('Function: expandResponse', () => {
  it('returns a full answer as it is', () => {
    expect(expandResponse(full, request)).toBe(full);
  });

  it('refuses an indexed answer that names a position the request does not have', () => {
    // Prepare
    const wire = fitResponse(full, positions, jsonBytes, jsonBytes(full) - 1).response as GuardWireResponse;

    // Act / Assess
    expect(() => expandResponse(wire, { recipients: request.recipients.slice(0, 3) })).toThrow(/recipient 4/);
  });
});
