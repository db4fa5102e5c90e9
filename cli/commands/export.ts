import { createWriteStream, renameSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { SUPPRESSION_KEY } from '../../lambdas/domain/records';
import { suppressionFinding } from '../../lambdas/guard/suppression';
import { EXIT, UsageError } from '../errors';
import { CSV_HEADER, formatRow, parseFormat, type RowFormat } from '../import-rows';
import { Progress, write } from '../output';
import type { Runner } from '../runner';

/** Export formats: SES's bulk-import formats for the suppression list. */
export type ExportFormat = RowFormat;

/** `ssg export`. */
export function registerExport(program: Command, runner: Runner): void {
  program
    .command('export')
    .description('Write every currently suppressed address in the SES bulk-import format (CSV or newline-delimited JSON)')
    .option('--format <csv|ndjson>', 'csv: "address,REASON" lines; ndjson: {"emailAddress":"...","reason":"..."} lines', 'csv')
    .option('--output <file>', 'write to a file (written to <file>.partial, renamed when complete) instead of stdout')
    .option('--header', `start the CSV with the header line "${CSV_HEADER}"`)
    .addHelpText(
      'after',
      '\nThe files are what an SES import job (CreateImportJob, SuppressionListImportAction PUT) reads from S3: the SES\n' +
        'docs show CSV rows as "recipient@example.com,BOUNCE" without a header, and JSON as one object per line.\n' +
        'An address is exported when any region lists it or an operator suppressed it; its reason is COMPLAINT when any\n' +
        'of those listings is a complaint (as the guard reports it).',
    )
    .action(
      runner.action<{ format: string; output?: string; header?: boolean }>(async ({ out, target }, _operands, options) => {
        const format = parseFormat(options.format);
        if (options.output !== undefined && options.output.trim() === '') throw new UsageError('--output must name a file, got ""');
        if (options.header && format !== 'csv') throw new UsageError(`--header applies to --format csv only, got --format ${format}`);
        const t = await target();
        const progress = new Progress(out.stderr);
        const output = options.output;
        const partial = output ? `${output}.partial` : undefined;
        const sink: Writable = partial ? createWriteStream(partial) : out.stdout;
        let counts: ExportCounts;
        try {
          if (format === 'csv' && options.header) await write(sink, `${CSV_HEADER}\n`);
          counts = await exportCanonical(t.doc, t.output('SuppressionTableName'), format, sink, (c) =>
            progress.update(`exporting: ${c.exported} suppressed of ${c.scanned} scanned`),
          );
          if (partial && output) {
            sink.end();
            await finished(sink);
            renameSync(partial, output);
          }
        } catch (error) {
          if (partial) {
            sink.destroy();
            rmSync(partial, { force: true });
          }
          throw error;
        } finally {
          progress.done();
        }
        if (options.output) {
          if (out.json) out.printJson({ file: options.output, format, ...counts });
          else
            out.line(
              `Exported ${counts.exported} suppressed addresses (of ${counts.scanned} in the canonical table) to ${options.output} (${format}).`,
            );
        }
        return EXIT.OK;
      }),
    );
}

/** How many canonical items were read and how many were written out. */
export interface ExportCounts {
  readonly scanned: number;
  readonly exported: number;
}

/** Streams the suppressed addresses of the canonical table to `sink`, one Scan page at a time. */
export async function exportCanonical(
  doc: DynamoDBDocumentClient,
  tableName: string,
  format: ExportFormat,
  sink: Writable,
  onPage: (counts: ExportCounts) => void = () => undefined,
): Promise<ExportCounts> {
  const reasons = new Set(['BOUNCE', 'COMPLAINT'] as const);
  let scanned = 0;
  let exported = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
    let chunk = '';
    for (const item of page.Items ?? []) {
      scanned++;
      const finding = suppressionFinding(item, reasons);
      if (!finding) continue;
      chunk += formatRow(String(item[SUPPRESSION_KEY]), finding.reason, format);
      exported++;
    }
    if (chunk) await write(sink, chunk);
    onPage({ scanned, exported });
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { scanned, exported };
}
