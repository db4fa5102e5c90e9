import type { GuardResponse } from '../client/contract';
import type { LocalLambda } from '../local/lambda-runtime';
import { SesEmulator } from '../local/ses-emulator';
import { functionBundle } from '../local/template-resources';
import { emittedMetrics } from './support/emf';
import { GUARD_REGIONS, startGuardBundle, syncAllRegions } from './support/guard';
import { createTestTables, type TestTables, testTemplate } from './support/local-aws';

describe('Bundle: synthesized guard function', () => {
  let emu: SesEmulator;
  let tables: TestTables;
  let fn: LocalLambda;

  beforeAll(async () => {
    // Prepare: seed and sync unthrottled, then check at SES's own pace (1 request/second per region).
    emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 9 });
    tables = await createTestTables();
    // example.com's mail uses the service's configuration set (as after ssg events attach); example.net's names none.
    for (const region of GUARD_REGIONS)
      emu.region(region).putIdentity({ name: 'example.com', configurationSetName: 'ses-suppression-guard' });
    emu.region('us-west-2').putIdentity({ name: 'example.net' });
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'Bounced.Person@example.org', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 3600_000) });
    await syncAllRegions(emu, tables);
    emu.setRequestsPerSecond(1);
    fn = await startGuardBundle(emu, tables);
  });
  afterAll(async () => {
    await fn?.stop();
    await emu?.stop();
  });

  it('loads with only the AWS SDK available and exports the handler the template names', () => {
    const { template, outdir } = testTemplate();
    const bundle = functionBundle(template, outdir, 'GuardGuardFunction', tables.names);
    expect(bundle.exportName).toBe('handler');
    expect(bundle.environment).toMatchObject({
      SUPPRESSION_TABLE_NAME: tables.suppressionTable,
      SYNC_STATE_TABLE_NAME: tables.stateTable,
      SYNC_REGIONS: 'us-east-1,us-west-2,eu-west-1',
      GUARD_STALE_MODE: 'block',
      GUARD_EVENT_CONFIGURATION_SETS: 'ses-suppression-guard',
    });
  });

  it("drops an address bounced in us-east-1 from a send in its own region, at SES's pace, without logging addresses", async () => {
    // Act: a cold check (every SES lookup paced), then a warm one (cached).
    const cold = await fn.invoke<GuardResponse>({
      from: 'Campaigns <campaigns@example.com>',
      recipients: ['bounced.person@example.org', 'fine@example.org'],
      caller: 'bundle-test',
    });
    const sesRequestsAfterCold = emu.stats().totals.requests;
    const warm = await fn.invoke<GuardResponse>({ from: 'campaigns@example.com', recipients: ['fine@example.org'] });

    // Assess
    expect(cold.error).toBeUndefined();
    expect(cold.result).toMatchObject({
      proceed: true,
      problems: [expect.objectContaining({ code: 'RECIPIENTS_SUPPRESSED', severity: 'warn' })],
      sender: { identity: 'example.com', verifiedForSending: true, verifiedInRegions: ['us-west-2'] },
      recipients: {
        allowed: ['fine@example.org'],
        suppressed: [expect.objectContaining({ address: 'bounced.person@example.org', regions: ['us-east-1'], reason: 'BOUNCE' })],
      },
    });
    expect(warm.result?.proceed).toBe(true);
    // The warm check is answered from the cache: it sends SES no request at all, not even one that gets throttled.
    expect(emu.stats().totals.requests).toBe(sesRequestsAfterCold);
    // One successful call of each lookup, paced: anything throttled was retried.
    const west = emu.stats().regions['us-west-2']!;
    for (const op of ['ListEmailIdentities', 'GetAccount', 'GetEmailIdentity']) expect(west[op]!.requests - west[op]!.throttled).toBe(1);
    expect(fn.output).toContain('check finished');
    expect(fn.output).not.toMatch(/bounced\.person|fine@example|campaigns@example/i);
  });

  it('publishes each verdict and its problem codes as metrics, by region, with no address in them', async () => {
    // Prepare
    const before = fn.output.length;

    // Act: one check that proceeds, one that stops (a typo'd region, which no metric dimension may carry)
    await fn.invoke<GuardResponse>({
      from: 'campaigns@example.com',
      region: 'us-west-2',
      recipients: ['bounced.person@example.org', 'ok@example.org'],
    });
    await fn.invoke<GuardResponse>({ from: 'campaigns@example.com', region: 'us-wset-2', recipients: ['ok@example.org'] });

    // Assess
    const output = fn.output.slice(before);
    const emitted = emittedMetrics(output);
    const service = { service: 'ses-suppression-guard' };
    expect(emitted).toEqual(
      expect.arrayContaining([
        { namespace: 'SesSuppressionGuard', name: 'GuardChecks', dimensions: { ...service, Region: 'us-west-2', Verdict: 'proceed' } },
        {
          namespace: 'SesSuppressionGuard',
          name: 'GuardProblems',
          dimensions: { ...service, Region: 'us-west-2', ProblemCode: 'RECIPIENTS_SUPPRESSED' },
        },
        { namespace: 'SesSuppressionGuard', name: 'GuardChecks', dimensions: { ...service, Region: 'other', Verdict: 'stop' } },
        {
          namespace: 'SesSuppressionGuard',
          name: 'GuardProblems',
          dimensions: { ...service, Region: 'other', ProblemCode: 'INVALID_REQUEST' },
        },
      ]),
    );
    expect(emitted.filter((m) => m.name === 'GuardChecks')).toHaveLength(2);
    expect(output).not.toMatch(/us-wset-2.*CloudWatchMetrics|bounced\.person|ok@example/i);
  });

  it('answers a malformed request with INVALID_REQUEST instead of a function error', async () => {
    // Act
    const out = await fn.invoke<GuardResponse>({ from: 'campaigns@example.com', recipients: 'fine@example.org' });

    // Assess
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({
      proceed: false,
      problems: [{ code: 'INVALID_REQUEST', details: { field: 'recipients', value: 'fine@example.org' } }],
    });
  });

  it('serves function URL requests: POST with a JSON body, 400 for an invalid one, 405 for other methods', async () => {
    // Prepare
    const urlEvent = (method: string, body: string | undefined, isBase64Encoded = false) => ({
      version: '2.0',
      rawPath: '/',
      requestContext: { http: { method, path: '/' } },
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined ? { body } : {}),
      isBase64Encoded,
    });
    const request = JSON.stringify({ from: 'campaigns@example.com', region: 'us-west-2', recipients: ['fine@example.org'] });

    // Act
    const ok = await fn.invoke<{ statusCode: number; body: string }>(urlEvent('POST', Buffer.from(request).toString('base64'), true));
    const invalid = await fn.invoke<{ statusCode: number; body: string }>(urlEvent('POST', '{"from": 1}'));
    const notJson = await fn.invoke<{ statusCode: number; body: string }>(urlEvent('POST', 'from=me'));
    const get = await fn.invoke<{ statusCode: number; body: string }>(urlEvent('GET', undefined));

    // Assess
    expect(ok.result?.statusCode).toBe(200);
    expect(JSON.parse(ok.result!.body)).toMatchObject({ proceed: true, recipients: { allowed: ['fine@example.org'] } });
    expect(invalid.result?.statusCode).toBe(400);
    expect(JSON.parse(invalid.result!.body).problems[0]).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'from', value: 1 } });
    expect(notJson.result?.statusCode).toBe(400);
    expect(get.result?.statusCode).toBe(405);
    expect(JSON.parse(get.result!.body).proceed).toBe(false);
  });

  it('warns, without blocking, when the sender names no configuration set and its identity has no default one', async () => {
    // Act
    const out = await fn.invoke<GuardResponse>({ from: 'news@example.net', region: 'us-west-2', recipients: ['fine@example.org'] });

    // Assess
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({
      proceed: true,
      problems: [
        {
          code: 'EVENTS_NOT_DELIVERED',
          severity: 'warn',
          message: expect.stringContaining(
            'Run ssg events attach --identity example.net --region us-west-2, or send with the configuration set ses-suppression-guard.',
          ),
          details: {
            identity: 'example.net',
            configurationSetName: null,
            source: 'identity default',
            eventConfigurationSets: ['ses-suppression-guard'],
          },
        },
      ],
      recipients: { allowed: ['fine@example.org'] },
    });
  });
});
