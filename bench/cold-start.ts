import { statSync } from 'node:fs';
import { LocalLambda } from '../local/lambda-runtime';
import { SesEmulator } from '../local/ses-emulator';
import { functionBundle } from '../local/template-resources';
import { type BenchDynamo, median, round } from './harness';

/** Cold start of one synthesized bundle. */
export interface ColdStartRow {
  readonly function: string;
  readonly bundleBytes: number;
  readonly runs: number;
  /** Median time to load the bundle (module initialization) in a fresh Node.js process. */
  readonly loadMedianMs: number;
  /** Median time of the first invocation in that process. */
  readonly firstInvokeMedianMs: number;
  /** Median of load + first invocation: the cold-start cost a caller sees, less process start-up. */
  readonly firstResponseMedianMs: number;
}

const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

/** Starts each bundle in `runs` fresh processes and times module load and the first invocation. */
export async function runColdStart(dynamo: BenchDynamo, runs: number): Promise<ColdStartRow[]> {
  const tables = await dynamo.tables('cold');
  const emu = await SesEmulator.start({ requestsPerSecond: 0 });
  emu
    .region('us-east-1')
    .putIdentity({ name: 'example.net', verifiedForSending: true, verificationStatus: 'SUCCESS', dkimStatus: 'SUCCESS' });
  const names: Record<string, string> = {};
  for (const [id, r] of Object.entries(dynamo.template.Resources)) {
    if (r.Type === 'AWS::DynamoDB::Table') names[id] = id.startsWith('SyncSuppressionTable') ? tables.suppressionTable : tables.stateTable;
  }
  const targets = [
    { prefix: 'SyncSyncFunction', name: 'sync', event: { region: 'us-east-1' } },
    {
      prefix: 'GuardGuardFunction',
      name: 'guard',
      event: { from: 'news@example.net', region: 'us-east-1', recipients: ['someone@example.org'] },
    },
  ];
  const rows: ColdStartRow[] = [];
  try {
    for (const target of targets) {
      const bundle = functionBundle(dynamo.template, dynamo.outdir, target.prefix, names);
      const load: number[] = [];
      const first: number[] = [];
      for (let i = 0; i < runs; i++) {
        const fn = await LocalLambda.start(bundle, {
          env: {
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.local.endpoint,
            AWS_ENDPOINT_URL_SESV2: emu.endpoint,
          },
        });
        const outcome = await fn.invoke(target.event);
        await fn.stop();
        if (outcome.error) throw new Error(`${target.name} bundle failed its first invocation: ${outcome.error.message}`);
        load.push(fn.initMs);
        first.push(outcome.durationMs);
      }
      rows.push({
        function: target.name,
        bundleBytes: statSync(bundle.file).size,
        runs,
        loadMedianMs: round(median(load), 1),
        firstInvokeMedianMs: round(median(first), 1),
        firstResponseMedianMs: round(median(load.map((l, i) => l + first[i]!)), 1),
      });
    }
    return rows;
  } finally {
    await emu.stop();
  }
}
