import { GetSuppressedDestinationCommand, ListSuppressedDestinationsCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { canonicalAddress } from '../lambdas/domain/address';
import type { PropagatedEntry, RegionEntry } from '../lambdas/domain/records';

/**
 * What one region's SES suppression list holds for an address right now, every spelling included. SES keys the list
 * by the exact address (GetSuppressedDestination finds only the spelling asked for) and ListSuppressedDestinations
 * filters by reason and date only, never by address: the only way to rule out a spelling nobody recorded is to read
 * the whole list. That read is bounded; when the bound is reached, the entry says so (`complete: false`).
 */

/** One spelling SES holds. */
export interface LiveSpelling {
  readonly address: string;
  readonly reason?: string;
  readonly lastUpdateTime?: string;
}

/** What one region's SES list says right now. */
export interface LiveEntry {
  readonly region: string;
  /** Whether SES holds the address in any spelling. */
  readonly listed: boolean;
  /** The newest spelling SES holds, when listed (the one a sync records). */
  readonly address?: string;
  readonly reason?: string;
  readonly lastUpdateTime?: string;
  /** Every spelling found, newest first. */
  readonly spellings: readonly LiveSpelling[];
  /** True when the whole list was read, so no other spelling exists; false when the read stopped at the limit. */
  readonly complete: boolean;
  /** Entries of the region's list read. */
  readonly read: number;
  /** Set when SES could not be asked. */
  readonly error?: string;
  /** Spellings asked for with GetSuppressedDestination, in order. */
  readonly tried: readonly string[];
}

/** Entries per ListSuppressedDestinations page (the SES maximum). */
const PAGE_SIZE = 1000;
/** Default bound on the entries of one region's list read by {@link liveEntry}. */
export const DEFAULT_LIST_LIMIT = 10_000;

/**
 * Looks the address (canonical `key`) up in one region: GetSuppressedDestination for each candidate spelling (stopping at the first
 * found), then ListSuppressedDestinations, paged up to `listLimit` entries, for every other spelling.
 */
export async function liveEntry(
  ses: SESv2Client,
  region: string,
  key: string,
  candidates: readonly string[],
  listLimit = DEFAULT_LIST_LIMIT,
): Promise<LiveEntry> {
  const tried: string[] = [];
  const found = new Map<string, LiveSpelling>();
  const failed = (error: unknown): LiveEntry => ({
    region,
    listed: false,
    spellings: [],
    complete: false,
    read: 0,
    error: `${(error as Error).name}: ${(error as Error).message}`,
    tried,
  });
  for (const candidate of candidates) {
    tried.push(candidate);
    try {
      const d = (await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: candidate }))).SuppressedDestination;
      found.set(d?.EmailAddress ?? candidate, {
        address: d?.EmailAddress ?? candidate,
        reason: d?.Reason,
        lastUpdateTime: d?.LastUpdateTime?.toISOString(),
      });
      break;
    } catch (error) {
      if ((error as Error).name === 'NotFoundException') continue;
      return failed(error);
    }
  }
  let listing: Awaited<ReturnType<typeof listSpellings>>;
  try {
    listing = await listSpellings(ses, key, listLimit);
  } catch (error) {
    return failed(error);
  }
  for (const s of listing.spellings) found.set(s.address, s);
  const spellings = [...found.values()].sort((a, b) => (b.lastUpdateTime ?? '').localeCompare(a.lastUpdateTime ?? ''));
  const newest = spellings[0];
  return {
    region,
    listed: newest !== undefined,
    ...(newest ? { address: newest.address, reason: newest.reason, lastUpdateTime: newest.lastUpdateTime } : {}),
    spellings,
    complete: listing.complete,
    read: listing.read,
    tried,
  };
}

/** Pages a region's suppression list for the entries whose canonical form is `key`, reading at most `limit` entries. */
export async function listSpellings(
  ses: SESv2Client,
  key: string,
  limit: number,
): Promise<{ spellings: LiveSpelling[]; complete: boolean; read: number }> {
  const spellings: LiveSpelling[] = [];
  let read = 0;
  let nextToken: string | undefined;
  do {
    if (read >= limit) return { spellings, complete: false, read };
    const page = await ses.send(
      new ListSuppressedDestinationsCommand({ PageSize: Math.min(PAGE_SIZE, limit - read), NextToken: nextToken }),
    );
    for (const s of page.SuppressedDestinationSummaries ?? []) {
      read++;
      if (s.EmailAddress !== undefined && canonicalAddress(s.EmailAddress) === key) {
        spellings.push({ address: s.EmailAddress, reason: s.Reason, lastUpdateTime: s.LastUpdateTime?.toISOString() });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return { spellings, complete: true, read };
}

/** How the canonical record and SES compare: definite disagreements, and regions where agreement could not be verified. */
export interface LiveComparison {
  readonly disagreements: string[];
  /** One sentence per region whose list was not read to the end, so another spelling may exist. */
  readonly uncertain: string[];
}

/** Where the canonical record and SES disagree, one sentence each, and where that could not be verified. */
export function compareLive(
  entries: ReadonlyMap<string, RegionEntry>,
  live: readonly LiveEntry[],
  copies: ReadonlyMap<string, PropagatedEntry> = new Map(),
): LiveComparison {
  const disagreements: string[] = [];
  const uncertain: string[] = [];
  for (const l of live) {
    if (l.error) continue;
    const entry = entries.get(l.region);
    const canonicalListed = entry?.status === 'LISTED';
    if (canonicalListed && !l.listed) {
      disagreements.push(
        `${l.region}: the canonical record lists it (${entry.reason}, as ${entry.address}) but SES does not hold it now (removed since the last sync?)`,
      );
    } else if (!canonicalListed && l.listed) {
      // Our propagated copy, which the region's next sync records: the record and SES agree.
      const copy = copies.get(l.region);
      if (copy && copy.status !== 'WITHDRAWN' && copy.address === l.address) continue;
      disagreements.push(
        `${l.region}: SES lists it now (${l.reason}, as ${l.address}) but the canonical record ${entry ? 'marks it REMOVED' : 'has no entry'} (not synced yet?)`,
      );
    } else if (canonicalListed && l.listed && entry) {
      if (entry.reason !== l.reason) disagreements.push(`${l.region}: reason differs: canonical ${entry.reason}, SES ${l.reason}`);
      if (entry.address !== l.address)
        disagreements.push(`${l.region}: SES holds it as ${l.address}, the canonical record has ${entry.address}`);
    }
    if (!l.complete) {
      uncertain.push(
        `${l.region}: read ${l.read} entries of its list and stopped at the limit; a spelling other than ${l.tried.join(', ')} may be listed`,
      );
    }
  }
  return { disagreements, uncertain };
}
