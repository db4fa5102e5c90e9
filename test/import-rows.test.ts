import { PassThrough } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { writeDocument } from '../cli/commands/export';
import {
  CSV_HEADER,
  csvFields,
  csvRecords,
  echo,
  formatRow,
  type GoodRow,
  MAX_LINE_CHARS,
  type RejectedRow,
  RowReader,
  type RowReaderOptions,
  textLines,
} from '../cli/import-rows';
import { write } from '../cli/output';
import { checkAddress } from '../lambdas/domain/email';
import type { SuppressionReason } from '../lambdas/domain/records';

/** The bytes of `text` as a stream cut at the given offsets, as a file or a pipe delivers them. */
async function* chunked(bytes: Buffer, cuts: readonly number[] = []): AsyncGenerator<Buffer> {
  let start = 0;
  for (const cut of [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b)) {
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

async function readAll(
  text: string | Buffer,
  options: Partial<RowReaderOptions> = {},
  cuts: readonly number[] = [],
): Promise<{ rows: Array<GoodRow | RejectedRow>; reader: RowReader }> {
  const reader = new RowReader(chunked(Buffer.isBuffer(text) ? text : Buffer.from(text), cuts), { name: 'stdin', ...options });
  const rows: Array<GoodRow | RejectedRow> = [];
  for await (const row of reader) rows.push(row);
  return { rows, reader };
}

const ATEXT = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"];
/** Addresses SES can deliver to and `ssg suppress` accepts, biased towards what CSV tools trip over. */
const address = fc
  .record({
    atoms: fc.array(
      fc.oneof(
        fc.string({ unit: fc.constantFrom(...ATEXT), minLength: 1, maxLength: 20 }),
        fc.constantFrom('#', '#tag', "o'brien", 'a/b', 'news+2024', 'MixedCase', 'x'.repeat(40)),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    labels: fc.array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), { minLength: 1, maxLength: 3 }),
    tld: fc.stringMatching(/^[a-z]{2,6}$/),
    upper: fc.boolean(),
  })
  .map(({ atoms, labels, tld, upper }) => {
    const domain = [...labels, tld].join('.');
    return `${atoms.join('.').slice(0, 64).replace(/\.+$/, '')}@${upper ? domain.toUpperCase() : domain}`;
  })
  .map((a) => a.replace(/^\./, 'x'))
  .filter((a) => checkAddress(a).ok);
/** The document `export --json` prints for these NDJSON rows, written by the command's own function. */
async function exportDocument(rows: readonly string[]): Promise<string> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  await writeDocument(stdout, async (sink) => {
    await write(sink, rows.join(''));
    return { scanned: rows.length, exported: rows.length };
  });
  return Buffer.concat(chunks).toString();
}

const reason = fc.constantFrom<SuppressionReason>('BOUNCE', 'COMPLAINT');

describe('Module: import-rows', () => {
  describe('Property: export then import', () => {
    it('reads back every row the export writes, unchanged, in CSV (with or without header), NDJSON and the --json document, however the bytes arrive', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(address, reason), { minLength: 1, maxLength: 30 }),
          fc.constantFrom('csv', 'csv-header', 'ndjson', 'json'),
          fc.array(fc.nat(4000), { maxLength: 5 }),
          async (entries, shape, cuts) => {
            // Prepare
            const format = shape === 'csv' || shape === 'csv-header' ? 'csv' : 'ndjson';
            const rows = entries.map(([a, r]) => formatRow(a, r, format));
            const text = shape === 'json' ? await exportDocument(rows) : (shape === 'csv-header' ? `${CSV_HEADER}\n` : '') + rows.join('');

            // Act
            const { rows: read, reader } = await readAll(text, {}, cuts);

            // Assess
            const skipped = shape === 'csv-header' || shape === 'json' ? 1 : 0;
            expect(read).toEqual(entries.map(([a, r], i) => ({ line: i + 1 + skipped, address: a, reason: r })));
            expect(reader.format).toBe(format);
            expect(reader.rows).toBe(entries.length);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('splits any CSV the library writes back into the same fields, quotes, commas and "#" included', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.array(fc.string({ unit: fc.constantFrom('a', 'B', '#', '"', ',', ' ', "'", '/', '@', '+') }), {
              minLength: 2,
              maxLength: 4,
            }),
            {
              minLength: 1,
              maxLength: 10,
            },
          ),
          async (records) => {
            // Prepare
            const text = stringify(records);

            // Act
            const got: string[][] = [];
            for await (const record of csvRecords(textLines(chunked(Buffer.from(text)), 'stdin'), () => false)) {
              if ('error' in record) throw new Error(`line ${record.line} ${record.error}`);
              const parsed = csvFields(record.text);
              if (!parsed.ok) throw new Error(parsed.error);
              got.push(parsed.fields);
            }

            // Assess: a record of empty fields is a line of commas, never blank, so none is lost.
            expect(got).toEqual(records);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('Class: RowReader', () => {
    it('reads lines starting with or holding "#" as data, never as comments', async () => {
      // Act
      const { rows } = await readAll('#leading@import.example,BOUNCE\nhash#tag@import.example,COMPLAINT\n# a note\n');

      // Assess
      expect(rows).toEqual([
        { line: 1, address: '#leading@import.example', reason: 'BOUNCE' },
        { line: 2, address: 'hash#tag@import.example', reason: 'COMPLAINT' },
        { line: 3, error: '"# a note" is not a valid email address: it contains whitespace' },
      ]);
    });

    it('rejects only the row with a stray quote that is never closed, and reads the rows after it', async () => {
      // Act
      const { rows, reader } = await readAll(
        'a1@q.example,BOUNCE\na2@q.example,"BOUNCE\na3@q.example,BOUNCE\na4@q.example,COMPLAINT\na5@q.example,BOUNCE\n',
      );

      // Assess
      expect(rows).toEqual([
        { line: 1, address: 'a1@q.example', reason: 'BOUNCE' },
        { line: 2, error: expect.stringContaining('has a quote that is never closed') },
        { line: 3, address: 'a3@q.example', reason: 'BOUNCE' },
        { line: 4, address: 'a4@q.example', reason: 'COMPLAINT' },
        { line: 5, address: 'a5@q.example', reason: 'BOUNCE' },
      ]);
      expect(reader.rows).toBe(5);
    });

    it('rejects two stray quotes on their own rows instead of joining the rows between them', async () => {
      // Act
      const { rows } = await readAll('a2@q.example,"BOUNCE\na3@q.example,BOUNCE\na4@q.example,BOUNCE"\n');

      // Assess
      expect(rows).toEqual([
        { line: 1, error: expect.stringContaining('has a quote that is never closed') },
        { line: 2, address: 'a3@q.example', reason: 'BOUNCE' },
        { line: 3, error: expect.stringContaining('reason "BOUNCE\\"" is not a bounce or a complaint') },
      ]);
    });

    it('reads a quoted field over several lines as one row, numbered by its first line, in CRLF, LF and CR files', async () => {
      for (const eol of ['\r\n', '\n', '\r']) {
        // Prepare
        const text = ['email,reason,notes', 'ml.one@import.example,BOUNCE,"first', 'second, with ""quotes"""', 'bad,BOUNCE,x', ''].join(
          eol,
        );

        // Act: cut between CR and LF too.
        const { rows, reader } = await readAll(text, {}, [text.indexOf('\r') + 1, 7]);

        // Assess
        expect(rows).toEqual([
          { line: 2, address: 'ml.one@import.example', reason: 'BOUNCE' },
          { line: 4, error: '"bad" is not a valid email address: it has no "@"' },
        ]);
        expect(reader.rows).toBe(2);
      }
    });

    it('counts every line that holds data as one row and skips blank ones', async () => {
      // Act
      const { rows, reader } = await readAll('\n  \nok@x.example,BOUNCE\n,,\n\nnope\n');

      // Assess
      expect(rows.map((r) => r.line)).toEqual([3, 4, 6]);
      expect(reader.rows).toBe(3);
    });

    it('recognises NDJSON by its first line and CSV otherwise, unless the format is given', async () => {
      // Act
      const ndjson = await readAll('\n{"emailAddress":"a@x.example","reason":"COMPLAINT"}\n');
      const forced = await readAll('{"emailAddress":"a@x.example","reason":"COMPLAINT"}\n', { format: 'csv' });

      // Assess
      expect(ndjson.reader.format).toBe('ndjson');
      expect(ndjson.rows).toEqual([{ line: 2, address: 'a@x.example', reason: 'COMPLAINT' }]);
      expect(forced.rows).toEqual([{ line: 1, error: expect.stringContaining('is not a valid email address') }]);
    });

    it('reads CSV whose first address starts with a brace as CSV, not as NDJSON', async () => {
      // Act
      const { rows, reader } = await readAll('{a.a@a.example,BOUNCE\n#@a.example,COMPLAINT\n');

      // Assess
      expect(reader.format).toBe('csv');
      expect(rows).toEqual([
        { line: 1, address: '{a.a@a.example', reason: 'BOUNCE' },
        { line: 2, address: '#@a.example', reason: 'COMPLAINT' },
      ]);
    });

    it('rejects a line longer than the limit without echoing it, and bounds every echoed value', async () => {
      // Prepare
      const long = `${'x'.repeat(MAX_LINE_CHARS + 10)}\n`;
      const wide = `${'y'.repeat(5000)}@x.example,BOUNCE\n`;

      // Act
      const { rows } = await readAll(long + wide + long.slice(0, 1000), {}, [100, 70_000]);

      // Assess
      expect(rows).toEqual([
        { line: 1, error: `is ${MAX_LINE_CHARS + 10} characters long; a row holds at most ${MAX_LINE_CHARS}` },
        { line: 2, error: expect.stringContaining('... (5010 characters) is not a valid email address') },
        { line: 3, error: expect.stringContaining('(1000 characters)') },
      ]);
      expect(Math.max(...rows.map((r) => ('error' in r ? r.error.length : 0)))).toBeLessThan(300);
      expect(echo('z'.repeat(81))).toBe(`"${'z'.repeat(80)}"... (81 characters)`);
    });

    it.each([
      ['an empty file', '', 'stdin is empty: there is nothing to import'],
      ['only blank lines', '\n\r\n', 'stdin is empty: there is nothing to import'],
      ['a header without rows', `${CSV_HEADER}\r\n`, 'stdin holds a header line and no rows: there is nothing to import'],
      [
        'binary data',
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
        'stdin is not a text file (expected CSV or NDJSON)',
      ],
      ['UTF-16 text', Buffer.from('\ufeffa@x.example,BOUNCE\n', 'utf16le'), 'stdin is UTF-16 text; save it as UTF-8 (CSV or NDJSON)'],
    ])('refuses %s with one message and no rows', async (_what, input, message) => {
      // Act
      const rows: Array<GoodRow | RejectedRow> = [];
      const run = async () => {
        for await (const row of new RowReader(chunked(Buffer.isBuffer(input) ? input : Buffer.from(input)), { name: 'stdin' }))
          rows.push(row);
      };

      // Assess
      await expect(run()).rejects.toThrow(message);
      expect(rows).toEqual([]);
    });

    it('refuses random bytes without a NUL as not text, before returning any row', async () => {
      // Prepare: bytes 0x80-0xff are never valid UTF-8 on their own, and control characters are not text.
      const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i % 7 === 0 ? 0x0a : 0x80 + ((i * 31) % 128))));

      // Act / Assess
      await expect(readAll(bytes)).rejects.toThrow('stdin is not a text file');
    });

    it('reads a byte order mark and Latin-1 bytes in a notes column without refusing the file', async () => {
      // Act
      const { rows } = await readAll(
        Buffer.concat([Buffer.from('\ufeffemail,reason,notes\nok@x.example,BOUNCE,M'), Buffer.from([0xfc]), Buffer.from('ller\n')]),
      );

      // Assess
      expect(rows).toEqual([{ line: 2, address: 'ok@x.example', reason: 'BOUNCE' }]);
    });
  });
});
