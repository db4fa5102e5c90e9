import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { encodeSeenHashes, SEEN_HASH_BYTES, SeenSet, SeenSetBuilder, seenHash } from '../lambdas/domain/seen-set';
import { StateTable } from '../lambdas/domain/state-table';
import { createTestTables, scanAll, type TestTables } from './support/local-aws';

const addresses = (n: number, prefix = 'user') => Array.from({ length: n }, (_, i) => `${prefix}.${i}@example.com`);

describe('Class: SeenSet', () => {
  describe('Method: has', () => {
    it('finds every address added and none of the others', () => {
      // Prepare
      const seen = SeenSet.of(addresses(5000));

      // Act
      const found = addresses(5000).filter((a) => seen.has(a));
      const strangers = addresses(5000, 'other').filter((a) => seen.has(a));

      // Assess
      expect(found).toHaveLength(5000);
      expect(strangers).toHaveLength(0);
      expect(seen.size).toBe(5000);
    });

    it('answers like a Set of the same addresses, whatever they are', () => {
      fc.assert(
        fc.property(fc.array(fc.emailAddress(), { maxLength: 200 }), fc.array(fc.emailAddress(), { maxLength: 50 }), (listed, probes) => {
          // Prepare
          const seen = SeenSet.of(listed);
          const reference = new Set(listed);

          // Assess
          for (const probe of [...listed, ...probes]) expect(seen.has(probe)).toBe(reference.has(probe));
          expect(seen.size).toBe(reference.size);
        }),
      );
    });

    it('answers for an empty set', () => {
      // Act
      const seen = new SeenSetBuilder().build();

      // Assess
      expect(seen.size).toBe(0);
      expect(seen.has('anyone@example.com')).toBe(false);
    });
  });

  describe('Method: build', () => {
    it('counts an address added several times once', () => {
      // Prepare
      const builder = new SeenSetBuilder(6);
      for (const a of ['a@example.com', 'b@example.com', 'a@example.com', 'a@example.com', 'b@example.com', 'c@example.com'])
        builder.add(seenHash(a));

      // Act
      const seen = builder.build();

      // Assess
      expect(seen.size).toBe(3);
      expect(['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com'].map((a) => seen.has(a))).toEqual([
        true,
        true,
        true,
        false,
      ]);
    });

    it('holds 8 bytes an address when given the expected count, and grows past it when the guess was short', () => {
      // Prepare
      const exact = new SeenSetBuilder(100_000);
      const short = new SeenSetBuilder(10);
      const keys = addresses(100_000);

      // Act
      exact.addEncoded(encodeSeenHashes(keys));
      for (const chunk of [keys.slice(0, 50_000), keys.slice(50_000)]) short.addEncoded(encodeSeenHashes(chunk));
      const fromExact = exact.build();
      const fromShort = short.build();

      // Assess
      expect(fromExact.byteLength).toBe(100_000 * SEEN_HASH_BYTES);
      expect(fromShort.size).toBe(100_000);
      expect(fromShort.byteLength).toBeLessThanOrEqual(2 * 100_000 * SEEN_HASH_BYTES);
      expect(keys.every((k) => fromShort.has(k))).toBe(true);
    });
  });

  describe('Function: encodeSeenHashes', () => {
    it('stores the first 8 bytes of each SHA-256, so chunks written before the typed array still read the same', () => {
      // Act
      const bytes = encodeSeenHashes(['a@example.com', 'b@example.com']);

      // Assess
      const legacy = Buffer.concat(['a@example.com', 'b@example.com'].map((k) => createHash('sha256').update(k).digest().subarray(0, 8)));
      expect(Buffer.from(bytes).equals(legacy)).toBe(true);
    });
  });
});

describe('Class: StateTable (seen-address chunks, DynamoDB Local)', () => {
  let tables: TestTables;
  let state: StateTable;

  beforeAll(async () => {
    tables = await createTestTables();
    state = new StateTable(tables.doc, tables.stateTable);
  });

  it('reads back across chunks (and Query pages) exactly the addresses that were written, then deletes them', async () => {
    // Prepare: 200 chunks of 1,000 addresses is 1.6 MB, more than one Query page; one address repeats across chunks.
    const keys = addresses(200_000);
    for (let chunk = 1; chunk <= 200; chunk++) {
      const page = keys.slice((chunk - 1) * 1000, chunk * 1000);
      if (chunk === 200) page.push(keys[0]!);
      await state.putSeenChunk('us-east-1', 'fpass1', chunk, page, Date.now());
    }
    await state.putSeenChunk('us-east-1', 'fpass2', 1, ['other.pass@example.com'], Date.now());

    // Act
    const seen = (await state.loadSeen('us-east-1', 'fpass1', 200_001))!;

    // Assess
    expect(seen.size).toBe(200_000);
    expect(keys.every((k) => seen.has(k))).toBe(true);
    expect(seen.has('other.pass@example.com')).toBe(false);
    expect(seen.byteLength).toBeLessThanOrEqual(200_001 * SEEN_HASH_BYTES);
    await state.deleteSeen('us-east-1', 'fpass1', 200);
    expect((await scanAll(tables.doc, tables.stateTable)).map((i) => i.sk)).toEqual([expect.stringMatching(/^full#fpass2#/)]);
  });
});
