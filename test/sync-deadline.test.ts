import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lambdas/domain/clients';
import { regionAttribute, regionStateKey } from '../lambdas/domain/records';
import { StateTable } from '../lambdas/domain/state-table';
import { type SyncOptions, syncRegion } from '../lambdas/sync/sync';
import { SesEmulator } from '../local/ses-emulator';
import { createTestTables, scanAll, type TestTables, testDynamoClient, testSesClient, testSyncDeps } from './support/local-aws';

const HOUR = 3600_000;
const REGION = 'us-east-1';
const MARGIN_MS = 20_000;

/**
 * A virtual invocation clock: each request advances it by its modelled cost (requests in flight together overlap, as
 * they do in real time: the clock moves to the latest end), and `remainingMs` is the invocation's budget less it.
 */
class VirtualInvocation {
  private clock = 0;

  constructor(readonly budgetMs: number) {}

  remainingMs = (): number => this.budgetMs - this.clock;

  /** The time the invocation used: more than its budget means Lambda would have killed it. */
  get usedMs(): number {
    return this.clock;
  }

  /** Adds the clock to a client: a request that starts at t ends at t + cost(command, output). */
  attach(
    client: { middlewareStack: SESv2Client['middlewareStack'] },
    cost: (command: string, output: Record<string, unknown>) => number,
  ): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const start = this.clock;
        const out = await next(args);
        this.clock = Math.max(this.clock, start + cost(context.commandName ?? '', out.output as unknown as Record<string, unknown>));
        return out;
      },
      { step: 'initialize', name: 'virtualInvocationClock' },
    );
  }
}

describe('Function: syncRegion never runs past its invocation (SES emulator + DynamoDB Local, virtual clock)', () => {
  let emu: SesEmulator;
  let tables: TestTables;

  beforeEach(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 5 });
    tables = await createTestTables();
  });
  afterEach(async () => {
    await emu.stop();
  });

  const address = (i: number) => `slow.${i}@example.com`;
  const status = async (i: number) =>
    (
      (await tables.doc.send(new GetCommand({ TableName: tables.suppressionTable, Key: { address: address(i) } }))).Item?.[
        regionAttribute(REGION)
      ] as { status?: string } | undefined
    )?.status;

  /** `n` entries listed in the region and synced (the region's first pass, which does not sweep); then `delisted` delisted. */
  const seed = async (n: number, delisted: (i: number) => boolean): Promise<number[]> => {
    emu.region(REGION).putSuppressedMany(
      Array.from({ length: n }, (_, i) => ({
        emailAddress: address(i),
        reason: 'BOUNCE' as const,
        lastUpdateTime: new Date(Date.now() - 2 * HOUR),
      })),
    );
    const first = await syncRegion({ region: REGION, mode: 'full' }, testSyncDeps(emu.endpoint, tables, REGION));
    expect(first).toMatchObject({ complete: true, itemsWritten: n });
    const gone = Array.from({ length: n }, (_, i) => i).filter(delisted);
    for (const i of gone) emu.region(REGION).deleteSuppressed(address(i));
    return gone;
  };

  /** Runs full-mode invocations of `budgetMs` each, on clients costed by `dynamoCost`/`sesCost`, until the pass completes. */
  const runPass = async (
    budgetMs: number,
    costs: { dynamo?: (command: string, output: Record<string, unknown>) => number; ses?: (command: string) => number },
    options: SyncOptions,
    maxInvocations = 30,
  ) => {
    const invocations: Array<{ usedMs: number; complete: boolean; removals: number; entriesRead: number; pages: number }> = [];
    for (let n = 0; n < maxInvocations; n++) {
      const clock = new VirtualInvocation(budgetMs);
      const ddb = testDynamoClient();
      clock.attach(ddb as unknown as { middlewareStack: SESv2Client['middlewareStack'] }, costs.dynamo ?? (() => 0));
      const ses = testSesClient(emu.endpoint, REGION);
      clock.attach(ses, (command) => costs.ses?.(command) ?? 0);
      const summary = await syncRegion(
        { region: REGION, mode: 'full' },
        testSyncDeps(emu.endpoint, tables, REGION, {
          ses,
          doc: documentClient(ddb),
          remainingMs: clock.remainingMs,
          options: { pageSize: 100, marginMs: MARGIN_MS, ...options },
        }),
      );
      invocations.push({
        usedMs: clock.usedMs,
        complete: summary.complete,
        removals: summary.removals,
        entriesRead: summary.entriesRead,
        pages: summary.pages,
      });
      if (summary.complete) break;
    }
    return invocations;
  };

  const expectSameResultAsAnUnhurriedPass = async (
    n: number,
    gone: number[],
    invocations: Array<{ removals: number; entriesRead: number }>,
  ) => {
    expect(invocations.reduce((s, i) => s + i.removals, 0)).toBe(gone.length);
    expect(invocations.reduce((s, i) => s + i.entriesRead, 0)).toBe(n - gone.length);
    const goneSet = new Set(gone);
    const statuses = await Promise.all(Array.from({ length: n }, (_, i) => status(i)));
    statuses.forEach((s, i) => {
      expect([i, s]).toEqual([i, goneSet.has(i) ? 'REMOVED' : 'LISTED']);
    });
    const state = await new StateTable(tables.doc, tables.stateTable).load(REGION);
    expect(state.full).toBeUndefined();
    expect(state).toMatchObject({ listedAtLastFull: n - gone.length, lastFullSuccessAt: expect.any(String) });
    expect((await scanAll(tables.doc, tables.stateTable)).filter((i) => String(i.sk).startsWith('full#'))).toHaveLength(0);
  };

  it('ends every invocation before its deadline when one Scan page costs more than the margin, and completes the sweep over later invocations', async () => {
    // Prepare: 2,000 entries, 1 in 20 delisted. A Scan costs 50 ms per item it evaluates (DynamoDB Local's Scan on a
    // loaded machine is of this order): an unbounded page of the whole table costs 100 s, five times the 20 s margin.
    const n = 2000;
    const gone = await seed(n, (i) => i % 20 === 3);
    const scanCost = (command: string, output: Record<string, unknown>) =>
      command === 'ScanCommand' ? 50 * Number(output.ScannedCount ?? 0) : 0;

    // Act: invocations of 40 s each.
    const invocations = await runPass(40_000, { dynamo: scanCost }, { sweepPageLimit: 100, sweepSegments: 4 });

    // Assess: no invocation ran past its budget; the sweep took several; the result is an unhurried pass's.
    for (const invocation of invocations) expect(invocation.usedMs).toBeLessThanOrEqual(40_000);
    expect(invocations.length).toBeGreaterThanOrEqual(2);
    expect(invocations.at(-1)?.complete).toBe(true);
    await expectSameResultAsAnUnhurriedPass(n, gone, invocations);
  });

  it('checkpoints every segment of the sweep, and the next invocation resumes each where it stopped', async () => {
    // Prepare
    const n = 1200;
    const gone = await seed(n, (i) => i % 10 === 0);
    const scanCost = (command: string, output: Record<string, unknown>) =>
      command === 'ScanCommand' ? 50 * Number(output.ScannedCount ?? 0) : 0;
    let scannedItems = 0;
    const counting = (command: string, output: Record<string, unknown>) => {
      if (command === 'ScanCommand') scannedItems += Number(output.ScannedCount ?? 0);
      return scanCost(command, output);
    };

    // Act: the first invocation, then a look at its checkpoint, then the rest.
    const first = await runPass(36_000, { dynamo: counting }, { sweepPageLimit: 100, sweepSegments: 4 }, 1);
    const checkpoint = (await new StateTable(tables.doc, tables.stateTable).load(REGION)).full;
    const rest = first.at(-1)?.complete ? [] : await runPass(36_000, { dynamo: counting }, { sweepPageLimit: 100, sweepSegments: 4 });

    // Assess: no item of the table was scanned twice (every segment resumed from its key), and the result is whole.
    expect(first).toMatchObject([{ complete: false }]);
    expect(first[0]!.usedMs).toBeLessThanOrEqual(36_000);
    expect(checkpoint?.phase).toBe('sweep');
    expect(checkpoint?.segments).toHaveLength(4);
    expect(checkpoint?.segments?.every((s) => !s.done && s.scanKey !== undefined)).toBe(true);
    expect(rest.length).toBeGreaterThanOrEqual(1);
    expect(scannedItems).toBe(n);
    await expectSameResultAsAnUnhurriedPass(n, gone, [...first, ...rest]);
  });

  it('ends every invocation before its deadline when one SES page costs more than the margin (the listing)', async () => {
    // Prepare: 1,000 entries in pages of 100; each ListSuppressedDestinations takes 30 s (SES slow, or throttled and
    // retried), longer than the 20 s margin.
    const n = 1000;
    const gone = await seed(n, (i) => i % 25 === 1);

    // Act: invocations of 55 s each.
    const invocations = await runPass(55_000, { ses: (command) => (command === 'ListSuppressedDestinationsCommand' ? 30_000 : 0) }, {});

    // Assess
    for (const invocation of invocations) expect(invocation.usedMs).toBeLessThanOrEqual(55_000);
    expect(invocations.filter((i) => i.pages > 0).length).toBeGreaterThanOrEqual(2);
    await expectSameResultAsAnUnhurriedPass(n, gone, invocations);
  });

  it('continues a sweep checkpointed in the single-segment format from its scan key', async () => {
    // Prepare: a full pass whose listing is done (its seen chunk written) and whose sweep, as the sync checkpointed it
    // before sweeps were segmented, stopped after one plain Scan page: only `scanKey`, no `segments`.
    const n = 600;
    const gone = await seed(n, (i) => i % 10 === 5);
    const state = new StateTable(tables.doc, tables.stateTable);
    const before = await state.load(REGION);
    const listed = Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 !== 5);
    const passId = 'flegacy01';
    await state.putSeenChunk(
      REGION,
      passId,
      1,
      listed.map((i) => address(i)),
      Date.now(),
    );
    const firstPage = await tables.doc.send(new ScanCommand({ TableName: tables.suppressionTable, Limit: 200 }));
    const swept = new Set((firstPage.Items ?? []).map((item) => String(item.address)));
    const startedAt = new Date().toISOString();
    await tables.doc.send(
      new PutCommand({
        TableName: tables.stateTable,
        Item: {
          ...regionStateKey(REGION),
          region: REGION,
          watermark: before.watermark,
          firstPassId: before.firstPassId,
          lastRunAt: before.lastRunAt,
          full: {
            passId,
            kind: 'full',
            startedAt,
            windowEnd: startedAt,
            phase: 'sweep',
            scanKey: firstPage.LastEvaluatedKey,
            pages: 6,
            entriesRead: listed.length,
            itemsWritten: 0,
            removals: 0,
            restarts: 0,
            seenChunks: 1,
          },
        },
      }),
    );

    // Act
    const summary = await syncRegion({ region: REGION, mode: 'full' }, testSyncDeps(emu.endpoint, tables, REGION));

    // Assess: the entries after the key are swept; those of the page the old sweep had done are not scanned again.
    expect(summary).toMatchObject({ complete: true, pages: 0 });
    const after = gone.filter((i) => !swept.has(address(i)));
    expect(after.length).toBeGreaterThan(0);
    expect(summary.removals).toBe(after.length);
    for (const i of gone) expect(await status(i)).toBe(swept.has(address(i)) ? 'LISTED' : 'REMOVED');
    expect((await state.load(REGION)).full).toBeUndefined();
  });
});
