import { Logger } from '@aws-lambda-powertools/logger';
import type { SyncMode, SyncSummary } from '../client/sync-contract';
import { SES_CALLERS, SesClients, SesPacers } from '../lambdas/domain/ses';
import { syncRegion } from '../lambdas/sync/sync';
import { SesEmulator } from '../local/ses-emulator';
import { type BaselineResult, baselineSync } from './baseline-sync';
import { type BenchDynamo, round } from './harness';

/** One side (ours or the baseline) of one scenario. */
export interface SyncSide {
  readonly sesRequests: number;
  readonly throttled: number;
  readonly durationMs: number;
  /** SES requests per second per region, averaged over the regions' own wall times. */
  readonly achievedRps: number;
  /** achievedRps ÷ the allowed (emulated) rate; null when a region made too few requests to have a rate. */
  readonly ratioToAllowed: number | null;
  readonly entriesRead: number;
  readonly entriesPerSecond: number;
  readonly writeRequests: number;
  readonly itemsWritten: number;
  /** DynamoDB requests by operation (the profile of where the side's DynamoDB time goes). */
  readonly dynamoRequests: Record<string, number>;
}

/** A scenario measured for ours and the baseline, on the same data in the same run. */
export interface SyncScenario {
  readonly name: string;
  readonly changedEntries?: number;
  readonly ours: SyncSide;
  readonly baseline: SyncSide;
}

/** Settings of the sync benchmark. */
export interface SyncBenchOptions {
  readonly regions: readonly string[];
  readonly entriesPerRegion: number;
  /** Emulated SES rate per region (requests/second); SES itself allows 1. */
  readonly requestsPerSecond: number;
  readonly changedFraction: number;
}

const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const quietLogger = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });

/** Runs the sync scenarios: initial full sync, reconciliation of a current table, 1% changed, unchanged. */
export async function runSyncBench(dynamo: BenchDynamo, options: SyncBenchOptions, log: (line: string) => void): Promise<SyncScenario[]> {
  const emu = await SesEmulator.start({ requestsPerSecond: options.requestsPerSecond, seed: 42 });
  try {
    const base = Date.now() - 30 * 24 * 3600_000;
    options.regions.forEach((region, r) => {
      emu.region(region).putSuppressedMany(
        Array.from({ length: options.entriesPerRegion }, (_, i) => ({
          // A tenth of the addresses are suppressed in every region, the rest in one region only.
          emailAddress: i % 10 === 0 ? `Shared.${i}@Example.com` : `user.${r}.${i}@example.com`,
          reason: i % 7 === 0 ? ('COMPLAINT' as const) : ('BOUNCE' as const),
          lastUpdateTime: new Date(base + i * 1000),
        })),
      );
    });
    const ours = await dynamo.tables('ours');
    const baseline = await dynamo.tables('baseline');
    // The sync's own SES policy: clients without SDK retries, paced per region and operation.
    const ses = new SesClients({ ...SES_CALLERS.sync.client, endpoint: emu.endpoint, credentials: CREDENTIALS });
    const pacers = new SesPacers(options.requestsPerSecond, SES_CALLERS.sync.pacingHeadroom);

    const runOurs = async (mode: SyncMode): Promise<SyncSide> => {
      emu.resetStats();
      ours.counter.reset();
      const started = Date.now();
      const results = await Promise.all(
        options.regions.map(async (region) => {
          const t0 = Date.now();
          const summaries: SyncSummary[] = [];
          for (;;) {
            const summary = await syncRegion(
              { region, mode },
              {
                ses: ses.forRegion(region),
                doc: ours.doc,
                suppressionTable: ours.suppressionTable,
                stateTable: ours.stateTable,
                pacer: pacers.forOperation(region, 'ListSuppressedDestinations'),
                logger: quietLogger,
                remainingMs: () => 900_000,
              },
            );
            summaries.push(summary);
            if (summary.complete) break;
          }
          return { region, ms: Date.now() - t0, summaries };
        }),
      );
      return side(
        emu,
        options,
        Date.now() - started,
        results.map((r) => r.ms),
        results.flatMap((r) => r.summaries).reduce((n, s) => n + s.entriesRead, 0),
        ours.counter.writes(),
        results.flatMap((r) => r.summaries).reduce((n, s) => n + s.itemsWritten, 0),
        ours.counter.snapshot(),
      );
    };
    const runBaseline = async (): Promise<SyncSide> => {
      emu.resetStats();
      baseline.counter.reset();
      const started = Date.now();
      const results: BaselineResult[] = await Promise.all(
        options.regions.map((region) =>
          baselineSync(ses.forRegion(region), baseline.doc, baseline.suppressionTable, region, options.requestsPerSecond),
        ),
      );
      return side(
        emu,
        options,
        Date.now() - started,
        results.map((r) => r.durationMs),
        results.reduce((n, r) => n + r.entriesRead, 0),
        results.reduce((n, r) => n + r.writeRequests, 0),
        results.reduce((n, r) => n + r.itemsWritten, 0),
        baseline.counter.snapshot(),
      );
    };

    const scenarios: SyncScenario[] = [];
    const measure = async (name: string, mode: SyncMode, changedEntries?: number) => {
      log(`  sync: ${name} (ours)...`);
      const o = await runOurs(mode);
      log(`  sync: ${name} (baseline)...`);
      const b = await runBaseline();
      scenarios.push({ name, changedEntries, ours: o, baseline: b });
    };

    await measure('initial full sync (empty table)', 'full');
    await measure('full reconciliation (table current)', 'full');
    const changed = Math.round(options.entriesPerRegion * options.changedFraction);
    for (const region of options.regions) {
      const entries = emu.region(region).suppressed().slice(0, changed);
      emu.region(region).putSuppressedMany(
        entries.map((e) => ({
          emailAddress: e.emailAddress,
          reason: e.reason === 'BOUNCE' ? ('COMPLAINT' as const) : ('BOUNCE' as const),
          lastUpdateTime: new Date(),
        })),
      );
    }
    // The incremental pass after the changes; the baseline has no incremental mode, so it pages everything again.
    await measure(`incremental after ${options.changedFraction * 100}% changed`, 'incremental', changed * options.regions.length);
    await measure('re-sync of an unchanged list', 'incremental', 0);
    return scenarios;
  } finally {
    await emu.stop();
  }
}

function side(
  emu: SesEmulator,
  options: SyncBenchOptions,
  durationMs: number,
  regionMs: number[],
  entriesRead: number,
  writeRequests: number,
  itemsWritten: number,
  dynamoRequests: Record<string, number>,
): SyncSide {
  const stats = emu.stats().regions;
  let sesRequests = 0;
  let throttled = 0;
  const perRegionRps: number[] = [];
  let tooFew = false;
  options.regions.forEach((region, i) => {
    const op = stats[region]?.ListSuppressedDestinations;
    sesRequests += op?.requests ?? 0;
    throttled += op?.throttled ?? 0;
    if ((op?.requests ?? 0) < 5) tooFew = true;
    perRegionRps.push((op?.requests ?? 0) / Math.max(0.001, regionMs[i]! / 1000));
  });
  const achievedRps = perRegionRps.reduce((a, b) => a + b, 0) / perRegionRps.length;
  return {
    sesRequests,
    throttled,
    durationMs,
    achievedRps: round(achievedRps),
    ratioToAllowed: tooFew ? null : round(achievedRps / options.requestsPerSecond),
    entriesRead,
    entriesPerSecond: Math.round(entriesRead / Math.max(0.001, durationMs / 1000)),
    writeRequests,
    itemsWritten,
    dynamoRequests: Object.fromEntries(Object.entries(dynamoRequests).map(([op, n]) => [op.replace(/Command$/, ''), n])),
  };
}
