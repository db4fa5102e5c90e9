import { regionEntries, type SuppressionItem, type SuppressionReason } from './records';

/** Why and where an address is suppressed, for the reasons that apply to this send. */
export interface SuppressionFinding {
  readonly reason: SuppressionReason;
  /** Listing regions, sorted, then `manual` for an operator suppression. */
  readonly regions: string[];
  readonly since: string;
}

/**
 * Whether a canonical item suppresses the address for a send where `reasons` apply. Region entries count while
 * LISTED with an applicable reason; an operator's manual suppression (`manual.status === 'LISTED'`) always counts,
 * in every region and whatever the reasons, because it is a deliberate decision rather than SES's automatic list.
 * The reported reason is COMPLAINT when any counted listing is a complaint; `since` is the earliest listing time.
 */
export function suppressionFinding(
  item: SuppressionItem | undefined,
  reasons: ReadonlySet<SuppressionReason>,
): SuppressionFinding | undefined {
  if (!item) return undefined;
  const regions: string[] = [];
  let complaint = false;
  let since: string | undefined;
  for (const [region, entry] of [...regionEntries(item)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (entry.status !== 'LISTED' || !reasons.has(entry.reason)) continue;
    regions.push(region);
    complaint ||= entry.reason === 'COMPLAINT';
    if (since === undefined || entry.lastUpdateTime < since) since = entry.lastUpdateTime;
  }
  const manual = item.manual;
  if (manual?.status === 'LISTED') {
    regions.push('manual');
    complaint ||= manual.reason === 'COMPLAINT';
    if (since === undefined || manual.at < since) since = manual.at;
  }
  if (regions.length === 0) return undefined;
  return { reason: complaint ? 'COMPLAINT' : 'BOUNCE', regions, since: since ?? '' };
}
