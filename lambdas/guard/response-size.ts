import type { GuardResponse, GuardWireResponse, IndexedRecipientsVerdict } from '../../client/contract';
import type { RecipientPositions } from './guard';

/** Measures what an answer costs in the response payload, in bytes. */
export type PayloadMeasure = (response: GuardWireResponse) => number;

/** Bytes of a value returned from an invocation: its JSON, as the runtime serializes it. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/** How an answer was fitted under the payload limit. */
export interface FittedResponse {
  readonly response: GuardWireResponse;
  readonly form: 'full' | 'indexed';
  /** Entries of `suppressed` and `invalid` left out (0 unless even the indexed form was too large). */
  readonly omitted: number;
}

/**
 * Fits a guard answer under `limit` bytes (Lambda's 6 MB response quota, less a margin), so that every valid request
 * gets an answer Lambda can return:
 * 1. the full form when it fits (every realistic request);
 * 2. else the indexed form, which names each recipient by its position in the request instead of by its address;
 * 3. else the indexed form with the tail of `invalid`, then of `suppressed`, left out and counted in `omitted`.
 *    `allowedIndexes` is never shortened: a sender always learns exactly whom to send to.
 *
 * Cost: each candidate form is serialized once, plus one pass to find where to cut.
 */
export function fitResponse(
  response: GuardResponse,
  positions: RecipientPositions,
  measure: PayloadMeasure,
  limit: number,
): FittedResponse {
  if (measure(response) <= limit) return { response, form: 'full', omitted: 0 };

  const { allowed: _allowed, suppressed, invalid, ...counts } = response.recipients;
  const indexedSuppressed = suppressed.map(({ address: _address, ...rest }, i) => ({ index: positions.suppressed[i] as number, ...rest }));
  const indexedInvalid = invalid.map(({ address: _address, ...rest }, i) => ({ index: positions.invalid[i] as number, ...rest }));
  const build = (keepSuppressed: number, keepInvalid: number): GuardWireResponse => {
    const recipients: IndexedRecipientsVerdict = {
      form: 'indexed',
      ...counts,
      allowedIndexes: positions.allowed,
      suppressed: keepSuppressed < indexedSuppressed.length ? indexedSuppressed.slice(0, keepSuppressed) : indexedSuppressed,
      invalid: keepInvalid < indexedInvalid.length ? indexedInvalid.slice(0, keepInvalid) : indexedInvalid,
      ...(keepSuppressed < indexedSuppressed.length || keepInvalid < indexedInvalid.length
        ? { omitted: { suppressed: indexedSuppressed.length - keepSuppressed, invalid: indexedInvalid.length - keepInvalid } }
        : {}),
    };
    return { ...response, recipients };
  };

  const indexed = build(indexedSuppressed.length, indexedInvalid.length);
  const size = measure(indexed);
  if (size <= limit) return { response: indexed, form: 'indexed', omitted: 0 };

  // Too large even by position: drop entries from the end of `invalid`, then of `suppressed`, until it fits. Each
  // entry's own size (plus its separating comma) is what leaving it out saves; the `omitted` object costs < 64 bytes.
  let excess = size - limit + 64;
  const entryBytes = (entry: unknown) => Buffer.byteLength(JSON.stringify(entry)) + 1;
  let keepInvalid = indexedInvalid.length;
  while (excess > 0 && keepInvalid > 0) {
    keepInvalid -= 1;
    excess -= entryBytes(indexedInvalid[keepInvalid]);
  }
  let keepSuppressed = indexedSuppressed.length;
  while (excess > 0 && keepSuppressed > 0) {
    keepSuppressed -= 1;
    excess -= entryBytes(indexedSuppressed[keepSuppressed]);
  }
  const trimmed = build(keepSuppressed, keepInvalid);
  if (measure(trimmed) > limit) {
    // Only `allowedIndexes` and the problems are left: a request Lambda accepted cannot get here (each allowed
    // recipient costs at most 8 bytes by position), so say so loudly rather than return an answer Lambda drops.
    throw new RangeError(`the guard's answer is ${measure(trimmed)} bytes even without its suppressed and invalid entries`);
  }
  return { response: trimmed, form: 'indexed', omitted: indexedSuppressed.length - keepSuppressed + (indexedInvalid.length - keepInvalid) };
}
