import {
  type EventOriginEntry,
  eventEntries,
  type ImportJobRecord,
  PROPAGATION_CLOCK_SKEW_MS,
  type PropagatedEntry,
  propagatedAttribute,
  type RegionEntry,
  regionAttribute,
  regionEntries,
  type SuppressionItem,
  type SuppressionReason,
} from './records';

/**
 * Why an address is suppressed, and what propagation should do about it in one region. Pure functions over a
 * canonical item: the sync records what each region's SES list says, operators record manual suppressions, and
 * propagation records its own copies; whether an address is *wanted* on every list is decided here, on read.
 */

/** One reason the address is suppressed: who says so, and why. */
export interface Origin {
  /**
   * `ses:<region>` (SES listed it on its own), `event:<region>` (an SES event of that region: a permanent bounce or
   * a complaint), `manual`, or `import:<source>`.
   */
  readonly source: string;
  readonly reason: SuppressionReason;
}

/**
 * True when the region's listed `entry` is our propagated `copy` rather than SES's own entry: same spelling, and SES
 * stamped it between our request and its confirmation (give or take the clock skew). While an import job is still
 * pending there is no confirmation yet, so anything stamped after the request is ours. A copy we withdrew keeps its
 * window: a listing read before the withdrawal must not bring it back as an origin.
 */
export function isPropagatedCopy(entry: RegionEntry | undefined, copy: PropagatedEntry | undefined): boolean {
  if (!entry || !copy || entry.address !== copy.address) return false;
  const stamped = Date.parse(entry.lastUpdateTime);
  if (stamped < Date.parse(copy.requestedAt) - PROPAGATION_CLOCK_SKEW_MS) return false;
  const confirmed = copy.addedAt ?? (copy.status === 'PENDING' ? undefined : (copy.withdrawnAt ?? copy.requestedAt));
  return confirmed === undefined || stamped <= Date.parse(confirmed) + PROPAGATION_CLOCK_SKEW_MS;
}

/**
 * The origins of an address: regions whose SES list holds it on its own, SES events that stand (see
 * {@link isEventOrigin}), and an operator's suppression in force.
 */
export function originsOf(item: SuppressionItem): Origin[] {
  const origins: Origin[] = [];
  for (const [region, entry] of [...regionEntries(item)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (entry.status !== 'LISTED' || isPropagatedCopy(entry, item[propagatedAttribute(region)])) continue;
    origins.push({ source: `ses:${region}`, reason: entry.reason });
  }
  for (const [region, entry] of [...eventEntries(item)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (isEventOrigin(item, region, entry)) origins.push({ source: `event:${region}`, reason: entry.reason });
  }
  if (item.manual?.status === 'LISTED') {
    const source = item.manual.note?.startsWith('import:') ? item.manual.note : 'manual';
    origins.push({ source, reason: item.manual.reason });
  }
  return origins;
}

/**
 * How far SES's LastUpdateTime of the entry it made for an event may fall before the event's own timestamp and still
 * be that entry (SES stamps its entry when it processes the bounce or complaint, which the event's timestamp precedes).
 */
export const EVENT_CLOCK_SKEW_MS = 60_000;

/**
 * True while the event origin `entry` of `region` stands. It ends, on read, in two ways:
 * - `ssg unsuppress` ended the item's events at or after its latest event (`eventsEndedAt`);
 * - a full reconciliation of the region found SES's own entry gone (REMOVED) where SES had stamped it at or after the
 *   latest event (give or take {@link EVENT_CLOCK_SKEW_MS}): an operator removed the suppression the event caused,
 *   in the console or with the API. A reconciliation only marks REMOVED entries stamped before its listing began, so
 *   that reconciliation began after the event. Our own propagated copy being removed does not count: propagation
 *   puts it back while an origin wants it.
 * Otherwise it stands until `ssg unsuppress`. A later event (after either end) starts the origin again.
 */
export function isEventOrigin(item: SuppressionItem, region: string, entry: EventOriginEntry): boolean {
  const lastAt = Date.parse(entry.lastAt);
  if (item.eventsEndedAt !== undefined && lastAt <= Date.parse(item.eventsEndedAt)) return false;
  const listed = item[regionAttribute(region)];
  const removedByOperator =
    listed?.status === 'REMOVED' &&
    listed.removedAt !== undefined &&
    !isPropagatedCopy(listed, item[propagatedAttribute(region)]) &&
    Date.parse(listed.lastUpdateTime) >= lastAt - EVENT_CLOCK_SKEW_MS &&
    Date.parse(listed.removedAt) > lastAt;
  return !removedByOperator;
}

/** One event's word on an address: a permanent bounce of it or a complaint about it, in one region. */
export interface EventClaim {
  /** The recipient as the event named it. */
  readonly address: string;
  readonly reason: SuppressionReason;
  /** The bounce's or the complaint's timestamp, ISO-8601 as `Date.toISOString` writes it. */
  readonly at: string;
  readonly messageId: string;
  readonly feedbackId: string;
}

/**
 * The event origin after `claim` is recorded over `stored`, given the item's `eventsEndedAt` (`endedAt`); `stored`
 * itself (the same object) when nothing changes. A claim at or before `endedAt` changes nothing; one after it over an
 * entry that ended replaces the entry; otherwise the two are joined (see `EventOriginEntry`). The join is
 * commutative, associative and idempotent, so the entry does not depend on the order events arrive in or on
 * duplicates. Times compare as strings: they are all in `Date.toISOString`'s format.
 */
export function joinEventOrigin(stored: EventOriginEntry | undefined, claim: EventClaim, endedAt?: string): EventOriginEntry | undefined {
  if (endedAt !== undefined && claim.at <= endedAt) return stored;
  const fresh: EventOriginEntry = { ...claim, firstAt: claim.at, lastAt: claim.at };
  if (!stored || (endedAt !== undefined && stored.lastAt <= endedAt)) return fresh;
  const decider = compareClaims(claim, stored) > 0 ? claim : stored;
  const joined: EventOriginEntry = {
    address: decider.address,
    reason: decider.reason,
    at: decider.at,
    messageId: decider.messageId,
    feedbackId: decider.feedbackId,
    firstAt: cmp(claim.at, stored.firstAt) < 0 ? claim.at : stored.firstAt,
    lastAt: cmp(claim.at, stored.lastAt) > 0 ? claim.at : stored.lastAt,
  };
  return sameEventOrigin(joined, stored) ? stored : joined;
}

/** True when two event origin entries hold the same values. */
export function sameEventOrigin(a: EventOriginEntry, b: EventOriginEntry): boolean {
  return (
    a.address === b.address &&
    a.reason === b.reason &&
    a.at === b.at &&
    a.messageId === b.messageId &&
    a.feedbackId === b.feedbackId &&
    a.firstAt === b.firstAt &&
    a.lastAt === b.lastAt
  );
}

/** The order that picks the deciding event: a complaint over a bounce, then the later, then the greater ids and spelling. */
function compareClaims(a: EventClaim, b: EventClaim): number {
  const rank = (reason: SuppressionReason): number => (reason === 'COMPLAINT' ? 1 : 0);
  return (
    rank(a.reason) - rank(b.reason) ||
    cmp(a.at, b.at) ||
    cmp(a.feedbackId, b.feedbackId) ||
    cmp(a.messageId, b.messageId) ||
    cmp(a.address, b.address)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The reason every list should hold: COMPLAINT when any origin is a complaint, else BOUNCE; undefined: not wanted. */
export function wantedReason(origins: readonly Origin[]): SuppressionReason | undefined {
  if (origins.length === 0) return undefined;
  return origins.some((origin) => origin.reason === 'COMPLAINT') ? 'COMPLAINT' : 'BOUNCE';
}

/** What propagation knows of one of its import jobs, for planning. */
export interface JobView {
  readonly action: 'PUT' | 'DELETE';
  /** ASSEMBLING/SUBMITTING: not (known to be) with SES; SUBMITTED: SES is processing it. */
  readonly status: 'ASSEMBLING' | 'SUBMITTING' | 'SUBMITTED' | 'COMPLETED' | 'FAILED';
  readonly completedAt?: string;
  /** Canonical keys of the records SES reported failed. */
  readonly failedKeys?: ReadonlySet<string>;
}

/** What planning needs of a job record. */
export function jobView(job: ImportJobRecord | undefined): JobView | undefined {
  if (!job) return undefined;
  return {
    action: job.action,
    status: job.status,
    ...(job.completedAt !== undefined ? { completedAt: job.completedAt } : {}),
    ...(job.failedKeys !== undefined ? { failedKeys: new Set(job.failedKeys) } : {}),
  };
}

/** What propagation does about one address in one region. */
export type RegionPlan =
  /** Put the address on the region's list (no copy there, a withdrawn one, a failed one, or a weaker reason). */
  | { readonly kind: 'add'; readonly address: string; readonly reason: SuppressionReason }
  /** Remove our copy (exactly `address`): no origin is left. */
  | { readonly kind: 'withdraw'; readonly address: string; readonly copy: PropagatedEntry }
  /** Our import job completed: record the copy as ADDED at the job's completion. */
  | { readonly kind: 'confirm'; readonly copy: PropagatedEntry; readonly addedAt: string }
  /** Our copy is not on the list (a failed record; a completed DELETE job) and not wanted: settle it as withdrawn, no call. */
  | { readonly kind: 'forget'; readonly copy: PropagatedEntry }
  | { readonly kind: 'keep'; readonly why: KeepReason };

/** Why nothing is done: SES lists it on its own, our copy is in place, a job is in flight, or it is not wanted. */
export type KeepReason = 'listed-by-ses' | 'ours' | 'pending' | 'not-wanted';

/**
 * Plans one address in `region`. Entries SES lists on its own are left alone; a copy of ours is added where an origin
 * wants one and withdrawn where none is left; a copy whose import job is in flight waits for the job. A copy is known
 * gone when the region's last full reconciliation, whose listing began at `fullListingFrom`, saw it removed or never
 * saw it at all.
 */
export function planRegion(
  item: SuppressionItem,
  region: string,
  jobs: (key: string) => JobView | undefined,
  fullListingFrom?: string,
): RegionPlan {
  const origins = originsOf(item);
  const reason = wantedReason(origins);
  const entry = item[regionAttribute(region)];
  const copy = item[propagatedAttribute(region)];
  const listedBySes = entry?.status === 'LISTED' && !isPropagatedCopy(entry, copy);
  const job = copy?.job !== undefined ? jobs(copy.job) : undefined;

  // Where our copy stands: in place on the list, on its way in or out (a job in flight), not there, or not known
  // (a call or a job whose outcome was never confirmed: some rows may have landed).
  let state: 'none' | 'in-place' | 'in-flight' | 'unknown' = 'none';
  let confirmAt: string | undefined;
  if (copy?.status === 'ADDED') state = 'in-place';
  else if (copy?.status === 'PENDING') {
    if (copy.via === 'put') state = 'unknown';
    else if (job?.status === 'SUBMITTED') state = 'in-flight';
    else if (job?.status === 'COMPLETED' && job.action === 'PUT' && !job.failedKeys?.has(item.address)) {
      state = 'in-place';
      confirmAt = job.completedAt ?? copy.requestedAt;
    } else if (job?.status === 'COMPLETED' && job.action === 'PUT') state = 'none';
    else state = 'unknown';
  } else if (copy?.status === 'WITHDRAWN' && copy.job !== undefined) {
    // A withdrawal carried by a DELETE job.
    if (job?.status === 'SUBMITTED') state = 'in-flight';
    else if (job?.status === 'COMPLETED' && job.action === 'DELETE' && !job.failedKeys?.has(item.address)) state = 'none';
    else state = 'unknown';
  }
  if (state === 'in-flight') return { kind: 'keep', why: 'pending' };

  if (reason === undefined) {
    if (!copy) return { kind: 'keep', why: 'not-wanted' };
    if (state === 'in-place' || state === 'unknown') {
      const settled = confirmAt !== undefined ? { ...copy, status: 'ADDED' as const, addedAt: confirmAt } : copy;
      return { kind: 'withdraw', address: copy.address, copy: settled };
    }
    // Not there: a failed record of an add job, or a withdrawal its DELETE job completed; settle the record.
    if (copy.status === 'PENDING' || copy.job !== undefined) return { kind: 'forget', copy };
    return { kind: 'keep', why: 'not-wanted' };
  }

  if (listedBySes) return { kind: 'keep', why: 'listed-by-ses' };
  if (state === 'in-place' && copy) {
    const removedSince =
      entry?.status === 'REMOVED' && entry.address === copy.address && entry.removedAt !== undefined && copy.addedAt !== undefined
        ? entry.removedAt > copy.addedAt
        : false;
    // A full listing of the region that began after our copy landed, yet never recorded it: someone removed it
    // before any sync saw it.
    const addedAt = copy.addedAt ?? confirmAt;
    const unseen =
      fullListingFrom !== undefined &&
      addedAt !== undefined &&
      Date.parse(addedAt) + PROPAGATION_CLOCK_SKEW_MS < Date.parse(fullListingFrom) &&
      !(entry?.status === 'LISTED' && isPropagatedCopy(entry, copy)) &&
      !removedSince;
    const weaker = copy.reason === 'BOUNCE' && reason === 'COMPLAINT';
    if (!removedSince && !unseen && !weaker) {
      return confirmAt !== undefined ? { kind: 'confirm', copy, addedAt: confirmAt } : { kind: 'keep', why: 'ours' };
    }
  }
  return { kind: 'add', address: spellingFor(item, copy), reason };
}

/**
 * The spelling to write: the one our copy already used, else the one an origin region listed, else the one an event
 * origin named, else the key.
 */
function spellingFor(item: SuppressionItem, copy: PropagatedEntry | undefined): string {
  if (copy) return copy.address;
  for (const [region, entry] of [...regionEntries(item)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (entry.status === 'LISTED' && !isPropagatedCopy(entry, item[propagatedAttribute(region)])) return entry.address;
  }
  for (const [region, entry] of [...eventEntries(item)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (isEventOrigin(item, region, entry)) return entry.address;
  }
  return item.address;
}
