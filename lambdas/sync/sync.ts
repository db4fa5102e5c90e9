import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ListSuppressedDestinationsCommand, type ListSuppressedDestinationsCommandOutput, type SESv2Client } from '@aws-sdk/client-sesv2';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { canonicalAddress } from '../domain/address';
import { batchGetByKey, batchWrite, forEachLimit } from '../domain/batch';
import { type RegionEntry, regionAttribute, regionStateKey, SUPPRESSION_KEY, type SuppressionReason } from '../domain/records';
import { backoffDelay, isRetryable, isThrottle, type Pacer } from '../domain/retry';
import { type PassCheckpoint, type RegionSyncState, type SyncMode, SyncStateStore, type SyncSummary } from './state';

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
} satisfies Required<SyncOptions>;

const SEEN_HASH_BYTES = 8;
const SEEN_CHUNK_TTL_SECONDS = 7 * 24 * 3600;

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
  private readonly state: SyncStateStore;
  private readonly owner = randomUUID();
  private readonly started: number;
  private pages = 0;
  private entriesRead = 0;
  private itemsWritten = 0;
  private removals = 0;
  private throttled = 0;
  private restarts = 0;
  private passId?: string;

  constructor(
    private readonly request: SyncRequest,
    private readonly deps: SyncDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.opts = { ...DEFAULTS, ...definedOnly(deps.options ?? {}) };
    this.state = new SyncStateStore(deps.doc, deps.stateTable);
    this.started = this.now();
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
      const summary = this.summary(complete, st.full !== undefined || st.fullRequestedAt !== undefined, st.watermark);
      await this.state.save(region, this.owner, { lastRunAt: iso(this.now()), lastSummary: summary }, ['lastError']);
      return summary;
    } catch (error) {
      const e = error as Error;
      this.deps.logger.error('sync failed', { error: e });
      await this.state
        .save(region, this.owner, { lastRunAt: iso(this.now()), lastError: { name: e.name, message: e.message, at: iso(this.now()) } })
        .catch((saveError: unknown) => this.deps.logger.error('could not record the sync error', { error: saveError as Error }));
      throw error;
    } finally {
      await this.state
        .releaseLease(region, this.owner)
        .catch((error: unknown) => this.deps.logger.warn('could not release the lease', { error: error as Error }));
    }
  }

  /** Advances one pass as far as the deadline allows; true when the pass completed. */
  private async runPass(kind: SyncMode, st: RegionSyncState): Promise<boolean> {
    const { region } = this.request;
    let pass = st[kind];
    if (!pass) {
      pass = this.newPass(kind, st);
      st[kind] = pass;
      this.deps.logger.info('pass started', { kind, passId: pass.passId, windowStart: pass.windowStart, windowEnd: pass.windowEnd });
    }
    this.passId = pass.passId;

    // The next page is requested while the current one is written, so slow writes do not slow the SES pace.
    let prefetch: Promise<ListSuppressedDestinationsCommandOutput> | undefined;
    while (pass.phase === 'list') {
      if (this.outOfTime()) return this.checkpoint(kind, pass);
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
      prefetch = nextToken !== undefined && !this.outOfTime() ? this.listPage(pass, nextToken) : undefined;
      // A prefetch abandoned at a checkpoint or an error must not become an unhandled rejection.
      prefetch?.catch(() => undefined);
      const entries = parseEntries(page);
      const written = await this.applyEntries(entries);
      if (kind === 'full') await this.recordSeen(pass, entries);
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
      }
      await this.state.save(region, this.owner, { [kind]: pass });
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

  private outOfTime(): boolean {
    return this.deps.remainingMs() < this.opts.marginMs;
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

  /** Writes the entries whose region record changed; returns how many canonical items were written. */
  private async applyEntries(entries: readonly SesEntry[]): Promise<number> {
    const { region } = this.request;
    const attr = regionAttribute(region);
    const latest = new Map<string, SesEntry>();
    for (const entry of entries) {
      const current = latest.get(entry.key);
      if (!current || compareEntries(entry, current) > 0) latest.set(entry.key, entry);
    }
    if (latest.size === 0) return 0;
    const { items } = await batchGetByKey(this.deps.doc, this.deps.suppressionTable, SUPPRESSION_KEY, [...latest.keys()], {
      projection: '#key, #r',
      names: { '#key': SUPPRESSION_KEY, '#r': attr },
    });
    const changed = [...latest.values()].filter((entry) => needsWrite(items.get(entry.key)?.[attr] as RegionEntry | undefined, entry));
    let written = 0;
    const syncedAt = iso(this.now());
    await forEachLimit(changed, this.opts.writeConcurrency, async (entry) => {
      if (await this.writeEntry(entry, attr, syncedAt)) written++;
    });
    return written;
  }

  private async writeEntry(entry: SesEntry, attr: string, syncedAt: string): Promise<boolean> {
    const value: RegionEntry = {
      address: entry.address,
      reason: entry.reason,
      lastUpdateTime: entry.lastUpdateTime,
      status: 'LISTED',
      syncedAt,
    };
    try {
      await this.deps.doc.send(
        new UpdateCommand({
          TableName: this.deps.suppressionTable,
          Key: { [SUPPRESSION_KEY]: entry.key },
          UpdateExpression:
            'SET #r = :entry, lastUpdated = :now, firstSeen = if_not_exists(firstSeen, :lut), origin = if_not_exists(origin, :origin)',
          // The same ordering as needsWrite, so whatever order pages arrive in, the newest entry wins.
          ConditionExpression:
            'attribute_not_exists(#r) OR #r.#st <> :listed OR #r.#lut < :lut OR (#r.#lut = :lut AND #r.#a < :addr) OR (#r.#lut = :lut AND #r.#a = :addr AND #r.#reason < :reason)',
          ExpressionAttributeNames: { '#r': attr, '#st': 'status', '#lut': 'lastUpdateTime', '#a': 'address', '#reason': 'reason' },
          ExpressionAttributeValues: {
            ':entry': value,
            ':now': syncedAt,
            ':lut': entry.lastUpdateTime,
            ':origin': `ses:${this.request.region}`,
            ':listed': 'LISTED',
            ':addr': entry.address,
            ':reason': entry.reason,
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Records the addresses a full pass saw, so the sweep can tell which ones the region no longer lists. */
  private async recordSeen(pass: PassCheckpoint, entries: readonly SesEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const hashes = Buffer.alloc(entries.length * SEEN_HASH_BYTES);
    entries.forEach((entry, i) => {
      seenHash(entry.key).copy(hashes, i * SEEN_HASH_BYTES);
    });
    pass.seenChunks++;
    await this.deps.doc.send(
      new PutCommand({
        TableName: this.deps.stateTable,
        Item: {
          pk: regionStateKey(this.request.region).pk,
          sk: `${seenPrefix(pass)}${String(pass.seenChunks).padStart(6, '0')}`,
          hashes,
          count: entries.length,
          expiresAt: Math.floor(this.now() / 1000) + SEEN_CHUNK_TTL_SECONDS,
        },
      }),
    );
  }

  private async loadSeen(pass: PassCheckpoint): Promise<Set<string>> {
    const seen = new Set<string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.deps.doc.send(
        new QueryCommand({
          TableName: this.deps.stateTable,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': regionStateKey(this.request.region).pk, ':prefix': seenPrefix(pass) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        const hashes = Buffer.from(item.hashes as Uint8Array);
        for (let i = 0; i + SEEN_HASH_BYTES <= hashes.length; i += SEEN_HASH_BYTES)
          seen.add(hashes.subarray(i, i + SEEN_HASH_BYTES).toString('hex'));
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return seen;
  }

  /** Marks LISTED entries of this region that the full pass did not see as REMOVED. */
  private async sweep(pass: PassCheckpoint, st: RegionSyncState): Promise<boolean> {
    const { region } = this.request;
    const attr = regionAttribute(region);
    const seen = await this.loadSeen(pass);
    for (;;) {
      if (this.outOfTime()) return this.checkpoint('full', pass);
      const out = await this.deps.doc.send(
        new ScanCommand({
          TableName: this.deps.suppressionTable,
          ProjectionExpression: '#key, #r',
          FilterExpression: '#r.#st = :listed',
          ExpressionAttributeNames: { '#key': SUPPRESSION_KEY, '#r': attr, '#st': 'status' },
          ExpressionAttributeValues: { ':listed': 'LISTED' },
          ExclusiveStartKey: pass.scanKey,
        }),
      );
      const gone = (out.Items ?? []).filter((item) => !seen.has(seenHash(String(item[SUPPRESSION_KEY])).toString('hex')));
      let removed = 0;
      await forEachLimit(gone, this.opts.writeConcurrency, async (item) => {
        if (await this.markRemoved(String(item[SUPPRESSION_KEY]), item[attr] as RegionEntry, attr, pass)) removed++;
      });
      pass.removals += removed;
      this.removals += removed;
      this.itemsWritten += removed;
      pass.itemsWritten += removed;
      pass.scanKey = out.LastEvaluatedKey;
      if (!pass.scanKey) break;
      await this.state.save(region, this.owner, { full: pass });
    }

    const doneAt = iso(this.now());
    const watermark = maxIso(st.watermark, pass.windowEnd);
    await this.state.save(
      region,
      this.owner,
      { watermark, lastSuccessAt: doneAt, lastFullSuccessAt: doneAt, listedAtLastFull: seen.size },
      ['full', 'fullRequestedAt'],
    );
    st.watermark = watermark;
    delete st.full;
    delete st.fullRequestedAt;
    this.deps.logger.info('full pass complete', { passId: pass.passId, listed: seen.size, removals: pass.removals });
    await this.deleteSeen(pass);
    return true;
  }

  private async markRemoved(key: string, entry: RegionEntry, attr: string, pass: PassCheckpoint): Promise<boolean> {
    const now = iso(this.now());
    try {
      await this.deps.doc.send(
        new UpdateCommand({
          TableName: this.deps.suppressionTable,
          Key: { [SUPPRESSION_KEY]: key },
          UpdateExpression: 'SET #r.#st = :removed, #r.removedAt = :now, lastUpdated = :now',
          // Entries (re)listed after the pass began may be missing from its listing; they are not removals.
          ConditionExpression: '#r.#st = :listed AND #r.#lut < :passStart AND #r.#a = :addr',
          ExpressionAttributeNames: { '#r': attr, '#st': 'status', '#lut': 'lastUpdateTime', '#a': 'address' },
          ExpressionAttributeValues: {
            ':removed': 'REMOVED',
            ':listed': 'LISTED',
            ':now': now,
            ':passStart': pass.startedAt,
            ':addr': entry.address,
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  private async deleteSeen(pass: PassCheckpoint): Promise<void> {
    const pk = regionStateKey(this.request.region).pk;
    const keys = Array.from({ length: pass.seenChunks }, (_, i) => ({ pk, sk: `${seenPrefix(pass)}${String(i + 1).padStart(6, '0')}` }));
    // Anything left unprocessed expires through the table's TTL attribute.
    await batchWrite(
      this.deps.doc,
      this.deps.stateTable,
      keys.map((Key) => ({ DeleteRequest: { Key } })),
    );
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

/** Orders two SES entries for the same canonical address: newer LastUpdateTime wins, ties broken deterministically. */
function compareEntries(
  a: Pick<RegionEntry, 'lastUpdateTime' | 'address' | 'reason'>,
  b: Pick<RegionEntry, 'lastUpdateTime' | 'address' | 'reason'>,
): number {
  return cmp(a.lastUpdateTime, b.lastUpdateTime) || cmp(a.address, b.address) || cmp(a.reason, b.reason);
}

function needsWrite(existing: RegionEntry | undefined, entry: SesEntry): boolean {
  return existing?.status !== 'LISTED' || compareEntries(entry, existing) > 0;
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

function seenHash(key: string): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, SEEN_HASH_BYTES);
}

function seenPrefix(pass: PassCheckpoint): string {
  return `full#${pass.passId}#`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
