import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { checkAddress } from '../lambdas/domain/email';
import type { SuppressionReason } from '../lambdas/domain/records';
import { excerpt } from '../lambdas/domain/text';
import { UsageError } from './errors';

/**
 * The rows `ssg import` reads and `ssg export` writes: SES's bulk-import formats (CSV `address,REASON` lines, or one
 * `{"emailAddress": ..., "reason": ...}` object per line) and other providers' exports. Whatever `formatRow` writes,
 * `RowReader` reads back unchanged; a malformed row costs only itself and is reported by its line number.
 */

/** File formats. */
/**
 * The start of an NDJSON line: a JSON object's opening brace followed by a member name or its closing brace. A CSV row
 * never starts so: an address may begin with `{` (it is a valid atom character), but not with `{"`, since a quote in
 * a field makes the CSV writer quote the whole field.
 */
const NDJSON_START = /^\s*\{\s*["}]/;

export type RowFormat = 'csv' | 'ndjson';

/** Header of the CSV export when `--header` is given. */
export const CSV_HEADER = 'emailAddress,reason';

/** A row that passed validation. */
export interface GoodRow {
  readonly line: number;
  readonly address: string;
  readonly reason: SuppressionReason;
}

/** A row that did not, with why. */
export interface RejectedRow {
  readonly line: number;
  readonly error: string;
}

/** The longest line read; a longer one is rejected without being held in memory. */
export const MAX_LINE_CHARS = 64 * 1024;
/** The most lines one quoted CSV field may span before its opening quote is taken for a stray one. */
export const MAX_RECORD_LINES = 50;
/** Bytes looked at to tell a text file from a binary one. */
const SNIFF_BYTES = 8192;
/** Characters of a value echoed in a message. */
const ECHO_CHARS = 80;

/** Parses `--format`. */
export function parseFormat(raw: string): RowFormat {
  const value = raw.trim().toLowerCase();
  if (value === 'csv' || value === 'ndjson') return value;
  throw new UsageError(`--format must be csv or ndjson, got ${echo(raw)}`);
}

/** One exported row, with its line end. */
export function formatRow(address: string, reason: SuppressionReason, format: RowFormat): string {
  return format === 'csv' ? stringify([[address, reason]]) : `${JSON.stringify({ emailAddress: address, reason })}\n`;
}

/** A value for a message: JSON-quoted, cut to a short prefix with its length when long. */
export const echo = (value: string): string => excerpt(value, ECHO_CHARS);

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
    return { ok: false, error: `reason ${echo(raw)} is a soft (transient) bounce; SES suppresses hard bounces only` };
  if (/unsub/.test(value))
    return { ok: false, error: `reason ${echo(raw)} is an unsubscribe; the SES suppression list holds bounces and complaints only` };
  return {
    ok: false,
    error: `reason ${echo(raw)} is not a bounce or a complaint (expected e.g. BOUNCE, hard bounce, COMPLAINT, spam)`,
  };
}

/** Validates one row's address and reason. */
export function validateRow(
  line: number,
  rawAddress: string | undefined,
  rawReason: string | undefined,
  defaultReason: SuppressionReason | undefined,
): GoodRow | RejectedRow {
  const address = (rawAddress ?? '').trim();
  if (address === '') return { line, error: 'has no address' };
  const checked = checkAddress(address);
  if (!checked.ok) return { line, error: `${echo(address)} is not a valid email address: it ${checked.error}` };
  const reasonText = (rawReason ?? '').trim();
  if (reasonText === '') {
    return defaultReason
      ? { line, address: checked.value.address, reason: defaultReason }
      : { line, error: `${echo(address)} has no reason (pass --default-reason BOUNCE|COMPLAINT)` };
  }
  const mapped = mapReason(reasonText);
  if (!mapped.ok) return { line, error: `${echo(address)}: ${mapped.error}` };
  return { line, address: checked.value.address, reason: mapped.reason };
}

/** A physical line: its number from 1, its text without the line end, or only its length when it is too long. */
export interface TextLine {
  readonly line: number;
  readonly text: string;
  /** Set, with `text` empty, when the line exceeds {@link MAX_LINE_CHARS}. */
  readonly tooLong?: number;
}

/**
 * The lines of a byte stream, split at CRLF, LF or a lone CR, numbered from 1, the UTF-8 byte order mark dropped.
 * The first bytes are checked to be text: a file with NUL bytes, or mostly bytes that are not UTF-8 text, is refused
 * with one {@link UsageError} naming `name` before any line is returned, instead of a rejection per garbage line.
 */
export async function* textLines(input: AsyncIterable<Buffer | string>, name: string): AsyncGenerator<TextLine> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  let head: Buffer[] | undefined = [];
  let headBytes = 0;
  let current = '';
  let tooLong = 0;
  let line = 0;
  let afterCr = false;

  function* split(text: string): Generator<TextLine> {
    let start = 0;
    if (afterCr && text.charCodeAt(0) === 10) start = 1;
    afterCr = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      yield take(text.slice(start, i));
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else afterCr = true;
      }
      start = i + 1;
    }
    append(text.slice(start));
  }
  function append(part: string): void {
    if (tooLong > 0) tooLong += part.length;
    else if (current.length + part.length > MAX_LINE_CHARS) {
      tooLong = current.length + part.length;
      current = '';
    } else current += part;
  }
  function take(last: string): TextLine {
    append(last);
    line++;
    const taken: TextLine = tooLong > 0 ? { line, text: '', tooLong } : { line, text: current };
    current = '';
    tooLong = 0;
    return taken;
  }

  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (head) {
      head.push(bytes);
      headBytes += bytes.length;
      if (headBytes < SNIFF_BYTES) continue;
      const first = Buffer.concat(head);
      head = undefined;
      checkText(first, name);
      yield* split(decoder.decode(first, { stream: true }));
    } else yield* split(decoder.decode(bytes, { stream: true }));
  }
  if (head) {
    const first = Buffer.concat(head);
    checkText(first, name);
    yield* split(decoder.decode(first, { stream: true }));
  }
  yield* split(decoder.decode());
  if (current !== '' || tooLong > 0) yield take('');
}

/** Refuses bytes that are not text: NUL bytes, UTF-16/32, or more than a tenth control or non-UTF-8 bytes. */
function checkText(bytes: Buffer, name: string): void {
  const sample = bytes.subarray(0, SNIFF_BYTES);
  if ((sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff)) {
    throw new UsageError(`${name} is UTF-16 text; save it as UTF-8 (CSV or NDJSON)`);
  }
  const notText = () => new UsageError(`${name} is not a text file (expected CSV or NDJSON)`);
  if (sample.includes(0)) throw notText();
  // A cut multi-byte character at the end of the sample is not a fault of the file.
  const text = new TextDecoder('utf-8').decode(sample.subarray(0, sample.length >= SNIFF_BYTES ? sample.length - 3 : sample.length));
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12)) bad++;
  }
  if (bad * 10 > text.length) throw notText();
}

/** Whether a quoted field is still open at the end of `text` (RFC 4180; a quote inside an unquoted field is a character). */
export function endsInsideQuotes(text: string, startsInside: boolean): boolean {
  let inside = startsInside;
  let fieldStart = !startsInside;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inside) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++;
        else inside = false;
      }
    } else if (c === 44) fieldStart = true;
    else {
      if (c === 34 && fieldStart) inside = true;
      fieldStart = false;
    }
  }
  return inside;
}

/** The fields of one CSV record, or why it cannot be read. */
export function csvFields(text: string): { ok: true; fields: string[] } | { ok: false; error: string } {
  if (!text.includes('"')) return { ok: true, fields: text.split(',') };
  try {
    const records = parse(text, { relax_column_count: true, relax_quotes: true }) as string[][];
    if (records.length === 1 && records[0]) return { ok: true, fields: records[0] };
    return { ok: false, error: 'cannot be read as one CSV row' };
  } catch (error) {
    return { ok: false, error: `cannot be read as CSV (${(error as Error).message.replace(/ at line \d+$/, '')})` };
  }
}

/** Whether `text` is a complete CSV row by itself with a valid address in column `column`. */
export function isAddressRow(text: string, column: number): boolean {
  if (endsInsideQuotes(text, false)) return false;
  const parsed = csvFields(text);
  return parsed.ok && checkAddress(parsed.fields[column] ?? '').ok;
}

/** A CSV record: the line it starts on and its text (lines joined with "\n" when a quoted field spans them). */
export interface CsvRecord {
  readonly line: number;
  readonly text: string;
}

/**
 * Groups lines into CSV records. A quoted field may span lines, but a quote that is never closed, or closed only
 * after {@link MAX_RECORD_LINES} lines, or whose next line is a complete row by itself (`isRow`), is taken for a stray
 * quote: that first line alone is rejected, and reading resumes on the line after it. Blank lines are skipped.
 */
export async function* csvRecords(
  lines: AsyncIterable<TextLine>,
  isRow: (text: string) => boolean,
): AsyncGenerator<CsvRecord | RejectedRow> {
  const source = lines[Symbol.asyncIterator]();
  // Lines read ahead and given back, last first.
  const replay: TextLine[] = [];
  const next = async (): Promise<TextLine | undefined> => {
    const back = replay.pop();
    if (back) return back;
    const got = await source.next();
    return got.done ? undefined : got.value;
  };
  for (let first = await next(); first; first = await next()) {
    if (first.tooLong !== undefined) {
      yield { line: first.line, error: `is ${first.tooLong} characters long; a row holds at most ${MAX_LINE_CHARS}` };
      continue;
    }
    if (first.text.trim() === '') continue;
    if (!endsInsideQuotes(first.text, false)) {
      yield { line: first.line, text: first.text };
      continue;
    }
    const taken: TextLine[] = [];
    let chars = first.text.length;
    let closed = false;
    for (let more = await next(); more; more = await next()) {
      taken.push(more);
      chars += more.text.length + 1;
      if (more.tooLong !== undefined || taken.length > MAX_RECORD_LINES || chars > MAX_LINE_CHARS || isRow(more.text)) break;
      if (!endsInsideQuotes(more.text, true)) {
        closed = true;
        break;
      }
    }
    if (closed) {
      yield { line: first.line, text: [first.text, ...taken.map((t) => t.text)].join('\n') };
      continue;
    }
    yield { line: first.line, error: 'has a quote that is never closed: a stray " (the rows after it are read on their own)' };
    replay.push(...taken.reverse());
  }
}

/** The first line of the document `ssg export --json` prints. */
const EXPORT_DOCUMENT_START = /^\{\s*"addresses"\s*:\s*\[$/;

const normalizeHeader = (cell: string) => cell.toLowerCase().replace(/[^a-z]/g, '');

/** What {@link RowReader} needs to know. */
export interface RowReaderOptions {
  /** How the file is called in messages, e.g. `<file> "x.csv"` or `stdin`. */
  readonly name: string;
  /** The format; without it, a first line that starts with "{" means NDJSON, anything else CSV. */
  readonly format?: RowFormat;
  readonly defaultReason?: SuppressionReason;
}

/**
 * Reads import rows from CSV (with or without a header) or NDJSON. Every line that holds data becomes exactly one
 * row, valid or rejected with its line number; a CSV row whose quoted field spans lines is one row, numbered by its
 * first line. An empty file, or a header without rows, is a {@link UsageError}.
 */
export class RowReader implements AsyncIterable<GoodRow | RejectedRow> {
  /** The format read, known once the first line is. */
  format: RowFormat | undefined;
  /** Rows returned so far (the header is not a row). */
  rows = 0;
  private header = false;
  private addressColumn = 0;
  private reasonColumn: number | undefined = 1;

  constructor(
    private readonly input: AsyncIterable<Buffer | string>,
    private readonly options: RowReaderOptions,
  ) {
    this.format = options.format;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<GoodRow | RejectedRow> {
    const lines = textLines(this.input, this.options.name);
    const first = await this.firstDataLine(lines);
    if (first) {
      this.format ??= first.some((l) => NDJSON_START.test(l.text)) ? 'ndjson' : 'csv';
      const all = (async function* () {
        yield* first;
        yield* lines;
      })();
      for await (const row of this.format === 'csv' ? this.csvRows(all) : this.ndjsonRows(all)) {
        this.rows++;
        yield row;
      }
    }
    if (this.rows === 0) {
      throw new UsageError(
        `${this.options.name} ${this.header ? 'holds a header line and no rows' : 'is empty'}: there is nothing to import`,
      );
    }
  }

  /** The lines up to and including the first that is not blank (or a too-long one). */
  private async firstDataLine(lines: AsyncGenerator<TextLine>): Promise<TextLine[] | undefined> {
    const read: TextLine[] = [];
    // Not `for await`, whose early return would close `lines`.
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      read.push(next.value);
      if (next.value.tooLong !== undefined || next.value.text.trim() !== '') return read;
    }
    return read.length > 0 ? read : undefined;
  }

  private async *csvRows(lines: AsyncIterable<TextLine>): AsyncGenerator<GoodRow | RejectedRow> {
    let first = true;
    for await (const record of csvRecords(lines, (text) => isAddressRow(text, this.addressColumn))) {
      if ('error' in record) {
        first = false;
        yield record;
        continue;
      }
      const parsed = csvFields(record.text);
      if (!parsed.ok) {
        first = false;
        yield { line: record.line, error: parsed.error };
        continue;
      }
      const cells = parsed.fields;
      if (first) {
        first = false;
        const names = cells.map(normalizeHeader);
        if (!cells.some((cell) => cell.includes('@')) && names.some((n) => ADDRESS_HEADERS.has(n) || REASON_HEADERS.has(n))) {
          const a = names.findIndex((n) => ADDRESS_HEADERS.has(n));
          if (a < 0)
            throw new UsageError(`the header ${echo(cells.join(','))} names no address column (expected email, address or emailAddress)`);
          this.header = true;
          this.addressColumn = a;
          const r = names.findIndex((n) => REASON_HEADERS.has(n));
          this.reasonColumn = r < 0 ? undefined : r;
          continue;
        }
      }
      yield validateRow(
        record.line,
        cells[this.addressColumn],
        this.reasonColumn === undefined ? undefined : cells[this.reasonColumn],
        this.options.defaultReason,
      );
    }
  }

  /**
   * NDJSON rows: one object per line with an address field (emailAddress, email, address) and a reason (reason,
   * type). The document `export --json` prints, `{"addresses":[` then one object per line then `],...}`, is read too.
   */
  private async *ndjsonRows(lines: AsyncIterable<TextLine>): AsyncGenerator<GoodRow | RejectedRow> {
    let first = true;
    // 'open' inside the document's array, 'closed' after it.
    let document: 'open' | 'closed' | undefined;
    for await (const { line, text, tooLong } of lines) {
      if (tooLong !== undefined) {
        yield { line, error: `is ${tooLong} characters long; a row holds at most ${MAX_LINE_CHARS}` };
        continue;
      }
      let trimmed = text.trim();
      if (trimmed === '') continue;
      if (first && EXPORT_DOCUMENT_START.test(trimmed)) {
        first = false;
        this.header = true;
        document = 'open';
        continue;
      }
      first = false;
      if (document === 'open') {
        if (trimmed.startsWith(']')) {
          document = 'closed';
          continue;
        }
        trimmed = trimmed.replace(/,$/, '');
      }
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (error) {
        yield { line, error: `is not valid JSON (${(error as Error).message.slice(0, 200)})` };
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        yield { line, error: 'is not a JSON object like {"emailAddress":"...","reason":"BOUNCE"}' };
        continue;
      }
      const fields = new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [normalizeHeader(k), v]));
      const address = [...ADDRESS_HEADERS].map((k) => fields.get(k)).find((v) => typeof v === 'string') as string | undefined;
      const reason = [...REASON_HEADERS].map((k) => fields.get(k)).find((v) => typeof v === 'string') as string | undefined;
      yield validateRow(line, address, reason, this.options.defaultReason);
    }
  }
}
