import { createReadStream, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { type CsvError, parse } from 'csv-parse';
import { ManualImport } from '../../lambdas/domain/manual';
import type { SuppressionReason } from '../../lambdas/domain/records';
import { StateTable } from '../../lambdas/domain/state-table';
import { SuppressionTable } from '../../lambdas/domain/suppression-table';
import { checkAddress } from '../../lambdas/guard/email';
import { EXIT, UsageError } from '../errors';
import { Progress, table } from '../output';
import type { Runner } from '../runner';
import { type ExportFormat, parseFormat } from './export';
import { manualChange, parseReason } from './manual';

/** A row that passed validation. */
interface GoodRow {
  readonly line: number;
  readonly address: string;
  readonly reason: SuppressionReason;
}

/** A row that did not, with why. */
export interface RejectedRow {
  readonly line: number;
  readonly error: string;
}

/** What `import` did. */
export interface ImportSummary {
  readonly file: string;
  readonly source: string;
  readonly rows: number;
  readonly imported: number;
  readonly unchanged: number;
  readonly rejected: number;
  /** Rows left alone because an operator unsuppressed the address (counted in `unchanged`). */
  readonly keptUnsuppressed: number;
}

const BATCH = 100;
const WRITE_CONCURRENCY = 16;
const SHOWN_REJECTIONS = 100;
const SOURCE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const IMPORT_FAILURE = 'the rows written so far stay written and a re-run skips them';

const ADDRESS_HEADERS = new Set([
  'emailaddress',
  'email',
  'address',
  'mail',
  'emailaddr',
  'recipient',
  'recipientemail',
  'useremail',
  'contactemail',
  'to',
]);
const REASON_HEADERS = new Set(['reason', 'type', 'suppressiontype', 'bouncetype', 'category', 'suppressionreason', 'event', 'status']);

const REASONS: Record<string, SuppressionReason> = Object.fromEntries([
  ...[
    'bounce',
    'bounced',
    'bounces',
    'hard bounce',
    'hardbounce',
    'hard bounced',
    'hard',
    'permanent',
    'permanent bounce',
    'permanent failure',
    'hard fail',
  ].map((r) => [r, 'BOUNCE' as const]),
  ...[
    'complaint',
    'complaints',
    'complained',
    'spam',
    'spam complaint',
    'spam report',
    'spamreport',
    'spam reports',
    'marked as spam',
    'abuse',
    'abuse report',
    'fbl',
  ].map((r) => [r, 'COMPLAINT' as const]),
]);

/** Maps a provider's reason ("hard bounce", "spam", "Complaint", ...) to SES's BOUNCE or COMPLAINT. */
export function mapReason(raw: string): { ok: true; reason: SuppressionReason } | { ok: false; error: string } {
  const value = raw
    .trim()
    .toLowerCase()
    .replace(/[_\-\s]+/g, ' ');
  const reason = REASONS[value];
  if (reason) return { ok: true, reason };
  if (/\b(soft|transient|temporary|deferred)\b/.test(value))
    return { ok: false, error: `reason ${JSON.stringify(raw)} is a soft (transient) bounce; SES suppresses hard bounces only` };
  if (/unsub/.test(value))
    return {
      ok: false,
      error: `reason ${JSON.stringify(raw)} is an unsubscribe; the SES suppression list holds bounces and complaints only`,
    };
  return {
    ok: false,
    error: `reason ${JSON.stringify(raw)} is not a bounce or a complaint (expected e.g. BOUNCE, hard bounce, COMPLAINT, spam)`,
  };
}

/** `ssg import`. */
export function registerImport(program: Command, runner: Runner): void {
  program
    .command('import')
    .description("Import suppressions from a CSV or NDJSON file (another provider's export, or `ssg export`) as manual suppressions")
    .argument('<file>', 'the file; "-" reads stdin')
    .option('--format <csv|ndjson>', 'file format (default: from the extension; .ndjson/.jsonl/.json are NDJSON, anything else CSV)')
    .option('--source <name>', 'where the list comes from, recorded as origin import:<name> (default: the file name)')
    .option('--default-reason <BOUNCE|COMPLAINT>', 'reason for rows that have none (otherwise such rows are rejected)')
    .addHelpText(
      'after',
      '\nCSV: with a header, the address column may be called email, address or emailAddress and the reason column\n' +
        'reason or type; without one, the first column is the address and the second the reason (the SES format).\n' +
        'Reasons: BOUNCE (bounce, hard bounce, permanent ...) or COMPLAINT (complaint, spam, abuse, fbl ...).\n' +
        'Bad rows are reported with their line numbers and skipped; good rows are imported. Running the same file\n' +
        'again writes nothing. Addresses an operator unsuppressed are left alone. Exit code 1 when rows were rejected.',
    )
    .action(
      runner.action<{ format?: string; source?: string; defaultReason?: string }>(async ({ out, target, stdin }, [file = ''], options) => {
        const format: ExportFormat =
          options.format !== undefined ? parseFormat(options.format) : /\.(nd)?jsonl?$|\.ndjson$/i.test(file) ? 'ndjson' : 'csv';
        const defaultReason = options.defaultReason !== undefined ? parseReason(options.defaultReason, '--default-reason') : undefined;
        const source =
          options.source ??
          (file === '-'
            ? 'stdin'
            : basename(file, extname(file))
                .replace(/[^A-Za-z0-9._-]/g, '_')
                .slice(0, 64) || 'file');
        if (!SOURCE_NAME.test(source))
          throw new UsageError(`--source must be 1-64 letters, digits, ".", "_" or "-", got ${JSON.stringify(options.source)}`);
        if (file !== '-') {
          try {
            if (!statSync(file).isFile()) throw new UsageError(`<file> ${JSON.stringify(file)} is not a file`);
          } catch (error) {
            if (error instanceof UsageError) throw error;
            throw new UsageError(
              `<file> ${JSON.stringify(file)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
            );
          }
        }
        const t = await target();
        const importer = new ManualImport(
          {
            suppression: new SuppressionTable(t.doc, t.output('SuppressionTableName')),
            state: new StateTable(t.doc, t.output('SyncStateTableName')),
          },
          `import:${source}`,
          await t.callerIdentity(),
          WRITE_CONCURRENCY,
        );
        const input = file === '-' ? stdin : createReadStream(file);
        const progress = new Progress(out.stderr);
        const rejected: RejectedRow[] = [];
        // Rows the CSV parser cannot split at all never reach the loop below.
        const unreadable: RejectedRow[] = [];
        let rows = 0;
        let batch: GoodRow[] = [];
        try {
          const records = format === 'csv' ? csvRows(input, defaultReason, unreadable) : ndjsonRows(input, defaultReason);
          for await (const row of records) {
            rows++;
            if ('error' in row) rejected.push(row);
            else batch.push(row);
            if (batch.length >= BATCH) {
              await manualChange(IMPORT_FAILURE, () => importer.write(batch));
              batch = [];
            }
            progress.update(
              `importing: ${rows} rows read, ${importer.imported} imported, ${importer.unchanged} unchanged, ${rejected.length} rejected`,
            );
          }
          if (batch.length > 0) await manualChange(IMPORT_FAILURE, () => importer.write(batch));
        } finally {
          progress.done();
        }
        rows += unreadable.length;
        rejected.push(...unreadable);
        rejected.sort((a, b) => a.line - b.line);

        const summary: ImportSummary = {
          file,
          source: `import:${source}`,
          rows,
          imported: importer.imported,
          unchanged: importer.unchanged,
          rejected: rejected.length,
          keptUnsuppressed: importer.keptUnsuppressed,
        };
        if (out.json) out.printJson({ ...summary, rejectedRows: rejected.map(({ line, error }) => ({ line, error })) });
        else {
          out.line(`Imported ${file === '-' ? 'stdin' : file} as origin import:${source} (${format}):`);
          for (const row of table(
            ['rows', 'imported', 'unchanged', 'rejected'],
            [[String(summary.rows), String(summary.imported), String(summary.unchanged), String(summary.rejected)]],
          ))
            out.line(row);
          if (summary.keptUnsuppressed > 0) {
            out.line(
              `  ${summary.keptUnsuppressed} of the unchanged were unsuppressed by an operator and left alone (ssg suppress to suppress them again)`,
            );
          }
          if (rejected.length > 0) {
            out.line('Rejected rows:');
            for (const r of rejected.slice(0, SHOWN_REJECTIONS)) out.line(`  line ${r.line}: ${r.error}`);
            if (rejected.length > SHOWN_REJECTIONS) out.line(`  ... and ${rejected.length - SHOWN_REJECTIONS} more (use --json for all)`);
          }
        }
        return rejected.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

/** Validates one row's address and reason. */
function validateRow(
  line: number,
  rawAddress: string | undefined,
  rawReason: string | undefined,
  defaultReason: SuppressionReason | undefined,
): GoodRow | RejectedRow {
  const address = (rawAddress ?? '').trim();
  if (address === '') return { line, error: 'has no address' };
  const checked = checkAddress(address);
  if (!checked.ok) return { line, error: `${JSON.stringify(address)} is not a valid email address: it ${checked.error}` };
  const reasonText = (rawReason ?? '').trim();
  if (reasonText === '') {
    return defaultReason
      ? { line, address: checked.value.address, reason: defaultReason }
      : { line, error: `${JSON.stringify(address)} has no reason (pass --default-reason BOUNCE|COMPLAINT)` };
  }
  const mapped = mapReason(reasonText);
  if (!mapped.ok) return { line, error: `${JSON.stringify(address)}: ${mapped.error}` };
  return { line, address: checked.value.address, reason: mapped.reason };
}

const normalizeHeader = (cell: string) => cell.toLowerCase().replace(/[^a-z]/g, '');

/** CSV rows, with or without a header; rows the parser cannot read are added to `unreadable`. */
async function* csvRows(
  input: Readable,
  defaultReason: SuppressionReason | undefined,
  unreadable: RejectedRow[],
): AsyncGenerator<GoodRow | RejectedRow> {
  const parser = parse({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
    comment: '#',
  });
  parser.on('skip', (error: CsvError & { lines?: number }) =>
    unreadable.push({ line: error.lines ?? -1, error: `cannot be read as CSV: ${error.message}` }),
  );
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  let addressColumn = 0;
  let reasonColumn: number | undefined = 1;
  let first = true;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (first) {
      first = false;
      const names = record.map(normalizeHeader);
      if (!record.some((cell) => cell.includes('@')) && names.some((n) => ADDRESS_HEADERS.has(n) || REASON_HEADERS.has(n))) {
        const a = names.findIndex((n) => ADDRESS_HEADERS.has(n));
        if (a < 0)
          throw new UsageError(
            `the header ${JSON.stringify(record.join(','))} names no address column (expected email, address or emailAddress)`,
          );
        addressColumn = a;
        const r = names.findIndex((n) => REASON_HEADERS.has(n));
        reasonColumn = r < 0 ? undefined : r;
        continue;
      }
    }
    yield validateRow(info.lines, record[addressColumn], reasonColumn === undefined ? undefined : record[reasonColumn], defaultReason);
  }
}

/** NDJSON rows: one object per line with an address field (emailAddress, email, address) and a reason (reason, type). */
async function* ndjsonRows(input: Readable, defaultReason: SuppressionReason | undefined): AsyncGenerator<GoodRow | RejectedRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    const trimmed = text.replace(/^\uFEFF/, '').trim();
    if (trimmed === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      yield { line, error: `is not valid JSON (${(error as Error).message})` };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { line, error: 'is not a JSON object like {"emailAddress":"...","reason":"BOUNCE"}' };
      continue;
    }
    const fields = new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [normalizeHeader(k), v]));
    const address = [...ADDRESS_HEADERS].map((k) => fields.get(k)).find((v) => typeof v === 'string') as string | undefined;
    const reason = [...REASON_HEADERS].map((k) => fields.get(k)).find((v) => typeof v === 'string') as string | undefined;
    yield validateRow(line, address, reason, defaultReason);
  }
}
