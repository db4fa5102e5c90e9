import { Transform, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Command } from 'commander';
import { suppressionFinding } from '../../lambdas/domain/finding';
import { SuppressionTable } from '../../lambdas/domain/suppression-table';
import { EXIT, UsageError } from '../errors';
import { CSV_HEADER, formatRow, parseFormat, type RowFormat } from '../import-rows';
import { Progress, write } from '../output';
import { checkOutputPath, writeAtomically } from '../output-file';
import type { Runner } from '../runner';

/** Export formats: SES's bulk-import formats for the suppression list. */
export type ExportFormat = RowFormat;

/** `ssg export`. */
export function registerExport(program: Command, runner: Runner): void {
  program
    .command('export')
    .description('Write every currently suppressed address in the SES bulk-import format (CSV or newline-delimited JSON)')
    .option('--format <csv|ndjson>', 'csv: "address,REASON" lines; ndjson: {"emailAddress":"...","reason":"..."} lines (default: csv)')
    .option('--output <file>', 'write to a file (written to <file>.partial, renamed when complete) instead of stdout')
    .option('--header', `start the CSV with the header line "${CSV_HEADER}"`)
    .addHelpText(
      'after',
      '\nThe files are what an SES import job (CreateImportJob, SuppressionListImportAction PUT) reads from S3: the SES\n' +
        'docs show CSV rows as "recipient@example.com,BOUNCE" without a header, and JSON as one object per line.\n' +
        'An address is exported when any region lists it or an operator suppressed it; its reason is COMPLAINT when any\n' +
        'of those listings is a complaint (as the guard reports it). `ssg import` reads every file it writes.\n' +
        'With --json and no --output, stdout is one JSON document: {"addresses":[{"emailAddress","reason"},...],\n' +
        '"scanned","exported"}. A bad --output (missing directory, a directory, not writable) is exit 2, checked before\n' +
        'the table is read; no partial file is left behind.',
    )
    .action(
      runner.action<{ format?: string; output?: string; header?: boolean }>(async ({ out, target }, _operands, options) => {
        const format = options.format !== undefined ? parseFormat(options.format) : 'csv';
        const output = options.output;
        if (options.header && format !== 'csv') throw new UsageError(`--header applies to --format csv only, got --format ${format}`);
        const document = out.json && output === undefined;
        if (document && (options.format !== undefined || options.header)) {
          throw new UsageError(
            `--json prints the export as one JSON document; ${options.format !== undefined ? `--format ${format}` : '--header'} applies to a file (--output) or to output without --json`,
          );
        }
        if (output !== undefined) checkOutputPath(output, '--output');
        const t = await target();
        const progress = new Progress(out.stderr);
        const run = async (sink: Writable) => {
          if (format === 'csv' && options.header) await write(sink, `${CSV_HEADER}\n`);
          return exportCanonical(t.doc, t.output('SuppressionTableName'), format, sink, (c) =>
            progress.update(`exporting: ${c.exported} suppressed of ${c.scanned} scanned`),
          );
        };
        let counts: ExportCounts;
        try {
          if (output !== undefined) counts = await writeAtomically(output, '--output', run);
          else if (document)
            counts = await writeDocument(out.stdout, (sink) => exportCanonical(t.doc, t.output('SuppressionTableName'), 'ndjson', sink));
          else counts = await run(out.stdout);
        } finally {
          progress.done();
        }
        if (output !== undefined) {
          if (out.json) out.printJson({ file: output, format, ...counts });
          else
            out.line(
              `Exported ${counts.exported} suppressed addresses (of ${counts.scanned} in the canonical table) to ${output} (${format}).`,
            );
        }
        return EXIT.OK;
      }),
    );
}

/**
 * Streams the export to `stdout` as one JSON document, `{"addresses": [...], "scanned": n, "exported": n}`: the
 * NDJSON rows `run` writes become the elements of the array, one per line, without holding them in memory.
 */
export async function writeDocument(stdout: Writable, run: (sink: Writable) => Promise<ExportCounts>): Promise<ExportCounts> {
  let first = true;
  let rest = '';
  const elements = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      let text = '';
      for (const line of lines) {
        if (line === '') continue;
        text += `${first ? '' : ',\n'}${line}`;
        first = false;
      }
      done(null, text);
    },
  });
  elements.pipe(stdout, { end: false });
  await write(stdout, '{"addresses":[\n');
  const counts = await run(elements);
  elements.end();
  await finished(elements);
  await write(stdout, `\n],"scanned":${counts.scanned},"exported":${counts.exported}}\n`);
  return counts;
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
  for await (const page of new SuppressionTable(doc, tableName).scanPages()) {
    let chunk = '';
    for (const item of page) {
      scanned++;
      const finding = suppressionFinding(item, reasons);
      if (!finding) continue;
      chunk += formatRow(item.address, finding.reason, format);
      exported++;
    }
    if (chunk) await write(sink, chunk);
    onPage({ scanned, exported });
  }
  return { scanned, exported };
}
