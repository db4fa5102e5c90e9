import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SyncSummary } from '../client/sync-contract';
import { batchWrite, forEachLimit, type WriteRequest } from '../lambdas/domain/batch';
import { regionAttribute, regionStateKey } from '../lambdas/domain/records';
import { SEEN_HASH_BYTES } from '../lambdas/domain/seen-set';
import { SYNC_DEADLINE_MARGIN_MS } from '../lambdas/sync/settings';
import { LocalLambda } from '../local/lambda-runtime';
import { SesEmulator } from '../local/ses-emulator';
import { functionBundle } from '../local/template-resources';
import { CountingProxy } from './counting-proxy';
import { type BenchDynamo, round } from './harness';

/** Settings of the scale benchmark. */
export interface ScaleBenchOptions {
  /** Entries of the one region's SES list (and items of the canonical table). */
  readonly entries: number;
  /** Emulated SES rate (requests/second); SES itself allows 1. */
  readonly requestsPerSecond: number;
  /** Entries delisted before the checkpointed pass, which its sweep must mark REMOVED. */
  readonly delisted: number;
  /** Invocations the checkpointed pass should need at least (it sizes the function timeout from the first pass). */
  readonly minInvocations: number;
}

/** One full reconciliation run through the synthesized sync bundle, over as many invocations as it took. */
export interface ScalePass {
  readonly invocations: number;
  /** Invocations that listed pages (the rest only swept). */
  readonly listingInvocations: number;
  readonly timeoutSeconds: number;
  readonly durationMs: number;
  readonly entriesRead: number;
  readonly itemsWritten: number;
  readonly removals: number;
  readonly pages: number;
  /** DynamoDB requests by operation, counted by a proxy in front of DynamoDB Local. */
  readonly dynamoRequests: Record<string, number>;
  /** Peak resident set size of the function's process, and its size once the bundle was loaded. */
  readonly peakRssMiB: number;
  readonly idleRssMiB: number;
  /** Peak V8 heap in use, and peak ArrayBuffer memory (where the seen hashes live), of the function's process. */
  readonly peakHeapUsedMiB: number;
  readonly peakArrayBuffersMiB: number;
  /** Distinct addresses the sweep held, and the bytes it held them in. */
  readonly seenEntries: number;
  readonly seenBytes: number;
  /** Wall time of the listing (at the emulated SES rate) and of the sweep (table scan), from the function's logs. */
  readonly listMs: number;
  readonly sweepMs: number;
}

/** What the scale benchmark measured. */
export interface ScaleResult {
  readonly entries: number;
  readonly requestsPerSecond: number;
  readonly seedSeconds: number;
  readonly current: ScalePass;
  readonly checkpointed: ScalePass & { readonly delisted: number; readonly verified: string[] };
  /** Bytes per entry of the seen structure (the sorted hashes), and of the Set of hex strings it replaced. */
  readonly seenBytesPerEntry: number;
  readonly hexSetBytesPerEntry: number;
  readonly projection10M: {
    readonly seenMiB: number;
    readonly peakRssMiB: number;
    readonly listHoursAtSesRate: number;
    readonly invocationsAtSesRate: number;
    readonly sweepMinutesAtLocalPace: number;
  };
}

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const MiB = 2 ** 20;

// Loaded into the function's process with --require: samples its memory, and records the peaks where the bench reads them.
const MEMORY_PROBE = `
'use strict';
const fs = require('node:fs');
const file = process.env.SSG_BENCH_MEMORY_FILE;
const peak = { heapUsed: 0, arrayBuffers: 0, rss: 0 };
let idleRss;
const sample = () => {
  const m = process.memoryUsage();
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  peak.rss = Math.max(peak.rss, m.rss, process.resourceUsage().maxRSS * 1024);
  fs.writeFileSync(file, JSON.stringify({ ...peak, idleRss }));
};
setImmediate(() => { idleRss = process.memoryUsage().rss; sample(); });
setInterval(sample, 50).unref();
process.on('message', (msg) => { if (msg && msg.type === 'bench-reset-peaks') { peak.heapUsed = 0; peak.arrayBuffers = 0; } });
`;

/**
 * The scale scenario: one region of `entries` entries, the canonical table already current, a full reconciliation
 * through the synthesized sync bundle in a Lambda-like process; then a pass forced over several invocations by a short
 * function timeout (the checkpoint mechanism), after delisting some entries it must mark REMOVED.
 */
export async function runScaleBench(dynamo: BenchDynamo, options: ScaleBenchOptions, log: (line: string) => void): Promise<ScaleResult> {
  const tables = await dynamo.tables('scale');
  const emu = await SesEmulator.start({ requestsPerSecond: options.requestsPerSecond, seed: 7 });
  const proxy = await CountingProxy.start(dynamo.local.endpoint);
  const dir = mkdtempSync(join(tmpdir(), 'ssg-scale-'));
  try {
    const base = Date.now() - 60 * 24 * 3600_000;
    const address = (i: number) => `user.${i}@example.com`;
    const reason = (i: number) => (i % 7 === 0 ? ('COMPLAINT' as const) : ('BOUNCE' as const));
    // Whole seconds: SES returns LastUpdateTime in seconds, so this is what a sync reads back.
    const lastUpdateTime = (i: number) => new Date(base + i * 1000);

    log(`  scale: seeding ${options.entries} SES entries and canonical items...`);
    const seedStarted = Date.now();
    const region = emu.region(REGION);
    for (let from = 0; from < options.entries; from += 100_000) {
      const to = Math.min(options.entries, from + 100_000);
      region.putSuppressedMany(
        Array.from({ length: to - from }, (_, k) => ({
          emailAddress: address(from + k),
          reason: reason(from + k),
          lastUpdateTime: lastUpdateTime(from + k),
        })),
      );
    }
    // The canonical table as a completed sync leaves it (the same item putRegionEntry writes), seeded with
    // BatchWriteItem: a table already current. The pass below checks it is: it must write nothing.
    const syncedAt = new Date().toISOString();
    const seedBatches = Array.from({ length: Math.ceil(options.entries / 25) }, (_, b) => b);
    let seeded = 0;
    await forEachLimit(seedBatches, 12, async (b) => {
      const requests: WriteRequest[] = [];
      for (let i = b * 25; i < Math.min(options.entries, (b + 1) * 25); i++) {
        const lut = lastUpdateTime(i).toISOString();
        requests.push({
          PutRequest: {
            Item: {
              address: address(i),
              firstSeen: lut,
              origin: `ses:${REGION}`,
              lastUpdated: syncedAt,
              [regionAttribute(REGION)]: { address: address(i), reason: reason(i), lastUpdateTime: lut, status: 'LISTED', syncedAt },
            },
          },
        });
      }
      const left = await batchWrite(tables.doc, tables.suppressionTable, requests, { maxRounds: 20 });
      if (left > 0) throw new Error(`seeding left ${left} items unwritten`);
      seeded += requests.length;
      if (seeded % 100_000 < 25) log(`    ${seeded} items seeded`);
    });
    // The region's state as a completed earlier sync leaves it: the pass below is not the region's first, so it
    // sweeps the table (a region's first pass skips its sweep: every entry of the region in the table is its own).
    await tables.doc.send(
      new PutCommand({ TableName: tables.stateTable, Item: { ...regionStateKey(REGION), region: REGION, lastRunAt: syncedAt } }),
    );
    const seedSeconds = round((Date.now() - seedStarted) / 1000, 1);

    const bundle = functionBundle(dynamo.template, dynamo.outdir, 'SyncSyncFunction', {
      ...Object.fromEntries(
        Object.entries(dynamo.template.Resources)
          .filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')
          .map(([id]) => [id, id.startsWith('SyncSuppressionTable') ? tables.suppressionTable : tables.stateTable]),
      ),
    });
    const probe = join(dir, 'memory-probe.js');
    writeFileSync(probe, MEMORY_PROBE);

    const runPass = async (timeoutSeconds: number, label: string): Promise<ScalePass> => {
      const memoryFile = join(dir, `memory-${label}.json`);
      const fn = await LocalLambda.start(bundle, {
        timeoutMs: timeoutSeconds * 1000,
        env: {
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
          AWS_ENDPOINT_URL_SESV2: emu.endpoint,
          SES_REQUESTS_PER_SECOND: String(options.requestsPerSecond),
          NODE_OPTIONS: `${bundle.environment.NODE_OPTIONS ?? ''} --require ${probe}`.trim(),
          SSG_BENCH_MEMORY_FILE: memoryFile,
        },
      });
      try {
        proxy.reset();
        emu.resetStats();
        const started = Date.now();
        const summaries: SyncSummary[] = [];
        for (;;) {
          const outcome = await fn.invoke<SyncSummary>({ region: REGION, mode: 'full' });
          if (outcome.error || !outcome.result) {
            const tail = fn.output.split('\n').slice(-12).join('\n');
            throw new Error(
              `sync invocation failed: ${outcome.error?.name}: ${outcome.error?.message}\nthe function's last log lines:\n${tail}`,
            );
          }
          summaries.push(outcome.result);
          log(
            `    invocation ${summaries.length}: ${outcome.result.pages} pages, ${outcome.result.removals} removals, complete=${outcome.result.complete}, ${(outcome.durationMs / 1000).toFixed(1)} s`,
          );
          if (outcome.result.complete) break;
          if (summaries.length > 200) throw new Error('the full pass did not complete in 200 invocations');
        }
        const durationMs = Date.now() - started;
        if (fn.environmentsStarted !== 1) throw new Error(`expected one execution environment, ${fn.environmentsStarted} were started`);
        const memory = JSON.parse(readFileSync(memoryFile, 'utf8')) as {
          heapUsed: number;
          arrayBuffers: number;
          rss: number;
          idleRss: number;
        };
        const logs = fn.output
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { message?: string; timestamp?: string; listed?: number; seenBytes?: number });
        const at = (message: string) => {
          const line = logs.filter((l) => l.message === message).pop();
          if (!line?.timestamp) throw new Error(`the function logged no "${message}" line`);
          return { ms: Date.parse(line.timestamp), line };
        };
        const listed = at('listing complete; sweeping');
        const done = at('full pass complete');
        const sum = (key: 'entriesRead' | 'itemsWritten' | 'removals' | 'pages') => summaries.reduce((n, s) => n + s[key], 0);
        return {
          invocations: summaries.length,
          listingInvocations: summaries.filter((summary) => summary.pages > 0).length,
          timeoutSeconds,
          durationMs,
          entriesRead: sum('entriesRead'),
          itemsWritten: sum('itemsWritten'),
          removals: sum('removals'),
          pages: sum('pages'),
          dynamoRequests: proxy.snapshot(),
          peakRssMiB: round(memory.rss / MiB, 1),
          idleRssMiB: round(memory.idleRss / MiB, 1),
          peakHeapUsedMiB: round(memory.heapUsed / MiB, 1),
          peakArrayBuffersMiB: round(memory.arrayBuffers / MiB, 1),
          seenEntries: done.line.listed ?? 0,
          seenBytes: done.line.seenBytes ?? 0,
          listMs: listed.ms - started,
          sweepMs: done.ms - listed.ms,
        };
      } finally {
        await fn.stop();
      }
    };

    log(`  scale: full reconciliation of ${options.entries} entries, table current (function timeout 900 s)...`);
    const current = await runPass(900, 'current');
    if (current.itemsWritten !== 0) throw new Error(`the table was current, yet the pass wrote ${current.itemsWritten} items`);

    // Delist every n-th entry, then force the pass over several invocations: the function timeout leaves about
    // 1/minInvocations of the first pass's listing before the sync's own deadline margin, so the listing (and its
    // seen-address chunks) and the sweep each span several invocations.
    const step = Math.max(1, Math.floor(options.entries / options.delisted));
    const delisted: number[] = [];
    for (let i = 0; i < options.entries && delisted.length < options.delisted; i += step) {
      region.deleteSuppressed(address(i));
      delisted.push(i);
    }
    const timeoutSeconds = Math.ceil((SYNC_DEADLINE_MARGIN_MS + current.listMs / options.minInvocations) / 1000);
    log(`  scale: the same pass after delisting ${delisted.length} entries, function timeout ${timeoutSeconds} s (checkpointed)...`);
    const pass = await runPass(timeoutSeconds, 'checkpointed');

    const verified: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok) throw new Error(`checkpointed pass: ${what}`);
      verified.push(what);
    };
    check(pass.invocations >= 2, `completed over ${pass.invocations} invocations`);
    check(pass.listingInvocations >= 2, `listed over ${pass.listingInvocations} invocations`);
    check(pass.removals === delisted.length, `marked exactly the ${delisted.length} delisted entries REMOVED`);
    check(
      pass.entriesRead === options.entries - delisted.length,
      `read each of the ${options.entries - delisted.length} listed entries once`,
    );
    const statusOf = async (i: number) => {
      const out = await tables.doc.send(new GetCommand({ TableName: tables.suppressionTable, Key: { address: address(i) } }));
      return (out.Item?.[regionAttribute(REGION)] as { status?: string } | undefined)?.status;
    };
    const sampleDelisted = await Promise.all(delisted.slice(0, 200).map(statusOf));
    check(
      sampleDelisted.every((s) => s === 'REMOVED'),
      `${sampleDelisted.length} delisted entries read back REMOVED`,
    );
    const listedSample = Array.from({ length: 200 }, (_, k) => Math.min(options.entries - 1, k * step + 1));
    const sampleListed = await Promise.all(listedSample.map(statusOf));
    check(
      sampleListed.every((s) => s === 'LISTED'),
      `${sampleListed.length} still-listed entries read back LISTED`,
    );
    const chunks = await tables.doc.send(
      new QueryCommand({
        TableName: tables.stateTable,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :full)',
        ExpressionAttributeValues: { ':pk': regionStateKey(REGION).pk, ':full': 'full#' },
        Select: 'COUNT',
      }),
    );
    check(chunks.Count === 0, 'no seen-address chunk left in the state table');

    const seenBytesPerEntry = round(current.seenBytes / Math.max(1, current.seenEntries), 2);
    const hexSetBytesPerEntry = measureHexSet(Math.min(options.entries, 1_000_000));
    const tenM = 10_000_000;
    const pagesAt10M = tenM / 1000;
    const sweepMs = current.sweepMs;
    const perInvocationSeconds = 900 - SYNC_DEADLINE_MARGIN_MS / 1000;
    return {
      entries: options.entries,
      requestsPerSecond: options.requestsPerSecond,
      seedSeconds,
      current,
      checkpointed: { ...pass, delisted: delisted.length, verified },
      seenBytesPerEntry,
      hexSetBytesPerEntry,
      projection10M: {
        seenMiB: round((tenM * SEEN_HASH_BYTES) / MiB, 1),
        // Everything else the function holds is per page, so only the seen hashes grow with the list.
        peakRssMiB: round(current.peakRssMiB + ((tenM - current.seenEntries) * seenBytesPerEntry) / MiB, 0),
        listHoursAtSesRate: round(pagesAt10M / 3600, 2),
        invocationsAtSesRate: Math.ceil((pagesAt10M + ((sweepMs / 1000) * tenM) / options.entries) / perInvocationSeconds),
        sweepMinutesAtLocalPace: round(((sweepMs / 60_000) * tenM) / options.entries, 1),
      },
    };
  } finally {
    await proxy.stop();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Heap bytes per entry of a Set of 16-character hex strings (what the sweep used to hold), measured in a fresh process. */
function measureHexSet(n: number): number {
  const script = `
    const { createHash } = require('node:crypto');
    global.gc(); const before = process.memoryUsage().heapUsed;
    const seen = new Set();
    for (let i = 0; i < ${n}; i++) seen.add(createHash('sha256').update('user.' + i + '@example.com').digest().subarray(0, 8).toString('hex'));
    global.gc(); const after = process.memoryUsage().heapUsed;
    process.stdout.write(String((after - before) / seen.size));
  `;
  const out = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`measuring the Set of hex strings failed: ${out.stderr}`);
  return round(Number(out.stdout), 1);
}
