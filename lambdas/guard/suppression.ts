import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGet, batchGetByKey } from '../domain/batch';
import {
  MANUAL_ATTRIBUTE,
  type ManualEntry,
  regionEntries,
  regionStateKey,
  STATE_PK,
  STATE_SK,
  SUPPRESSION_KEY,
  type SuppressionReason,
} from '../domain/records';
import { callDependency } from './dependency';

/** Why and where an address is suppressed, for the reasons that apply to this send. */
export interface SuppressionFinding {
  readonly reason: SuppressionReason;
  /** Listing regions, sorted, then `manual` for an operator suppression. */
  readonly regions: string[];
  readonly since: string;
}

/** The canonical items of `keys` (canonical addresses), read with BatchGetItem 100 keys at a time, in parallel. */
export async function readSuppressionItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly string[],
  concurrency = 16,
): Promise<{ items: Map<string, Record<string, unknown>>; requests: number }> {
  if (keys.length === 0) return { items: new Map(), requests: 0 };
  return callDependency('dynamodb', 'BatchGetItem', tableName, () =>
    batchGetByKey(doc, tableName, SUPPRESSION_KEY, keys, { concurrency, maxRounds: 5 }),
  );
}

/**
 * Whether a canonical item suppresses the address for a send where `reasons` apply. Region entries count while
 * LISTED with an applicable reason; an operator's manual suppression (`manual.status === 'LISTED'`) always counts,
 * in every region and whatever the reasons, because it is a deliberate decision rather than SES's automatic list.
 * The reported reason is COMPLAINT when any counted listing is a complaint; `since` is the earliest listing time.
 */
export function suppressionFinding(
  item: Record<string, unknown> | undefined,
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
  const manual = item[MANUAL_ATTRIBUTE] as ManualEntry | undefined;
  if (manual && typeof manual === 'object' && manual.status === 'LISTED') {
    regions.push('manual');
    complaint ||= manual.reason === 'COMPLAINT';
    if (since === undefined || (manual.at && manual.at < since)) since = manual.at;
  }
  if (regions.length === 0) return undefined;
  return { reason: complaint ? 'COMPLAINT' : 'BOUNCE', regions, since: since ?? '' };
}

/** The sync progress of one region, as the guard needs it. */
export interface RegionFreshness {
  readonly region: string;
  /** Every SES entry updated before this time is in the canonical table; absent when the region never synced. */
  readonly watermark?: string;
  readonly lastSuccessAt?: string;
  readonly lastError?: { name: string; message: string; at: string };
}

/** Reads the sync state items of `regions` in one BatchGetItem, retrying unprocessed keys. */
export async function readFreshness(
  doc: DynamoDBDocumentClient,
  tableName: string,
  regions: readonly string[],
): Promise<RegionFreshness[]> {
  return callDependency('dynamodb', 'BatchGetItem', tableName, async () => {
    const { items } = await batchGet(
      doc,
      tableName,
      regions.map((region) => regionStateKey(region)),
      {
        projection: '#pk, #sk, watermark, lastSuccessAt, lastError',
        names: { '#pk': STATE_PK, '#sk': STATE_SK },
        maxRounds: 5,
        backoffCapMs: 1000,
      },
    );
    const found = new Map(items.map((item) => [String(item[STATE_PK]), item]));
    return regions.map((region) => {
      const item = found.get(regionStateKey(region).pk) ?? {};
      return {
        region,
        ...(typeof item.watermark === 'string' ? { watermark: item.watermark } : {}),
        ...(typeof item.lastSuccessAt === 'string' ? { lastSuccessAt: item.lastSuccessAt } : {}),
        ...(item.lastError && typeof item.lastError === 'object' ? { lastError: item.lastError as RegionFreshness['lastError'] } : {}),
      };
    });
  });
}

/** Regions whose watermark is missing or older than `staleAfterMs` at `now`. */
export function staleRegions(freshness: readonly RegionFreshness[], now: number, staleAfterMs: number): RegionFreshness[] {
  return freshness.filter((f) => {
    const watermark = f.watermark === undefined ? NaN : Date.parse(f.watermark);
    return !Number.isFinite(watermark) || now - watermark > staleAfterMs;
  });
}
