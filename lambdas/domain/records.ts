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
  readonly at: string;
  readonly by: string;
  readonly note?: string;
}

/** One canonical suppression record, keyed by the canonical (trimmed, lower-cased) address. */
export interface SuppressionItem {
  readonly address: string;
  readonly firstSeen: string;
  readonly lastUpdated: string;
  /** Where the address was first seen: `ses:<region>`, `manual` or `import:<source>`. */
  readonly origin: string;
  readonly [attribute: string]: unknown;
}

/** Partition key attribute of the suppression table. */
export const SUPPRESSION_KEY = 'address';

/** Prefix of the per-region attributes on a canonical item. */
export const REGION_ATTRIBUTE_PREFIX = 'region:';

/** Attribute holding an operator's manual suppression. */
export const MANUAL_ATTRIBUTE = 'manual';

/** Name of the attribute that holds a region's entry on a canonical item. */
export function regionAttribute(region: string): string {
  return `${REGION_ATTRIBUTE_PREFIX}${region}`;
}

/** The per-region entries of a canonical item, by region. */
export function regionEntries(item: Record<string, unknown>): Map<string, RegionEntry> {
  const entries = new Map<string, RegionEntry>();
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(REGION_ATTRIBUTE_PREFIX) && value && typeof value === 'object') {
      entries.set(name.slice(REGION_ATTRIBUTE_PREFIX.length), value as RegionEntry);
    }
  }
  return entries;
}

/** Regions whose SES list still holds the address; an address stays suppressed while any region lists it. */
export function listedRegions(item: Record<string, unknown>): string[] {
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
