import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutEmailIdentityConfigurationSetAttributesCommand, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { provenance } from '../cli/provenance';
import { GuardClient, type GuardRequest, type GuardResponse, type PropagationSummary, type SyncSummary } from '../client';
import { documentClient } from '../lambdas/domain/clients';
import { listedRegions } from '../lambdas/domain/records';
import { StateTable } from '../lambdas/domain/state-table';
import { SuppressionTable } from '../lambdas/domain/suppression-table';
import { killTrackedChildren } from './child-processes';
import { DEFAULT_ENV_FILE, type LocalEnvironment, localCredentials, startLocalEnvironment } from './environment';
import { EnvironmentRunningError, releaseEnvironmentFile } from './environment-file';
import { type ScheduleRunner, schedulesFromTemplate, startSchedules } from './schedules';
import { quietSdkNodeVersionWarning } from './sdk-warnings';
import { DEMO_BOUNCED_ONCE, seedDemo } from './seed';

quietSdkNodeVersionWarning();

let env: LocalEnvironment | undefined;
let schedules: ScheduleRunner | undefined;
let stopping = false;

/** Stops everything this process started, removes `.local/environment.json`, and exits with `code`. */
async function shutdown(code: number, why?: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (why) console.log(why);
  schedules?.stop();
  // Give the orderly stop a bound; the exit hook below kills whatever is left.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([env?.stop(), new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
  process.exit(code);
}

// Whatever way this process ends, no child outlives it and the environment file goes with it.
process.on('exit', () => {
  killTrackedChildren();
  releaseEnvironmentFile(env?.envFile ?? DEFAULT_ENV_FILE);
});
for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(128 + number); // a second Ctrl+C: stop now (the exit hook still cleans up)
    void shutdown(128 + number, `\nStopping (${signal}): functions, SES emulator, DynamoDB Local...`);
  });
}
process.on('uncaughtException', (error) => {
  console.error(`npm start failed: ${error.stack ?? error.message}`);
  void shutdown(1);
});
process.on('unhandledRejection', (reason) => {
  console.error(`npm start failed: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  void shutdown(1);
});

/** `npm start`: the service on emulated AWS, with demo data, synced, checked, and kept in sync by its schedules. */
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
  env = await startLocalEnvironment({ lambdaPort: port, inheritLogs: values.logs });
  const local = env;

  seedDemo(local.ses, local.regions);
  const lambda = new LambdaClient({ region: local.region, endpoint: local.endpoints.lambda, credentials: localCredentials() });
  const invoke = async <T>(functionName: string, payload: unknown): Promise<T> => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(payload) }));
    const body = JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8') || 'null');
    if (out.FunctionError) throw new Error(`${functionName} failed: ${body?.errorMessage ?? JSON.stringify(body)}`);
    return body as T;
  };

  console.log(`Syncing ${local.regions.join(', ')} at the SES rate of 1 request/second per region...`);
  const summaries = await Promise.all(
    local.regions.map((region) => invoke<SyncSummary>(requireOutput(local, 'SyncFunctionName'), { region, mode: 'full' })),
  );
  await printSummary(local, summaries);
  await demoPropagation(local, invoke);
  await demoGuard(local, lambda);
  await demoEvents(local);

  if (values.once) {
    lambda.destroy();
    await local.stop();
    console.log('\nStopped (--once): the environment ran, synced and answered the checks above; `npm start` keeps it running.');
    return;
  }

  schedules = startSchedules(
    schedulesFromTemplate(local.template),
    async (schedule) => {
      await invoke(schedule.functionLogicalId, schedule.input);
    },
    {
      onRun: (schedule, outcome) =>
        console.log(
          `${new Date().toISOString().slice(11, 19)}Z  ${schedule.description}: ${outcome.error ? `FAILED: ${outcome.error.message}` : 'done'}`,
        ),
    },
  );
  console.log('\nSchedules (from the synthesized template, run locally as deployed, times in UTC):');
  const byExpression = new Map<string, { count: number; next: Date; what: string }>();
  for (const { schedule, next } of schedules.running) {
    const what = schedule.description.replace(/ in [a-z0-9-]+$/, '');
    const key = `${schedule.expression}  ${what}`;
    const seen = byExpression.get(key);
    byExpression.set(key, { count: (seen?.count ?? 0) + 1, next: seen && seen.next < next ? seen.next : next, what });
  }
  for (const [key, { count, next }] of byExpression) {
    console.log(`  ${key}, ${count} region${count === 1 ? '' : 's'}; next ${next.toISOString().slice(0, 16).replace('T', ' ')}`);
  }
  for (const schedule of schedules.notRun) console.log(`  not run locally: ${schedule.expression} (${schedule.description})`);

  console.log('');
  console.log('Local endpoints (any credentials work):');
  const region = local.regions[local.regions.length - 1];
  console.log(`  Lambda API (sync, guard)  ${local.endpoints.lambda}`);
  console.log(`    e.g. curl -s -X POST ${local.endpoints.lambda}/2015-03-31/functions/${local.outputs.GuardFunctionName}/invocations \\`);
  console.log(`         -d '{"from":"news@example.net","region":"${region}","recipients":["jane.doe@example.org","new@example.org"]}'`);
  console.log(`    or:  npx ssg --local check --from news@example.net --region ${region} --recipients -`);
  console.log(`  SES v2 emulator           ${local.endpoints.sesv2}`);
  console.log(`  DynamoDB Local            ${local.endpoints.dynamodb}`);
  console.log(`  S3 (path-style)           ${local.endpoints.s3}`);
  for (const e of local.smtp?.endpoints ?? []) {
    console.log(
      `  SES SMTP ${e.region.padEnd(16)} STARTTLS ${e.host}:${e.starttlsPort}, TLS ${e.host}:${e.tlsPort} (servername ${e.serverName})`,
    );
  }
  if (local.smtp) console.log(`    CA certificate          ${local.smtp.caFile} (user: an access key id registered with the emulator)`);
  console.log(`  Described in              ${local.envFile ?? '(nowhere)'}`);
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
  // The incident: a blast Lambda in a second region sends as an identity verified only in the first one.
  const [home, other] = env.regions;
  if (other === undefined) {
    console.log(`\nGuard check 1 (region mismatch incident): skipped, it needs two regions and cdk.json configures only ${home}`);
  } else {
    const mismatch: GuardRequest = { from: 'Campaigns <campaigns@example.com>', region: other, recipients, caller: 'npm-start-demo' };
    show('Guard check 1 (region mismatch incident):', mismatch, await guard.check(mismatch));
  }
  const allowed: GuardRequest = { from: 'News <news@example.net>', region: other ?? home ?? '', recipients, caller: 'npm-start-demo' };
  show('Guard check 2 (identity verified in every region):', allowed, await guard.check(allowed));
}

/**
 * Each region's sync ran propagation after its pass, possibly before the other regions were synced; one more run per
 * region converges every list to the union. Then the address that bounced in the first region only is shown on every
 * list, with who put it there.
 */
async function demoPropagation(env: LocalEnvironment, invoke: <T>(functionName: string, payload: unknown) => Promise<T>): Promise<void> {
  const functionName = requireOutput(env, 'PropagationFunctionName');
  console.log(`\nPropagation (mode enforce): each sync propagated after its pass; one more run per region (${functionName}):`);
  const summaries = await Promise.all(env.regions.map((region) => invoke<PropagationSummary>(functionName, { region, mode: 'propagate' })));
  console.log(
    `  ${'region'.padEnd(11)} ${'added'.padStart(5)} ${'withdrawn'.padStart(9)} ${'already listed'.padStart(14)} ${'pending'.padStart(7)} ${'import jobs'.padStart(11)}  complete`,
  );
  for (const s of summaries) {
    console.log(
      `  ${s.region.padEnd(11)} ${String(s.added).padStart(5)} ${String(s.withdrawn).padStart(9)} ${String(s.alreadyListed).padStart(14)} ${String(s.pending).padStart(7)} ${String(s.importJobs).padStart(11)}  ${s.complete}${s.skipped ? ` (${s.skipped})` : ''}`,
    );
  }

  const address = DEMO_BOUNCED_ONCE;
  const ddb = new DynamoDBClient({ region: env.region, endpoint: env.endpoints.dynamodb, credentials: localCredentials() });
  const item = await new SuppressionTable(documentClient(ddb), requireOutput(env, 'SuppressionTableName')).get(address);
  ddb.destroy();
  const explained = provenance(item, env.regions, new Map(), env.regions);
  console.log(`\n${address} bounced in ${env.regions[0]} only; origins: ${explained.origins.map((o) => o.source).join(', ') || 'none'}`);
  for (const view of explained.regions) {
    const listed = env.ses.region(view.region).getSuppressed(address);
    const by = view.listedBy === 'ses' ? 'SES listed it on its own' : view.listedBy === 'propagation' ? 'propagated by the service' : '-';
    console.log(
      `  ${view.region.padEnd(11)} SES list: ${listed ? `${listed.reason} since ${listed.lastUpdateTime.toISOString()}` : 'not listed'}  (${by})`,
    );
  }
  console.log(`  (npx ssg --local lookup ${address} shows the same, with the origins and what propagation does next)`);
}

/**
 * The real-time path: a blast process sends as news@example.net from the first region to the mailbox simulator's
 * bounce address; SES's bounce event reaches the ingestion function through the event queue, which records the
 * origin and starts a targeted propagation; moments later every region's list holds the address, and `ssg senders`
 * names the caller.
 */
async function demoEvents(env: LocalEnvironment): Promise<void> {
  const [source] = env.eventSources;
  const [first] = env.regions;
  const configurationSet = first === undefined ? undefined : env.configurationSets[first]?.[0];
  if (!source || first === undefined || configurationSet === undefined) {
    console.log('\nReal-time events: skipped (events are off in cdk.json)');
    return;
  }
  const blast = { accessKeyId: 'AKIADEMOBLASTSENDER', secretAccessKey: 'local-secret' };
  env.ses.setCallerIdentity(blast.accessKeyId, 'blast-lambda-role');
  const ses = new SESv2Client({ region: first, endpoint: env.endpoints.sesv2, credentials: blast });
  // What `ssg events attach --identity example.net --region <first>` does.
  await ses.send(
    new PutEmailIdentityConfigurationSetAttributesCommand({ EmailIdentity: 'example.net', ConfigurationSetName: configurationSet }),
  );
  const address = 'bounce@simulator.amazonses.com';
  console.log(`\nReal-time events: blast-lambda-role sends as news@example.net in ${first} to ${address} and one reader...`);
  const started = Date.now();
  await ses.send(
    new SendEmailCommand({
      FromEmailAddress: 'news@example.net',
      Destination: { ToAddresses: [address, 'new.reader@example.org'] },
      Content: { Simple: { Subject: { Data: 'Weekly news' }, Body: { Text: { Data: 'Hello' } } } },
    }),
  );
  ses.destroy();
  await env.ses.events.idle();
  await source.idle();
  await env.lambdaApi.asyncIdle();
  const elapsed = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`  ${address} after ${elapsed} s (SES event → queue → ingestion → targeted propagation):`);
  for (const region of env.regions) {
    const listed = env.ses.region(region).getSuppressed(address);
    console.log(
      `  ${region.padEnd(11)} SES list: ${listed ? `${listed.reason} since ${listed.lastUpdateTime.toISOString()}` : 'not listed'}`,
    );
  }
  const senders = await runSsg(env, ['senders', '--days', '1']);
  console.log('\n$ npx ssg --local senders --days 1');
  console.log(senders.replace(/^/gm, '  ').trimEnd());
}

/** Runs the CLI against this environment and returns what it printed (its exit code reports findings, not failure). */
function runSsg(env: LocalEnvironment, args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '..', 'cli', 'main.ts'), '--local', ...args],
      { env: { ...process.env, SSG_LOCAL_ENV_FILE: env.envFile ?? '' }, timeout: 60_000 },
      (error, stdout, stderr) => resolve(stdout || stderr || (error?.message ?? '')),
    );
  });
}

async function printSummary(env: LocalEnvironment, summaries: SyncSummary[]): Promise<void> {
  const ddb = new DynamoDBClient({ region: env.region, endpoint: env.endpoints.dynamodb, credentials: localCredentials() });
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
  console.error(error instanceof EnvironmentRunningError ? `npm start: ${error.message}` : `npm start failed: ${error.message}`);
  void shutdown(1);
});

/** A stack output of the local environment; the template always defines the ones the demo uses. */
function requireOutput(env: LocalEnvironment, name: string): string {
  const value = env.outputs[name];
  if (value === undefined) throw new Error(`the local environment has no stack output ${name}`);
  return value;
}
