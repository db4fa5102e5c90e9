import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { type CsvError, parse } from 'csv-parse';
import type { SuppressionReason } from '../lambdas/domain/records';
import { checkAddress } from '../lambdas/guard/email';
import { UsageError } from './errors';

/** The rows `ssg import` reads: CSV (with or without a header) or NDJSON, validated row by row. */

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
export async function* csvRows(
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
export async function* ndjsonRows(input: Readable, defaultReason: SuppressionReason | undefined): AsyncGenerator<GoodRow | RejectedRow> {
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
