import type { SyncMode, SyncSummary } from '../../client/sync-contract';
import { canonicalAddress } from './address';

/**
 * The records of the three tables, and the one place they are parsed from what DynamoDB returns. Readers never cast
 * a raw item: they get it from a table module (`suppression-table.ts`, `state-table.ts`, `attribution-table.ts`),
 * which parses it here.
 */

/** Why SES suppresses an address. */
export type SuppressionReason = 'BOUNCE' | 'COMPLAINT';

/** Whether a region's SES list currently holds the address. */
export type RegionStatus = 'LISTED' | 'REMOVED';

/**
 * What one region's SES suppression list says about an address, stored on the canonical item under
 * {@link regionAttribute}. Each region writes only its own attribute, so concurrent syncs never clobber
 * each other.
 */
export interface RegionEntry {
  /** The address exactly as that region's SES list holds it (SES's get/delete APIs need the exact case). */
  readonly address: string;
  readonly reason: SuppressionReason;
  /** SES's LastUpdateTime, ISO-8601. */
  readonly lastUpdateTime: string;
  readonly status: RegionStatus;
  /** When the sync last wrote this entry, ISO-8601. */
  readonly syncedAt: string;
  /** When a full reconciliation found the address gone from that region's list, ISO-8601. */
  readonly removedAt?: string;
}

/** A manual suppression recorded by an operator, stored under {@link MANUAL_ATTRIBUTE}. */
export interface ManualEntry {
  readonly reason: SuppressionReason;
  readonly status: RegionStatus;
  /** When the suppression began (LISTED) or ended (REMOVED), ISO-8601. */
  readonly at: string;
  readonly by: string;
  readonly note?: string;
}

/** Name of a region's attribute on a canonical item. */
export type RegionAttribute = `region:${string}`;

/** Where one of our propagated copies stands in a region's SES list. */
export type PropagationStatus = 'PENDING' | 'ADDED' | 'WITHDRAWN';

/**
 * A copy of the address that *we* put on a region's SES list (propagation), stored under {@link propagatedAttribute}.
 * An entry the region's list holds whose LastUpdateTime falls within [`requestedAt`, `addedAt`] (give or take
 * {@link PROPAGATION_CLOCK_SKEW_MS}) is this copy, not a new origin: nothing could ever be removed again otherwise.
 */
export interface PropagatedEntry {
  /** The address exactly as written to SES (withdrawals delete exactly this spelling). */
  readonly address: string;
  readonly reason: SuppressionReason;
  readonly status: PropagationStatus;
  /** When we asked SES (before the call, or before the import job was created), ISO-8601. */
  readonly requestedAt: string;
  /** When SES confirmed the copy (the call's answer, or the import job's completion), ISO-8601. */
  readonly addedAt?: string;
  /** `put` (PutSuppressedDestination) or `import` (an import job, named by `job`). */
  readonly via: 'put' | 'import';
  /** Our key of the import job that carries (or carried) the copy. */
  readonly job?: string;
  /** When we deleted the copy from the region's list, ISO-8601. */
  readonly withdrawnAt?: string;
  /** Adds attempted for this copy since it was last confirmed (failed import records, refused calls). */
  readonly attempts?: number;
}

/** Name of the attribute holding our propagated copy in a region. */
export type PropagatedAttribute = `propagated:${string}`;

/** Prefix of the per-region propagation attributes on a canonical item. */
export const PROPAGATED_ATTRIBUTE_PREFIX = 'propagated:';

/** Name of the attribute that holds our propagated copy in `region`. */
export function propagatedAttribute(region: string): PropagatedAttribute {
  return `${PROPAGATED_ATTRIBUTE_PREFIX}${region}`;
}

/**
 * How far SES's clock (its LastUpdateTime) and ours may disagree when deciding whether a listed entry is our copy.
 * SES stamps a PutSuppressedDestination while the call is in flight, so between our `requestedAt` and `addedAt`.
 */
export const PROPAGATION_CLOCK_SKEW_MS = 5_000;

/** Name of the attribute holding the origin SES events of one region give an address. */
export type EventAttribute = `event:${string}`;

/** Prefix of the per-region event origin attributes on a canonical item. */
export const EVENT_ATTRIBUTE_PREFIX = 'event:';

/** Name of the attribute that holds the event origin of `region`. */
export function eventAttribute(region: string): EventAttribute {
  return `${EVENT_ATTRIBUTE_PREFIX}${region}`;
}

/**
 * What SES events of one region said of an address, stored under {@link eventAttribute}: a permanent bounce of the
 * address (other than one SES reported because its lists already held it) or a complaint about it. The entry is the
 * join of every event recorded for it (see `joinEventOrigin` in `origins.ts`), so it is the same whatever order the
 * events arrived in and however often each did:
 * - `reason`: COMPLAINT once any complaint was recorded (sticky), else BOUNCE;
 * - `firstAt` / `lastAt`: the earliest and the latest event time;
 * - `at`, `address`, `messageId`, `feedbackId`: those of the event that decides, the greatest in the order
 *   (reason, time, feedbackId, messageId, address) with COMPLAINT above BOUNCE.
 * Whether the entry is an origin is decided on read (`isEventOrigin` in `origins.ts`): not when `ssg unsuppress` ended the item's events
 * after it (`eventsEndedAt`), nor when a full reconciliation found SES's own entry for it removed from that region's list.
 */
export interface EventOriginEntry {
  /** The recipient as the deciding event named it (withdrawals and copies use this spelling when no other is known). */
  readonly address: string;
  readonly reason: SuppressionReason;
  /** Time of the deciding event (its bounce or complaint timestamp), ISO-8601. */
  readonly at: string;
  readonly messageId: string;
  readonly feedbackId: string;
  /** Time of the earliest event recorded, ISO-8601. */
  readonly firstAt: string;
  /** Time of the latest event recorded, ISO-8601. */
  readonly lastAt: string;
}

/**
 * Attribute on a canonical item set by `ssg unsuppress`: SES events at or before this time (ISO-8601) are no
 * origins, whenever they arrive (a queue backlog or a redrive after the unsuppress does not bring them back).
 */
export const EVENTS_ENDED_ATTRIBUTE = 'eventsEndedAt';

/** One canonical suppression record, keyed by the canonical (trimmed, lower-cased) address. */
export type SuppressionItem = {
  readonly address: string;
  /** Earliest time any source saw the address suppressed: the earliest SES LastUpdateTime, or a manual change. */
  readonly firstSeen?: string;
  readonly lastUpdated?: string;
  /** The source of `firstSeen`: `ses:<region>`, `event:<region>`, `manual` or `import:<source>`. */
  readonly origin?: string;
  readonly manual?: ManualEntry;
  /** See {@link EVENTS_ENDED_ATTRIBUTE}. */
  readonly eventsEndedAt?: string;
  readonly [region: RegionAttribute]: RegionEntry;
  readonly [propagated: PropagatedAttribute]: PropagatedEntry;
  readonly [event: EventAttribute]: EventOriginEntry;
};

/** Partition key attribute of the suppression table. */
export const SUPPRESSION_KEY = 'address';

/** Prefix of the per-region attributes on a canonical item. */
export const REGION_ATTRIBUTE_PREFIX = 'region:';

/** Attribute holding an operator's manual suppression. */
export const MANUAL_ATTRIBUTE = 'manual';

/** Name of the attribute that holds a region's entry on a canonical item. */
export function regionAttribute(region: string): RegionAttribute {
  return `${REGION_ATTRIBUTE_PREFIX}${region}`;
}

/** The per-region entries of a canonical item (parsed, or as DynamoDB returned it), by region. */
export function regionEntries(item: SuppressionItem | Record<string, unknown>): Map<string, RegionEntry> {
  const entries = new Map<string, RegionEntry>();
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(REGION_ATTRIBUTE_PREFIX)) entries.set(name.slice(REGION_ATTRIBUTE_PREFIX.length), parseRegionEntry(value, name));
  }
  return entries;
}

/** Regions whose SES list still holds the address; an address stays suppressed while any region lists it. */
export function listedRegions(item: SuppressionItem | Record<string, unknown>): string[] {
  return [...regionEntries(item)]
    .filter(([, entry]) => entry.status === 'LISTED')
    .map(([region]) => region)
    .sort();
}

/** Partition and sort key attributes of the sync state table. */
export const STATE_PK = 'pk';
export const STATE_SK = 'sk';

/** Key of a region's sync state item. */
export function regionStateKey(region: string): { pk: string; sk: string } {
  return { pk: `region#${region}`, sk: 'state' };
}

/** Prefix of the partition key of shared SES lookups (the only items the guard writes). */
export const SES_LOOKUP_PK_PREFIX = 'ses-lookup#';

/** Key of one shared SES lookup: `key` names the region, the operation and its argument. */
export function sesLookupKey(key: string): { pk: string; sk: string } {
  return { pk: `${SES_LOOKUP_PK_PREFIX}${key}`, sk: 'lookup' };
}

/** Progress of one pass through a region's list, saved after every page so the next invocation can go on. */
export interface PassCheckpoint {
  readonly passId: string;
  readonly kind: SyncMode;
  readonly startedAt: string;
  /** Lower bound of LastUpdateTime asked of SES (incremental passes after the first). */
  readonly windowStart?: string;
  /** Upper bound of LastUpdateTime asked of SES (incremental); the watermark once the pass completes. */
  readonly windowEnd: string;
  phase: 'list' | 'sweep';
  nextToken?: string;
  /**
   * The sweep's single-segment scan key, as checkpointed before the sweep scanned in segments. Read only to continue
   * such a sweep (as one segment, from this key); a sweep started now checkpoints {@link PassCheckpoint.segments}.
   */
  scanKey?: Record<string, unknown>;
  /**
   * The sweep's parallel Scan: one element per segment (`TotalSegments` = the length), each with the key its next
   * page starts from, or `done` once the segment is scanned to its end. Absent until the sweep begins.
   */
  segments?: SweepSegment[];
  pages: number;
  entriesRead: number;
  itemsWritten: number;
  removals: number;
  restarts: number;
  seenChunks: number;
}

/** One segment of a sweep's parallel Scan, as checkpointed. */
export interface SweepSegment {
  /** ExclusiveStartKey of the segment's next page; absent at the segment's start and once it is done. */
  scanKey?: Record<string, unknown>;
  done: boolean;
}

/** One import job propagation hands to SES in a region, kept in the state table until every copy it carried is settled. */
export interface ImportJobRecord {
  /** Our key of the job (unique per region), also on each copy it carries. */
  readonly key: string;
  readonly region: string;
  /** PUT adds the addresses to the list, DELETE removes them. */
  readonly action: 'PUT' | 'DELETE';
  /**
   * ASSEMBLING: copies being marked; SUBMITTING: the CSV is in S3 and CreateImportJob may or may not have been called;
   * SUBMITTED: SES has it (`sesJobId`); COMPLETED / FAILED: as SES reported it. FAILED also settles a job SES never
   * got: every CreateImportJob attempt refused (throttled, a 4xx), left ASSEMBLING by a crashed invocation, or handed
   * over but never seen in SES within the lost-job delay (`error` says which).
   */
  status: 'ASSEMBLING' | 'SUBMITTING' | 'SUBMITTED' | 'COMPLETED' | 'FAILED';
  readonly count: number;
  /** `s3://bucket/key` of the CSV. */
  readonly s3Url: string;
  readonly createdAt: string;
  sesJobId?: string;
  submittedAt?: string;
  completedAt?: string;
  processed?: number;
  failed?: number;
  /** Canonical keys of the failed records (absent when none failed). */
  failedKeys?: string[];
  error?: string;
}

/** Prefix of the partition key of a region's import jobs in the state table. */
export const JOB_PK_PREFIX = 'propagation#';

/** Key of one import job record. */
export function importJobKey(region: string, key: string): { pk: string; sk: string } {
  return { pk: `${JOB_PK_PREFIX}${region}`, sk: `job#${key}` };
}

/** Progress and outcome of propagation into one region, kept on the region's state item. */
export interface PropagationState {
  /** The run in progress: its id, when it began, and where its table scan stands. */
  run?: { readonly runId: string; readonly startedAt: string; scanKey?: Record<string, unknown>; jobs: number };
  lastRunAt?: string;
  lastCompleteAt?: string;
  /** What the last complete run found and did (see `PropagationSummary`). */
  lastSummary?: Record<string, unknown>;
}

/** The per-region sync state item (watermark, last success, last error, checkpoints). */
export interface RegionSyncState {
  readonly region: string;
  watermark?: string;
  lastSuccessAt?: string;
  lastFullSuccessAt?: string;
  /** When the listing of the last completed full reconciliation began: every entry SES held then was seen. */
  lastFullListingFrom?: string;
  lastRunAt?: string;
  lastError?: { name: string; message: string; at: string };
  lastSummary?: SyncSummary;
  /** Entries the region's SES list held at the end of the last full reconciliation. */
  listedAtLastFull?: number;
  /**
   * The first pass ever started for the region, recorded before it wrote anything: while it runs, every entry of the
   * region in the canonical table was written by it (and seen), so its sweep has nothing to find.
   */
  firstPassId?: string;
  incremental?: PassCheckpoint;
  full?: PassCheckpoint;
  fullRequestedAt?: string;
  /** Propagation into the region's SES list. */
  propagation?: PropagationState;
  leaseOwner?: string;
  leaseUntil?: number;
}

/** The sync progress of one region, as the guard needs it. */
export interface RegionFreshness {
  readonly region: string;
  /** Every SES entry updated before this time is in the canonical table; absent when the region never synced. */
  readonly watermark?: string;
  readonly lastSuccessAt?: string;
  readonly lastError?: { name: string; message: string; at: string };
}

/** Partition and sort key attributes of the attribution table, and its TTL attribute (epoch seconds). */
export const ATTRIBUTION_PK = 'pk';
export const ATTRIBUTION_SK = 'sk';
export const ATTRIBUTION_TTL_ATTRIBUTE = 'expiresAt';

/** Who sent: the dimensions of one day's counters (besides the day). Absent: the event did not say. */
export interface SenderKey {
  readonly region: string;
  /** The sending identity (from `mail.sourceArn`), else the canonical From address (`mail.source`). */
  readonly sender: string;
  /** `ses:caller-identity`: the IAM identity that called SES. */
  readonly callerIdentity?: string;
  /** `ses:source-ip`: the address the call to SES came from. */
  readonly sourceIp?: string;
  /** `ses:configuration-set`. */
  readonly configurationSet?: string;
}

/**
 * The counters of one sender and day, each a number of recipients:
 * - `sends`, `rejects`: recipients of the messages SES accepted (Send) or rejected (Reject);
 * - `deliveries`: recipients SES delivered to;
 * - `permanentBounces`: permanent bounces, except those below;
 * - `transientBounces`: transient and undetermined bounces;
 * - `sendsToSuppressed`: bounces SES reported because a suppression list held the recipient (subtype
 *   `OnAccountSuppressionList`, the account's list, or `Suppressed`, SES's global list): SES did not try them;
 * - `complaints`: complaints, except `suppressedComplaints`: complaints of subtype `OnAccountSuppressionList` (SES
 *   did not send the message).
 */
export const COUNTER_NAMES = [
  'sends',
  'deliveries',
  'rejects',
  'permanentBounces',
  'transientBounces',
  'sendsToSuppressed',
  'complaints',
  'suppressedComplaints',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

/** Increments of some counters. */
export type CounterIncrements = Partial<Record<CounterName, number>>;

/** The counters of one sender on one day (UTC, `YYYY-MM-DD`), as stored in the attribution table. */
export interface SenderDayCounters extends SenderKey {
  readonly day: string;
  readonly counts: Readonly<Record<CounterName, number>>;
}

/** Prefix of the partition key of a day's counter items. */
export const COUNTER_PK_PREFIX = 'day#';

/** Key of the counter item of `sender` on `day`; the sort key's parts are escaped so none can contain the separator. */
export function counterKey(day: string, sender: SenderKey): { pk: string; sk: string } {
  const part = (value: string | undefined): string => (value ?? '').replaceAll('%', '%25').replaceAll('|', '%7C');
  return {
    pk: `${COUNTER_PK_PREFIX}${day}`,
    sk: `counter#${[sender.region, sender.sender, sender.callerIdentity, sender.sourceIp, sender.configurationSet].map(part).join('|')}`,
  };
}

/** Key of the item that records one event as counted; `eventKey` is a digest, never an address. */
export function countedEventKey(eventKey: string): { pk: string; sk: string } {
  return { pk: `event#${eventKey}`, sk: 'counted' };
}

/** Parses a counter item of the attribution table. */
export function parseSenderDayCounters(raw: Record<string, unknown>): SenderDayCounters {
  const what = 'attribution counters';
  const counts = {} as Record<CounterName, number>;
  for (const name of COUNTER_NAMES) {
    const value = raw[name] ?? 0;
    if (typeof value !== 'number') throw new RecordError(what, name, value);
    counts[name] = value;
  }
  const optional: Record<string, string> = {};
  for (const name of ['callerIdentity', 'sourceIp', 'configurationSet'] as const) {
    const value = optStr(raw, name, what);
    if (value !== undefined) optional[name] = value;
  }
  return { day: str(raw, 'day', what), region: str(raw, 'region', what), sender: str(raw, 'sender', what), ...optional, counts };
}

/** What an operator did to an address. */
export type AuditAction = 'suppress' | 'unsuppress' | 'import';

/** One entry of the audit trail of manual changes (kept in the sync state table). */
export interface AuditEntry {
  /** Canonical address the change applies to. */
  readonly address: string;
  readonly action: AuditAction;
  /** When, ISO-8601. */
  readonly at: string;
  /** Who: the caller's identity (an IAM ARN, or `local:<user>` against the local environment). */
  readonly by: string;
  /** Why, in the operator's words (or the suppression reason for `suppress`/`import`). */
  readonly reason: string;
  readonly note?: string;
  /** What changed: the state before and after, per-region outcomes, the import source. */
  readonly details?: Record<string, unknown>;
}

/** Prefix of the partition key of an address's audit trail. */
export const AUDIT_PK_PREFIX = 'audit#';

/** Partition key of an address's audit trail. */
export function auditPartitionKey(address: string): string {
  return `${AUDIT_PK_PREFIX}${canonicalAddress(address)}`;
}

/** A stored item that does not have the shape its table promises; the message names the attribute. */
export class RecordError extends Error {
  constructor(what: string, attribute: string, value: unknown) {
    super(`${what}: ${attribute} ${describe(value)}`);
    this.name = 'RecordError';
  }
}

/** Parses a canonical item as DynamoDB returns it (whole, or projected to some attributes plus the key). */
export function parseSuppressionItem(raw: Record<string, unknown>): SuppressionItem {
  const what = 'canonical item';
  const item: Record<string, unknown> = { address: str(raw, SUPPRESSION_KEY, what) };
  for (const name of ['firstSeen', 'lastUpdated', 'origin', EVENTS_ENDED_ATTRIBUTE] as const) {
    const value = optStr(raw, name, what);
    if (value !== undefined) item[name] = value;
  }
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(REGION_ATTRIBUTE_PREFIX)) item[name] = parseRegionEntry(value, `${what} ${name}`);
    else if (name.startsWith(PROPAGATED_ATTRIBUTE_PREFIX)) item[name] = parsePropagatedEntry(value, `${what} ${name}`);
    else if (name.startsWith(EVENT_ATTRIBUTE_PREFIX)) item[name] = parseEventOriginEntry(value, `${what} ${name}`);
  }
  if (raw[MANUAL_ATTRIBUTE] !== undefined) item[MANUAL_ATTRIBUTE] = parseManualEntry(raw[MANUAL_ATTRIBUTE]);
  return item as unknown as SuppressionItem;
}

/** Parses one region's entry of a canonical item. */
export function parseRegionEntry(value: unknown, what = 'region entry'): RegionEntry {
  const raw = obj(value, what);
  const removedAt = optStr(raw, 'removedAt', what);
  return {
    address: str(raw, 'address', what),
    reason: oneOf(raw, 'reason', REASONS, what),
    lastUpdateTime: str(raw, 'lastUpdateTime', what),
    status: oneOf(raw, 'status', STATUSES, what),
    syncedAt: str(raw, 'syncedAt', what),
    ...(removedAt !== undefined ? { removedAt } : {}),
  };
}

/** Parses the manual entry of a canonical item. */
export function parseManualEntry(value: unknown): ManualEntry {
  const what = 'manual entry';
  const raw = obj(value, what);
  const note = optStr(raw, 'note', what);
  return {
    reason: oneOf(raw, 'reason', REASONS, what),
    status: oneOf(raw, 'status', STATUSES, what),
    at: str(raw, 'at', what),
    by: str(raw, 'by', what),
    ...(note !== undefined ? { note } : {}),
  };
}

/** Parses a region's sync state item; an absent item is the state of a region never synced. */
export function parseRegionSyncState(raw: Record<string, unknown> | undefined, region: string): RegionSyncState {
  const what = `sync state of ${region}`;
  const state: Record<string, unknown> = { region };
  if (!raw) return state as unknown as RegionSyncState;
  for (const name of [
    'watermark',
    'lastSuccessAt',
    'lastFullSuccessAt',
    'lastFullListingFrom',
    'lastRunAt',
    'fullRequestedAt',
    'leaseOwner',
    'firstPassId',
  ] as const) {
    const value = optStr(raw, name, what);
    if (value !== undefined) state[name] = value;
  }
  for (const name of ['listedAtLastFull', 'leaseUntil'] as const) {
    const value = raw[name];
    if (value === undefined) continue;
    if (typeof value !== 'number') throw new RecordError(what, name, value);
    state[name] = value;
  }
  if (raw.lastError !== undefined) {
    const e = obj(raw.lastError, `${what} lastError`);
    state.lastError = { name: str(e, 'name', what), message: str(e, 'message', what), at: str(e, 'at', what) };
  }
  if (raw.lastSummary !== undefined) state.lastSummary = obj(raw.lastSummary, `${what} lastSummary`);
  if (raw.propagation !== undefined) state.propagation = obj(raw.propagation, `${what} propagation`);
  for (const kind of ['incremental', 'full'] as const) {
    if (raw[kind] === undefined) continue;
    const pass = obj(raw[kind], `${what} ${kind}`);
    str(pass, 'passId', `${what} ${kind}`);
    oneOf(pass, 'phase', ['list', 'sweep'] as const, `${what} ${kind}`);
    if (pass.segments !== undefined) {
      if (!Array.isArray(pass.segments) || pass.segments.length === 0) throw new RecordError(`${what} ${kind}`, 'segments', pass.segments);
      for (const segment of pass.segments) {
        const s = obj(segment, `${what} ${kind} segment`);
        if (typeof s.done !== 'boolean') throw new RecordError(`${what} ${kind} segment`, 'done', s.done);
        if (s.scanKey !== undefined) obj(s.scanKey, `${what} ${kind} segment scanKey`);
      }
    }
    state[kind] = pass;
  }
  return state as unknown as RegionSyncState;
}

/** The freshness fields of a region's sync state item. */
export function parseRegionFreshness(raw: Record<string, unknown> | undefined, region: string): RegionFreshness {
  const { watermark, lastSuccessAt, lastError } = parseRegionSyncState(raw, region);
  return {
    region,
    ...(watermark !== undefined ? { watermark } : {}),
    ...(lastSuccessAt !== undefined ? { lastSuccessAt } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
  };
}

/** Parses an import job record (its table keys already removed). */
export function parseImportJob(raw: Record<string, unknown>): ImportJobRecord {
  const what = 'import job';
  const job: Record<string, unknown> = {
    key: str(raw, 'key', what),
    region: str(raw, 'region', what),
    action: oneOf(raw, 'action', ['PUT', 'DELETE'] as const, what),
    status: oneOf(raw, 'status', ['ASSEMBLING', 'SUBMITTING', 'SUBMITTED', 'COMPLETED', 'FAILED'] as const, what),
    s3Url: str(raw, 's3Url', what),
    createdAt: str(raw, 'createdAt', what),
  };
  if (typeof raw.count !== 'number') throw new RecordError(what, 'count', raw.count);
  job.count = raw.count;
  for (const name of ['sesJobId', 'submittedAt', 'completedAt', 'error'] as const) {
    const value = optStr(raw, name, what);
    if (value !== undefined) job[name] = value;
  }
  for (const name of ['processed', 'failed'] as const) {
    if (raw[name] === undefined) continue;
    if (typeof raw[name] !== 'number') throw new RecordError(what, name, raw[name]);
    job[name] = raw[name];
  }
  if (raw.failedKeys !== undefined) {
    if (!Array.isArray(raw.failedKeys) || raw.failedKeys.some((k) => typeof k !== 'string'))
      throw new RecordError(what, 'failedKeys', raw.failedKeys);
    job.failedKeys = raw.failedKeys;
  }
  return job as unknown as ImportJobRecord;
}

/** Parses a propagated copy of a canonical item. */
export function parsePropagatedEntry(value: unknown, what = 'propagated copy'): PropagatedEntry {
  const raw = obj(value, what);
  const entry: Record<string, unknown> = {
    address: str(raw, 'address', what),
    reason: oneOf(raw, 'reason', REASONS, what),
    status: oneOf(raw, 'status', ['PENDING', 'ADDED', 'WITHDRAWN'] as const, what),
    requestedAt: str(raw, 'requestedAt', what),
    via: oneOf(raw, 'via', ['put', 'import'] as const, what),
  };
  for (const name of ['addedAt', 'job', 'withdrawnAt'] as const) {
    const v = optStr(raw, name, what);
    if (v !== undefined) entry[name] = v;
  }
  if (raw.attempts !== undefined) {
    if (typeof raw.attempts !== 'number') throw new RecordError(what, 'attempts', raw.attempts);
    entry.attempts = raw.attempts;
  }
  return entry as unknown as PropagatedEntry;
}

/** Parses the event origin of one region of a canonical item. */
export function parseEventOriginEntry(value: unknown, what = 'event origin'): EventOriginEntry {
  const raw = obj(value, what);
  return {
    address: str(raw, 'address', what),
    reason: oneOf(raw, 'reason', REASONS, what),
    at: str(raw, 'at', what),
    messageId: str(raw, 'messageId', what),
    feedbackId: str(raw, 'feedbackId', what),
    firstAt: str(raw, 'firstAt', what),
    lastAt: str(raw, 'lastAt', what),
  };
}

/** The event origin entries of a canonical item, by region. */
export function eventEntries(item: SuppressionItem): Map<string, EventOriginEntry> {
  const entries = new Map<string, EventOriginEntry>();
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(EVENT_ATTRIBUTE_PREFIX)) entries.set(name.slice(EVENT_ATTRIBUTE_PREFIX.length), value as EventOriginEntry);
  }
  return entries;
}

/** Parses an audit-trail item (its table keys already removed). */
export function parseAuditEntry(raw: Record<string, unknown>): AuditEntry {
  const what = 'audit entry';
  const note = optStr(raw, 'note', what);
  return {
    address: str(raw, 'address', what),
    action: oneOf(raw, 'action', ['suppress', 'unsuppress', 'import'] as const, what),
    at: str(raw, 'at', what),
    by: str(raw, 'by', what),
    reason: str(raw, 'reason', what),
    ...(note !== undefined ? { note } : {}),
    ...(raw.details !== undefined ? { details: obj(raw.details, `${what} details`) } : {}),
  };
}

const REASONS = ['BOUNCE', 'COMPLAINT'] as const;
const STATUSES = ['LISTED', 'REMOVED'] as const;

function obj(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RecordError(what, 'value', value);
  return value as Record<string, unknown>;
}

function str(raw: Record<string, unknown>, name: string, what: string): string {
  const value = raw[name];
  if (typeof value !== 'string') throw new RecordError(what, name, value);
  return value;
}

function optStr(raw: Record<string, unknown>, name: string, what: string): string | undefined {
  return raw[name] === undefined ? undefined : str(raw, name, what);
}

function oneOf<T extends string>(raw: Record<string, unknown>, name: string, allowed: readonly T[], what: string): T {
  const value = raw[name];
  if (!allowed.includes(value as T)) throw new RecordError(what, name, value);
  return value as T;
}

/** A bounded description of a bad value: its type and at most 40 characters of it. */
function describe(value: unknown): string {
  if (value === undefined) return 'is missing';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}... (${text.length} characters)` : JSON.stringify(text);
  return `is invalid (${Array.isArray(value) ? 'array' : typeof value} ${shown})`;
}
