import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { type JobView, originsOf, planRegion } from '../lambdas/domain/origins';
import { parseSuppressionItem, propagatedAttribute, regionAttribute, type SuppressionItem } from '../lambdas/domain/records';
import { Pacer } from '../lambdas/domain/retry';
import { MAX_PENDING_ADDRESSES, StateTable } from '../lambdas/domain/state-table';
import {
  type PropagationDeps,
  propagate,
  propagateQueued,
  TARGETED_LEASE_WAIT_MS,
  TARGETED_OWNER_PREFIX,
} from '../lambdas/sync/propagation';
import { syncRegion } from '../lambdas/sync/sync';
import { SesEmulator } from '../local/ses-emulator';
import { createTestTables, silentLogger, type TestTables, testSesClient, testSyncDeps } from './support/local-aws';

const T0 = '2026-11-01T00:00:00.000Z';
const T1 = '2026-11-02T00:00:00.000Z';
const T2 = '2026-11-03T00:00:00.000Z';
const noJobs = (): JobView | undefined => undefined;

const entry = (
  address: string,
  lastUpdateTime: string,
  status: 'LISTED' | 'REMOVED' = 'LISTED',
  reason: 'BOUNCE' | 'COMPLAINT' = 'BOUNCE',
) => ({
  address,
  reason,
  lastUpdateTime,
  status,
  syncedAt: lastUpdateTime,
});

describe('Function: planRegion', () => {
  it('adds an address listed by another region, with that region’s spelling', () => {
    // Prepare
    const item = { address: 'a@example.com', [regionAttribute('us-east-1')]: entry('A@Example.com', T0) } as unknown as SuppressionItem;

    // Act
    const plan = planRegion(item, 'us-west-2', noJobs);

    // Assess
    expect(plan).toEqual({ kind: 'add', address: 'A@Example.com', reason: 'BOUNCE' });
  });

  it('leaves an entry SES lists on its own alone, and never counts our own copy as an origin', () => {
    // Prepare
    const ours = {
      address: 'b@example.com',
      [regionAttribute('us-east-1')]: entry('b@example.com', T0),
      [regionAttribute('us-west-2')]: entry('b@example.com', T1),
      [propagatedAttribute('us-west-2')]: {
        address: 'b@example.com',
        reason: 'BOUNCE',
        status: 'ADDED',
        requestedAt: T1,
        addedAt: T1,
        via: 'put',
      },
    } as unknown as SuppressionItem;
    const sesOwn = { ...ours, [regionAttribute('us-west-2')]: entry('b@example.com', T2) } as unknown as SuppressionItem;

    // Act & Assess
    expect(originsOf(ours).map((o) => o.source)).toEqual(['ses:us-east-1']);
    expect(planRegion(ours, 'us-west-2', noJobs)).toEqual({ kind: 'keep', why: 'ours' });
    // Stamped a day after our write: SES suppressed it again on its own; it is an origin now.
    expect(originsOf(sesOwn).map((o) => o.source)).toEqual(['ses:us-east-1', 'ses:us-west-2']);
    expect(planRegion(sesOwn, 'us-west-2', noJobs)).toEqual({ kind: 'keep', why: 'listed-by-ses' });
  });

  it('withdraws our copy once no origin is left, and never an entry SES added', () => {
    // Prepare
    const copy = { address: 'c@example.com', reason: 'BOUNCE', status: 'ADDED', requestedAt: T1, addedAt: T1, via: 'put' } as const;
    const orphan = {
      address: 'c@example.com',
      [regionAttribute('us-east-1')]: entry('c@example.com', T0, 'REMOVED'),
      [propagatedAttribute('us-west-2')]: copy,
    } as unknown as SuppressionItem;
    const sesOwnOnly = {
      address: 'd@example.com',
      [regionAttribute('us-west-2')]: entry('d@example.com', T0),
    } as unknown as SuppressionItem;

    // Act & Assess
    expect(planRegion(orphan, 'us-west-2', noJobs)).toEqual({ kind: 'withdraw', address: 'c@example.com', copy });
    expect(planRegion(sesOwnOnly, 'us-west-2', noJobs)).toEqual({ kind: 'keep', why: 'listed-by-ses' });
    expect(planRegion(sesOwnOnly, 'us-east-1', noJobs)).toEqual({ kind: 'add', address: 'd@example.com', reason: 'BOUNCE' });
  });

  it('waits for an import job in flight, confirms a completed one, and plans a failed record again', () => {
    // Prepare
    const item = {
      address: 'e@example.com',
      manual: { reason: 'COMPLAINT', status: 'LISTED', at: T0, by: 'ops' },
      [propagatedAttribute('eu-west-1')]: {
        address: 'e@example.com',
        reason: 'COMPLAINT',
        status: 'PENDING',
        requestedAt: T1,
        via: 'import',
        job: 'j1',
      },
    } as unknown as SuppressionItem;
    const job = (view: Partial<JobView>) => () => ({ action: 'PUT', status: 'SUBMITTED', ...view }) as JobView;

    // Act & Assess
    expect(planRegion(item, 'eu-west-1', job({}))).toEqual({ kind: 'keep', why: 'pending' });
    expect(planRegion(item, 'eu-west-1', job({ status: 'COMPLETED', completedAt: T2 }))).toMatchObject({ kind: 'confirm', addedAt: T2 });
    expect(planRegion(item, 'eu-west-1', job({ status: 'COMPLETED', completedAt: T2, failedKeys: new Set(['e@example.com']) }))).toEqual({
      kind: 'add',
      address: 'e@example.com',
      reason: 'COMPLAINT',
    });
    // A job that never reached SES (or failed): the copy may or may not be there, so it is added again.
    expect(planRegion(item, 'eu-west-1', noJobs)).toMatchObject({ kind: 'add' });
  });

  it('re-adds a copy the region lost (an operator removed it in the console) and upgrades a bounce to a complaint', () => {
    // Prepare
    const copy = { address: 'f@example.com', reason: 'BOUNCE', status: 'ADDED', requestedAt: T0, addedAt: T0, via: 'put' } as const;
    const removed = {
      address: 'f@example.com',
      manual: { reason: 'BOUNCE', status: 'LISTED', at: T0, by: 'ops' },
      [regionAttribute('us-west-2')]: { ...entry('f@example.com', T0, 'REMOVED'), removedAt: T1 },
      [propagatedAttribute('us-west-2')]: copy,
    } as unknown as SuppressionItem;
    const complaint = {
      address: 'f@example.com',
      manual: { reason: 'COMPLAINT', status: 'LISTED', at: T0, by: 'ops' },
      [propagatedAttribute('us-west-2')]: copy,
    } as unknown as SuppressionItem;

    // Act & Assess
    expect(planRegion(removed, 'us-west-2', noJobs)).toEqual({ kind: 'add', address: 'f@example.com', reason: 'BOUNCE' });
    expect(planRegion(complaint, 'us-west-2', noJobs)).toEqual({ kind: 'add', address: 'f@example.com', reason: 'COMPLAINT' });
  });
});

describe('Function: propagate (SES emulator + DynamoDB Local, one call per address)', () => {
  let emu: SesEmulator;
  let tables: TestTables;

  beforeEach(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 5 });
    tables = await createTestTables();
  });
  afterEach(async () => {
    await emu.stop();
  });

  const deps = (region: string, overrides: Partial<PropagationDeps> = {}): PropagationDeps => ({
    ses: testSesClient(emu.endpoint, region),
    // One call each below this many changes; the import-job path has its own tests.
    s3: undefined as never,
    doc: tables.doc,
    suppressionTable: tables.suppressionTable,
    stateTable: tables.stateTable,
    bucket: `imports-${region}`,
    pacer: new Pacer(10_000),
    logger: silentLogger(),
    remainingMs: () => 900_000,
    options: { bulkThreshold: 1_000, backoffCapMs: 20 },
    ...overrides,
  });
  const sync = (region: string, mode: 'incremental' | 'full' = 'incremental') =>
    syncRegion({ region, mode }, testSyncDeps(emu.endpoint, tables, region, { options: { pageSize: 100, backoffCapMs: 20 } }));
  const item = async (address: string): Promise<SuppressionItem> =>
    parseSuppressionItem((await tables.doc.send(new GetCommand({ TableName: tables.suppressionTable, Key: { address } }))).Item ?? {});
  const listed = (region: string) =>
    emu
      .region(region)
      .suppressed()
      .map((e) => e.emailAddress)
      .sort();

  it('puts an address that bounced only in us-east-1 on us-west-2’s list, and a later sync does not make it an origin', async () => {
    // Prepare
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'Relay.Bounce@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 3600_000) });
    emu
      .region('us-west-2')
      .putSuppressed({ emailAddress: 'west@example.com', reason: 'COMPLAINT', lastUpdateTime: new Date(Date.now() - 3600_000) });
    await sync('us-east-1');
    await sync('us-west-2');

    // Act
    const west = await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));
    const east = await propagate({ region: 'us-east-1', mode: 'enforce' }, deps('us-east-1'));
    await sync('us-west-2', 'full');
    const again = await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));

    // Assess
    expect(west).toMatchObject({
      region: 'us-west-2',
      mode: 'propagate',
      complete: true,
      added: 1,
      withdrawn: 0,
      alreadyListed: 1,
      pending: 0,
      importJobs: 0,
    });
    expect(east).toMatchObject({ complete: true, added: 1, alreadyListed: 1 });
    expect(listed('us-west-2')).toEqual(['Relay.Bounce@example.com', 'west@example.com']);
    expect(emu.region('us-east-1').getSuppressed('west@example.com')?.reason).toBe('COMPLAINT');
    const record = await item('relay.bounce@example.com');
    expect(record[propagatedAttribute('us-west-2')]).toMatchObject({ address: 'Relay.Bounce@example.com', status: 'ADDED', via: 'put' });
    expect(record[regionAttribute('us-west-2')]?.status).toBe('LISTED');
    expect(originsOf(record).map((o) => o.source)).toEqual(['ses:us-east-1']);
    expect(again).toMatchObject({ added: 0, withdrawn: 0, alreadyListed: 2, drift: { missing: 0, extra: 0 } });
  });

  it('withdraws the copies once the only origin is gone (removed in the console, seen by a full sync), and keeps SES’s own entries', async () => {
    // Prepare
    const hourAgo = new Date(Date.now() - 3600_000);
    emu.region('us-east-1').putSuppressed({ emailAddress: 'gone@example.com', reason: 'BOUNCE', lastUpdateTime: hourAgo });
    emu.region('us-west-2').putSuppressed({ emailAddress: 'own@example.com', reason: 'BOUNCE', lastUpdateTime: hourAgo });
    await sync('us-east-1');
    await sync('us-west-2');
    await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));
    await propagate({ region: 'us-east-1', mode: 'enforce' }, deps('us-east-1'));
    await sync('us-west-2', 'full');
    expect(listed('us-west-2')).toEqual(['gone@example.com', 'own@example.com']);
    expect(listed('us-east-1')).toEqual(['gone@example.com', 'own@example.com']);

    // Act
    emu.region('us-east-1').deleteSuppressed('gone@example.com');
    await sync('us-east-1', 'full');
    const summary = await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));

    // Assess
    expect(summary).toMatchObject({ complete: true, withdrawn: 1, added: 0 });
    expect(listed('us-west-2')).toEqual(['own@example.com']);
    const record = await item('gone@example.com');
    expect(record[propagatedAttribute('us-west-2')]).toMatchObject({ status: 'WITHDRAWN', withdrawnAt: expect.any(String) });
    expect(record[regionAttribute('us-west-2')]?.status).toBe('REMOVED');
    // SES's own entry in us-west-2 went to us-east-1 and stays in both.
    expect(listed('us-east-1')).toEqual(['own@example.com']);
  });

  it('keeps an entry SES listed again on its own after our write, when the other origins are gone', async () => {
    // Prepare
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'again@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 3600_000) });
    await sync('us-east-1');
    await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));
    const copy = (await item('again@example.com'))[propagatedAttribute('us-west-2')];
    // An operator removed it in us-west-2's console, then it bounced there again (stamped after our write).
    emu.region('us-west-2').deleteSuppressed('again@example.com');
    emu.region('us-west-2').putSuppressed({
      emailAddress: 'again@example.com',
      reason: 'COMPLAINT',
      lastUpdateTime: new Date(Date.parse(copy?.addedAt ?? '') + 60_000),
    });
    emu.region('us-east-1').deleteSuppressed('again@example.com');
    await sync('us-east-1', 'full');

    // Act: before us-west-2's sync has seen the new entry, then after.
    const before = await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));
    await sync('us-west-2', 'full');
    const after = await propagate({ region: 'us-east-1', mode: 'enforce' }, deps('us-east-1'));

    // Assess
    expect(before).toMatchObject({ withdrawn: 0 });
    expect(emu.region('us-west-2').getSuppressed('again@example.com')?.reason).toBe('COMPLAINT');
    expect(originsOf(await item('again@example.com')).map((o) => o.source)).toEqual(['ses:us-west-2']);
    expect(after).toMatchObject({ added: 1 });
  });

  it('reports drift without writing in report mode', async () => {
    // Prepare
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'r1@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 3600_000) });
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'r2@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 3600_000) });
    await sync('us-east-1');

    // Act
    const summary = await propagate({ region: 'eu-west-1', mode: 'report' }, deps('eu-west-1'));

    // Assess
    expect(summary).toMatchObject({ propagation: 'report', complete: true, added: 0, drift: { missing: 2, extra: 0 } });
    expect(listed('eu-west-1')).toEqual([]);
    expect((await item('r1@example.com'))[propagatedAttribute('eu-west-1')]).toBeUndefined();
  });

  it('settles a copy whose call landed before a crash: recorded while wanted, withdrawn once not', async () => {
    // Prepare: a PENDING record without its answer, as a crash right after the call leaves it.
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'crash@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 3600_000) });
    await sync('us-east-1');
    let calls = 0;
    const crashing = deps('us-west-2', {
      ses: new Proxy(testSesClient(emu.endpoint, 'us-west-2'), {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (command: { constructor: { name: string } }) => {
            const out = await target.send(command as never);
            if (command.constructor.name === 'PutSuppressedDestinationCommand' && ++calls === 1) throw new Error('crash after the call');
            return out;
          };
        },
      }),
    });
    await expect(propagate({ region: 'us-west-2', mode: 'enforce' }, crashing)).rejects.toThrow('crash after the call');
    expect((await item('crash@example.com'))[propagatedAttribute('us-west-2')]).toMatchObject({ status: 'PENDING', via: 'put' });

    // Act
    const settled = await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));
    emu.region('us-east-1').deleteSuppressed('crash@example.com');
    await sync('us-east-1', 'full');
    const withdrawn = await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));

    // Assess
    // The put had landed: SES holds our copy, so it is recorded without a second put.
    expect(settled).toMatchObject({ added: 0, alreadyListed: 1 });
    expect(withdrawn).toMatchObject({ withdrawn: 1 });
    expect(listed('us-west-2')).toEqual([]);
  });

  it('runs once per region at a time: a run that finds the lease held is skipped with the reason', async () => {
    // Prepare
    const { StateTable } = await import('../lambdas/domain/state-table');
    await new StateTable(tables.doc, tables.stateTable).acquireLease('us-west-2', 'someone-else', Date.now() + 60_000, Date.now());

    // Act
    const summary = await propagate({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'));

    // Assess
    expect(summary).toMatchObject({ complete: false, skipped: expect.stringContaining('holds the lease') });
  });

  it('a targeted run that finds the lease taken hands its addresses to the holder, which propagates them before it lets go', async () => {
    // Prepare: two bounces recorded in us-east-1; a targeted run holds us-west-2's lease.
    const lastUpdateTime = new Date(Date.now() - 60_000);
    for (const emailAddress of ['queued.one@example.com', 'queued.two@example.com'])
      emu.region('us-east-1').putSuppressed({ emailAddress, reason: 'BOUNCE', lastUpdateTime });
    await sync('us-east-1');
    const state = new StateTable(tables.doc, tables.stateTable);
    const holder = `${TARGETED_OWNER_PREFIX}holder`;
    await state.acquireLease('us-west-2', holder, Date.now() + 600_000, Date.now());
    let slept = 0;

    // Act: two later runs arrive while the lease is held; then the holder finishes.
    const later = await Promise.all(
      ['queued.one@example.com', 'queued.two@example.com'].map((address) =>
        propagate(
          { region: 'us-west-2', mode: 'enforce', addresses: [address] },
          deps('us-west-2', {
            sleep: async (ms) => {
              slept += ms;
            },
          }),
        ),
      ),
    );
    const beforeHolderLetGo = listed('us-west-2');
    const drained = await propagateQueued({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'), holder);

    // Assess: the later runs returned at once (no polling), the holder propagated both and gave the lease back.
    expect(slept).toBe(0);
    for (const summary of later) expect(summary).toMatchObject({ queued: 1, skipped: expect.stringContaining('before it lets go') });
    expect(beforeHolderLetGo).toEqual([]);
    expect(drained.released).toBe(true);
    expect(drained.summaries.reduce((n, summary) => n + summary.added, 0)).toBe(2);
    expect(listed('us-west-2')).toEqual(['queued.one@example.com', 'queued.two@example.com']);
    expect((await state.load('us-west-2')).leaseOwner).toBeUndefined();
  });

  it('the holder cannot let go while addresses are queued: one queued after its last look is propagated, not stranded', async () => {
    // Prepare
    const state = new StateTable(tables.doc, tables.stateTable);
    await state.acquireLease('eu-west-1', 'holder', Date.now() + 60_000, Date.now());
    expect(await state.takePendingAddresses('eu-west-1', 'holder')).toEqual([]);

    // Act: an address is queued between the holder's last look and its release.
    expect(await state.queuePendingAddresses('eu-west-1', ['late@example.com'])).toBe(true);
    const releasedWithQueue = await state.releaseLease('eu-west-1', 'holder', { unlessPending: true });
    const taken = await state.takePendingAddresses('eu-west-1', 'holder');
    const releasedAfter = await state.releaseLease('eu-west-1', 'holder', { unlessPending: true });

    // Assess
    expect(releasedWithQueue).toBe(false);
    expect(taken).toEqual(['late@example.com']);
    expect(releasedAfter).toBe(true);
    expect((await state.load('eu-west-1')).leaseOwner).toBeUndefined();
  });

  it('a sync that holds the lease propagates the queued addresses before it lets go (the handler wiring)', async () => {
    // Prepare: an address listed in us-east-1 only; a targeted run for us-west-2 queued while a sync held the lease.
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'behind.sync@example.com', reason: 'COMPLAINT', lastUpdateTime: new Date(Date.now() - 60_000) });
    await sync('us-east-1');
    const state = new StateTable(tables.doc, tables.stateTable);
    expect(await state.queuePendingAddresses('us-west-2', ['behind.sync@example.com'])).toBe(true);

    // Act: us-west-2's sync, wired as the handler wires it.
    await syncRegion(
      { region: 'us-west-2', mode: 'incremental' },
      testSyncDeps(emu.endpoint, tables, 'us-west-2', {
        options: { pageSize: 100, backoffCapMs: 20 },
        beforeRelease: async (owner) =>
          (await propagateQueued({ region: 'us-west-2', mode: 'enforce' }, deps('us-west-2'), owner)).released,
      }),
    );

    // Assess
    expect(emu.region('us-west-2').getSuppressed('behind.sync@example.com')).toBeDefined();
    expect((await state.load('us-west-2')).leaseOwner).toBeUndefined();
  });

  /** Fills the region's queue, so a targeted run falls back to waiting for the lease. */
  const fillQueue = async (region: string): Promise<void> => {
    const state = new StateTable(tables.doc, tables.stateTable);
    const filler = Array.from({ length: MAX_PENDING_ADDRESSES }, (_, i) => `filler.${i}@example.com`);
    for (let i = 0; i < filler.length; i += 500) expect(await state.queuePendingAddresses(region, filler.slice(i, i + 500))).toBe(true);
    expect(await state.queuePendingAddresses(region, ['one.more@example.com'])).toBe(false);
  };

  it('with the queue full, a targeted run waits behind other targeted runs past the lease wait (a burst), and still propagates its addresses', async () => {
    // Prepare: a bounce recorded in us-east-1; us-west-2's lease held by an earlier targeted run that needs longer
    // than the lease wait (a burst: 25 addresses at 2 paced SES calls each take about 52 s, a third batch waits 104 s).
    emu
      .region('us-east-1')
      .putSuppressed({ emailAddress: 'burst.late@example.com', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 60_000) });
    await sync('us-east-1');
    await fillQueue('us-west-2');
    const state = new StateTable(tables.doc, tables.stateTable);
    const earlier = `${TARGETED_OWNER_PREFIX}earlier-run`;
    await state.acquireLease('us-west-2', earlier, Date.now() + 600_000, Date.now());
    let slept = 0;
    const sleep = async (ms: number) => {
      slept += ms;
      // The earlier run finishes after twice the lease wait.
      if (slept >= 2 * TARGETED_LEASE_WAIT_MS) await state.releaseLease('us-west-2', earlier);
    };

    // Act
    const summary = await propagate(
      { region: 'us-west-2', mode: 'enforce', addresses: ['burst.late@example.com'] },
      deps('us-west-2', { sleep }),
    );

    // Assess
    expect(summary.skipped).toBeUndefined();
    expect(summary).toMatchObject({ added: 1 });
    expect(emu.region('us-west-2').getSuppressed('burst.late@example.com')).toBeDefined();
  });

  it('with the queue full, a targeted run gives up after the lease wait when a sync holds the lease (its pass propagates the addresses)', async () => {
    // Prepare
    await fillQueue('eu-west-1');
    await new StateTable(tables.doc, tables.stateTable).acquireLease('eu-west-1', 'a-sync-run', Date.now() + 600_000, Date.now());
    let slept = 0;

    // Act
    const summary = await propagate(
      { region: 'eu-west-1', mode: 'enforce', addresses: ['someone@example.com'] },
      deps('eu-west-1', {
        sleep: async (ms) => {
          slept += ms;
        },
      }),
    );

    // Assess
    expect(summary).toMatchObject({ skipped: expect.stringContaining('holds the lease') });
    expect(slept).toBe(TARGETED_LEASE_WAIT_MS);
  });
});
