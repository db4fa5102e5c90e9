import { createHash } from 'node:crypto';

/**
 * The addresses a full reconciliation saw, kept as 8-byte hashes: 8 bytes an address in memory (a sorted
 * BigUint64Array searched by bisection) instead of ~60–100 for a Set of strings, so a list of 10,000,000 entries
 * takes 80 MB and fits a 512 MB function.
 *
 * A hash collision can only make an address the region no longer lists look seen, never the reverse: every address
 * that was listed has its own hash in the set. A false "seen" means the sweep does not mark that entry REMOVED, so a
 * collision errs on the side of keeping a suppression (the safe side: a mail not sent, never a mail sent to an address
 * SES suppresses). With 8-byte hashes the chance that any pair of n addresses collides is about n² / 2^65, under
 * 3 × 10^-6 at 10,000,000. The hash is unsalted (chunks must read the same in every invocation of a pass), so such a
 * pair collides in every pass: the entry stays LISTED while its partner is listed, then is removed by the next pass.
 */
export const SEEN_HASH_BYTES = 8;

/** The 8-byte hash of a canonical address: the first 8 bytes of its SHA-256, read big-endian. */
export function seenHash(key: string): bigint {
  return createHash('sha256').update(key).digest().readBigUInt64BE(0);
}

/** The hashes of `keys`, as stored in the sync state table: each hash big-endian, concatenated. */
export function encodeSeenHashes(keys: readonly string[]): Uint8Array {
  const bytes = new Uint8Array(keys.length * SEEN_HASH_BYTES);
  const view = new DataView(bytes.buffer);
  keys.forEach((key, i) => {
    view.setBigUint64(i * SEEN_HASH_BYTES, seenHash(key));
  });
  return bytes;
}

/** The addresses a full pass saw (by canonical key). */
export interface SeenAddresses {
  /** Distinct hashes held: the addresses listed, less any that share a hash. */
  readonly size: number;
  /** Bytes of memory the set holds its hashes in. */
  readonly byteLength: number;
  /** True when `key` was seen, or (rarely) shares its hash with an address that was. */
  has(key: string): boolean;
}

/**
 * Collects hashes (from {@link encodeSeenHashes} chunks or one at a time) into one typed array, then sorts it and
 * drops duplicates. Given the expected count, it allocates once; otherwise it grows by half each time it fills.
 */
export class SeenSetBuilder {
  private hashes: BigUint64Array;
  private length = 0;

  constructor(expected = 0) {
    this.hashes = new BigUint64Array(Math.max(16, Math.ceil(expected)));
  }

  /** Adds one hash. */
  add(hash: bigint): void {
    this.reserve(1);
    this.hashes[this.length++] = hash;
  }

  /** Adds every hash of an encoded chunk; a trailing partial hash is ignored. */
  addEncoded(bytes: Uint8Array): void {
    const count = Math.floor(bytes.byteLength / SEEN_HASH_BYTES);
    this.reserve(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) this.hashes[this.length++] = view.getBigUint64(i * SEEN_HASH_BYTES);
  }

  /** Sorts, removes duplicates and hands the array to a {@link SeenSet}; the builder must not be used afterwards. */
  build(): SeenSet {
    const sorted = this.hashes.subarray(0, this.length).sort();
    let unique = 0;
    for (let i = 0; i < sorted.length; i++) {
      const hash = sorted[i] as bigint;
      if (unique === 0 || sorted[unique - 1] !== hash) sorted[unique++] = hash;
    }
    return new SeenSet(sorted.subarray(0, unique));
  }

  private reserve(count: number): void {
    if (this.length + count <= this.hashes.length) return;
    const grown = new BigUint64Array(Math.max(this.length + count, Math.ceil(this.hashes.length * 1.5)));
    grown.set(this.hashes.subarray(0, this.length));
    this.hashes = grown;
  }
}

/** A sorted, duplicate-free array of address hashes; membership by bisection. */
export class SeenSet implements SeenAddresses {
  constructor(private readonly sorted: BigUint64Array) {}

  /** A set of the hashes of `keys` (for tests and small lists). */
  static of(keys: Iterable<string>): SeenSet {
    const builder = new SeenSetBuilder();
    for (const key of keys) builder.add(seenHash(key));
    return builder.build();
  }

  get size(): number {
    return this.sorted.length;
  }

  /** Bytes of the underlying buffer (the builder's allocation, which may exceed 8 × size when hashes repeated). */
  get byteLength(): number {
    return this.sorted.buffer.byteLength;
  }

  has(key: string): boolean {
    return this.hasHash(seenHash(key));
  }

  /** True when `hash` is in the set. */
  hasHash(hash: bigint): boolean {
    const a = this.sorted;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((a[mid] as bigint) < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo < a.length && a[lo] === hash;
  }
}
