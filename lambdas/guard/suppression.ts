import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RegionFreshness, SuppressionItem } from '../domain/records';
import { StateTable } from '../domain/state-table';
import { SuppressionTable } from '../domain/suppression-table';
import { callDependency } from './dependency';

export { type SuppressionFinding, suppressionFinding } from '../domain/finding';
export type { RegionFreshness } from '../domain/records';

/** The canonical items of `keys` (canonical addresses), read with BatchGetItem 100 keys at a time, in parallel. */
export async function readSuppressionItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly string[],
  concurrency = 16,
): Promise<{ items: Map<string, SuppressionItem>; requests: number }> {
  if (keys.length === 0) return { items: new Map(), requests: 0 };
  return callDependency('dynamodb', 'BatchGetItem', tableName, () =>
    new SuppressionTable(doc, tableName).getMany(keys, { concurrency, maxRounds: 5 }),
  );
}

/** Reads the sync state items of `regions` in one BatchGetItem, retrying unprocessed keys. */
export async function readFreshness(
  doc: DynamoDBDocumentClient,
  tableName: string,
  regions: readonly string[],
): Promise<RegionFreshness[]> {
  return callDependency('dynamodb', 'BatchGetItem', tableName, () => new StateTable(doc, tableName).readFreshness(regions));
}

/** Regions whose watermark is missing or older than `staleAfterMs` at `now`. */
export function staleRegions(freshness: readonly RegionFreshness[], now: number, staleAfterMs: number): RegionFreshness[] {
  return freshness.filter((f) => {
    const watermark = f.watermark === undefined ? NaN : Date.parse(f.watermark);
    return !Number.isFinite(watermark) || now - watermark > staleAfterMs;
  });
}
