import { open } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { ManualImport } from '../../lambdas/domain/manual';
import { StateTable } from '../../lambdas/domain/state-table';
import { SuppressionTable } from '../../lambdas/domain/suppression-table';
import { EXIT, UsageError } from '../errors';
import { type GoodRow, parseFormat, type RejectedRow, RowReader } from '../import-rows';
import { Progress, table } from '../output';
import type { Runner } from '../runner';
import { manualChange, parseReason } from './manual';

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

/** `ssg import`. */
export function registerImport(program: Command, runner: Runner): void {
  program
    .command('import')
    .description("Import suppressions from a CSV or NDJSON file (another provider's export, or `ssg export`) as manual suppressions")
    .argument('<file>', 'the file; "-" reads stdin')
    .option(
      '--format <csv|ndjson>',
      'file format (default: NDJSON for .ndjson/.jsonl/.json names or a first line starting with "{", otherwise CSV)',
    )
    .option('--source <name>', 'where the list comes from, recorded as origin import:<name> (default: the file name)')
    .option('--default-reason <BOUNCE|COMPLAINT>', 'reason for rows that have none (otherwise such rows are rejected)')
    .addHelpText(
      'after',
      '\nCSV: with a header, the address column may be called email, address or emailAddress and the reason column\n' +
        'reason or type; without one, the first column is the address and the second the reason (the SES format).\n' +
        'Reasons: BOUNCE (bounce, hard bounce, permanent ...) or COMPLAINT (complaint, spam, abuse, fbl ...).\n' +
        'Every line that holds data is one row ("#" is data, not a comment). Bad rows are reported with their line\n' +
        'numbers and skipped; good rows are imported. Running the same file again writes nothing. Addresses an\n' +
        'operator unsuppressed are left alone. Exit code 1 when rows were rejected; 2 when the file is empty or not text.',
    )
    .action(
      runner.action<{ format?: string; source?: string; defaultReason?: string }>(async ({ out, target, stdin }, [file = ''], options) => {
        const format =
          options.format !== undefined ? parseFormat(options.format) : /\.(nd)?jsonl?$|\.ndjson$/i.test(file) ? 'ndjson' : undefined;
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
        const name = file === '-' ? 'stdin' : `<file> ${JSON.stringify(file)}`;
        // Opened before anything else, so an unreadable file is a usage error (exit 2) and cannot change under us.
        const input = file === '-' ? stdin : await openFile(file, name);
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
        const progress = new Progress(out.stderr);
        const rejected: RejectedRow[] = [];
        const reader = new RowReader(input, { name, format, defaultReason });
        let batch: GoodRow[] = [];
        try {
          for await (const row of reader) {
            if ('error' in row) rejected.push(row);
            else batch.push(row);
            if (batch.length >= BATCH) {
              await manualChange(IMPORT_FAILURE, () => importer.write(batch));
              batch = [];
            }
            progress.update(
              `importing: ${reader.rows} rows read, ${importer.imported} imported, ${importer.unchanged} unchanged, ${rejected.length} rejected`,
            );
          }
          if (batch.length > 0) await manualChange(IMPORT_FAILURE, () => importer.write(batch));
        } finally {
          progress.done();
          if (input !== stdin) input.destroy();
        }
        const rows = reader.rows;

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
          out.line(`Imported ${file === '-' ? 'stdin' : file} as origin import:${source} (${reader.format ?? 'csv'}):`);
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

/** Opens `file` for reading; a missing, unreadable or non-regular file is a usage error. */
async function openFile(file: string, name: string): Promise<Readable> {
  try {
    const handle = await open(file, 'r');
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new UsageError(`${name} is not a file`);
    }
    return handle.createReadStream();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${name} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
