import { DeleteSuppressedDestinationCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { canonicalAddress } from './address';
import { forEachLimit } from './batch';
import { isEventOrigin } from './origins';
import {
  type AuditEntry,
  EVENTS_ENDED_ATTRIBUTE,
  type EventOriginEntry,
  eventEntries,
  MANUAL_ATTRIBUTE,
  type ManualEntry,
  propagatedAttribute,
  type RegionEntry,
  regionAttribute,
  regionEntries,
  type SuppressionReason,
} from './records';
import { isNetworkError, isRetryable } from './retry';
import type { StateTable } from './state-table';
import type { ManualChange, SuppressionTable } from './suppression-table';

/**
 * The operator's changes to the canonical table: suppress, unsuppress and import. Each writes the canonical item and
 * its audit entry in one transaction, conditional on the manual entry it read, so there is never a change without
 * its audit entry and two operators never silently overwrite each other.
 */

/** The two tables a manual change writes. */
export interface ManualTables {
  readonly suppression: SuppressionTable;
  readonly state: StateTable;
}

/** The manual entry changed between our read and our write (another operator?); nothing was written. */
export class ManualConflictError extends Error {
  constructor(readonly key: string) {
    super(`the manual entry of ${key} changed while this command ran (another operator?); nothing was written, run it again`);
    this.name = 'ManualConflictError';
  }
}

/** One field a manual suppression changes, from what to what (absent: there was none, or there is none now). */
export interface ManualFieldChange {
  readonly field: 'status' | 'reason' | 'note';
  readonly from?: string;
  readonly to?: string;
}

/**
 * What suppressing an address manually would do, given its manual entry now:
 * - `created`: no manual suppression is in force (none, or it was unsuppressed): a new one begins now;
 * - `updated`: one is in force and the reason or the note differs: those fields change, while when it began (`at`)
 *   and who began it (`by`) stay as they are;
 * - `unchanged`: one is in force with the same reason (and note, when a note is given);
 * - `refused`: it is in force as a COMPLAINT and a BOUNCE is asked for without `force`: a complaint is never
 *   downgraded by accident.
 */
export type ManualPlan =
  | { readonly outcome: 'created'; readonly changes: ManualFieldChange[] }
  | { readonly outcome: 'updated'; readonly after: ManualEntry; readonly changes: ManualFieldChange[] }
  | { readonly outcome: 'unchanged' | 'refused'; readonly changes: [] };

/** Plans a manual suppression with `reason` and `note` (undefined: keep the note there is) over `before`. */
export function planManualSuppress(
  before: ManualEntry | undefined,
  reason: SuppressionReason,
  note: string | undefined,
  force: boolean,
): ManualPlan {
  if (before?.status !== 'LISTED') {
    const changes: ManualFieldChange[] = [{ field: 'status', ...(before ? { from: before.status } : {}), to: 'LISTED' }];
    if (before?.reason !== reason) changes.push({ field: 'reason', ...(before ? { from: before.reason } : {}), to: reason });
    return { outcome: 'created', changes };
  }
  if (before.reason === 'COMPLAINT' && reason === 'BOUNCE' && !force) return { outcome: 'refused', changes: [] };
  const changes: ManualFieldChange[] = [];
  if (before.reason !== reason) changes.push({ field: 'reason', from: before.reason, to: reason });
  if (note !== undefined && note !== before.note)
    changes.push({ field: 'note', ...(before.note !== undefined ? { from: before.note } : {}), to: note });
  if (changes.length === 0) return { outcome: 'unchanged', changes: [] };
  return { outcome: 'updated', after: { ...before, reason, ...(note !== undefined ? { note } : {}) }, changes };
}

/** What `suppress` asks for. */
export interface SuppressRequest {
  /** The address (any case); the canonical key is derived from it. */
  readonly address: string;
  readonly reason: SuppressionReason;
  /** Kept with the entry; undefined keeps the note of a suppression already in force. */
  readonly note?: string;
  /** Downgrade a manual COMPLAINT to BOUNCE. @default false */
  readonly force?: boolean;
  /** Who is making the change; asked only when something changes. */
  readonly by: () => Promise<string>;
}

/** What `suppress` did. */
export interface SuppressResult {
  readonly key: string;
  readonly outcome: ManualPlan['outcome'];
  readonly changed: boolean;
  /** The manual entry before, if any. */
  readonly before?: ManualEntry;
  /** The manual entry now (the one in force when nothing changed). */
  readonly manual: ManualEntry;
  readonly changes: ManualFieldChange[];
  readonly audit?: AuditEntry;
  /** Regions whose SES list holds the address; a manual suppression leaves them as they are. */
  readonly listedBy: Array<{ region: string; reason: SuppressionReason }>;
}

/** Suppresses an address manually in every region (see {@link planManualSuppress} for what changes). */
export async function suppress(tables: ManualTables, request: SuppressRequest): Promise<SuppressResult> {
  const key = canonicalAddress(request.address);
  const { reason, note } = request;
  let by: string | undefined;
  return withRetriedConflicts(async () => {
    const item = await tables.suppression.get(key);
    const before = item?.manual;
    const listedBy = [...(item ? regionEntries(item) : [])]
      .filter(([, entry]) => entry.status === 'LISTED')
      .map(([region, entry]) => ({ region, reason: entry.reason }))
      .sort((a, b) => (a.region < b.region ? -1 : 1));
    const plan = planManualSuppress(before, reason, note, request.force ?? false);
    if (plan.outcome === 'unchanged' || plan.outcome === 'refused') {
      return { key, outcome: plan.outcome, changed: false, before, manual: before as ManualEntry, changes: [], listedBy };
    }
    by ??= await request.by();
    const at = new Date().toISOString();
    const manual: ManualEntry =
      plan.outcome === 'updated' ? plan.after : { reason, status: 'LISTED', at, by, ...(note !== undefined ? { note } : {}) };
    const audit: AuditEntry = {
      address: key,
      action: 'suppress',
      at,
      by,
      reason,
      ...(note !== undefined ? { note } : {}),
      details: { before: before ?? null, after: manual, changes: plan.changes },
    };
    await transact(tables, key, before, manualSet(manual, plan.outcome, at, 'manual'), audit);
    return { key, outcome: plan.outcome, changed: true, before, manual, changes: plan.changes, audit, listedBy };
  });
}

/** The canonical-item change that puts `manual` in force; a new suppression also seeds `firstSeen`/`origin`. */
function manualSet(manual: ManualEntry, outcome: 'created' | 'updated', at: string, origin: string): ManualChange {
  return {
    set: { [MANUAL_ATTRIBUTE]: manual },
    ...(outcome === 'created' ? { setIfAbsent: { firstSeen: at, origin } } : {}),
    at,
  };
}

/** Runs a read-plan-write `operation`, again (reading afresh) when the manual entry changed under it; at most 3 times. */
async function withRetriedConflicts<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof ManualConflictError) || attempt >= 3) throw error;
    }
  }
}

/** What `unsuppress` asks for. */
export interface UnsuppressRequest {
  /** The address as the operator gave it. */
  readonly address: string;
  readonly why: string;
  readonly regions: readonly string[];
  readonly by: string;
  /** An SES client for a region. */
  readonly ses: (region: string) => SESv2Client;
  /** The spellings to try against a region's SES list, given the spelling the region's entry recorded. */
  readonly candidates: (recorded: string | undefined) => string[];
}

/** What removing the address from one region's SES list did. */
export interface RegionRemoval {
  readonly region: string;
  /** Exact spellings SES held and removed. */
  readonly removed: string[];
  /** Spellings SES holds but would not remove (a 4xx answer other than throttling): SES refused. */
  readonly failed: Array<{ address: string; error: string }>;
  /** Spellings SES could not be asked about (throttling, 5xx, network): nothing is known; asking again may work. */
  readonly unavailable: Array<{ address: string; error: string }>;
}

/** What `unsuppress` did. */
export interface UnsuppressResult {
  readonly key: string;
  /** The region entries as they were before. */
  readonly entries: Map<string, RegionEntry>;
  readonly results: RegionRemoval[];
  /** Regions whose canonical entry is now REMOVED. */
  readonly markedRemoved: string[];
  readonly manualEnded: boolean;
  /** Regions whose SES events stood as origins and were ended (see `eventsEndedAt` on the canonical item). */
  readonly eventsEnded: string[];
  readonly failed: Array<{ region: string; address: string; error: string }>;
  readonly unavailable: Array<{ region: string; address: string; error: string }>;
  readonly changed: boolean;
  readonly audit?: AuditEntry;
}

/**
 * Removes the address from every region's SES list, ends any manual suppression and ends the origins SES events gave
 * it: the item's `eventsEndedAt` becomes the latest of now and every recorded event's time, so no event up to then is
 * an origin again, even one that arrives later (a queue backlog).
 */
export async function unsuppress(tables: ManualTables, request: UnsuppressRequest): Promise<UnsuppressResult> {
  const key = canonicalAddress(request.address);
  const existing = await tables.suppression.get(key);
  const entries = existing ? regionEntries(existing) : new Map<string, RegionEntry>();
  const manualBefore = existing?.manual;

  const events = existing ? eventEntries(existing) : new Map<string, EventOriginEntry>();
  // The spellings SES may hold: those the operator's tooling derives from the region's entry, our propagated copy's,
  // and the one the region's SES events named (SES lists the address as the event named it).
  const spellings = (region: string): string[] => {
    const copy = existing?.[propagatedAttribute(region)];
    const candidates = [...request.candidates(entries.get(region)?.address)];
    if (copy && copy.status !== 'WITHDRAWN' && !candidates.includes(copy.address)) candidates.push(copy.address);
    const event = events.get(region);
    if (event && !candidates.includes(event.address)) candidates.push(event.address);
    return candidates;
  };
  const results = await Promise.all(request.regions.map((region) => removeFromRegion(request.ses(region), region, spellings(region))));
  const at = new Date().toISOString();
  // A region's canonical entry becomes REMOVED when SES no longer holds the address there; where SES refused or
  // could not be asked, it stays LISTED because SES may still suppress it.
  const markedRemoved = results
    .filter((r) => r.failed.length === 0 && r.unavailable.length === 0 && entries.get(r.region)?.status === 'LISTED')
    .map((r) => r.region);
  const manualEnded = manualBefore?.status === 'LISTED';
  const eventsEnded = existing
    ? [...events]
        .filter(([region, entry]) => isEventOrigin(existing, region, entry))
        .map(([region]) => region)
        .sort()
    : [];
  const removedFrom = results.filter((r) => r.removed.length > 0).map((r) => r.region);
  const failed = results.flatMap((r) => r.failed.map((f) => ({ region: r.region, ...f })));
  const unavailable = results.flatMap((r) => r.unavailable.map((f) => ({ region: r.region, ...f })));
  const changed = removedFrom.length > 0 || markedRemoved.length > 0 || manualEnded || eventsEnded.length > 0;

  let audit: AuditEntry | undefined;
  if (changed) {
    audit = {
      address: key,
      action: 'unsuppress',
      at,
      by: request.by,
      reason: request.why,
      details: {
        removedFrom,
        removedAddresses: results.flatMap((r) => r.removed.map((a) => `${r.region}:${a}`)),
        failed,
        unavailable,
        markedRemoved,
        manualBefore: manualBefore ?? null,
        eventsEnded,
      },
    };
    const set: Record<string, unknown> = {};
    for (const region of markedRemoved) set[`${regionAttribute(region)}.status`] = 'REMOVED';
    for (const region of markedRemoved) set[`${regionAttribute(region)}.removedAt`] = at;
    // Our propagated copies went with the rest: SES no longer holds them where the removal succeeded.
    for (const r of results) {
      const copy = existing?.[propagatedAttribute(r.region)];
      if (!copy || copy.status === 'WITHDRAWN' || r.failed.length > 0 || r.unavailable.length > 0) continue;
      set[propagatedAttribute(r.region)] = { ...copy, status: 'WITHDRAWN', withdrawnAt: at, addedAt: copy.addedAt ?? at, job: undefined };
    }
    if (manualEnded)
      set[MANUAL_ATTRIBUTE] = { ...manualBefore, status: 'REMOVED', at, by: request.by, note: request.why } satisfies ManualEntry;
    // Every event recorded so far ends, also one stamped after our clock's now (SES's clock may run ahead of ours).
    const endedAt = [at, existing?.eventsEndedAt, ...[...events.values()].map((e) => e.lastAt)].reduce<string>(
      (latest, t) => (t !== undefined && t > latest ? t : latest),
      at,
    );
    set[EVENTS_ENDED_ATTRIBUTE] = endedAt;
    await transact(tables, key, manualBefore, existing ? { set, at } : undefined, audit);
  }
  return { key, entries, results, markedRemoved, manualEnded, eventsEnded, failed, unavailable, changed, audit };
}

async function removeFromRegion(ses: SESv2Client, region: string, candidates: string[]): Promise<RegionRemoval> {
  const result: RegionRemoval = { region, removed: [], failed: [], unavailable: [] };
  // SES keys its list by the exact case, and may hold more than one spelling: try each and remove all it holds.
  for (const candidate of candidates) {
    try {
      await ses.send(new DeleteSuppressedDestinationCommand({ EmailAddress: candidate }));
      result.removed.push(candidate);
    } catch (error) {
      if ((error as Error).name === 'NotFoundException') continue;
      const failure = { address: candidate, error: `${(error as Error).name}: ${(error as Error).message}` };
      // Only an answer that is not worth repeating is a refusal; throttling, 5xx and network failures are not.
      if (isTransient(error)) result.unavailable.push(failure);
      else result.failed.push(failure);
    }
  }
  return result;
}

/** One validated row of an import. */
export interface ImportRow {
  readonly line: number;
  readonly address: string;
  readonly reason: SuppressionReason;
}

/** Writes validated rows of an import as manual suppressions, skipping those already in force; counts what it did. */
export class ManualImport {
  imported = 0;
  unchanged = 0;
  /** Rows left alone because an operator unsuppressed the address (counted in `unchanged`). */
  keptUnsuppressed = 0;

  /** `origin` is `import:<source>`, recorded as the note, the item's origin and the audit entry's source. */
  constructor(
    private readonly tables: ManualTables,
    private readonly origin: string,
    private readonly by: string,
    private readonly writeConcurrency = 16,
  ) {}

  /**
   * Compares a batch with the table (BatchGetItem) and writes, in parallel, only the rows that change something. A
   * row is planned as a `suppress` without a note ({@link planManualSuppress}): it never downgrades a complaint and
   * never moves when a suppression began; addresses an operator unsuppressed are left alone.
   */
  async write(rows: readonly ImportRow[]): Promise<void> {
    const latest = new Map<string, ImportRow>();
    for (const row of rows) {
      const key = canonicalAddress(row.address);
      const seen = latest.get(key);
      // Within a file, a complaint outranks a bounce; repeats change nothing.
      if (seen) this.unchanged++;
      if (!seen || (row.reason === 'COMPLAINT' && seen.reason === 'BOUNCE')) latest.set(key, row);
    }
    const stored = await this.tables.suppression.readManualEntries([...latest.keys()]);
    await forEachLimit([...latest], this.writeConcurrency, async ([key, row]) => {
      const outcome = await this.writeRow(key, row, stored.get(key));
      if (outcome === 'written') this.imported++;
      else {
        this.unchanged++;
        if (outcome === 'kept-unsuppressed') this.keptUnsuppressed++;
      }
    });
  }

  private async writeRow(
    key: string,
    row: ImportRow,
    stored: ManualEntry | undefined,
  ): Promise<'written' | 'unchanged' | 'kept-unsuppressed'> {
    let before = stored;
    let reread = false;
    return withRetriedConflicts(async () => {
      if (reread) before = (await this.tables.suppression.get(key))?.manual;
      reread = true;
      if (before?.status === 'REMOVED') return 'kept-unsuppressed';
      const plan = planManualSuppress(before, row.reason, undefined, false);
      if (plan.outcome === 'unchanged' || plan.outcome === 'refused') return 'unchanged';
      const at = new Date().toISOString();
      const manual: ManualEntry =
        plan.outcome === 'updated' ? plan.after : { reason: row.reason, status: 'LISTED', at, by: this.by, note: this.origin };
      const audit: AuditEntry = {
        address: key,
        action: 'import',
        at,
        by: this.by,
        reason: row.reason,
        details: { source: this.origin, line: row.line, before: before ?? null, changes: plan.changes },
      };
      await transact(this.tables, key, before, manualSet(manual, plan.outcome, at, this.origin), audit);
      return 'written';
    });
  }
}

/**
 * Applies a manual change (`undefined`: there is no canonical item to update) and its audit entry in one
 * transaction; throws {@link ManualConflictError} when the manual entry is no longer `manualBefore`.
 */
async function transact(
  tables: ManualTables,
  key: string,
  manualBefore: ManualEntry | undefined,
  change: ManualChange | undefined,
  audit: AuditEntry,
): Promise<void> {
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [tables.state.auditPut(audit)];
  if (change) items.push(tables.suppression.manualUpdate(key, manualBefore, change));
  try {
    await tables.suppression.doc.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException' && /ConditionalCheckFailed/.test((error as Error).message)) {
      throw new ManualConflictError(key);
    }
    throw error;
  }
}

/** True when a failed call may well succeed if made again: throttling, a 5xx answer, a network failure (also as a cause). */
export function isTransient(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (isRetryable(e) || isNetworkError(e)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
