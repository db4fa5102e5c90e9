import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { regionAttribute } from '../lambdas/domain/records';
import { type LambdaApi, startLambdaApi } from '../local/lambda-api';
import { LocalLambda } from '../local/lambda-runtime';
import { SesEmulator } from '../local/ses-emulator';
import { functionBundle } from '../local/template-resources';
import { emittedMetrics } from './support/emf';
import { createTestTables, TEST_CREDENTIALS, type TestTables, testTemplate } from './support/local-aws';

describe('Bundle: synthesized sync function', () => {
  let emu: SesEmulator;
  let tables: TestTables;
  let fn: LocalLambda;
  let api: LambdaApi;

  beforeAll(async () => {
    // Prepare: the emulator at SES's own pacing (1 request/second per region), as the deployed function meets it.
    emu = await SesEmulator.start({ seed: 3 });
    tables = await createTestTables();
    const { template, outdir } = testTemplate();
    const bundle = functionBundle(template, outdir, 'SyncSyncFunction', tables.names);
    fn = await LocalLambda.start(bundle, {
      env: {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_SESV2: emu.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: process.env.SSG_TEST_DYNAMODB_ENDPOINT!,
      },
      timeoutMs: 60_000,
    });
    api = await startLambdaApi({ functions: { [bundle.logicalId]: fn } });
  });
  afterAll(async () => {
    await api?.stop();
    await fn?.stop();
    await emu?.stop();
  });

  it('loads with only the AWS SDK available and exports the handler the template names', () => {
    const { template, outdir } = testTemplate();
    const bundle = functionBundle(template, outdir, 'SyncSyncFunction', tables.names);
    expect(bundle.exportName).toBe('handler');
    expect(bundle.environment).toMatchObject({
      SUPPRESSION_TABLE_NAME: tables.suppressionTable,
      SYNC_STATE_TABLE_NAME: tables.stateTable,
      SYNC_REGIONS: 'us-east-1,us-west-2,eu-west-1',
    });
    // Everything but the SDK (which the runtime provides) is in the bundle: it requires only built-ins and @aws-sdk.
    expect(externalRequires(readFileSync(bundle.file, 'utf8'))).toEqual([]);
  });

  it('syncs every configured region into the canonical table', async () => {
    // Prepare
    emu.region('us-east-1').putSuppressed({ emailAddress: 'Mixed.Case@Example.com', reason: 'BOUNCE' });
    emu.region('us-west-2').putSuppressed({ emailAddress: 'mixed.case@example.com', reason: 'COMPLAINT' });
    emu.region('eu-west-1').putSuppressed({ emailAddress: 'eu@example.com', reason: 'BOUNCE' });

    // Act
    const results = await Promise.all(
      ['us-east-1', 'us-west-2', 'eu-west-1'].map((region) => fn.invoke<Record<string, unknown>>({ region })),
    );

    // Assess
    for (const r of results) expect(r.error).toBeUndefined();
    expect(results.map((r) => r.result)).toEqual([
      expect.objectContaining({ region: 'us-east-1', mode: 'incremental', complete: true, entriesRead: 1, itemsWritten: 1, pages: 1 }),
      expect.objectContaining({ region: 'us-west-2', complete: true, entriesRead: 1, itemsWritten: 1 }),
      expect.objectContaining({ region: 'eu-west-1', complete: true, entriesRead: 1, itemsWritten: 1 }),
    ]);
    const item = (await tables.doc.send(new GetCommand({ TableName: tables.suppressionTable, Key: { address: 'mixed.case@example.com' } })))
      .Item;
    expect(item?.[regionAttribute('us-east-1')]).toMatchObject({ address: 'Mixed.Case@Example.com', status: 'LISTED' });
    expect(item?.[regionAttribute('us-west-2')]).toMatchObject({ reason: 'COMPLAINT', status: 'LISTED' });
    // No plaintext address reaches the logs.
    expect(fn.output).not.toMatch(/mixed\.case@example\.com/i);
  });

  it('runs a full reconciliation through the Lambda Invoke API', async () => {
    // Prepare
    const lambda = new LambdaClient({ region: 'us-east-1', endpoint: api.endpoint, credentials: TEST_CREDENTIALS });

    // Act
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: fnName(), Payload: JSON.stringify({ region: 'eu-west-1', mode: 'full' }) }),
    );

    // Assess
    expect(out.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toMatchObject({
      region: 'eu-west-1',
      mode: 'full',
      complete: true,
      removals: 0,
    });
  });

  it.each([
    [{}, /region is required/],
    [{ region: 'mars-north-1' }, /region must be one of the configured regions .* got "mars-north-1"/],
    [{ region: 'us-east-1', mode: 'sometimes' }, /mode must be "incremental", "full" or "propagate", got "sometimes"/],
    [{ region: 'us-east-1', extra: true }, /unknown field "extra"/],
    [[1, 2], /expected an object/],
  ])('rejects the event %j with an error naming the field', async (event, message) => {
    // Act
    const outcome = await fn.invoke(event);

    // Assess
    expect(outcome.result).toBeUndefined();
    expect(outcome.error).toMatchObject({ name: 'InvalidEventError', message: expect.stringMatching(message) });
  });

  it('emits SyncLagSeconds with exactly the namespace and dimensions each stale alarm watches', async () => {
    // Prepare
    const { template } = testTemplate();
    const alarms = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.MetricName === 'SyncLagSeconds',
    );
    expect(alarms).toHaveLength(3);
    const before = fn.output.length;

    // Act
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) expect((await fn.invoke({ region })).error).toBeUndefined();

    // Assess: the handler's embedded-metric-format records, as CloudWatch reads them
    const emitted = emittedMetrics(fn.output.slice(before));
    for (const alarm of alarms) {
      const watched = {
        namespace: alarm.Properties?.Namespace,
        name: alarm.Properties?.MetricName,
        dimensions: Object.fromEntries(
          ((alarm.Properties?.Dimensions ?? []) as Array<{ Name: string; Value: string }>).map((d) => [d.Name, d.Value]),
        ),
      };
      expect(emitted).toContainEqual(watched);
    }
  });

  function fnName(): string {
    const { template, outdir } = testTemplate();
    return functionBundle(template, outdir, 'SyncSyncFunction', tables.names).logicalId;
  }
});

/** Modules a bundle requires that are neither Node.js built-ins nor the AWS SDK the Lambda runtime provides. */
function externalRequires(code: string): string[] {
  const required = [...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!);
  return [...new Set(required)].filter((name) => !isBuiltin(name) && !name.startsWith('@aws-sdk/') && !name.startsWith('.'));
}
