import { statSync } from 'node:fs';
import { SesEmulator } from '../local/ses-emulator';
import { type BenchDynamo, median, round, startBenchFunction } from './harness';

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

/** Starts each bundle in `runs` fresh processes and times module load and the first invocation. */
export async function runColdStart(dynamo: BenchDynamo, runs: number): Promise<ColdStartRow[]> {
  const tables = await dynamo.tables('cold');
  const emu = await SesEmulator.start({ requestsPerSecond: 0 });
  emu
    .region('us-east-1')
    .putIdentity({ name: 'example.net', verifiedForSending: true, verificationStatus: 'SUCCESS', dkimStatus: 'SUCCESS' });
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
      const load: number[] = [];
      const first: number[] = [];
      let file = '';
      for (let i = 0; i < runs; i++) {
        const fn = await startBenchFunction(dynamo, target.prefix, {
          tables,
          dynamoEndpoint: dynamo.local.endpoint,
          sesEndpoint: emu.endpoint,
          region: 'us-east-1',
        });
        file = fn.bundle.file;
        const outcome = await fn.invoke(target.event);
        await fn.stop();
        if (outcome.error) throw new Error(`${target.name} bundle failed its first invocation: ${outcome.error.message}`);
        load.push(fn.initMs);
        first.push(outcome.durationMs);
      }
      rows.push({
        function: target.name,
        bundleBytes: statSync(file).size,
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
