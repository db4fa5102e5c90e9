import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ListSuppressedDestinationsCommand, type ListSuppressedDestinationsCommandOutput, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PropagationSummary, SyncMode, SyncSummary } from '../../client/sync-contract';
import { canonicalAddress } from '../domain/address';
import { forEachLimit } from '../domain/batch';
import { StepBudget } from '../domain/deadline';
import type { PassCheckpoint, RegionSyncState, SuppressionReason, SweepSegment } from '../domain/records';
import { backoffDelay, isRetryable, isThrottle, type Pacer } from '../domain/retry';
import type { SeenAddresses } from '../domain/seen-set';
import { StateTable } from '../domain/state-table';
import {
  compareRegionEntries,
  INSERT_BATCH_LIMIT,
  type NewRegionItem,
  type RegionView,
  regionWrites,
  SuppressionTable,
} from '../domain/suppression-table';

/** Tunables of a sync run; every one has a production default. */
export interface SyncOptions {
  /** Entries per ListSuppressedDestinations page. @default 1000 (the SES maximum) */
  readonly pageSize?: number;
  /** How far before the watermark an incremental pass starts, to absorb late or skewed timestamps. @default 10 minutes */
  readonly overlapMs?: number;
  /** Stop paging and checkpoint when less than this much invocation time remains. @default 20 seconds */
  readonly marginMs?: number;
  /** Expired-NextToken restarts allowed per pass before the pass is abandoned with an error. @default 3 */
  readonly maxRestarts?: number;
  /** Attempts per SES call on throttling and 5xx. @default 8 */
  readonly maxAttempts?: number;
  /** Upper bound of one backoff delay. @default 20 seconds */
  readonly backoffCapMs?: number;
  /** Canonical item writes in flight at once. @default 32 */
  readonly writeConcurrency?: number;
  /** Segments of the sweep's parallel Scan (its `TotalSegments`), scanned at once. @default 4 */
  readonly sweepSegments?: number;
  /** Items a sweep Scan page evaluates (its `Limit`), which bounds the page's cost. @default 1000 */
  readonly sweepPageLimit?: number;
}

/** What a sync run needs; the handler builds these once per container, tests build their own. */
export interface SyncDeps {
  readonly ses: SESv2Client;
  readonly doc: DynamoDBDocumentClient;
  readonly suppressionTable: string;
  readonly stateTable: string;
  readonly pacer: Pacer;
  readonly logger: Logger;
  /** Milliseconds left in this invocation (Lambda's `getRemainingTimeInMillis`). */
  readonly remainingMs: () => number;
  readonly now?: () => number;
  readonly options?: SyncOptions;
  /**
   * Runs after a pass completes, while the invocation still holds the region's lease (propagation into the region);
   * what it returns is part of the summary.
   */
  readonly afterPass?: (owner: string, state: RegionSyncState) => Promise<PropagationSummary | undefined>;
  /**
   * Runs last while the lease is held (whether or not the pass completed); resolves true when it gave the lease back
   * itself. The handler propagates the addresses targeted runs queued for the holder here.
   */
  readonly beforeRelease?: (owner: string) => Promise<boolean>;
}

/** What to sync. */
export interface SyncRequest {
  readonly region: string;
  readonly mode: SyncMode;
}

interface SesEntry {
  readonly address: string;
  readonly key: string;
  readonly reason: SuppressionReason;
  readonly lastUpdateTime: string;
}

class DeadlineReached extends Error {
  constructor() {
    super('invocation deadline reached');
    this.name = 'DeadlineReached';
  }
}

const DEFAULTS = {
  pageSize: 1000,
  overlapMs: 10 * 60_000,
  marginMs: 20_000,
  maxRestarts: 3,
  maxAttempts: 8,
  backoffCapMs: 20_000,
  writeConcurrency: 32,
  // See "Sweep in segments" in the README's Performance section for the measurements behind these two.
  sweepSegments: 4,
  sweepPageLimit: 1000,
} satisfies Required<SyncOptions>;

/**
 * Syncs one region's SES suppression list into the canonical table, from where its previous invocation stopped.
 * Incremental passes ask SES only for entries updated since the watermark (less an overlap); full passes list
 * everything, then sweep the table for entries the region no longer lists. Only entries that changed are written.
 */
export async function syncRegion(request: SyncRequest, deps: SyncDeps): Promise<SyncSummary> {
  return new SyncRun(request, deps).run();
}

class SyncRun {
  private readonly now: () => number;
  private readonly opts: Required<SyncOptions>;
  private readonly state: StateTable;
  private readonly table: SuppressionTable;
  private readonly owner = randomUUID();
  private readonly started: number;
  private pages = 0;
  private entriesRead = 0;
  private itemsWritten = 0;
  private removals = 0;
  private throttled = 0;
  private restarts = 0;
  private passId?: string;
  /** The time each kind of step has taken in this invocation, so that none is started that would overrun the deadline. */
  private readonly budgets: { list: StepBudget; sweep: StepBudget; seen: StepBudget };

  constructor(
    private readonly request: SyncRequest,
    private readonly deps: SyncDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.opts = { ...DEFAULTS, ...definedOnly(deps.options ?? {}) };
    this.state = new StateTable(deps.doc, deps.stateTable);
    this.table = new SuppressionTable(deps.doc, deps.suppressionTable);
    this.started = this.now();
    const budget = () => new StepBudget(deps.remainingMs, this.opts.marginMs);
    this.budgets = { list: budget(), sweep: budget(), seen: budget() };
  }

  async run(): Promise<SyncSummary> {
    const { region, mode } = this.request;
    const leaseUntil = this.started + this.deps.remainingMs() + 60_000;
    if (!(await this.state.acquireLease(region, this.owner, leaseUntil, this.started))) {
      if (mode === 'full') await this.state.requestFullPass(region, iso(this.started));
      const reason = `another sync of ${region} holds the lease${mode === 'full' ? '; the full reconciliation is queued for the next run' : ''}`;
      this.deps.logger.info('sync skipped', { reason });
      return this.summary(false, true, undefined, reason);
    }
    try {
      const st = await this.state.load(region);
      let complete = false;
      // An incremental run also advances a full reconciliation that is queued or checkpointed, so a full pass
      // longer than one invocation finishes within hours rather than at the next daily schedule.
      const kinds: SyncMode[] = mode === 'full' ? ['full'] : ['incremental', 'full'];
      for (const kind of kinds) {
        if (kind === 'full' && mode === 'incremental' && !st.full && !st.fullRequestedAt) continue;
        const done = await this.runPass(kind, st);
        if (kind === mode) complete = done;
        if (!done) break;
      }
      const synced = this.summary(complete, st.full !== undefined || st.fullRequestedAt !== undefined, st.watermark);
      await this.state.save(region, this.owner, { lastRunAt: iso(this.now()), lastSummary: synced }, ['lastError']);
      // The region's list is as fresh as it gets right after a completed pass: the moment to converge it.
      const propagation = complete && this.deps.afterPass ? await this.deps.afterPass(this.owner, st) : undefined;
      return propagation ? { ...synced, propagation } : synced;
    } catch (error) {
      const e = error as Error;
      this.deps.logger.error('sync failed', { error: e });
      await this.state
        .save(region, this.owner, { lastRunAt: iso(this.now()), lastError: { name: e.name, message: e.message, at: iso(this.now()) } })
        .catch((saveError: unknown) => this.deps.logger.error('could not record the sync error', { error: saveError as Error }));
      throw error;
    } finally {
      // Addresses targeted runs queued while this run held the lease are propagated before it lets go.
      const released = await (this.deps.beforeRelease?.(this.owner) ?? Promise.resolve(false)).catch((error: unknown) => {
        this.deps.logger.error('could not propagate the queued addresses', { error: error as Error });
        return false;
      });
      if (!released) {
        await this.state
          .releaseLease(region, this.owner)
          .catch((error: unknown) => this.deps.logger.warn('could not release the lease', { error: error as Error }));
      }
    }
  }

  /** Advances one pass as far as the deadline allows; true when the pass completed. */
  private async runPass(kind: SyncMode, st: RegionSyncState): Promise<boolean> {
    const { region } = this.request;
    let pass = st[kind];
    if (!pass) {
      const first = isFirstPass(st);
      pass = this.newPass(kind, st);
      st[kind] = pass;
      if (first) {
        // Recorded before the pass writes anything, so a pass that crashes still counts as one that ran.
        st.firstPassId = pass.passId;
        await this.state.save(region, this.owner, { firstPassId: pass.passId });
      }
      this.deps.logger.info('pass started', { kind, passId: pass.passId, first, windowStart: pass.windowStart, windowEnd: pass.windowEnd });
    }
    this.passId = pass.passId;

    // The next page is requested while the current one is written, so slow writes do not slow the SES pace.
    let prefetch: Promise<ListSuppressedDestinationsCommandOutput> | undefined;
    while (pass.phase === 'list') {
      // A page's step is the SES call (paced, retried with backoff), its writes and the checkpoint: started only while
      // the time left covers the margin and twice the slowest such step so far.
      if (!this.budgets.list.hasRoom()) return this.checkpoint(kind, pass);
      const stepStart = this.deps.remainingMs();
      let page: ListSuppressedDestinationsCommandOutput;
      try {
        page = await (prefetch ?? this.listPage(pass, pass.nextToken));
      } catch (error) {
        prefetch = undefined;
        if (error instanceof DeadlineReached) return this.checkpoint(kind, pass);
        if ((error as Error).name === 'InvalidNextTokenException' && pass.nextToken !== undefined) {
          pass.restarts++;
          this.restarts++;
          if (pass.restarts > this.opts.maxRestarts) {
            // Abandon the pass so the next invocation starts afresh from the watermark instead of looping.
            await this.state.save(region, this.owner, {}, [kind]);
            delete st[kind];
            throw new Error(`${kind} pass ${pass.passId} of ${region} abandoned: SES expired its NextToken ${pass.restarts} times`);
          }
          this.deps.logger.warn('NextToken expired; restarting the pass from its watermark', { kind, restarts: pass.restarts });
          pass.nextToken = undefined;
          continue;
        }
        throw error;
      }
      const nextToken = page.NextToken || undefined;
      // The SES call alone is already part of the step: counted before deciding whether the next page is worth asking
      // for (a prefetch the deadline then abandons would spend a request of the region's SES budget for nothing).
      this.budgets.list.record(stepStart - this.deps.remainingMs());
      prefetch = nextToken !== undefined && this.budgets.list.hasRoom() ? this.listPage(pass, nextToken) : undefined;
      // A prefetch abandoned at a checkpoint or an error must not become an unhandled rejection.
      prefetch?.catch(() => undefined);
      const entries = parseEntries(page);
      // The seen-address chunk does not depend on the writes: both go out together, and the checkpoint waits for both.
      const [written] = await Promise.all([this.applyEntries(entries), kind === 'full' ? this.recordSeen(pass, entries) : undefined]);
      pass.pages++;
      pass.entriesRead += entries.length;
      pass.itemsWritten += written;
      this.pages++;
      this.entriesRead += entries.length;
      this.itemsWritten += written;
      pass.nextToken = nextToken;
      if (nextToken === undefined) {
        if (kind === 'incremental') return this.completeIncremental(pass, st);
        pass.phase = 'sweep';
        this.deps.logger.info('listing complete; sweeping', { passId: pass.passId, pages: pass.pages, entriesRead: pass.entriesRead });
      }
      await this.state.save(region, this.owner, { [kind]: pass });
      this.budgets.list.record(stepStart - this.deps.remainingMs());
    }

    return this.sweep(pass, st);
  }

  private newPass(kind: SyncMode, st: RegionSyncState): PassCheckpoint {
    const now = this.now();
    const windowStart = kind === 'incremental' && st.watermark ? iso(Date.parse(st.watermark) - this.opts.overlapMs) : undefined;
    return {
      passId: `${kind === 'full' ? 'f' : 'i'}${now.toString(36)}${this.owner.slice(0, 6)}`,
      kind,
      startedAt: iso(now),
      windowStart,
      windowEnd: iso(now),
      phase: 'list',
      pages: 0,
      entriesRead: 0,
      itemsWritten: 0,
      removals: 0,
      restarts: 0,
      seenChunks: 0,
    };
  }

  private async checkpoint(kind: SyncMode, pass: PassCheckpoint): Promise<boolean> {
    await this.state.save(this.request.region, this.owner, { [kind]: pass });
    this.deps.logger.info('checkpointed before the deadline', { kind, passId: pass.passId, phase: pass.phase, pages: pass.pages });
    return false;
  }

  /** One ListSuppressedDestinations page, paced, with backoff on throttling and 5xx. */
  private async listPage(pass: PassCheckpoint, nextToken: string | undefined): Promise<ListSuppressedDestinationsCommandOutput> {
    const command = new ListSuppressedDestinationsCommand({
      PageSize: this.opts.pageSize,
      NextToken: nextToken,
      // A full pass lists everything SES holds now; an incremental one only the window since the watermark.
      StartDate: pass.kind === 'incremental' && pass.windowStart ? new Date(pass.windowStart) : undefined,
      EndDate: pass.kind === 'incremental' ? new Date(pass.windowEnd) : undefined,
    });
    for (let attempt = 0; ; attempt++) {
      await this.deps.pacer.acquire();
      try {
        return await this.deps.ses.send(command);
      } catch (error) {
        if (!isRetryable(error) || attempt + 1 >= this.opts.maxAttempts) throw error;
        if (isThrottle(error)) this.throttled++;
        const delay = backoffDelay(attempt, this.deps.pacer.intervalMs, this.opts.backoffCapMs);
        if (this.deps.remainingMs() - delay < this.opts.marginMs) throw new DeadlineReached();
        this.deps.logger.debug('retrying ListSuppressedDestinations', { attempt, delay, error: (error as Error).name });
        this.deps.pacer.delay(delay);
      }
    }
  }

  /**
   * Writes the entries whose region record changed, and `firstSeen` where this page holds an earlier LastUpdateTime
   * than the item's; returns how many canonical items were written.
   */
  private async applyEntries(entries: readonly SesEntry[]): Promise<number> {
    const { region } = this.request;
    const latest = new Map<string, SesEntry>();
    const earliest = new Map<string, string>();
    for (const entry of entries) {
      const current = latest.get(entry.key);
      if (!current || compareRegionEntries(entry, current) > 0) latest.set(entry.key, entry);
      const first = earliest.get(entry.key);
      if (first === undefined || entry.lastUpdateTime < first) earliest.set(entry.key, entry.lastUpdateTime);
    }
    if (latest.size === 0) return 0;
    const stored = await this.table.readRegionEntries([...latest.keys()], region);
    const changed = [...latest.values()].filter((entry) => {
      const writes = regionWrites(stored.get(entry.key), entry, earliest.get(entry.key) ?? entry.lastUpdateTime);
      return writes.writeEntry || writes.writeFirstSeen;
    });
    const syncedAt = iso(this.now());
    const toWrite = changed.map(
      (entry): NewRegionItem => ({
        key: entry.key,
        entry: { address: entry.address, reason: entry.reason, lastUpdateTime: entry.lastUpdateTime, status: 'LISTED', syncedAt },
        earliest: earliest.get(entry.key) ?? entry.lastUpdateTime,
      }),
    );
    // Addresses the table did not hold are created 25 to a request (an initial load is almost only these). An insert
    // that finds the item created meanwhile (another region's sync, an operator) is read again, consistently, and
    // written like every address the table held: by the conditional UpdateItem, only if it still changes something.
    const absent = toWrite.filter((item) => !stored.has(item.key));
    const batches: NewRegionItem[][] = [];
    for (let i = 0; i < absent.length; i += INSERT_BATCH_LIMIT) batches.push(absent.slice(i, i + INSERT_BATCH_LIMIT));
    let written = 0;
    const update = async (items: readonly NewRegionItem[], views: ReadonlyMap<string, RegionView>): Promise<void> =>
      forEachLimit(items, this.opts.writeConcurrency, async ({ key, entry, earliest: first }) => {
        if (await this.table.putRegionEntry(key, region, entry, first, views.get(key))) written++;
      });
    const insert = async (): Promise<void> => {
      const notInserted: NewRegionItem[] = [];
      await forEachLimit(batches, Math.max(1, Math.ceil(this.opts.writeConcurrency / 4)), async (batch) => {
        const left = await this.table.insertRegionEntries(region, batch);
        written += batch.length - left.length;
        notInserted.push(...left);
      });
      if (notInserted.length === 0) return;
      const fresh = await this.table.readRegionEntries(
        notInserted.map((item) => item.key),
        region,
        true,
      );
      await update(
        notInserted.filter((item) => {
          const writes = regionWrites(fresh.get(item.key), item.entry, item.earliest);
          return writes.writeEntry || writes.writeFirstSeen;
        }),
        fresh,
      );
    };
    await Promise.all([
      insert(),
      update(
        toWrite.filter((item) => stored.has(item.key)),
        stored,
      ),
    ]);
    return written;
  }

  /** Records the addresses a full pass saw, so the sweep can tell which ones the region no longer lists. */
  private async recordSeen(pass: PassCheckpoint, entries: readonly SesEntry[]): Promise<void> {
    if (entries.length === 0) return;
    pass.seenChunks++;
    await this.state.putSeenChunk(
      this.request.region,
      pass.passId,
      pass.seenChunks,
      entries.map((entry) => entry.key),
      this.now(),
    );
  }

  /**
   * Marks LISTED entries of this region that the full pass did not see as REMOVED: a parallel Scan in
   * `sweepSegments` segments, each continued from its own checkpointed key by later invocations.
   */
  private async sweep(pass: PassCheckpoint, st: RegionSyncState): Promise<boolean> {
    const { region } = this.request;
    // The region's first pass wrote every entry of the region the table holds, and saw each: nothing to sweep. (An
    // entry written by an incremental pass in between was listed after this pass began, which the sweep skips too.)
    const firstPass = st.firstPassId === pass.passId;
    if (firstPass) this.deps.logger.info("the region's first pass: no entry of it predates the pass, so no sweep", { passId: pass.passId });
    // 8 bytes an address (a sorted array of hashes): 80 MB for 10,000,000 entries. A hash collision can only make a
    // delisted address look seen, so it errs on the side of keeping a suppression (see seen-set.ts). Read page by page
    // while the deadline allows; an invocation that runs out first reads them again in the next one.
    const seen = await this.state.loadSeen(region, pass.passId, pass.entriesRead, this.budgets.seen);
    if (!seen) return this.checkpoint('full', pass);
    if (!firstPass && !(await this.sweepSegments(pass, seen))) return this.checkpoint('full', pass);

    const doneAt = iso(this.now());
    const watermark = maxIso(st.watermark, pass.windowEnd);
    await this.state.save(
      region,
      this.owner,
      { watermark, lastSuccessAt: doneAt, lastFullSuccessAt: doneAt, lastFullListingFrom: pass.startedAt, listedAtLastFull: seen.size },
      ['full', 'fullRequestedAt'],
    );
    st.watermark = watermark;
    st.lastFullListingFrom = pass.startedAt;
    delete st.full;
    delete st.fullRequestedAt;
    this.deps.logger.info('full pass complete', {
      passId: pass.passId,
      listed: seen.size,
      removals: pass.removals,
      seenBytes: seen.byteLength,
    });
    // The pass is complete already: chunks not deleted before the deadline expire through TTL.
    await this.state.deleteSeen(region, pass.passId, pass.seenChunks, this.budgets.seen);
    return true;
  }

  /**
   * Scans every segment of the sweep from its checkpointed key, all segments at once; true when all are done.
   *
   * A page is the Scan (at most `sweepPageLimit` items evaluated, so its cost is bounded whatever the table's size),
   * the REMOVED marks of its delisted entries and the checkpoint. A segment starts its next page only while the time
   * left covers the margin and twice the slowest page of this invocation (see {@link StepBudget}); the segments in
   * flight then end before the margin, and the invocation checkpoints every segment's key.
   */
  private async sweepSegments(pass: PassCheckpoint, seen: SeenAddresses): Promise<boolean> {
    const { region } = this.request;
    if (!pass.segments) {
      // A sweep checkpointed before segments existed saved one plain Scan's key: it goes on as one segment from that
      // key (a LastEvaluatedKey only continues a Scan of the same segmentation). A sweep not begun starts segmented.
      pass.segments =
        pass.scanKey !== undefined
          ? [{ scanKey: pass.scanKey, done: false }]
          : Array.from({ length: Math.max(1, Math.floor(this.opts.sweepSegments)) }, () => ({ done: false }));
      delete pass.scanKey;
    }
    const segments: SweepSegment[] = pass.segments;
    const total = segments.length;
    const budget = this.budgets.sweep;
    // Checkpoints of the segments go out one at a time, each with the pass as it stands then, so the last one written
    // is the newest (concurrent UpdateItems of the whole pass could land out of order and move a key back).
    let saving: Promise<void> = Promise.resolve();
    const save = (): Promise<void> => {
      saving = saving.then(() => this.state.save(region, this.owner, { full: pass }));
      return saving;
    };
    let stopped = false;
    const scanSegment = async (segment: SweepSegment, index: number): Promise<void> => {
      while (!segment.done) {
        if (stopped || !budget.hasRoom()) {
          stopped = true;
          return;
        }
        await budget.time(async () => {
          const { listed, nextKey } = await this.table.scanListed(region, segment.scanKey, {
            segment: { index, total },
            limit: this.opts.sweepPageLimit,
          });
          const gone = listed.filter(({ key }) => !seen.has(key));
          let removed = 0;
          await forEachLimit(gone, Math.max(1, Math.ceil(this.opts.writeConcurrency / total)), async ({ key, entry }) => {
            if (await this.table.markRegionRemoved(key, region, entry.address, pass.startedAt, iso(this.now()))) removed++;
          });
          pass.removals += removed;
          this.removals += removed;
          this.itemsWritten += removed;
          pass.itemsWritten += removed;
          if (nextKey) segment.scanKey = nextKey;
          else {
            delete segment.scanKey;
            segment.done = true;
          }
          // The last page of the last segment needs no checkpoint: the pass completes next.
          if (segments.some((s) => !s.done)) await save();
        });
      }
    };
    // A failed segment stops the others at their next page, and every segment has stopped before the first error is
    // thrown: none is left writing in the background.
    const outcomes = await Promise.allSettled(
      segments.map((segment, index) =>
        scanSegment(segment, index).catch((error: unknown) => {
          stopped = true;
          throw error;
        }),
      ),
    );
    await saving;
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return segments.every((s) => s.done);
  }

  private async completeIncremental(pass: PassCheckpoint, st: RegionSyncState): Promise<boolean> {
    const watermark = maxIso(st.watermark, pass.windowEnd);
    await this.state.save(this.request.region, this.owner, { watermark, lastSuccessAt: iso(this.now()) }, ['incremental']);
    st.watermark = watermark;
    delete st.incremental;
    return true;
  }

  private summary(complete: boolean, fullPassPending: boolean, syncedThrough: string | undefined, skipped?: string): SyncSummary {
    return {
      region: this.request.region,
      mode: this.request.mode,
      complete,
      pages: this.pages,
      entriesRead: this.entriesRead,
      itemsWritten: this.itemsWritten,
      removals: this.removals,
      throttled: this.throttled,
      restarts: this.restarts,
      durationMs: this.now() - this.started,
      passId: this.passId,
      skipped,
      fullPassPending,
      syncedThrough,
    };
  }
}

function parseEntries(page: ListSuppressedDestinationsCommandOutput): SesEntry[] {
  const entries: SesEntry[] = [];
  for (const summary of page.SuppressedDestinationSummaries ?? []) {
    if (!summary.EmailAddress || !summary.LastUpdateTime || (summary.Reason !== 'BOUNCE' && summary.Reason !== 'COMPLAINT')) continue;
    entries.push({
      address: summary.EmailAddress,
      key: canonicalAddress(summary.EmailAddress),
      reason: summary.Reason,
      lastUpdateTime: summary.LastUpdateTime.toISOString(),
    });
  }
  return entries;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function maxIso(a: string | undefined, b: string): string {
  return a !== undefined && a > b ? a : b;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * True when no pass of the region ever started: no pass recorded as the first, none in progress, and no run, success
 * or watermark on record. State written before `firstPassId` existed has one of the others, unless its only run was
 * killed before its first checkpoint; then a removal waits for the next full pass (a suppression is kept longer, never
 * lost).
 */
function isFirstPass(st: RegionSyncState): boolean {
  return (
    st.firstPassId === undefined &&
    st.incremental === undefined &&
    st.full === undefined &&
    st.watermark === undefined &&
    st.lastSuccessAt === undefined &&
    st.lastRunAt === undefined
  );
}
