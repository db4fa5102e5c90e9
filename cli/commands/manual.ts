import type { Command } from 'commander';
import { isTransient, ManualConflictError, type RegionRemoval, suppress, unsuppress } from '../../lambdas/domain/manual';
import type { RegionEntry, SuppressionReason } from '../../lambdas/domain/records';
import { StateTable } from '../../lambdas/domain/state-table';
import { SuppressionTable } from '../../lambdas/domain/suppression-table';
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
    .option('--note <text>', 'free text kept with the entry and the audit trail (ticket, context); without it, a note in force is kept')
    .option('--force', 'allow --reason BOUNCE to downgrade a manual COMPLAINT')
    .addHelpText(
      'after',
      '\nAn address already suppressed manually keeps when its suppression began; the command says what it changes\n' +
        '(reason, note) and what it leaves as it is. A manual COMPLAINT is never downgraded to BOUNCE without --force:\n' +
        'without it the command changes nothing and exits 1.',
    )
    .action(
      runner.action<{ reason: string; note?: string; force?: boolean }>(async ({ out, target }, [raw = ''], options) => {
        const address = requireAddress(raw, '<address>', true);
        const reason = parseReason(options.reason);
        const note = freeText(options.note, '--note', false);
        const t = await target();
        const result = await manualChange('nothing was changed', () =>
          suppress(manualTables(t), {
            address,
            reason,
            ...(note ? { note } : {}),
            force: options.force === true,
            by: () => t.callerIdentity(),
          }),
        );
        const { key, manual, outcome, changes, listedBy } = result;
        if (out.json) {
          out.printJson({
            address: key,
            changed: result.changed,
            outcome,
            changes,
            manual,
            before: result.before ?? null,
            listedBy,
            ...(result.audit ? { audit: result.audit } : {}),
          });
          return outcome === 'refused' ? EXIT.PROBLEMS : EXIT.OK;
        }
        const sesListings = listedBy.length > 0 ? `; SES lists it in ${listedBy.map((l) => `${l.region} (${l.reason})`).join(', ')}` : '';
        const noteText = (n: string | undefined) => (n === undefined ? 'none' : JSON.stringify(n));
        switch (outcome) {
          case 'refused':
            out.line(
              `${key} is suppressed manually as a COMPLAINT (since ${manual.at}, by ${manual.by}); --reason BOUNCE would downgrade it.`,
            );
            out.line('Nothing changed. A complaint outranks a bounce; pass --force to downgrade it anyway.');
            return EXIT.PROBLEMS;
          case 'unchanged':
            out.line(`${key} is already suppressed manually (${manual.reason}, since ${manual.at}, by ${manual.by}); nothing changed`);
            return EXIT.OK;
          case 'updated':
            out.line(
              `Updated the manual suppression of ${key}: ${changes
                .map((c) => (c.field === 'note' ? `note ${noteText(c.from)} -> ${noteText(c.to)}` : `${c.field} ${c.from} -> ${c.to}`))
                .join('; ')}.`,
            );
            out.line(
              `Unchanged: suppressed manually since ${manual.at} (by ${manual.by})${changes.some((c) => c.field === 'note') ? '' : `, note ${noteText(manual.note)}`}${sesListings}.`,
            );
            out.line('The change is in the audit trail (ssg lookup).');
            return EXIT.OK;
          case 'created':
            out.line(`Suppressed ${key} manually (${reason}) at ${manual.at} by ${manual.by}${note ? `, note: ${note}` : ''}.`);
            if (result.before) out.line(`  It had been unsuppressed at ${result.before.at} by ${result.before.by}.`);
            if (listedBy.length > 0) out.line(`  Unchanged${sesListings.replace(/^;/, ':')}.`);
            out.line('The guard now blocks it in every region; the change is in the audit trail (ssg lookup).');
            return EXIT.OK;
        }
      }),
    );

  program
    .command('unsuppress')
    .description("Lift a suppression: remove the address from every region's SES list and end any manual suppression")
    .argument('<address>', 'the address to unsuppress (any case; the exact case SES holds is tried first)')
    .requiredOption('--reason <why>', 'why it may be mailed again (kept in the audit trail)')
    .addHelpText(
      'after',
      '\nExit code 1 when SES refused the removal in some region (the other regions are done; see the printed instructions).\n' +
        'Exit code 3 when SES could not be asked in some region (throttling, a 5xx answer, a network failure): run the\n' +
        'same command again; the regions already done are skipped.',
    )
    .action(
      runner.action<{ reason: string }>(async ({ out, target }, [raw = ''], options) => {
        const given = requireAddress(raw, '<address>', false);
        const why = freeText(options.reason, '--reason', true);
        const t = await target();
        const regions = await t.regions();
        const by = await t.callerIdentity();
        const {
          key,
          entries,
          results,
          markedRemoved: markRemoved,
          manualEnded: endManual,
          eventsEnded,
          failed,
          unavailable,
          changed,
          audit,
        } = await manualChange('the SES removals already made stay made; run the same command again to record them', () =>
          unsuppress(manualTables(t), {
            address: given,
            why,
            regions,
            by,
            ses: (region) => t.ses(region),
            candidates: (recorded) => caseCandidates(recorded, given),
          }),
        );

        if (out.json) {
          out.printJson({
            address: key,
            changed,
            regions: results,
            markedRemoved: markRemoved,
            manualEnded: endManual,
            eventsEnded,
            failed,
            unavailable,
            audit: audit ?? null,
          });
        } else {
          printUnsuppress(out.line, key, why, results, markRemoved, endManual, eventsEnded, changed, entries);
          if (failed.length > 0) printRefusals(out.line, failed);
          if (unavailable.length > 0) printUnavailable(out.line, unavailable, given, why);
        }
        return unavailable.length > 0 ? EXIT.UNAVAILABLE : failed.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

function manualTables(t: Target) {
  return {
    suppression: new SuppressionTable(t.doc, t.output('SuppressionTableName')),
    state: new StateTable(t.doc, t.output('SyncStateTableName')),
  };
}

/**
 * Runs a manual operation. A concurrent change of the same manual entry, and a transient DynamoDB failure
 * (throttling, 5xx, network), end the command with exit 3 and say to try again; `after` says what a failure leaves.
 */
export async function manualChange<T>(after: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof ManualConflictError) throw new UnavailableError(error.message);
    if (isTransient(error)) {
      const e = error as Error;
      throw new UnavailableError(`DynamoDB did not answer (${e.name}: ${e.message}), a transient failure; ${after}. Try again.`, {
        cause: error,
      });
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
  eventsEnded: string[],
  changed: boolean,
  entries: Map<string, RegionEntry>,
): void {
  if (!changed && results.every((r) => r.failed.length === 0 && r.unavailable.length === 0)) {
    line(`${key} is not suppressed in any configured region and has no manual suppression; nothing changed`);
    return;
  }
  line(`Unsuppressing ${key} (why: ${why})`);
  const rows = results.map((r) => [
    r.region,
    r.failed.length > 0
      ? `REFUSED (${r.failed.map((f) => f.address).join(', ')})`
      : r.unavailable.length > 0
        ? `NO ANSWER (${r.unavailable.map((f) => f.address).join(', ')})`
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
  if (eventsEnded.length > 0) line(`  SES event origins ended: ${eventsEnded.join(', ')}`);
  line(changed ? 'Recorded in the audit trail.' : 'Nothing was changed.');
}

function printUnavailable(
  line: Line,
  unavailable: Array<{ region: string; address: string; error: string }>,
  given: string,
  why: string,
): void {
  const regions = [...new Set(unavailable.map((f) => f.region))].join(', ');
  line('');
  line(`SES could not be asked in ${regions} (throttling, a 5xx answer or the network: a transient failure, not a refusal);`);
  line('whether SES still holds the address there is not known, and its canonical entry is left as it was:');
  for (const f of unavailable) line(`  ${f.region}: ${f.address}: ${f.error}`);
  line(`Try again in a moment: ssg unsuppress '${given.replace(/'/g, `'\\''`)}' --reason '${why.replace(/'/g, `'\\''`)}'`);
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
