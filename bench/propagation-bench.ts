import { Logger } from '@aws-lambda-powertools/logger';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { PropagationSummary } from '../client/sync-contract';
import { batchWrite, forEachLimit, type WriteRequest } from '../lambdas/domain/batch';
import { regionAttribute } from '../lambdas/domain/records';
import { SES_CALLERS, SesClients, SesPacers } from '../lambdas/domain/ses';
import { ADD_JOB_LIMIT, propagate } from '../lambdas/sync/propagation';
import { SYNC_DEADLINE_MARGIN_MS } from '../lambdas/sync/settings';
import { type LocalS3, startLocalS3 } from '../local/s3-local';
import { SesEmulator } from '../local/ses-emulator';
import { BENCH_CREDENTIALS, type BenchDynamo, round } from './harness';

/** Settings of one propagation scenario. */
export interface PropagationScenarioOptions {
  readonly name: string;
  /** Addresses of the canonical table, every one listed by SES in the origin region. */
  readonly entries: number;
  /** Of those, how many the target region's list lacks (the rest it already holds on its own). */
  readonly missing: number;
  /** Emulated SES rate per operation and region (requests/second); the functions pace themselves to it. */
  readonly requestsPerSecond: number;
  /** Records an emulated import job applies per second. */
  readonly importRowsPerSecond: number;
  /** The function timeout each invocation is bounded by (the run checkpoints 20 s before it). */
  readonly timeoutSeconds: number;
}

/** What one scenario measured: the real `propagate` into the target region, invocation after invocation until settled. */
export interface PropagationScenario {
  readonly name: string;
  readonly entries: number;
  readonly delta: number;
  /** `per-address` (one Get and one Put each) or `import jobs`, as the run chose by the delta's size. */
  readonly path: 'per-address' | 'import jobs';
  readonly requestsPerSecond: number;
  readonly importRowsPerSecond: number;
  readonly timeoutSeconds: number;
  readonly seedSeconds: number;
  /** From the first invocation until the target region's list held every address. */
  readonly deliveredMs: number;
  /** From the first invocation until a complete run had nothing in flight or pending (every copy recorded ADDED). */
  readonly settledMs: number;
  /** Delta ÷ delivery time. */
  readonly entriesPerSecond: number;
  readonly invocations: number;
  /** Invocations that stopped before their deadline and saved a checkpoint (complete: false). */
  readonly checkpoints: number;
  /** The longest any invocation ran past its deadline (its timeout), in ms; 0 when every one ended in time. */
  readonly maxOverrunMs: number;
  readonly longestInvocationMs: number;
  /** Pause between a complete run that left jobs in flight and the next invocation (waiting for SES to apply them). */
  readonly waitedMs: number;
  readonly importJobs: number;
  readonly importJobsFailed: number;
  /** SES requests of the target region by operation, and their total ÷ delta. */
  readonly sesRequests: Record<string, number>;
  readonly sesRequestsPerEntry: number;
  readonly throttled: number;
  readonly s3Requests: Record<string, number>;
  readonly dynamoRequests: Record<string, number>;
  /** The target region's list holds every address of the table, and nothing else. */
  readonly converged: boolean;
  readonly summaries: ReadonlyArray<Omit<PropagationSummary, 'region' | 'mode' | 'propagation'>>;
}

const ORIGIN = 'us-east-1';
const TARGET = 'eu-west-1';
const quietLogger = new Logger({ serviceName: 'bench', logLevel: 'SILENT' });
let buckets = 0;

/**
 * Runs one propagation scenario on fresh tables and a fresh SES emulator reading imports from the local S3: the
 * canonical table holds `entries` addresses listed by SES in us-east-1, eu-west-1's list holds all but `missing` of
 * them, and `propagate` (the entry point the sync function runs, with its SES policy, pacing and deadline margin)
 * converges eu-west-1, invocation after invocation, until a complete run leaves nothing in flight.
 */
export async function runPropagationScenario(
  dynamo: BenchDynamo,
  s3Local: LocalS3,
  options: PropagationScenarioOptions,
  log: (line: string) => void,
): Promise<PropagationScenario> {
  const suffix = `prop-${options.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
  const tables = await dynamo.tables(suffix);
  const emu = await SesEmulator.start({
    requestsPerSecond: options.requestsPerSecond,
    seed: 11,
    s3Endpoint: s3Local.endpoint,
    importRowsPerSecond: options.importRowsPerSecond,
  });
  const bucket = `ssg-bench-imports-${++buckets}-${TARGET}`;
  const s3 = new S3Client({ region: TARGET, endpoint: s3Local.endpoint, credentials: BENCH_CREDENTIALS, forcePathStyle: true });
  const s3Counts = new Map<string, number>();
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const op = (context.commandName ?? 'unknown').replace(/Command$/, '');
      s3Counts.set(op, (s3Counts.get(op) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchS3Counter' },
  );
  const ses = new SesClients({ ...SES_CALLERS.sync.client, endpoint: emu.endpoint, credentials: BENCH_CREDENTIALS });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: TARGET } }));
    const address = (i: number) => `Prop.${i}@Example.com`;
    const reason = (i: number) => (i % 7 === 0 ? ('COMPLAINT' as const) : ('BOUNCE' as const));
    const listedAt = Date.now() - 7 * 24 * 3600_000;
    const lastUpdateTime = (i: number) => new Date(listedAt + i * 1000);
    const held = options.entries - options.missing;

    log(`  propagation: ${options.name}: seeding ${options.entries} canonical items (${held} already listed in ${TARGET})...`);
    const seedStarted = Date.now();
    // The target region already holds the first `held` addresses on its own: on its list, and recorded by its sync.
    for (let from = 0; from < held; from += 100_000) {
      const to = Math.min(held, from + 100_000);
      emu.region(TARGET).putSuppressedMany(
        Array.from({ length: to - from }, (_, k) => ({
          emailAddress: address(from + k),
          reason: reason(from + k),
          lastUpdateTime: lastUpdateTime(from + k),
        })),
      );
    }
    // The canonical items as the regions' syncs leave them (putRegionEntry's item), written with BatchWriteItem.
    const syncedAt = new Date().toISOString();
    const entryOf = (i: number) => ({
      address: address(i),
      reason: reason(i),
      lastUpdateTime: lastUpdateTime(i).toISOString(),
      status: 'LISTED',
      syncedAt,
    });
    const batches = Array.from({ length: Math.ceil(options.entries / 25) }, (_, b) => b);
    await forEachLimit(batches, 12, async (b) => {
      const requests: WriteRequest[] = [];
      for (let i = b * 25; i < Math.min(options.entries, (b + 1) * 25); i++) {
        requests.push({
          PutRequest: {
            Item: {
              address: address(i).toLowerCase(),
              firstSeen: lastUpdateTime(i).toISOString(),
              origin: `ses:${ORIGIN}`,
              lastUpdated: syncedAt,
              [regionAttribute(ORIGIN)]: entryOf(i),
              ...(i < held ? { [regionAttribute(TARGET)]: entryOf(i) } : {}),
            },
          },
        });
      }
      const left = await batchWrite(tables.doc, tables.suppressionTable, requests, { maxRounds: 20 });
      if (left > 0) throw new Error(`seeding left ${left} items unwritten`);
    });
    const seedSeconds = round((Date.now() - seedStarted) / 1000, 1);

    tables.counter.reset();
    emu.resetStats();
    s3Counts.clear();
    // The sync function's wiring: one pacer for every suppression-list call of the region.
    const pacer = new SesPacers(options.requestsPerSecond, SES_CALLERS.sync.pacingHeadroom).forOperation(TARGET, 'SuppressionList');
    const target = emu.region(TARGET);
    const started = Date.now();
    let deliveredAt: number | undefined;
    const watch = setInterval(() => {
      if (deliveredAt === undefined && target.suppressedCount >= options.entries) deliveredAt = Date.now();
    }, 50);
    const summaries: PropagationSummary[] = [];
    let maxOverrunMs = 0;
    let longestInvocationMs = 0;
    let waitedMs = 0;
    try {
      for (;;) {
        const invoked = Date.now();
        const deadline = invoked + options.timeoutSeconds * 1000;
        const summary = await propagate(
          { region: TARGET, mode: 'enforce' },
          {
            ses: ses.forRegion(TARGET),
            s3,
            doc: tables.doc,
            suppressionTable: tables.suppressionTable,
            stateTable: tables.stateTable,
            bucket,
            pacer,
            logger: quietLogger,
            remainingMs: () => deadline - Date.now(),
            options: { marginMs: SYNC_DEADLINE_MARGIN_MS },
          },
        );
        const ended = Date.now();
        maxOverrunMs = Math.max(maxOverrunMs, ended - deadline);
        longestInvocationMs = Math.max(longestInvocationMs, ended - invoked);
        summaries.push(summary);
        log(
          `    invocation ${summaries.length}: complete=${summary.complete}, scanned ${summary.scanned}, added ${summary.added}, pending ${summary.pending}, confirmed ${summary.confirmed}, import jobs ${summary.importJobs} (${summary.jobsInFlight} in flight), ${((ended - invoked) / 1000).toFixed(1)} s`,
        );
        if (summary.skipped) throw new Error(`propagation was skipped: ${summary.skipped}`);
        if (summary.complete && summary.jobsInFlight === 0 && summary.pending === 0) break;
        if (summaries.length >= 40) throw new Error('propagation did not settle in 40 invocations');
        if (summary.complete) {
          // Jobs in flight: the next scheduled run follows them. Wait until SES has applied them (bounded), then invoke.
          const waitStarted = Date.now();
          const bound = waitStarted + 30_000 + (3 * 1000 * summary.pending) / options.importRowsPerSecond;
          while (target.suppressedCount < options.entries && Date.now() < bound) await new Promise((r) => setTimeout(r, 100));
          // SES marks a job completed once its last rows are applied: give it a moment before asking.
          await new Promise((r) => setTimeout(r, 200));
          waitedMs += Date.now() - waitStarted;
        }
      }
    } finally {
      clearInterval(watch);
    }
    const settled = Date.now();
    if (deliveredAt === undefined && target.suppressedCount >= options.entries) deliveredAt = settled;

    let converged = target.suppressedCount === options.entries;
    for (let i = 0; converged && i < options.entries; i++) converged = target.getSuppressed(address(i)) !== undefined;

    const stats = emu.stats().regions[TARGET] ?? {};
    const sesRequests = Object.fromEntries(
      Object.entries(stats)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([op, s]) => [op, s.requests]),
    );
    const sesTotal = Object.values(sesRequests).reduce((a, b) => a + b, 0);
    const deliveredMs = (deliveredAt ?? settled) - started;
    const sum = (key: 'importJobs' | 'importJobsFailed') => summaries.reduce((n, s) => n + s[key], 0);
    return {
      name: options.name,
      entries: options.entries,
      delta: options.missing,
      path: sum('importJobs') > 0 ? 'import jobs' : 'per-address',
      requestsPerSecond: options.requestsPerSecond,
      importRowsPerSecond: options.importRowsPerSecond,
      timeoutSeconds: options.timeoutSeconds,
      seedSeconds,
      deliveredMs,
      settledMs: settled - started,
      entriesPerSecond: round(options.missing / Math.max(0.001, deliveredMs / 1000), 2),
      invocations: summaries.length,
      checkpoints: summaries.filter((s) => !s.complete).length,
      maxOverrunMs: Math.max(0, maxOverrunMs),
      longestInvocationMs,
      waitedMs,
      importJobs: sum('importJobs'),
      importJobsFailed: sum('importJobsFailed'),
      sesRequests,
      sesRequestsPerEntry: round(sesTotal / Math.max(1, options.missing), 3),
      throttled: Object.values(stats).reduce((n, s) => n + s.throttled, 0),
      s3Requests: Object.fromEntries([...s3Counts].sort(([a], [b]) => (a < b ? -1 : 1))),
      dynamoRequests: Object.fromEntries(
        Object.entries(tables.counter.snapshot())
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([op, n]) => [op.replace(/Command$/, ''), n]),
      ),
      converged,
      summaries: summaries.map(({ region: _r, mode: _m, propagation: _p, ...rest }) => rest),
    };
  } finally {
    ses.destroy();
    s3.destroy();
    await emu.stop();
  }
}

/** Settings of the propagation benchmark. */
export interface PropagationBenchOptions {
  /** The per-address path: a table of `perAddressTable` addresses, `perAddressDelta` of them missing in one region. */
  readonly perAddressTable: number;
  readonly perAddressDelta: number;
  /** SES's own rate for the per-address path (requests/second per operation and region). */
  readonly perAddressRate: number;
  /** The import-job path: a bulk delta (≥ the 500-address threshold) into an empty region. */
  readonly bulkDelta: number;
  /** The first convergence: this many addresses into an empty region, and the SES rate it runs at. */
  readonly convergenceEntries: number;
  readonly convergenceRate: number;
  readonly importRowsPerSecond: number;
  readonly timeoutSeconds: number;
}

/** What the propagation benchmark measured. */
export interface PropagationBenchResult {
  readonly perAddress: PropagationScenario;
  readonly bulk: PropagationScenario;
  readonly firstConvergence: PropagationScenario;
  /** Per-address entries/s at its pacing, projected to a day. */
  readonly perAddressPerDay: number;
  /** Import-path entries/s ÷ per-address entries/s (the bulk scenario against the per-address one, same run). */
  readonly importVsPerAddress: number;
}

/** The three propagation scenarios, against DynamoDB Local, the SES emulator and the local S3. */
export async function runPropagationBench(
  dynamo: BenchDynamo,
  options: PropagationBenchOptions,
  log: (line: string) => void,
): Promise<PropagationBenchResult> {
  const s3Local = await startLocalS3();
  try {
    const common = { importRowsPerSecond: options.importRowsPerSecond, timeoutSeconds: options.timeoutSeconds };
    const perAddress = await runPropagationScenario(
      dynamo,
      s3Local,
      {
        ...common,
        name: `per-address: ${options.perAddressDelta} missing of ${options.perAddressTable}`,
        entries: options.perAddressTable,
        missing: options.perAddressDelta,
        requestsPerSecond: options.perAddressRate,
      },
      log,
    );
    const bulk = await runPropagationScenario(
      dynamo,
      s3Local,
      {
        ...common,
        name: `import jobs: ${options.bulkDelta} into an empty region`,
        entries: options.bulkDelta,
        missing: options.bulkDelta,
        requestsPerSecond: options.perAddressRate,
      },
      log,
    );
    const firstConvergence = await runPropagationScenario(
      dynamo,
      s3Local,
      {
        ...common,
        name: `first convergence: ${options.convergenceEntries} into an empty region`,
        entries: options.convergenceEntries,
        missing: options.convergenceEntries,
        requestsPerSecond: options.convergenceRate,
      },
      log,
    );
    return {
      perAddress,
      bulk,
      firstConvergence,
      perAddressPerDay: Math.round((perAddress.delta / Math.max(0.001, perAddress.deliveredMs / 1000)) * 86_400),
      importVsPerAddress: round(bulk.entriesPerSecond / Math.max(0.001, perAddress.entriesPerSecond), 1),
    };
  } finally {
    await s3Local.stop();
  }
}

/** Import jobs a first convergence of `n` addresses needs: SES takes at most 100,000 addresses an add job. */
export function expectedImportJobs(n: number): number {
  return Math.ceil(n / ADD_JOB_LIMIT);
}

/** SES requests per address on the per-address path: GetSuppressedDestination, then PutSuppressedDestination. */
export const PER_ADDRESS_SES_REQUESTS = 2;
