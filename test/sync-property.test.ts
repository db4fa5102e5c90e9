import fc from 'fast-check';
import type { SyncMode } from '../client/sync-contract';
import { canonicalAddress } from '../lambdas/domain/address';
import { listedRegions, type RegionEntry, regionAttribute } from '../lambdas/domain/records';
import { Pacer } from '../lambdas/domain/retry';
import { syncRegion } from '../lambdas/sync/sync';
import { SesEmulator } from '../local/ses-emulator';
import { mulberry32 } from '../local/ses-emulator/random';
import { createTestTables, scanAll, silentLogger, testSesClient } from './support/local-aws';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const NOW = Date.now();

type Entry = { emailAddress: string; reason: 'BOUNCE' | 'COMPLAINT'; lastUpdateTime: Date };

// Addresses come from a small pool in random case, so regions overlap and case variants collide.
const entryArb = fc.record({
  user: fc.integer({ min: 0, max: 60 }),
  upper: fc.boolean(),
  reason: fc.constantFrom('BOUNCE' as const, 'COMPLAINT' as const),
  ageMinutes: fc.integer({ min: 30, max: 60 * 24 * 30 }),
});
const regionListArb = fc.array(entryArb, { maxLength: 70 });
const scenarioArb = fc.record({
  lists: fc.tuple(regionListArb, regionListArb, regionListArb),
  later: fc.tuple(regionListArb, regionListArb, regionListArb).map((lists) => lists.map((l) => l.slice(0, 15))),
  deletions: fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 20 }),
  throttleRate: fc.constantFrom(0, 0.2, 0.5),
  serverErrorRate: fc.constantFrom(0, 0.1),
  tokenLossRate: fc.constantFrom(0, 0.15),
  checkpointRate: fc.constantFrom(0, 0.3),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

function toEntry(e: { user: number; upper: boolean; reason: 'BOUNCE' | 'COMPLAINT'; ageMinutes: number }): Entry {
  const address = `user${e.user}@example.com`;
  return {
    emailAddress: e.upper ? address.toUpperCase() : address,
    reason: e.reason,
    lastUpdateTime: new Date(NOW - e.ageMinutes * 60_000),
  };
}

describe('Property: sync under faults', () => {
  it("leaves the canonical table equal to the union of the regions' lists, nothing lost, nothing duplicated", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const emu = await SesEmulator.start({
          requestsPerSecond: 0,
          seed: s.seed,
          faults: { throttleRate: s.throttleRate, serverErrorRate: s.serverErrorRate },
        });
        const tables = await createTestTables();
        const random = mulberry32(s.seed);
        try {
          const run = async (region: string, mode: SyncMode) => {
            const ses = testSesClient(emu.endpoint, region);
            // Lose NextTokens now and then: SES answers InvalidNextTokenException, as for an expired token.
            ses.middlewareStack.add(
              (next) => async (args) => {
                const input = args.input as { NextToken?: string };
                if (input.NextToken && random() < s.tokenLossRate) input.NextToken = `${input.NextToken}x`;
                return next(args);
              },
              { step: 'initialize', name: 'loseTokens' },
            );
            for (let invocation = 0; invocation < 60; invocation++) {
              try {
                const summary = await syncRegion(
                  { region, mode },
                  {
                    ses,
                    doc: tables.doc,
                    suppressionTable: tables.suppressionTable,
                    stateTable: tables.stateTable,
                    pacer: new Pacer(100_000),
                    logger: silentLogger(),
                    // Forced checkpoints: the "deadline" arrives at random points.
                    remainingMs: () => (random() < s.checkpointRate ? 1 : 900_000),
                    options: { pageSize: 20, backoffCapMs: 5, maxAttempts: 4, maxRestarts: 2 },
                  },
                );
                if (summary.complete) return;
              } catch {
                // A failed invocation is retried by the next one, as Lambda's retries and the schedule would.
              }
            }
            throw new Error(`${mode} sync of ${region} did not complete in 60 invocations`);
          };

          // Act: initial lists, a sync, changes (additions, updates, deletions), then incremental and full passes.
          REGIONS.forEach((region, i) => {
            emu.region(region).putSuppressedMany(s.lists[i]!.map(toEntry));
          });
          await Promise.all(REGIONS.map((region) => run(region, 'incremental')));
          REGIONS.forEach((region, i) => {
            for (const e of s.later[i]!) emu.region(region).putSuppressed({ ...toEntry(e), lastUpdateTime: new Date() });
            const present = emu.region(region).suppressed();
            for (const d of s.deletions) {
              const victim = present[d % Math.max(1, present.length)];
              if (victim && d % REGIONS.length === i) emu.region(region).deleteSuppressed(victim.emailAddress);
            }
          });
          await Promise.all(REGIONS.map((region) => run(region, 'incremental')));
          await Promise.all(REGIONS.map((region) => run(region, 'full')));

          // Assess
          const expected = new Map<string, Map<string, Entry>>();
          for (const region of REGIONS) {
            for (const entry of emu.region(region).suppressed()) {
              const key = canonicalAddress(entry.emailAddress);
              const byRegion = expected.get(key) ?? new Map<string, Entry>();
              const current = byRegion.get(region);
              if (!current || newer(entry, current)) byRegion.set(region, entry);
              expected.set(key, byRegion);
            }
          }
          const items = await scanAll(tables.doc, tables.suppressionTable);
          const keys = items.map((item) => item.address as string);
          expect(new Set(keys).size).toBe(keys.length);
          const listed = new Map(items.map((item) => [item.address as string, listedRegions(item)]));
          for (const [key, byRegion] of expected) {
            expect({ key, regions: listed.get(key) }).toEqual({ key, regions: [...byRegion.keys()].sort() });
            const item = items.find((i) => i.address === key)!;
            for (const [region, entry] of byRegion) {
              const stored = item[regionAttribute(region)] as RegionEntry;
              expect(stored).toMatchObject({
                address: entry.emailAddress,
                reason: entry.reason,
                lastUpdateTime: entry.lastUpdateTime.toISOString(),
              });
            }
          }
          for (const [key, regions] of listed) {
            if (!expected.has(key)) expect({ key, regions }).toEqual({ key, regions: [] });
          }
        } finally {
          await emu.stop();
        }
      }),
      { numRuns: 6, seed: 20261124, endOnFailure: true },
    );
  }, 240_000);
});

function newer(a: Entry, b: Entry): boolean {
  const ta = a.lastUpdateTime.toISOString();
  const tb = b.lastUpdateTime.toISOString();
  return ta > tb || (ta === tb && (a.emailAddress > b.emailAddress || (a.emailAddress === b.emailAddress && a.reason > b.reason)));
}
