import { isPropagatedCopy, jobView, type KeepReason, type Origin, originsOf, planRegion, wantedReason } from '../lambdas/domain/origins';
import {
  type ImportJobRecord,
  type PropagatedEntry,
  propagatedAttribute,
  type RegionEntry,
  regionAttribute,
  type SuppressionItem,
  type SuppressionReason,
} from '../lambdas/domain/records';

/**
 * Who put an address on each region's SES list, and what propagation will do about it next: pure functions over the
 * canonical item and the import job records, for `ssg lookup`.
 */

/** What propagation will do next about the address in one region (`planRegion`), in words and as data. */
export interface NextStep {
  readonly action: 'add' | 'withdraw' | 'confirm' | 'forget' | 'nothing';
  /** Why nothing is done (`action` is `nothing`). */
  readonly why?: KeepReason;
  /** The spelling written or deleted (`add`, `withdraw`). */
  readonly address?: string;
  readonly reason?: SuppressionReason;
  readonly description: string;
}

/** One region's view of the address. */
export interface RegionProvenance {
  readonly region: string;
  /**
   * Who the region's list holds it for: `ses` (SES listed it there on its own: an origin), `propagation` (our copy,
   * added or on its way), or null (not listed, as far as the last sync and propagation know).
   */
  readonly listedBy: 'ses' | 'propagation' | null;
  /** What the last sync recorded of the region's list. */
  readonly entry: RegionEntry | null;
  /** Our copy in the region (`propagated:<region>`), whatever its status. */
  readonly propagated: PropagatedEntry | null;
  /** The import job that carries (or carried) our copy, while its record is kept. */
  readonly job: ImportJobRecord | null;
  /** What propagation does next; null where propagation does not write into the region. */
  readonly next: NextStep | null;
}

/** The origins of an address and each region's view of it. */
export interface Provenance {
  readonly origins: Origin[];
  /** The reason every list should hold; null when nothing asks for the address to be suppressed. */
  readonly wantedReason: SuppressionReason | null;
  readonly regions: RegionProvenance[];
}

/**
 * Explains `item` region by region. `regions`: the configured regions (regions the item names besides are added);
 * `jobs`: the import job records of each region (only the regions whose copy names a job are needed);
 * `propagateTo`: the regions propagation writes into, or undefined when not known (every region is planned).
 */
export function provenance(
  item: SuppressionItem | undefined,
  regions: readonly string[],
  jobs: ReadonlyMap<string, readonly ImportJobRecord[]>,
  propagateTo: readonly string[] | undefined,
): Provenance {
  const origins = item ? originsOf(item) : [];
  const all = [...regions];
  for (const name of Object.keys(item ?? {})) {
    const region = name.startsWith('region:') ? name.slice(7) : name.startsWith('propagated:') ? name.slice(11) : undefined;
    if (region !== undefined && !all.includes(region)) all.push(region);
  }
  return {
    origins,
    wantedReason: wantedReason(origins) ?? null,
    regions: all.map((region) => regionProvenance(item, region, jobs.get(region) ?? [], propagateTo)),
  };
}

function regionProvenance(
  item: SuppressionItem | undefined,
  region: string,
  jobs: readonly ImportJobRecord[],
  propagateTo: readonly string[] | undefined,
): RegionProvenance {
  const entry = item?.[regionAttribute(region)];
  const copy = item?.[propagatedAttribute(region)];
  const job = copy?.job !== undefined ? jobs.find((j) => j.key === copy.job) : undefined;
  const listedBy: RegionProvenance['listedBy'] =
    entry?.status === 'LISTED' && !isPropagatedCopy(entry, copy) ? 'ses' : copy && copy.status !== 'WITHDRAWN' ? 'propagation' : null;
  const propagates = propagateTo === undefined || propagateTo.includes(region);
  return {
    region,
    listedBy,
    entry: entry ?? null,
    propagated: copy ?? null,
    job: job ?? null,
    next: propagates ? nextStep(item, region, jobs) : null,
  };
}

function nextStep(item: SuppressionItem | undefined, region: string, jobs: readonly ImportJobRecord[]): NextStep {
  if (!item) return { action: 'nothing', why: 'not-wanted', description: 'nothing: no record of the address' };
  const plan = planRegion(item, region, (key) => jobView(jobs.find((j) => j.key === key)));
  switch (plan.kind) {
    case 'add':
      return {
        action: 'add',
        address: plan.address,
        reason: plan.reason,
        description: `add ${plan.address} (${plan.reason})`,
      };
    case 'withdraw':
      return { action: 'withdraw', address: plan.address, description: `withdraw our copy ${plan.address}: no origin is left` };
    case 'confirm':
      return { action: 'confirm', description: `record our copy as added (its import job completed at ${plan.addedAt})` };
    case 'forget':
      return { action: 'forget', description: 'settle our copy as withdrawn: it is not on the list and not wanted (no SES call)' };
    case 'keep':
      return { action: 'nothing', why: plan.why, description: `nothing: ${KEEP_REASONS[plan.why]}` };
  }
}

const KEEP_REASONS: Record<KeepReason, string> = {
  'listed-by-ses': 'SES lists it there on its own',
  ours: 'our copy is in place',
  pending: 'waits for the import job SES is processing',
  'not-wanted': 'nothing asks for it to be suppressed',
};

/** One line about our copy: its status, the spelling written, how and when. */
export function describeCopy(copy: PropagatedEntry, job: ImportJobRecord | null): string {
  const via = copy.via === 'put' ? 'by a call' : `by import job ${copy.job ?? '?'}${job ? ` (${job.status})` : ''}`;
  const when =
    copy.status === 'WITHDRAWN'
      ? `withdrawn ${copy.withdrawnAt ?? '?'}`
      : copy.status === 'ADDED'
        ? `added ${copy.addedAt ?? '?'}`
        : `requested ${copy.requestedAt}, not confirmed yet`;
  return `${copy.status} as ${copy.address} (${copy.reason}) ${via}, ${when}`;
}
