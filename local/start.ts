import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GuardClient, type GuardRequest, type GuardResponse, type SyncSummary } from '../client';
import { documentClient } from '../lambdas/domain/clients';
import { listedRegions } from '../lambdas/domain/records';
import { StateTable } from '../lambdas/domain/state-table';
import { LOCAL_CREDENTIALS, type LocalEnvironment, startLocalEnvironment } from './environment';
import { seedDemo } from './seed';

/** `npm start`: the service on emulated AWS, with demo data, synced and summarized. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      port: { type: 'string' },
      logs: { type: 'boolean', default: false },
    },
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new Error(`--port must be a TCP port number, got ${JSON.stringify(values.port)}`);
  }

  console.log('Starting local AWS: synthesizing the app, DynamoDB Local, SES v2 emulator, Lambda bundles...');
  const env = await startLocalEnvironment({ lambdaPort: port, inheritLogs: values.logs });
  const shutdown = async () => {
    await env.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  seedDemo(env.ses);
  const lambda = new LambdaClient({ region: env.region, endpoint: env.endpoints.lambda, credentials: LOCAL_CREDENTIALS });
  const invoke = async <T>(functionName: string, payload: unknown): Promise<T> => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(payload) }));
    const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
    if (out.FunctionError) throw new Error(`${functionName} failed: ${body?.errorMessage ?? JSON.stringify(body)}`);
    return body as T;
  };

  console.log(`Syncing ${env.regions.join(', ')} at the SES rate of 1 request/second per region...`);
  const summaries = await Promise.all(
    env.regions.map((region) => invoke<SyncSummary>(requireOutput(env, 'SyncFunctionName'), { region, mode: 'full' })),
  );
  await printSummary(env, summaries);
  await demoGuard(env, lambda);

  console.log('');
  console.log('Local endpoints (any credentials work):');
  console.log(`  Lambda API (sync, guard)  ${env.endpoints.lambda}`);
  console.log(`    e.g. curl -s -X POST ${env.endpoints.lambda}/2015-03-31/functions/${env.outputs.GuardFunctionName}/invocations \\`);
  console.log(`         -d '{"from":"news@example.net","region":"eu-west-1","recipients":["jane.doe@example.org","new@example.org"]}'`);
  console.log(`    or:  npx ssg --local check --from news@example.net --region eu-west-1 --recipients -`);
  console.log(`  SES v2 emulator           ${env.endpoints.sesv2}`);
  console.log(`  DynamoDB Local            ${env.endpoints.dynamodb}`);
  console.log(`  Described in              .local/environment.json`);
  if (values.once) {
    await env.stop();
    return;
  }
  console.log('\nRunning. Press Ctrl+C to stop.');
}

async function demoGuard(env: LocalEnvironment, lambda: LambdaClient): Promise<void> {
  const guard = new GuardClient({ functionName: requireOutput(env, 'GuardFunctionName'), lambda });
  const show = (title: string, request: GuardRequest, verdict: GuardResponse) => {
    console.log(`\n${title}`);
    console.log(`  request:  from ${request.from} in ${request.region}, ${request.recipients.length} recipients`);
    console.log(
      `  verdict:  proceed=${verdict.proceed}; allowed ${verdict.recipients.allowed.length}, suppressed ${verdict.recipients.suppressed.length}, invalid ${verdict.recipients.invalid.length}`,
    );
    for (const p of verdict.problems) console.log(`  ${p.severity.toUpperCase().padEnd(5)} ${p.code}: ${p.message}`);
    for (const r of verdict.recipients.suppressed)
      console.log(`  dropped  ${r.address}: ${r.reason} in ${r.regions.join(', ')} since ${r.since}`);
  };
  const recipients = ['Jane.Doe@Example.org', 'new.reader@example.org', 'bounced.once@example.net'];
  // The incident: a blast Lambda in us-west-2 sends as an identity verified only in us-east-1.
  const mismatch: GuardRequest = { from: 'Campaigns <campaigns@example.com>', region: 'us-west-2', recipients, caller: 'npm-start-demo' };
  show('Guard check 1 (region mismatch incident):', mismatch, await guard.check(mismatch));
  const allowed: GuardRequest = { from: 'News <news@example.net>', region: 'us-west-2', recipients, caller: 'npm-start-demo' };
  show('Guard check 2 (identity verified in every region):', allowed, await guard.check(allowed));
}

async function printSummary(env: LocalEnvironment, summaries: SyncSummary[]): Promise<void> {
  const ddb = new DynamoDBClient({ region: env.region, endpoint: env.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
  const doc = documentClient(ddb);
  const store = new StateTable(doc, requireOutput(env, 'SyncStateTableName'));
  console.log('\nPer region:');
  console.log(
    `  ${'region'.padEnd(11)} ${'SES entries'.padStart(11)} ${'pages'.padStart(5)} ${'written'.padStart(7)} ${'removed'.padStart(7)}  ${'complete'.padEnd(8)}  synced through`,
  );
  for (const summary of summaries) {
    const state = await store.load(summary.region);
    console.log(
      `  ${summary.region.padEnd(11)} ${String(env.ses.region(summary.region).suppressedCount).padStart(11)} ${String(summary.pages).padStart(5)} ${String(summary.itemsWritten).padStart(7)} ${String(summary.removals).padStart(7)}  ${String(summary.complete).padEnd(8)}  ${state.watermark ?? '-'}${state.lastError ? `  last error: ${state.lastError.message}` : ''}`,
    );
  }
  const items = (await doc.send(new ScanCommand({ TableName: requireOutput(env, 'SuppressionTableName') }))).Items ?? [];
  const multi = items.filter((item) => listedRegions(item).length > 1);
  console.log(`\nCanonical table: ${items.length} addresses, ${multi.length} suppressed in more than one region`);
  for (const item of multi) console.log(`  ${item.address}  (${listedRegions(item).join(', ')})`);
  ddb.destroy();
}

main().catch((error: Error) => {
  console.error(`npm start failed: ${error.message}`);
  process.exit(1);
});

/** A stack output of the local environment; the template always defines the ones the demo uses. */
function requireOutput(env: LocalEnvironment, name: string): string {
  const value = env.outputs[name];
  if (value === undefined) throw new Error(`the local environment has no stack output ${name}`);
  return value;
}
