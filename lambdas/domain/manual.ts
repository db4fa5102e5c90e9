import { DeleteSuppressedDestinationCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { canonicalAddress } from './address';
import { forEachLimit } from './batch';
import {
  type AuditEntry,
  MANUAL_ATTRIBUTE,
  type ManualEntry,
  type RegionEntry,
  regionAttribute,
  regionEntries,
  type SuppressionReason,
} from './records';
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

/** What `suppress` asks for. */
export interface SuppressRequest {
  /** The address (any case); the canonical key is derived from it. */
  readonly address: string;
  readonly reason: SuppressionReason;
  readonly note?: string;
  /** Who is making the change; asked only when something changes. */
  readonly by: () => Promise<string>;
  /** @default now */
  readonly at?: string;
}

/** What `suppress` did. */
export type SuppressResult =
  | { readonly key: string; readonly changed: false; readonly manual: ManualEntry }
  | { readonly key: string; readonly changed: true; readonly manual: ManualEntry; readonly audit: AuditEntry };

/** Suppresses an address manually in every region. */
export async function suppress(tables: ManualTables, request: SuppressRequest): Promise<SuppressResult> {
  const key = canonicalAddress(request.address);
  const { reason, note } = request;
  const before = (await tables.suppression.get(key))?.manual;
  if (before?.status === 'LISTED' && before.reason === reason && before.note === note) return { key, changed: false, manual: before };
  const by = await request.by();
  const at = request.at ?? new Date().toISOString();
  const manual: ManualEntry = { reason, status: 'LISTED', at, by, ...(note ? { note } : {}) };
  const audit: AuditEntry = {
    address: key,
    action: 'suppress',
    at,
    by,
    reason,
    ...(note ? { note } : {}),
    details: { before: before ?? null, after: manual },
  };
  await transact(tables, key, before, { set: { [MANUAL_ATTRIBUTE]: manual }, setIfAbsent: { firstSeen: at, origin: 'manual' }, at }, audit);
  return { key, changed: true, manual, audit };
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
  /** Spellings SES holds but would not remove. */
  readonly failed: Array<{ address: string; error: string }>;
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
  readonly failed: Array<{ region: string; address: string; error: string }>;
  readonly changed: boolean;
  readonly audit?: AuditEntry;
}

/** Removes the address from every region's SES list and ends any manual suppression. */
export async function unsuppress(tables: ManualTables, request: UnsuppressRequest): Promise<UnsuppressResult> {
  const key = canonicalAddress(request.address);
  const existing = await tables.suppression.get(key);
  const entries = existing ? regionEntries(existing) : new Map<string, RegionEntry>();
  const manualBefore = existing?.manual;

  const results = await Promise.all(
    request.regions.map((region) => removeFromRegion(request.ses(region), region, request.candidates(entries.get(region)?.address))),
  );
  const at = new Date().toISOString();
  // A region's canonical entry becomes REMOVED when SES no longer holds the address there; where SES refused,
  // it stays LISTED because SES still suppresses it.
  const markedRemoved = results.filter((r) => r.failed.length === 0 && entries.get(r.region)?.status === 'LISTED').map((r) => r.region);
  const manualEnded = manualBefore?.status === 'LISTED';
  const removedFrom = results.filter((r) => r.removed.length > 0).map((r) => r.region);
  const failed = results.flatMap((r) => r.failed.map((f) => ({ region: r.region, ...f })));
  const changed = removedFrom.length > 0 || markedRemoved.length > 0 || manualEnded;

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
        markedRemoved,
        manualBefore: manualBefore ?? null,
      },
    };
    const set: Record<string, unknown> = {};
    for (const region of markedRemoved) set[`${regionAttribute(region)}.status`] = 'REMOVED';
    for (const region of markedRemoved) set[`${regionAttribute(region)}.removedAt`] = at;
    if (manualEnded)
      set[MANUAL_ATTRIBUTE] = { ...manualBefore, status: 'REMOVED', at, by: request.by, note: request.why } satisfies ManualEntry;
    await transact(tables, key, manualBefore, existing ? { set, at } : undefined, audit);
  }
  return { key, entries, results, markedRemoved, manualEnded, failed, changed, audit };
}

async function removeFromRegion(ses: SESv2Client, region: string, candidates: string[]): Promise<RegionRemoval> {
  const result: RegionRemoval = { region, removed: [], failed: [] };
  // SES keys its list by the exact case, and may hold more than one spelling: try each and remove all it holds.
  for (const candidate of candidates) {
    try {
      await ses.send(new DeleteSuppressedDestinationCommand({ EmailAddress: candidate }));
      result.removed.push(candidate);
    } catch (error) {
      if ((error as Error).name === 'NotFoundException') continue;
      result.failed.push({ address: candidate, error: `${(error as Error).name}: ${(error as Error).message}` });
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

  /** Compares a batch with the table (BatchGetItem) and writes, in parallel, only the rows that change something. */
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
    const writes: Array<[string, ImportRow, ManualEntry | undefined]> = [];
    for (const [key, row] of latest) {
      const manual = stored.get(key);
      if (manual?.status === 'REMOVED') {
        this.unchanged++;
        this.keptUnsuppressed++;
      } else if (manual?.status === 'LISTED' && (manual.reason === row.reason || manual.reason === 'COMPLAINT')) {
        this.unchanged++;
      } else {
        writes.push([key, row, manual]);
      }
    }
    await forEachLimit(writes, this.writeConcurrency, async ([key, row, before]) => {
      if (await this.writeRow(key, row, before)) this.imported++;
      else this.unchanged++;
    });
  }

  private async writeRow(key: string, row: ImportRow, before: ManualEntry | undefined): Promise<boolean> {
    const at = new Date().toISOString();
    const manual: ManualEntry = { reason: row.reason, status: 'LISTED', at, by: this.by, note: this.origin };
    const audit: AuditEntry = {
      address: key,
      action: 'import',
      at,
      by: this.by,
      reason: row.reason,
      details: { source: this.origin, line: row.line, before: before ?? null },
    };
    try {
      await transact(
        this.tables,
        key,
        before,
        { set: { [MANUAL_ATTRIBUTE]: manual }, setIfAbsent: { firstSeen: at, origin: this.origin }, at },
        audit,
      );
      return true;
    } catch (error) {
      // A concurrent change (or a second import) is never overwritten.
      if (error instanceof ManualConflictError) return false;
      throw error;
    }
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
