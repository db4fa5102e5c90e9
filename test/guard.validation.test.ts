import type { GuardResponse } from '../client/contract';
import { parseFrom } from '../lambdas/domain/email';
import { evaluate, type GuardDeps } from '../lambdas/guard/guard';
import { SesEmulator } from '../local/ses-emulator';
import { guardDeps, syncAllRegions, verifyDomain } from './support/guard';
import { createTestTables, type TestTables } from './support/local-aws';

const VALID = { from: 'Campaigns <campaigns@example.com>', region: 'us-west-2', recipients: ['a@example.org'] };

// One environment for every test of the file: a valid request proceeds in it, so only the input can stop it.
let emu: SesEmulator;
let deps: GuardDeps;
beforeAll(async () => {
  emu = await SesEmulator.start({ requestsPerSecond: 0 });
  const tables: TestTables = await createTestTables();
  verifyDomain(emu, 'example.com');
  await syncAllRegions(emu, tables);
  deps = guardDeps(emu, tables);
});
afterAll(async () => {
  await emu.stop();
});

describe('Function: evaluate (bad input)', () => {
  it('proceeds with the valid baseline request', async () => {
    // Act
    const response = await evaluate(VALID, deps);

    // Assess
    expect(response.proceed).toBe(true);
  });

  const matrix: Array<[string, unknown, string, unknown]> = [
    ['a null request', null, '(request)', null],
    ['a string request', 'send it', '(request)', 'send it'],
    ['an array request', [VALID], '(request)', [VALID]],
    ['a missing from', { recipients: ['a@example.org'] }, 'from', null],
    ['a from that is not a string', { ...VALID, from: 42 }, 'from', 42],
    ['a from without "@"', { ...VALID, from: 'campaigns.example.com' }, 'from', 'campaigns.example.com'],
    ['a from with an empty address', { ...VALID, from: 'Campaigns <>' }, 'from', 'Campaigns <>'],
    [
      'a from with a broken display name',
      { ...VALID, from: 'Campaigns <campaigns@example.com' },
      'from',
      'Campaigns <campaigns@example.com',
    ],
    ['a from with an invalid domain', { ...VALID, from: 'campaigns@example' }, 'from', 'campaigns@example'],
    ['an unknown region', { ...VALID, region: 'us-west-9' }, 'region', 'us-west-9'],
    ['an SES region that is not configured', { ...VALID, region: 'ap-south-1' }, 'region', 'ap-south-1'],
    ['a region that is not a string', { ...VALID, region: 2 }, 'region', 2],
    ['missing recipients', { from: VALID.from }, 'recipients', null],
    ['recipients as a string', { ...VALID, recipients: 'a@example.org' }, 'recipients', 'a@example.org'],
    ['an empty recipient list', { ...VALID, recipients: [] }, 'recipients', []],
    [
      '50,001 recipients',
      { ...VALID, recipients: Array.from({ length: 50_001 }, (_, i) => `r${i}@example.org`) },
      'recipients',
      '[array of 50001 items]',
    ],
    ['a recipient that is not a string', { ...VALID, recipients: ['a@example.org', 7] }, 'recipients[1]', 7],
    ['a null recipient', { ...VALID, recipients: [null] }, 'recipients[0]', null],
    ['an invalid configuration set name', { ...VALID, configurationSetName: 'my set!' }, 'configurationSetName', 'my set!'],
    ['a configuration set name that is not a string', { ...VALID, configurationSetName: ['a'] }, 'configurationSetName', ['a']],
    ['a caller that is not a string', { ...VALID, caller: { team: 'x' } }, 'caller', { team: 'x' }],
    ['an unknown field', { ...VALID, recipient: ['b@example.org'] }, 'recipient', ['b@example.org']],
    ['a misspelt optional field', { ...VALID, configurationSet: 'marketing' }, 'configurationSet', 'marketing'],
  ];

  it.each(matrix)('rejects %s with INVALID_REQUEST naming the field and the value', async (_name, event, field, value) => {
    // Act
    const response = await evaluate(event, deps);

    // Assess
    expect(response.proceed).toBe(false);
    expect(response.sender).toBeNull();
    expect(response.recipients.allowed).toEqual([]);
    expect(response.problems.every((p) => p.code === 'INVALID_REQUEST' && p.severity === 'block')).toBe(true);
    const issue = response.problems.find((p) => p.details.field === field);
    expect(issue).toBeDefined();
    expect(issue!.details.value).toEqual(value);
    expect(issue!.message).toContain(field === '(request)' ? 'the request' : field);
    if (typeof value === 'string' && value.length < 60 && !value.startsWith('[')) expect(issue!.message).toContain(value);
  });

  it('reports every issue of a request at once', async () => {
    // Act
    const response = await evaluate({ from: 1, region: 'nowhere', recipients: [], extra: true }, deps);

    // Assess
    expect(response.problems.map((p) => p.details.field).sort()).toEqual(['extra', 'from', 'recipients', 'region']);
  });

  it("rejects a request without a region when the guard's own region is not configured", async () => {
    // Act
    const response = await evaluate({ from: VALID.from, recipients: VALID.recipients }, { ...deps, defaultRegion: 'ap-south-1' });

    // Assess
    expect(response.proceed).toBe(false);
    expect(response.problems).toEqual([
      expect.objectContaining({
        code: 'INVALID_REQUEST',
        details: { field: 'region', value: 'ap-south-1' },
        message: expect.stringContaining("defaults to the guard's region"),
      }),
    ]);
  });

  it('accepts 50,000 recipients', async () => {
    // Act
    const response: GuardResponse = await evaluate(
      { ...VALID, recipients: Array.from({ length: 50_000 }, (_, i) => `r${i}@example.org`) },
      deps,
    );

    // Assess
    expect(response.proceed).toBe(true);
    expect(response.recipients.allowed).toHaveLength(50_000);
  });

  const malformed = [
    ['@example.org', 'has nothing before the "@"'],
    ['a@', 'has no domain after the "@"'],
    ['a@@example.org', 'more than one "@"'],
    ['a b@example.org', 'contains whitespace'],
    ['a@example', 'not a fully qualified host name'],
    ['a..b@example.org', 'invalid local part'],
    ['.a@example.org', 'invalid local part'],
    ['a@-example.org', 'invalid domain'],
    ['a@exa_mple.org', 'invalid domain'],
    ['a@example.123', 'top-level label is numeric'],
    ['Name <a@example.org>', 'bare address'],
    ['jürgen@example.org', 'non-ASCII'],
    [`${'x'.repeat(65)}@example.org`, 'limit is 64'],
    ['a@[192.0.2.1]', 'IP-address literal'],
    ['"quoted"@example.org', 'quoted local part'],
    ['', 'is empty'],
  ] as const;

  it('drops malformed recipient addresses into invalid with an error naming the position and the value, and never proceeds on them alone', async () => {
    // Act
    const response = await evaluate({ ...VALID, recipients: malformed.map(([address]) => address) }, deps);

    // Assess
    expect(response.proceed).toBe(false);
    expect(response.recipients.allowed).toEqual([]);
    expect(response.recipients.invalid).toHaveLength(malformed.length);
    malformed.forEach(([address, why], index) => {
      expect(response.recipients.invalid[index]).toEqual({
        address,
        error: expect.stringContaining(`recipients[${index}] ${JSON.stringify(address)}`),
      });
      expect(response.recipients.invalid[index]!.error).toContain(why);
    });
    expect(response.problems.map((p) => p.code).sort()).toEqual(['NO_DELIVERABLE_RECIPIENTS', 'RECIPIENTS_INVALID']);
  });

  it('accepts unusual but valid addresses', async () => {
    // Act
    const response = await evaluate(
      { ...VALID, recipients: ["o'brien+tag@mail.example.co.uk", 'UPPER@EXAMPLE.ORG', 'x-1_2@xn--bcher-kva.example'] },
      deps,
    );

    // Assess
    expect(response.recipients.invalid).toEqual([]);
    expect(response.recipients.allowed).toHaveLength(3);
  });
});

describe('Function: evaluate (hostile input)', () => {
  it.each([
    ['a CRLF header injection in the display name', 'Evil\r\nBcc: victim@example.org <news@example.com>'],
    ['a bare LF before the address', 'News\n<news@example.com>'],
    ['a NUL in a quoted display name', '"News\u0000" <news@example.com>'],
    ['a TAB in the address part', 'news@example.com\t'],
    ['a display name of 300 characters', `${'N'.repeat(300)} <news@example.com>`],
  ])('refuses a from with %s as INVALID_REQUEST naming from', async (_name, from) => {
    // Act
    const response = await evaluate({ ...VALID, from }, deps);

    // Assess
    expect(response.proceed).toBe(false);
    expect(response.problems.map((p) => [p.code, p.details.field])).toEqual([['INVALID_REQUEST', 'from']]);
  });

  it.each([
    ['a 1 MB from without "@"', { ...VALID, from: 'x'.repeat(1_000_000) }, 'from'],
    ['a 1 MB from of spaces before "<"', { ...VALID, from: `a${' '.repeat(1_000_000)}<` }, 'from'],
    ['a 1 MB region', { ...VALID, region: 'r'.repeat(1_000_000) }, 'region'],
    ['a 1 MB caller', { ...VALID, caller: 'c'.repeat(1_000_000) }, 'caller'],
    ['a 1 MB configuration set name', { ...VALID, configurationSetName: 's'.repeat(1_000_000) }, 'configurationSetName'],
    ['an unknown field holding a 1 MB string', { ...VALID, extra: ['e'.repeat(1_000_000)] }, 'extra'],
  ])('echoes %s in a bounded message and value', async (_name, event, field) => {
    // Act
    const response = await evaluate(event, deps);

    // Assess: the field is named, and nothing echoed grows with the input.
    expect(response.proceed).toBe(false);
    const problem = response.problems.find((p) => p.details.field === field);
    expect(problem?.code).toBe('INVALID_REQUEST');
    expect(problem?.message.length).toBeLessThan(400);
    expect(JSON.stringify(problem?.details.value).length).toBeLessThan(300);
    expect(JSON.stringify(response).length).toBeLessThan(4_000);
  });

  it('names a 60,000-character unknown key by a bounded prefix', async () => {
    // Act
    const response = await evaluate({ ...VALID, ['k'.repeat(60_000)]: 1 }, deps);

    // Assess
    const problem = response.problems[0];
    expect(problem?.code).toBe('INVALID_REQUEST');
    expect(String(problem?.details.field)).toMatch(/^k{64}\.\.\. \(60000 characters\)$/);
    expect(problem?.message.length).toBeLessThan(400);
  });

  it('answers a deeply nested value (depth 10,000) with a serializable, bounded echo', async () => {
    // Prepare
    let nested: unknown = 'bottom';
    for (let i = 0; i < 10_000; i++) nested = [nested];

    // Act
    const response = await evaluate({ ...VALID, configurationSetName: nested }, deps);

    // Assess
    const text = JSON.stringify(response);
    expect(text.length).toBeLessThan(4_000);
    expect(response.problems[0]?.details.value).toMatch(/^\[\[\[.*\.\.\.$/);
  });

  it('bounds the echo of a 100,000-character invalid recipient in the verdict', async () => {
    // Act
    const response = await evaluate({ ...VALID, recipients: ['a@example.org', `${'x'.repeat(100_000)}@example.org`] }, deps);

    // Assess
    expect(response.recipients.invalid).toHaveLength(1);
    expect(JSON.stringify(response.recipients.invalid).length).toBeLessThan(800);
    expect(response.recipients.invalid[0]?.error).toContain('100012 characters');
  });
});

describe('Function: parseFrom', () => {
  it.each([
    ['campaigns@example.com', undefined],
    ['Campaigns <campaigns@example.com>', 'Campaigns'],
    ['"Doe, Jane" <campaigns@example.com>', 'Doe, Jane'],
    ['<campaigns@example.com>', undefined],
    ['  Campaigns   <campaigns@Example.COM>  ', 'Campaigns'],
  ])('parses %j', (from, displayName) => {
    // Act
    const parsed = parseFrom(from);

    // Assess
    expect(parsed).toEqual({
      ok: true,
      value: {
        address: expect.stringMatching(/^campaigns@example\.com$/i),
        localPart: 'campaigns',
        domain: 'example.com',
        ...(displayName ? { displayName } : {}),
      },
    });
  });
});
