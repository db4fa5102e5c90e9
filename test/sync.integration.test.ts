import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { listedRegions, regionAttribute, regionStateKey } from '../lambdas/domain/records';
import { StateTable } from '../lambdas/domain/state-table';
import { type SyncDeps, type SyncOptions, syncRegion } from '../lambdas/sync/sync';
import { SesEmulator } from '../local/ses-emulator';
import { countingDocumentClient, createTestTables, scanAll, type TestTables, testSesClient, testSyncDeps } from './support/local-aws';

const HOUR = 3600_000;

describe('Function: syncRegion (SES emulator + DynamoDB Local)', () => {
  let emu: SesEmulator;
  let tables: TestTables;

  beforeEach(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 11 });
    tables = await createTestTables();
  });
  afterEach(async () => {
    await emu.stop();
  });

  const deps = (region: string, overrides: Partial<SyncDeps> = {}, options: SyncOptions = {}): SyncDeps =>
    testSyncDeps(emu.endpoint, tables, region, { options: { pageSize: 100, backoffCapMs: 50, ...options }, ...overrides });
  const item = async (address: string) =>
    (await tables.doc.send(new GetCommand({ TableName: tables.suppressionTable, Key: { address } }))).Item;

  it('builds one canonical record per lower-cased address with each region kept apart', async () => {
    // Prepare
    const t1 = new Date(Date.now() - 5 * HOUR);
    const t2 = new Date(Date.now() - 2 * HOUR);
    emu.region('us-east-1').putSuppressed({ emailAddress: 'Bounce.Me@Example.org', reason: 'BOUNCE', lastUpdateTime: t1 });
    emu.region('us-west-2').putSuppressed({ emailAddress: 'bounce.me@example.ORG', reason: 'COMPLAINT', lastUpdateTime: t2 });
    emu.region('us-west-2').putSuppressed({ emailAddress: 'west.only@example.org', reason: 'BOUNCE', lastUpdateTime: t2 });

    // Act
    const [east, west] = await Promise.all([
      syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1')),
      syncRegion({ region: 'us-west-2', mode: 'incremental' }, deps('us-west-2')),
    ]);

    // Assess
    expect(east).toMatchObject({ region: 'us-east-1', complete: true, entriesRead: 1, itemsWritten: 1 });
    expect(west).toMatchObject({ region: 'us-west-2', complete: true, entriesRead: 2, itemsWritten: 2 });
    const record = await item('bounce.me@example.org');
    expect(record).toMatchObject({
      address: 'bounce.me@example.org',
      firstSeen: expect.any(String),
      origin: expect.stringMatching(/^ses:us-(east-1|west-2)$/),
      [regionAttribute('us-east-1')]: {
        address: 'Bounce.Me@Example.org',
        reason: 'BOUNCE',
        lastUpdateTime: t1.toISOString(),
        status: 'LISTED',
      },
      [regionAttribute('us-west-2')]: {
        address: 'bounce.me@example.ORG',
        reason: 'COMPLAINT',
        lastUpdateTime: t2.toISOString(),
        status: 'LISTED',
      },
    });
    expect(listedRegions(record!)).toEqual(['us-east-1', 'us-west-2']);
    expect((await scanAll(tables.doc, tables.suppressionTable)).map((i) => i.address).sort()).toEqual([
      'bounce.me@example.org',
      'west.only@example.org',
    ]);
  });

  it('writes nothing when an unchanged list is synced again, and only the changed entries after a change', async () => {
    // Prepare
    const region = emu.region('us-east-1');
    region.putSuppressedMany(
      Array.from({ length: 250 }, (_, i) => ({
        emailAddress: `user${i}@example.com`,
        reason: 'BOUNCE' as const,
        lastUpdateTime: new Date(Date.now() - 3 * HOUR),
      })),
    );
    const first = await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));

    // Act
    const again = await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));
    const fullAgain = await syncRegion({ region: 'us-east-1', mode: 'full' }, deps('us-east-1'));
    region.putSuppressed({ emailAddress: 'user7@example.com', reason: 'COMPLAINT' });
    region.putSuppressed({ emailAddress: 'new@example.com', reason: 'BOUNCE' });
    const changed = await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));

    // Assess
    expect(first).toMatchObject({ entriesRead: 250, itemsWritten: 250, pages: 3, complete: true });
    expect(again).toMatchObject({ itemsWritten: 0, complete: true });
    expect(fullAgain).toMatchObject({ entriesRead: 250, itemsWritten: 0, removals: 0, complete: true });
    expect(changed).toMatchObject({ itemsWritten: 2, complete: true });
    expect((await item('user7@example.com'))?.[regionAttribute('us-east-1')]).toMatchObject({ reason: 'COMPLAINT' });
  });

  it('asks SES only for the window since the watermark less the overlap', async () => {
    // Prepare
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'old@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 48 * HOUR) });
    await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));

    // Act
    const secondStarted = Date.now();
    const second = await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));

    // Assess
    expect(second.entriesRead).toBe(0);
    const state = await new StateTable(tables.doc, tables.stateTable).load('us-east-1');
    // The watermark moves up to when the second pass began, however long the passes took.
    expect(Date.parse(state.watermark!)).toBeGreaterThanOrEqual(secondStarted);
    expect(state.lastSuccessAt).toEqual(expect.any(String));
    expect(state.lastSummary).toMatchObject({ region: 'us-east-1', complete: true });
    expect(state.lastError).toBeUndefined();
  });

  it('checkpoints before the deadline and continues where it stopped on the next invocation', async () => {
    // Prepare: 1,000 entries, pages of 100, and an invocation that "runs out of time" after 3 pages.
    emu.region('eu-west-1').putSuppressedMany(
      Array.from({ length: 1000 }, (_, i) => ({
        emailAddress: `p${i}@example.net`,
        reason: 'BOUNCE' as const,
        lastUpdateTime: new Date(Date.now() - HOUR),
      })),
    );
    const pagesPerInvocation = (n: number) => {
      let calls = 0;
      // remainingMs is consulted once before each page; after n pages it reports less than the margin.
      return () => (calls++ < n ? 900_000 : 1_000);
    };

    // Act
    const summaries = [];
    for (let i = 0; i < 10; i++) {
      const summary = await syncRegion(
        { region: 'eu-west-1', mode: 'incremental' },
        deps('eu-west-1', { remainingMs: pagesPerInvocation(3) }),
      );
      summaries.push(summary);
      if (summary.complete) break;
    }

    // Assess
    expect(summaries.slice(0, -1).every((s) => !s.complete)).toBe(true);
    expect(summaries.at(-1)).toMatchObject({ complete: true });
    expect(summaries.reduce((n, s) => n + s.pages, 0)).toBe(10);
    expect(summaries.reduce((n, s) => n + s.entriesRead, 0)).toBe(1000);
    expect(summaries.reduce((n, s) => n + s.itemsWritten, 0)).toBe(1000);
    expect(new Set(summaries.map((s) => s.passId)).size).toBe(1);
    expect(await scanAll(tables.doc, tables.suppressionTable)).toHaveLength(1000);
  });

  it('records removals in full mode and keeps an address suppressed while another region lists it', async () => {
    // Prepare
    const lut = new Date(Date.now() - 4 * HOUR);
    emu.region('us-east-1').putSuppressedMany([
      { emailAddress: 'both@example.com', reason: 'BOUNCE', lastUpdateTime: lut },
      { emailAddress: 'east@example.com', reason: 'BOUNCE', lastUpdateTime: lut },
      { emailAddress: 'stays@example.com', reason: 'COMPLAINT', lastUpdateTime: lut },
    ]);
    emu.region('us-west-2').putSuppressed({ emailAddress: 'Both@example.com', reason: 'BOUNCE', lastUpdateTime: lut });
    await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));
    await syncRegion({ region: 'us-west-2', mode: 'incremental' }, deps('us-west-2'));
    emu.region('us-east-1').deleteSuppressed('both@example.com');
    emu.region('us-east-1').deleteSuppressed('east@example.com');

    // Act
    const incremental = await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));
    const full = await syncRegion({ region: 'us-east-1', mode: 'full' }, deps('us-east-1'));

    // Assess
    expect(incremental.removals).toBe(0);
    expect(full).toMatchObject({ mode: 'full', complete: true, entriesRead: 1, removals: 2 });
    const both = await item('both@example.com');
    expect(both?.[regionAttribute('us-east-1')]).toMatchObject({ status: 'REMOVED', removedAt: expect.any(String) });
    expect(listedRegions(both!)).toEqual(['us-west-2']);
    expect(listedRegions((await item('east@example.com'))!)).toEqual([]);
    expect(listedRegions((await item('stays@example.com'))!)).toEqual(['us-east-1']);
    const state = await new StateTable(tables.doc, tables.stateTable).load('us-east-1');
    expect(state).toMatchObject({ listedAtLastFull: 1, lastFullSuccessAt: expect.any(String) });
    expect(state.full).toBeUndefined();
    // The seen-address chunks of the finished pass are cleaned up.
    expect((await scanAll(tables.doc, tables.stateTable)).filter((i) => String(i.sk).startsWith('full#'))).toHaveLength(0);
  });

  it("sweeps nothing in a region's first pass, whose writes are all it could find, and sweeps every later full pass", async () => {
    // Prepare: DynamoDB requests counted by command; us-east-1 never synced.
    const { doc: countingDoc, counts } = countingDocumentClient();
    const counted = deps('us-east-1', { doc: countingDoc });
    const lut = new Date(Date.now() - 4 * HOUR);
    emu
      .region('us-east-1')
      .putSuppressedMany(
        Array.from({ length: 250 }, (_, i) => ({ emailAddress: `first${i}@example.com`, reason: 'BOUNCE' as const, lastUpdateTime: lut })),
      );

    // Act: the first pass ever (full), then one address delisted and a second full pass.
    const first = await syncRegion({ region: 'us-east-1', mode: 'full' }, counted);
    const scansOfFirst = counts.ScanCommand ?? 0;
    emu.region('us-east-1').deleteSuppressed('first7@example.com');
    const second = await syncRegion({ region: 'us-east-1', mode: 'full' }, counted);

    // Assess
    expect(first).toMatchObject({ complete: true, entriesRead: 250, itemsWritten: 250, removals: 0 });
    expect(scansOfFirst).toBe(0);
    expect(second).toMatchObject({ complete: true, entriesRead: 249, removals: 1 });
    expect(counts.ScanCommand).toBeGreaterThan(0);
    expect(listedRegions((await item('first7@example.com'))!)).toEqual([]);
    const state = await new StateTable(tables.doc, tables.stateTable).load('us-east-1');
    expect(state.firstPassId).toMatch(/^f/);
    expect(state).toMatchObject({ listedAtLastFull: 249 });
  });

  it('sweeps the first full pass of a region an earlier incremental pass wrote to', async () => {
    // Prepare: an incremental pass (the region's first) writes, SES delists one address, then the first full pass.
    const lut = new Date(Date.now() - 4 * HOUR);
    emu.region('us-east-1').putSuppressedMany([
      { emailAddress: 'kept@example.com', reason: 'BOUNCE', lastUpdateTime: lut },
      { emailAddress: 'gone@example.com', reason: 'BOUNCE', lastUpdateTime: lut },
    ]);
    await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));
    emu.region('us-east-1').deleteSuppressed('gone@example.com');

    // Act
    const full = await syncRegion({ region: 'us-east-1', mode: 'full' }, deps('us-east-1'));

    // Assess
    expect(full).toMatchObject({ complete: true, removals: 1 });
    expect(listedRegions((await item('gone@example.com'))!)).toEqual([]);
  });

  it('relists an address that comes back after a removal', async () => {
    // Prepare
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'again@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 5 * HOUR) });
    await syncRegion({ region: 'us-east-1', mode: 'full' }, deps('us-east-1'));
    emu.region('us-east-1').deleteSuppressed('again@example.com');
    await syncRegion({ region: 'us-east-1', mode: 'full' }, deps('us-east-1'));
    emu.region('us-east-1').putSuppressed({ emailAddress: 'again@example.com', reason: 'COMPLAINT' });

    // Act
    const summary = await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));

    // Assess
    expect(summary.itemsWritten).toBe(1);
    expect((await item('again@example.com'))?.[regionAttribute('us-east-1')]).toMatchObject({ status: 'LISTED', reason: 'COMPLAINT' });
  });

  it('restarts from the watermark when SES expires the NextToken, then gives up after the restart limit', async () => {
    // Prepare
    emu.region('us-east-1').putSuppressedMany(
      Array.from({ length: 300 }, (_, i) => ({
        emailAddress: `t${i}@example.com`,
        reason: 'BOUNCE' as const,
        lastUpdateTime: new Date(Date.now() - HOUR),
      })),
    );
    let listCalls = 0;
    const ses = testSesClient(emu.endpoint, 'us-east-1');
    ses.middlewareStack.add(
      (next) => async (args) => {
        // Expire every token once the second page has been handed out.
        if (++listCalls === 2) emu.setNextTokenTtlMs(0);
        return next(args);
      },
      { step: 'initialize', name: 'expireTokens' },
    );

    // Act
    const failing = syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1', { ses }, { maxRestarts: 2 }));

    // Assess
    await expect(failing).rejects.toThrow(/abandoned: SES expired its NextToken 3 times/);
    const state = await new StateTable(tables.doc, tables.stateTable).load('us-east-1');
    expect(state.lastError).toMatchObject({ message: expect.stringContaining('NextToken') });
    expect(state.incremental).toBeUndefined();
    expect(state.leaseOwner).toBeUndefined();

    // A later run with healthy tokens completes and loses nothing.
    emu.setNextTokenTtlMs(300_000);
    const retry = await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));
    expect(retry.complete).toBe(true);
    expect(await scanAll(tables.doc, tables.suppressionTable)).toHaveLength(300);
    expect((await new StateTable(tables.doc, tables.stateTable).load('us-east-1')).lastError).toBeUndefined();
  });

  it('backs off on throttling and 5xx answers and still reads every entry', async () => {
    // Prepare
    emu.region('us-west-2').putSuppressedMany(
      Array.from({ length: 500 }, (_, i) => ({
        emailAddress: `x${i}@example.com`,
        reason: 'BOUNCE' as const,
        lastUpdateTime: new Date(Date.now() - HOUR),
      })),
    );
    emu.setFaults({ throttleRate: { 'us-west-2': 0.4 }, serverErrorRate: 0.1 });

    // Act
    const summary = await syncRegion({ region: 'us-west-2', mode: 'incremental' }, deps('us-west-2', {}, { maxAttempts: 30 }));

    // Assess
    expect(summary.complete).toBe(true);
    expect(summary.throttled).toBeGreaterThan(0);
    expect(summary.entriesRead).toBe(500);
    expect(await scanAll(tables.doc, tables.suppressionTable)).toHaveLength(500);
    expect(emu.stats().regions['us-west-2']?.ListSuppressedDestinations?.throttled).toBeGreaterThan(0);
  });

  it('skips a run while another invocation holds the region, queueing a full reconciliation', async () => {
    // Prepare
    const store = new StateTable(tables.doc, tables.stateTable);
    await store.acquireLease('us-east-1', 'someone-else', Date.now() + 60_000, Date.now());

    // Act
    const summary = await syncRegion({ region: 'us-east-1', mode: 'full' }, deps('us-east-1'));

    // Assess
    expect(summary).toMatchObject({ complete: false, pages: 0, skipped: expect.stringContaining('holds the lease') });
    const state = await store.load('us-east-1');
    expect(state.fullRequestedAt).toEqual(expect.any(String));
    expect(state.leaseOwner).toBe('someone-else');
    expect(
      (await tables.doc.send(new GetCommand({ TableName: tables.stateTable, Key: regionStateKey('us-east-1') }))).Item?.leaseOwner,
    ).toBe('someone-else');
  });

  it('runs a queued full reconciliation during the next incremental run', async () => {
    // Prepare
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'gone@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 5 * HOUR) });
    await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));
    emu.region('us-east-1').deleteSuppressed('gone@example.com');
    await new StateTable(tables.doc, tables.stateTable).requestFullPass('us-east-1', new Date().toISOString());

    // Act
    const summary = await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));

    // Assess
    expect(summary).toMatchObject({ complete: true, removals: 1, fullPassPending: false });
    expect(listedRegions((await item('gone@example.com'))!)).toEqual([]);
  });

  describe('firstSeen', () => {
    it('is the earliest LastUpdateTime of any region and spelling, whichever region syncs first', async () => {
      // Prepare
      const now = Date.now();
      const t = (hoursAgo: number) => new Date(now - hoursAgo * HOUR);
      emu.region('us-east-1').putSuppressed({ emailAddress: 'late@example.org', reason: 'BOUNCE', lastUpdateTime: t(1) });
      emu.region('us-west-2').putSuppressed({ emailAddress: 'LATE@example.org', reason: 'BOUNCE', lastUpdateTime: t(9) });
      emu.region('eu-west-1').putSuppressedMany([
        { emailAddress: 'Spelled@example.org', reason: 'BOUNCE', lastUpdateTime: t(2) },
        { emailAddress: 'spelled@example.org', reason: 'COMPLAINT', lastUpdateTime: t(30) },
      ]);

      // Act
      await syncRegion({ region: 'us-east-1', mode: 'incremental' }, deps('us-east-1'));
      const west = await syncRegion({ region: 'us-west-2', mode: 'incremental' }, deps('us-west-2'));
      await syncRegion({ region: 'eu-west-1', mode: 'incremental' }, deps('eu-west-1'));
      const westAgain = await syncRegion({ region: 'us-west-2', mode: 'full' }, deps('us-west-2'));

      // Assess
      expect(await item('late@example.org')).toMatchObject({ firstSeen: t(9).toISOString(), origin: 'ses:us-west-2' });
      expect(west.itemsWritten).toBe(1);
      expect(westAgain.itemsWritten).toBe(0);
      expect(await item('spelled@example.org')).toMatchObject({
        firstSeen: t(30).toISOString(),
        origin: 'ses:eu-west-1',
        [regionAttribute('eu-west-1')]: { address: 'Spelled@example.org', lastUpdateTime: t(2).toISOString() },
      });
    });

    it('is corrected by the next sync where an item records a later firstSeen than SES lists', async () => {
      // Prepare
      const listed = new Date(Date.now() - 50 * HOUR);
      emu.region('us-east-1').putSuppressed({ emailAddress: 'old.record@example.org', reason: 'BOUNCE', lastUpdateTime: listed });
      await syncRegion({ region: 'us-east-1', mode: 'full' }, deps('us-east-1'));
      await tables.doc.send(
        new UpdateCommand({
          TableName: tables.suppressionTable,
          Key: { address: 'old.record@example.org' },
          UpdateExpression: 'SET firstSeen = :later, origin = :origin',
          ExpressionAttributeValues: { ':later': new Date().toISOString(), ':origin': 'manual' },
        }),
      );

      // Act
      const summary = await syncRegion({ region: 'us-east-1', mode: 'full' }, deps('us-east-1'));

      // Assess
      expect(summary.itemsWritten).toBe(1);
      expect(await item('old.record@example.org')).toMatchObject({ firstSeen: listed.toISOString(), origin: 'ses:us-east-1' });
    });

    it('is the earliest LastUpdateTime of any region when several regions sync at once', async () => {
      // Prepare
      const regions = ['us-east-1', 'us-west-2', 'eu-west-1'];
      const base = Date.now() - 100 * HOUR;
      const expected = new Map<string, { firstSeen: string; origin: string }>();
      for (let i = 0; i < 150; i++) {
        const address = `person${i}@example.com`;
        // Each region lists the address at a different time; which region is earliest rotates with i.
        const times = regions.map((_, r) => new Date(base + (((i + r * 7) % 11) + r / 10) * HOUR));
        regions.forEach((region, r) => {
          emu.region(region).putSuppressed({ emailAddress: address, reason: 'BOUNCE', lastUpdateTime: times[r]! });
        });
        const earliest = times.reduce((min, time, r) => (time < times[min]! ? r : min), 0);
        expected.set(address, { firstSeen: times[earliest]!.toISOString(), origin: `ses:${regions[earliest]}` });
      }

      // Act
      await Promise.all(regions.map((region) => syncRegion({ region, mode: 'full' }, deps(region, {}, { pageSize: 10 }))));

      // Assess
      const items = await scanAll(tables.doc, tables.suppressionTable);
      const actual = new Map(items.map((i) => [String(i.address), { firstSeen: i.firstSeen, origin: i.origin }]));
      expect(actual).toEqual(expected);
    });
  });
});
