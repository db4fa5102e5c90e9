import { boundedValue, excerpt, redactAddresses } from '../lambdas/domain/text';

describe('Function: redactAddresses', () => {
  it.each([
    ['bounce for jane@example.org today', 'bounce for <address> today'],
    ['"Jane" <jane@example.org>, bob@example.net', '"Jane" <<address>>, <address>'],
    ['no address here @ all', 'no address here @ all'],
    ['handle @jane and mail@', 'handle @jane and mail@'],
  ])('redacts %j', (text, expected) => {
    // Act / Assess
    expect(redactAddresses(text)).toBe(expected);
  });

  it('keeps a 1,000,000-character run without "@" unchanged', () => {
    // Prepare
    const text = 'a'.repeat(1_000_000);

    // Act / Assess
    expect(redactAddresses(text)).toBe(text);
  });
});

describe('Function: excerpt', () => {
  it('quotes a short string as given and a long one as a prefix with its length', () => {
    // Act / Assess
    expect(excerpt('us-east-1')).toBe('"us-east-1"');
    expect(excerpt('x'.repeat(100))).toBe(`"${'x'.repeat(64)}"... (100 characters)`);
  });
});

describe('Function: boundedValue', () => {
  it('returns small values as given', () => {
    // Act / Assess
    expect(boundedValue({ team: 'x', n: [1, 2] })).toEqual({ team: 'x', n: [1, 2] });
    expect(boundedValue(undefined)).toBeNull();
  });

  it('cuts a large object to a JSON excerpt of at most the budget', () => {
    // Act
    const value = boundedValue({ key: 'v'.repeat(5_000) });

    // Assess
    expect(typeof value).toBe('string');
    expect((value as string).length).toBeLessThanOrEqual(203);
    expect(value).toMatch(/^\{"key":"v+/);
  });

  it('stops a 100,000-deep array at the budget instead of walking it', () => {
    // Prepare
    let nested: unknown = 0;
    for (let i = 0; i < 100_000; i++) nested = [nested];

    // Act
    const value = boundedValue(nested);

    // Assess
    expect(value).toBe(`${'['.repeat(200)}...`);
  });
});
