import type { Problem, Severity } from '../../client/contract';
import { problem } from './problems';
import { type RegionFreshness, staleRegions } from './suppression';

/** SUPPRESSION_DATA_STALE when a configured region's sync watermark is missing or older than `staleAfterMinutes` at `now`. */
export function freshnessProblems(
  freshness: readonly RegionFreshness[],
  now: number,
  staleAfterMinutes: number,
  severity: Severity,
): Problem[] {
  const stale = staleRegions(freshness, now, staleAfterMinutes * 60_000);
  if (stale.length === 0) return [];
  return [
    problem(
      'SUPPRESSION_DATA_STALE',
      severity,
      `The suppression data of ${stale.map((s) => s.region).join(', ')} is older than ${staleAfterMinutes} minutes (or was never synced), so recently suppressed addresses may be missing.`,
      { staleAfterMinutes, regions: stale.map((s) => freshnessDetails(s, now)) },
    ),
  ];
}

function freshnessDetails(f: RegionFreshness, now: number): Record<string, unknown> {
  const watermark = f.watermark ?? null;
  return {
    region: f.region,
    watermark,
    ageMinutes: watermark === null ? null : Math.round((now - Date.parse(watermark)) / 60_000),
    lastSuccessAt: f.lastSuccessAt ?? null,
    lastError: f.lastError ? { name: f.lastError.name, at: f.lastError.at } : null,
  };
}
