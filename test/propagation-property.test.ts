import fc from 'fast-check';
import type { SyncMode } from '../client/sync-contract';
import { canonicalAddress } from '../lambdas/domain/address';
import { suppress, unsuppress } from '../lambdas/domain/manual';
import { Pacer } from '../lambdas/domain/retry';
import { StateTable } from '../lambdas/domain/state-table';
import { SuppressionTable } from '../lambdas/domain/suppression-table';
import { propagate } from '../lambdas/sync/propagation';
import { syncRegion } from '../lambdas/sync/sync';
import { SesEmulator } from '../local/ses-emulator';
import { mulberry32 } from '../local/ses-emulator/random';
import { createTestTables, silentLogger, testSesClient } from './support/local-aws';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
// One fixed spelling per address (SES keys its list by the exact address); one of them in mixed case.
const ADDRESSES = ['a@example.com', 'b@example.com', 'Mixed.Case@example.com', 'd@example.com', 'e@example.com'];

const regionArb = fc.constantFrom(...REGIONS);
const addressArb = fc.constantFrom(...ADDRESSES);
const reasonArb = fc.constantFrom('BOUNCE' as const, 'COMPLAINT' as const);
const stepArb = fc.oneof(
  // SES suppresses an address on its own (a hard bounce or complaint in that region).
  fc.record({ kind: fc.constant('ses' as const), region: regionArb, address: addressArb, reason: reasonArb }),
  // An operator removes an entry in a region's console, whoever put it there.
  fc.record({ kind: fc.constant('console' as const), region: regionArb, address: addressArb }),
  fc.record({ kind: fc.constant('manual' as const), address: addressArb, reason: reasonArb }),
  fc.record({ kind: fc.constant('unsuppress' as const), address: addressArb }),
  fc.record({ kind: fc.constant('sync' as const), region: regionArb, mode: fc.constantFrom<SyncMode>('incremental', 'full') }),
  // A propagation run that may crash right after its k-th SES call (0: it does not crash).
  fc.record({ kind: fc.constant('propagate' as const), region: regionArb, crashAfter: fc.integer({ min: 0, max: 4 }) }),
);
const scenarioArb = fc.record({
  steps: fc.array(stepArb, { minLength: 8, maxLength: 30 }),
  throttleRate: fc.constantFrom(0, 0.2),
  serverErrorRate: fc.constantFrom(0, 0.1),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

class Crash extends Error {}

describe('Property: propagation converges under faults', () => {
  it("leaves every region's SES list equal to the origins' union: no zombies, no lost origins", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        // A clock that moves a minute a step: SES stamps its entries with it, and so do the sync and propagation.
        let clock = Date.now() - 2 * 86_400_000;
        const now = () => clock;
        const emu = await SesEmulator.start({
          requestsPerSecond: 0,
          seed: s.seed,
          clock: now,
          faults: { throttleRate: s.throttleRate, serverErrorRate: s.serverErrorRate },
        });
        const tables = await createTestTables();
        const manualTables = {
          suppression: new SuppressionTable(tables.doc, tables.suppressionTable),
          state: new StateTable(tables.doc, tables.stateTable),
        };
        const random = mulberry32(s.seed);
        // The model: what SES holds on its own per region, and the manual suppressions in force.
        const own = new Map(REGIONS.map((r) => [r, new Set<string>()]));
        const manual = new Set<string>();
        const ses = (region: string, crashAfter = 0) => {
          const client = testSesClient(emu.endpoint, region);
          let calls = 0;
          client.middlewareStack.add(
            (next) => async (args) => {
              const out = await next(args);
              if (crashAfter > 0 && ++calls === crashAfter) throw new Crash('crashed after the call');
              return out;
            },
            { step: 'initialize', name: 'crash' },
          );
          return client;
        };
        const sync = async (region: string, mode: SyncMode) => {
          for (let attempt = 0; attempt < 20; attempt++) {
            try {
              const summary = await syncRegion(
                { region, mode },
                {
                  ses: ses(region),
                  doc: tables.doc,
                  suppressionTable: tables.suppressionTable,
                  stateTable: tables.stateTable,
                  pacer: new Pacer(100_000),
                  logger: silentLogger(),
                  remainingMs: () => 900_000,
                  now,
                  options: { pageSize: 3, backoffCapMs: 2, maxAttempts: 6 },
                },
              );
              if (summary.complete) return;
            } catch {
              // retried, as Lambda and the schedule would
            }
          }
          throw new Error(`${mode} sync of ${region} did not complete`);
        };
        const run = async (region: string, crashAfter: number): Promise<boolean> => {
          try {
            const summary = await propagate(
              { region, mode: 'enforce' },
              {
                ses: ses(region, crashAfter),
                s3: undefined as never,
                doc: tables.doc,
                suppressionTable: tables.suppressionTable,
                stateTable: tables.stateTable,
                bucket: 'unused',
                pacer: new Pacer(100_000),
                logger: silentLogger(),
                remainingMs: () => 900_000,
                now,
                options: { bulkThreshold: 10_000, backoffCapMs: 2, maxAttempts: 6, scanPageSize: 2 },
              },
            );
            return summary.complete;
          } catch {
            return false;
          }
        };
        const holder = (region: string, address: string) => emu.region(region).getSuppressed(address);

        try {
          // Act
          for (const step of s.steps) {
            clock += 60_000;
            const key = 'address' in step ? canonicalAddress(step.address) : '';
            switch (step.kind) {
              case 'ses':
                // SES drops mail to an address already on the region's list, so only an unlisted one can bounce.
                if (holder(step.region, step.address)) break;
                emu.region(step.region).putSuppressed({ emailAddress: step.address, reason: step.reason, lastUpdateTime: new Date(clock) });
                own.get(step.region)?.add(key);
                break;
              case 'console':
                if (emu.region(step.region).deleteSuppressed(step.address)) own.get(step.region)?.delete(key);
                break;
              case 'manual':
                await suppress(manualTables, { address: step.address, reason: step.reason, by: async () => 'test' });
                manual.add(key);
                break;
              case 'unsuppress': {
                const result = await unsuppress(manualTables, {
                  address: step.address,
                  why: 'test',
                  regions: REGIONS,
                  by: 'test',
                  ses: (region) => testSesClient(emu.endpoint, region, 8),
                  candidates: (recorded) => [...new Set([recorded ?? step.address, step.address])],
                });
                if (result.failed.length > 0 || result.unavailable.length > 0) break;
                for (const set of own.values()) set.delete(key);
                manual.delete(key);
                break;
              }
              case 'sync':
                await sync(step.region, step.mode);
                break;
              case 'propagate':
                await run(step.region, random() < 0.5 ? step.crashAfter : 0);
                break;
            }
          }
          // Converge: a few cycles of full sync and propagation, without crashes.
          emu.setFaults?.({ throttleRate: 0, serverErrorRate: 0 });
          for (let cycle = 0; cycle < 3; cycle++) {
            clock += 60_000;
            for (const region of REGIONS) await sync(region, 'full');
            for (const region of REGIONS) expect(await run(region, 0)).toBe(true);
          }

          // Assess
          const wanted = new Set<string>([...manual, ...[...own.values()].flatMap((set) => [...set])]);
          for (const region of REGIONS) {
            // As canonical keys: a region may hold two spellings of one address (ours, and one SES suppressed itself).
            const listed = [
              ...new Set(
                emu
                  .region(region)
                  .suppressed()
                  .map((e) => canonicalAddress(e.emailAddress)),
              ),
            ].sort();
            expect({ region, listed }).toEqual({ region, listed: [...wanted].sort() });
            // SES's own entries are all still there (none was overwritten or withdrawn).
            for (const key of own.get(region) ?? [])
              expect({ region, key, held: listed.includes(key) }).toEqual({ region, key, held: true });
          }
        } finally {
          await emu.stop();
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 8), seed: Number(process.env.PROPERTY_SEED ?? 20261202), endOnFailure: true },
    );
  }, 300_000);
});
