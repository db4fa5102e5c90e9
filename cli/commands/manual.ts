import { DeleteSuppressedDestinationCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { canonicalAddress } from '../../lambdas/domain/address';
import { type AuditEntry, auditItem } from '../../lambdas/domain/audit';
import {
  MANUAL_ATTRIBUTE,
  type ManualEntry,
  type RegionEntry,
  regionAttribute,
  regionEntries,
  SUPPRESSION_KEY,
  type SuppressionReason,
} from '../../lambdas/domain/records';
import { hasControlCharacter } from '../../lambdas/domain/text';
import { caseCandidates, requireAddress } from '../address';
import type { Target } from '../context';
import { EXIT, UnavailableError, UsageError } from '../errors';
import { table } from '../output';
import type { Runner } from '../runner';

const MAX_TEXT = 500;

/** Parses a `--reason BOUNCE|COMPLAINT` value (case-insensitive). */
export function parseReason(raw: string, option = '--reason'): SuppressionReason {
  const value = raw.trim().toUpperCase();
  if (value === 'BOUNCE' || value === 'COMPLAINT') return value;
  throw new UsageError(`${option} must be BOUNCE or COMPLAINT, got ${JSON.stringify(raw)}`);
}

function freeText(raw: string | undefined, option: string, required: true): string;
function freeText(raw: string | undefined, option: string, required: false): string | undefined;
function freeText(raw: string | undefined, option: string, required: boolean): string | undefined {
  const value = raw?.trim();
  if (!value) {
    if (required) throw new UsageError(`${option} must say why, got ${JSON.stringify(raw ?? '')}`);
    return undefined;
  }
  if (value.length > MAX_TEXT || hasControlCharacter(value))
    throw new UsageError(`${option} must be at most ${MAX_TEXT} printable characters, got ${JSON.stringify(value.slice(0, 60))}`);
  return value;
}

/** `ssg suppress` and `ssg unsuppress`. */
export function registerManual(program: Command, runner: Runner): void {
  program
    .command('suppress')
    .description('Suppress an address in every region by an operator decision (the guard blocks it until unsuppressed)')
    .argument('<address>', 'the address to suppress')
    .requiredOption('--reason <BOUNCE|COMPLAINT>', 'why SES would have suppressed it')
    .option('--note <text>', 'free text kept with the entry and the audit trail (ticket, context)')
    .action(
      runner.action<{ reason: string; note?: string }>(async ({ out, target }, [raw = ''], options) => {
        const address = requireAddress(raw, '<address>', true);
        const reason = parseReason(options.reason);
        const note = freeText(options.note, '--note', false);
        const t = await target();
        const key = canonicalAddress(address);
        const tableName = t.output('SuppressionTableName');
        const existing = (await t.doc.send(new GetCommand({ TableName: tableName, Key: { [SUPPRESSION_KEY]: key }, ConsistentRead: true })))
          .Item;
        const before = existing?.[MANUAL_ATTRIBUTE] as ManualEntry | undefined;
        if (before?.status === 'LISTED' && before.reason === reason && before.note === note) {
          if (out.json) out.printJson({ address: key, changed: false, manual: before });
          else out.line(`${key} is already suppressed manually (${before.reason}, since ${before.at}, by ${before.by}); nothing changed`);
          return EXIT.OK;
        }
        const by = await t.callerIdentity();
        const at = new Date().toISOString();
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
        await transact(t, key, before, {
          set: { [MANUAL_ATTRIBUTE]: manual },
          setIfAbsent: { firstSeen: at, origin: 'manual' },
          at,
          audit,
        });
        if (out.json) out.printJson({ address: key, changed: true, manual, audit });
        else {
          out.line(`Suppressed ${key} manually (${reason}) at ${at} by ${by}${note ? `, note: ${note}` : ''}.`);
          out.line('The guard now blocks it in every region; the change is in the audit trail (ssg lookup).');
        }
        return EXIT.OK;
      }),
    );

  program
    .command('unsuppress')
    .description("Lift a suppression: remove the address from every region's SES list and end any manual suppression")
    .argument('<address>', 'the address to unsuppress (any case; the exact case SES holds is tried first)')
    .requiredOption('--reason <why>', 'why it may be mailed again (kept in the audit trail)')
    .addHelpText(
      'after',
      '\nExit code 1 when SES refused the removal in some region (the other regions are done; see the printed instructions).',
    )
    .action(
      runner.action<{ reason: string }>(async ({ out, target }, [raw = ''], options) => {
        const given = requireAddress(raw, '<address>', false);
        const why = freeText(options.reason, '--reason', true);
        const t = await target();
        const key = canonicalAddress(given);
        const regions = await t.regions();
        const by = await t.callerIdentity();
        const existing = (
          await t.doc.send(
            new GetCommand({ TableName: t.output('SuppressionTableName'), Key: { [SUPPRESSION_KEY]: key }, ConsistentRead: true }),
          )
        ).Item;
        const entries = existing ? regionEntries(existing) : new Map<string, RegionEntry>();
        const manualBefore = existing?.[MANUAL_ATTRIBUTE] as ManualEntry | undefined;

        const results = await Promise.all(
          regions.map((region) => removeFromRegion(t.ses(region), region, caseCandidates(entries.get(region)?.address, given))),
        );
        const at = new Date().toISOString();
        // A region's canonical entry becomes REMOVED when SES no longer holds the address there; where SES refused,
        // it stays LISTED because SES still suppresses it.
        const markRemoved = results.filter((r) => r.failed.length === 0 && entries.get(r.region)?.status === 'LISTED').map((r) => r.region);
        const endManual = manualBefore?.status === 'LISTED';
        const removedFrom = results.filter((r) => r.removed.length > 0).map((r) => r.region);
        const failed = results.flatMap((r) => r.failed.map((f) => ({ region: r.region, ...f })));
        const changed = removedFrom.length > 0 || markRemoved.length > 0 || endManual;

        let audit: AuditEntry | undefined;
        if (changed) {
          audit = {
            address: key,
            action: 'unsuppress',
            at,
            by,
            reason: why,
            details: {
              removedFrom,
              removedAddresses: results.flatMap((r) => r.removed.map((a) => `${r.region}:${a}`)),
              failed,
              markedRemoved: markRemoved,
              manualBefore: manualBefore ?? null,
            },
          };
          const set: Record<string, unknown> = {};
          for (const region of markRemoved) set[`${regionAttribute(region)}.status`] = 'REMOVED';
          for (const region of markRemoved) set[`${regionAttribute(region)}.removedAt`] = at;
          if (endManual) set[MANUAL_ATTRIBUTE] = { ...manualBefore, status: 'REMOVED', at, by, note: why } satisfies ManualEntry;
          await transact(t, key, manualBefore, { set, at, audit, itemExists: existing !== undefined });
        }

        if (out.json) {
          out.printJson({
            address: key,
            changed,
            regions: results,
            markedRemoved: markRemoved,
            manualEnded: endManual,
            failed,
            audit: audit ?? null,
          });
        } else {
          printUnsuppress(out.line, key, why, results, markRemoved, endManual, changed, entries);
          if (failed.length > 0) printRefusals(out.line, failed);
        }
        return failed.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

/** What removing the address from one region's SES list did. */
interface RegionRemoval {
  readonly region: string;
  /** Exact spellings SES held and removed. */
  readonly removed: string[];
  /** Spellings SES holds but would not remove. */
  readonly failed: Array<{ address: string; error: string }>;
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

interface Change {
  /** Attributes (or `attr.field` paths) to set. */
  readonly set: Record<string, unknown>;
  /** Attributes set only when the item has none yet. */
  readonly setIfAbsent?: Record<string, unknown>;
  readonly at: string;
  readonly audit: AuditEntry;
  /** False when there is no canonical item to update (only the audit entry is written). @default true */
  readonly itemExists?: boolean;
}

/**
 * Applies a manual change and its audit entry in one transaction: there is never a change without its audit entry.
 * The update is conditional on the manual entry being what we read, so two operators cannot silently overwrite
 * each other.
 */
async function transact(t: Target, key: string, manualBefore: ManualEntry | undefined, change: Change): Promise<void> {
  const names: Record<string, string> = { '#manual': MANUAL_ATTRIBUTE, '#lastUpdated': 'lastUpdated' };
  const values: Record<string, unknown> = { ':at': change.at };
  const sets = ['#lastUpdated = :at'];
  let n = 0;
  for (const [path, value] of Object.entries(change.set)) {
    const parts = path.split('.').map((part) => {
      const name = `#n${n++}`;
      names[name] = part;
      return name;
    });
    const v = `:v${n++}`;
    values[v] = value;
    sets.push(`${parts.join('.')} = ${v}`);
  }
  for (const [attr, value] of Object.entries(change.setIfAbsent ?? {})) {
    const name = `#n${n++}`;
    const v = `:v${n++}`;
    names[name] = attr;
    values[v] = value;
    sets.push(`${name} = if_not_exists(${name}, ${v})`);
  }
  let condition: string;
  if (manualBefore) {
    names['#mat'] = 'at';
    values[':manualAt'] = manualBefore.at;
    condition = '#manual.#mat = :manualAt';
  } else {
    condition = 'attribute_not_exists(#manual)';
  }
  const suppressionTable = t.output('SuppressionTableName');
  const stateTable = t.output('SyncStateTableName');
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
    { Put: { TableName: stateTable, Item: auditItem(change.audit), ConditionExpression: 'attribute_not_exists(pk)' } },
  ];
  if (change.itemExists !== false) {
    items.push({
      Update: {
        TableName: suppressionTable,
        Key: { [SUPPRESSION_KEY]: key },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    });
  }
  try {
    await t.doc.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException' && /ConditionalCheckFailed/.test((error as Error).message)) {
      throw new UnavailableError(
        `the manual entry of ${key} changed while this command ran (another operator?); nothing was written, run it again`,
      );
    }
    throw error;
  }
}

type Line = (text?: string) => void;

function printUnsuppress(
  line: Line,
  key: string,
  why: string,
  results: RegionRemoval[],
  markRemoved: string[],
  endManual: boolean,
  changed: boolean,
  entries: Map<string, RegionEntry>,
): void {
  if (!changed && results.every((r) => r.failed.length === 0)) {
    line(`${key} is not suppressed in any configured region and has no manual suppression; nothing changed`);
    return;
  }
  line(`Unsuppressing ${key} (why: ${why})`);
  const rows = results.map((r) => [
    r.region,
    r.failed.length > 0
      ? `REFUSED (${r.failed.map((f) => f.address).join(', ')})`
      : r.removed.length > 0
        ? `removed ${r.removed.join(', ')}`
        : 'not listed',
    markRemoved.includes(r.region)
      ? 'marked REMOVED'
      : entries.get(r.region)?.status === 'LISTED'
        ? 'still LISTED'
        : entries.has(r.region)
          ? 'REMOVED'
          : '-',
  ]);
  for (const row of table(['region', 'SES list', 'canonical entry'], rows)) line(row);
  line(endManual ? '  manual suppression: ended (REMOVED)' : '  manual suppression: none in force');
  line('Recorded in the audit trail.');
}

function printRefusals(line: Line, failed: Array<{ region: string; address: string; error: string }>): void {
  line('');
  line(`SES refused the removal in ${[...new Set(failed.map((f) => f.region))].join(', ')}; the address stays suppressed there:`);
  for (const f of failed) {
    line(`  ${f.region}: ${f.address}: ${f.error}`);
    line(`    remove it in the SES console (${f.region} > Suppression list > select the address > Remove), or run:`);
    line(`    aws sesv2 delete-suppressed-destination --email-address '${f.address.replace(/'/g, `'\\''`)}' --region ${f.region}`);
  }
  line('  If SES keeps refusing, open a case with AWS Support (SES > suppression list removal) naming the address and region.');
  for (const region of new Set(failed.map((f) => f.region)))
    line(`  Once removed, reconcile the canonical record: ssg sync --full --region ${region}`);
}
