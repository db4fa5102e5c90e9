import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateImportJobCommand } from '@aws-sdk/client-sesv2';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lambdas/domain/clients';
import { originsOf } from '../lambdas/domain/origins';
import { parseSuppressionItem, propagatedAttribute, type SuppressionItem } from '../lambdas/domain/records';
import { Pacer } from '../lambdas/domain/retry';
import { StateTable } from '../lambdas/domain/state-table';
import { type PropagationDeps, propagate } from '../lambdas/sync/propagation';
import { syncRegion } from '../lambdas/sync/sync';
import { type LocalS3, startLocalS3 } from '../local/s3-local';
import { SesEmulator } from '../local/ses-emulator';
import {
  createTestTables,
  silentLogger,
  TEST_CREDENTIALS,
  type TestTables,
  testDynamoClient,
  testSesClient,
  testSyncDeps,
} from './support/local-aws';
import { waitFor } from './support/wait';

const REGION = 'us-west-2';
const BUCKET = `imports-${REGION}`;

describe('Function: propagate (bulk deltas as SES import jobs, local S3)', () => {
  let s3: LocalS3;
  let emu: SesEmulator;
  let tables: TestTables;
  let s3Client: S3Client;

  beforeAll(async () => {
    s3 = await startLocalS3();
    s3Client = new S3Client({ region: REGION, endpoint: s3.endpoint, credentials: TEST_CREDENTIALS, forcePathStyle: true });
    await s3Client.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  });
  afterAll(async () => {
    s3Client.destroy();
    await s3.stop();
  });
  beforeEach(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 3, s3Endpoint: s3.endpoint, importRowsPerSecond: 20_000 });
    tables = await createTestTables();
  });
  afterEach(async () => {
    await emu.stop();
  });

  const deps = (overrides: Partial<PropagationDeps> = {}): PropagationDeps => ({
    ses: testSesClient(emu.endpoint, REGION),
    s3: s3Client,
    doc: tables.doc,
    suppressionTable: tables.suppressionTable,
    stateTable: tables.stateTable,
    bucket: BUCKET,
    pacer: new Pacer(10_000),
    logger: silentLogger(),
    remainingMs: () => 900_000,
    options: { bulkThreshold: 100, backoffCapMs: 20 },
    ...overrides,
  });
  const item = async (address: string): Promise<SuppressionItem> =>
    parseSuppressionItem((await tables.doc.send(new GetCommand({ TableName: tables.suppressionTable, Key: { address } }))).Item ?? {});
  const seedEast = async (count: number) => {
    emu.region('us-east-1').putSuppressedMany(
      Array.from({ length: count }, (_, i) => ({
        emailAddress: `bulk${i}@example.com`,
        reason: i % 10 === 0 ? ('COMPLAINT' as const) : ('BOUNCE' as const),
        lastUpdateTime: new Date(Date.now() - 3600_000),
      })),
    );
    await syncRegion({ region: 'us-east-1', mode: 'incremental' }, testSyncDeps(emu.endpoint, tables, 'us-east-1'));
  };
  const jobsDone = () => emu.region(REGION).suppressedCount;

  const stateTable = () => new StateTable(tables.doc, tables.stateTable);
  /**
   * A virtual invocation clock that DynamoDB requests advance (a Scan page 500 ms, a write 20 ms), and the deps of an
   * invocation of `budgetMs` on it (100 items a page, a 2 s margin).
   */
  const virtualInvocation = (budgetMs: number) => {
    let spent = 0;
    const client = testDynamoClient();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        spent += context.commandName === 'ScanCommand' ? 500 : context.commandName === 'UpdateItemCommand' ? 20 : 0;
        return next(args);
      },
      { step: 'initialize', name: 'virtualClock' },
    );
    return deps({
      doc: documentClient(client),
      remainingMs: () => budgetMs - spent,
      options: { bulkThreshold: 100, scanPageSize: 100, marginMs: 2_000, backoffCapMs: 20 },
    });
  };
  const csvExists = async (s3Url: string): Promise<boolean> =>
    s3Client.send(new GetObjectCommand({ Bucket: BUCKET, Key: s3Url.replace(`s3://${BUCKET}/`, '') })).then(
      () => true,
      () => false,
    );

  it('hands a large delta to SES as an import job, follows it to completion and records every copy', async () => {
    // Prepare
    await seedEast(1_200);

    // Act
    const submitted = await propagate({ region: REGION, mode: 'enforce' }, deps());
    await waitFor(() => jobsDone() === 1_200, 30_000);
    const followed = await propagate({ region: REGION, mode: 'enforce' }, deps());
    await syncRegion({ region: REGION, mode: 'full' }, testSyncDeps(emu.endpoint, tables, REGION));
    const steady = await propagate({ region: REGION, mode: 'enforce' }, deps());

    // Assess
    expect(submitted).toMatchObject({ complete: true, importJobs: 1, pending: 1_200, added: 0, jobsInFlight: 1 });
    expect(followed).toMatchObject({ complete: true, confirmed: 1_200, alreadyListed: 1_200, importJobs: 0, jobsInFlight: 0 });
    expect(steady).toMatchObject({ complete: true, added: 0, withdrawn: 0, alreadyListed: 1_200, drift: { missing: 0, extra: 0 } });
    expect(emu.region(REGION).getSuppressed('bulk10@example.com')?.reason).toBe('COMPLAINT');
    const record = await item('bulk7@example.com');
    expect(record[propagatedAttribute(REGION)]).toMatchObject({ status: 'ADDED', via: 'import', addedAt: expect.any(String) });
    expect(record[propagatedAttribute(REGION)]?.job).toBeUndefined();
    // The sync listed our copies; they are not origins in us-west-2.
    expect(originsOf(record).map((o) => o.source)).toEqual(['ses:us-east-1']);
    // Settled jobs are forgotten by the next complete run.
    expect(await new StateTable(tables.doc, tables.stateTable).listJobs(REGION)).toEqual([]);
  });

  it('settles a job SES no longer knows (GetImportJob NotFound) as failed and re-plans its copies, instead of failing every run', async () => {
    // Prepare: a job handed to SES, whose id SES then does not know (expired from its history, or another account's)
    await seedEast(150);
    await propagate({ region: REGION, mode: 'enforce' }, deps());
    const [job] = await stateTable().listJobs(REGION);
    await stateTable().putJob({ ...job!, sesJobId: 'f00dfeed-0000-4000-8000-000000000000' });

    // Act
    const first = await propagate({ region: REGION, mode: 'enforce' }, deps());
    const afterFirst = await stateTable().listJobs(REGION);
    const second = await propagate({ region: REGION, mode: 'enforce' }, deps());

    // Assess
    expect(first).toMatchObject({ importJobsFailed: 1 });
    expect(afterFirst.find((j) => j.key === job!.key)).toMatchObject({
      status: 'FAILED',
      error: expect.stringContaining('SES does not know import job'),
    });
    expect(second).toMatchObject({ complete: true });
    await waitFor(() => jobsDone() === 150, 30_000);
  });

  it('retries the records SES failed, and withdraws a large delta with a DELETE job', async () => {
    // Prepare
    await seedEast(300);
    emu.region(REGION).failImportsFor(['bulk5@example.com', 'bulk6@example.com']);

    // Act: the job completes with 2 failed records, which the next run adds again (one call each: a small delta).
    await propagate({ region: REGION, mode: 'enforce' }, deps());
    await waitFor(() => emu.region(REGION).suppressedCount === 298, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const followed = await propagate({ region: REGION, mode: 'enforce' }, deps());
    // Every origin goes: us-east-1's list is emptied in the console, and a full sync sees it.
    emu.region('us-east-1').clearSuppressed();
    await syncRegion({ region: 'us-east-1', mode: 'full' }, testSyncDeps(emu.endpoint, tables, 'us-east-1'));
    const withdrawing = await propagate({ region: REGION, mode: 'enforce' }, deps());
    await waitFor(() => emu.region(REGION).suppressedCount === 0, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const settled = await propagate({ region: REGION, mode: 'enforce' }, deps());

    // Assess
    expect(followed).toMatchObject({ importJobsFailed: 1, confirmed: 298, added: 2 });
    expect(withdrawing).toMatchObject({ importJobs: 1, pending: 300 });
    // The DELETE job failed the same two records; they are withdrawn one call each.
    expect(settled).toMatchObject({ complete: true, withdrawn: 2, importJobsFailed: 1, drift: { missing: 0, extra: 0 } });
    expect(emu.region(REGION).suppressedCount).toBe(0);
    expect((await item('bulk5@example.com'))[propagatedAttribute(REGION)]).toMatchObject({ status: 'WITHDRAWN' });
    expect((await item('bulk5@example.com'))[propagatedAttribute(REGION)]?.job).toBeUndefined();
  });

  it('ends every invocation before its deadline while marking a large job, and still converges invocation by invocation', async () => {
    // Prepare: a virtual invocation clock that DynamoDB requests advance (a Scan page 500 ms, a write 20 ms), so
    // marking 400 copies for a job (8 s) cannot fit in one 6 s invocation.
    await seedEast(400);
    let spent = 0;
    const client = testDynamoClient();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        spent += context.commandName === 'ScanCommand' ? 500 : context.commandName === 'UpdateItemCommand' ? 20 : 0;
        return next(args);
      },
      { step: 'initialize', name: 'virtualClock' },
    );
    const budgetMs = 6_000;
    const invocation = () => {
      spent = 0;
      return deps({
        doc: documentClient(client),
        remainingMs: () => budgetMs - spent,
        options: { bulkThreshold: 100, scanPageSize: 100, marginMs: 2_000, backoffCapMs: 20 },
      });
    };

    // Act: invocations until one completes with nothing pending, as the schedule would run them.
    const overruns: number[] = [];
    for (let i = 0; i < 30; i++) {
      const summary = await propagate({ region: REGION, mode: 'enforce' }, invocation());
      overruns.push(Math.max(0, spent - budgetMs));
      if (spent > budgetMs) break;
      if (summary.jobsInFlight > 0)
        await waitFor(
          () =>
            emu
              .region(REGION)
              .listImportJobs()
              .every((j) => j.status !== 'PROCESSING'),
          30_000,
        );
      if (summary.complete && summary.jobsInFlight === 0 && summary.pending === 0) break;
    }

    // Assess
    expect(overruns.filter((ms) => ms > 0)).toEqual([]);
    expect(emu.region(REGION).suppressedCount).toBe(400);
  }, 180_000);
  it('ends every invocation before its deadline when one Scan page costs more than the margin, and completes over later ones', async () => {
    // Prepare: 300 addresses listed in us-east-1 and already on us-west-2's own list (nothing to add); a virtual clock on
    // which a Scan page of 100 items costs 3 s, more than the 2 s margin. An invocation of 8.5 s.
    const lut = new Date(Date.now() - 3600_000);
    for (const region of ['us-east-1', REGION]) {
      emu
        .region(region)
        .putSuppressedMany(
          Array.from({ length: 300 }, (_, i) => ({ emailAddress: `slow${i}@example.com`, reason: 'BOUNCE' as const, lastUpdateTime: lut })),
        );
      await syncRegion({ region, mode: 'incremental' }, testSyncDeps(emu.endpoint, tables, region));
    }
    const budgetMs = 8_500;
    let spent = 0;
    const client = testDynamoClient();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        spent += context.commandName === 'ScanCommand' ? 3_000 : 0;
        return next(args);
      },
      { step: 'initialize', name: 'virtualClock' },
    );

    // Act
    const runs: Array<{ spent: number; complete: boolean; scanned: number }> = [];
    for (let i = 0; i < 10; i++) {
      spent = 0;
      const summary = await propagate(
        { region: REGION, mode: 'enforce' },
        deps({
          doc: documentClient(client),
          remainingMs: () => budgetMs - spent,
          options: { bulkThreshold: 100, scanPageSize: 100, marginMs: 2_000, backoffCapMs: 20 },
        }),
      );
      runs.push({ spent, complete: summary.complete, scanned: summary.scanned });
      if (summary.complete) break;
    }

    // Assess: no invocation ran past its budget, the run took several, and no page was scanned twice.
    expect(runs.filter((r) => r.spent > budgetMs)).toEqual([]);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.at(-1)?.complete).toBe(true);
    expect(runs.reduce((n, r) => n + r.scanned, 0)).toBe(300);
  });

  it('ends an invocation whose deadline hand-over is throttled as a checkpoint, and the next run re-plans the copies at once', async () => {
    // Prepare: 300 adds; the deadline comes after two Scan pages (200 adds buffered), and CreateImportJob of the job
    // handed over at the deadline is throttled (a throttled request creates nothing).
    await seedEast(300);
    emu.failNextRequests(REGION, 1, 'throttle');

    // Act
    const first = await propagate({ region: REGION, mode: 'enforce' }, virtualInvocation(2_900));
    const afterFirst = await stateTable().listJobs(REGION);
    const second = await propagate({ region: REGION, mode: 'enforce' }, deps());
    await waitFor(() => jobsDone() === 300, 30_000);
    const third = await propagate({ region: REGION, mode: 'enforce' }, deps());

    // Assess: a checkpointed run, no error; the job SES never created is settled as failed, not left in flight.
    expect(first).toMatchObject({ complete: false, importJobs: 0, jobsInFlight: 0 });
    expect((await stateTable().load(REGION)).lastError).toBeUndefined();
    expect(afterFirst).toEqual([expect.objectContaining({ status: 'FAILED', error: expect.stringMatching(/throttled/) })]);
    expect(afterFirst[0]?.sesJobId).toBeUndefined();
    // The next invocation re-plans every copy into one new job (no 15-minute wait for a job SES never had).
    expect(second).toMatchObject({ importJobs: 1, pending: 300, jobsInFlight: 1 });
    expect(emu.region(REGION).listImportJobs()).toHaveLength(1);
    expect(third).toMatchObject({ complete: true, confirmed: 300, jobsInFlight: 0 });
  });

  it('ends an invocation whose deadline hand-over gets a 5xx as a checkpoint, leaving the job to the lost-job search', async () => {
    // Prepare
    await seedEast(300);
    emu.failNextRequests(REGION, 1, 'serverError');

    // Act
    const first = await propagate({ region: REGION, mode: 'enforce' }, virtualInvocation(2_900));
    const afterFirst = await stateTable().listJobs(REGION);
    const second = await propagate({ region: REGION, mode: 'enforce' }, deps());

    // Assess: SES may have created the job (a 5xx says nothing either way): it stays SUBMITTING, searched for by the
    // next runs; its copies are planned again meanwhile.
    expect(first).toMatchObject({ complete: false, importJobs: 0 });
    expect((await stateTable().load(REGION)).lastError).toBeUndefined();
    expect(afterFirst).toEqual([expect.objectContaining({ status: 'SUBMITTING' })]);
    expect(second).toMatchObject({ importJobs: 1, pending: 300 });
  });

  it('ends an invocation before its deadline while searching SES for a lost job, however many jobs SES lists', async () => {
    // Prepare: a job left SUBMITTING with no SES id (its CreateImportJob answered a 5xx), then 5 other jobs created in
    // SES after it. A virtual clock on which each ListImportJobs and GetImportJob takes 3 s, more than the 2 s margin;
    // the search asks about each of the 5 jobs: 18 s, in an invocation of 8.5 s.
    await seedEast(300);
    emu.failNextRequests(REGION, 1, 'serverError');
    await propagate({ region: REGION, mode: 'enforce' }, virtualInvocation(2_900));
    expect(await stateTable().listJobs(REGION)).toEqual([expect.objectContaining({ status: 'SUBMITTING' })]);
    await s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other.csv', Body: 'other@example.com,BOUNCE\n' }));
    for (let i = 0; i < 5; i++)
      await testSesClient(emu.endpoint, REGION).send(
        new CreateImportJobCommand({
          ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
          ImportDataSource: { S3Url: `s3://${BUCKET}/other.csv`, DataFormat: 'CSV' },
        }),
      );
    const budgetMs = 8_500;
    let spent = 0;
    const ses = testSesClient(emu.endpoint, REGION);
    ses.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListImportJobsCommand' || context.commandName === 'GetImportJobCommand') spent += 3_000;
        return next(args);
      },
      { step: 'initialize', name: 'virtualClock' },
    );

    // Act
    await propagate(
      { region: REGION, mode: 'enforce' },
      deps({ ses, remainingMs: () => budgetMs - spent, options: { bulkThreshold: 100, marginMs: 2_000, backoffCapMs: 20 } }),
    );

    // Assess: the invocation ended in time, without an error, the job still searched for by the next runs.
    expect(spent).toBeLessThanOrEqual(budgetMs);
    expect((await stateTable().load(REGION)).lastError).toBeUndefined();
    expect((await stateTable().listJobs(REGION)).filter((job) => job.status === 'SUBMITTING')).toHaveLength(1);
  });

  it('ends an invocation whose deadline comes while following its import jobs as a checkpoint', async () => {
    // Prepare: a job in SES; the next invocation has just its margin left, so a throttled GetImportJob has no time
    // for its backoff.
    await seedEast(300);
    await propagate({ region: REGION, mode: 'enforce' }, deps());
    await waitFor(() => jobsDone() === 300, 30_000);
    emu.failNextRequests(REGION, 8, 'throttle');

    // Act
    const late = await propagate(
      { region: REGION, mode: 'enforce' },
      deps({ pacer: new Pacer(10), remainingMs: () => 2_000, options: { bulkThreshold: 100, marginMs: 2_000, backoffCapMs: 20 } }),
    );
    const next = await propagate({ region: REGION, mode: 'enforce' }, deps());

    // Assess: the job not followed yet waits in flight, its copies too; the next invocation follows it.
    expect(late).toMatchObject({ jobsInFlight: 1, pending: 300, confirmed: 0 });
    expect((await stateTable().load(REGION)).lastError).toBeUndefined();
    expect(next).toMatchObject({ complete: true, confirmed: 300, jobsInFlight: 0 });
  });

  it.each([
    [
      'while marking its copies',
      (input: Record<string, unknown>) =>
        (input.ExpressionAttributeValues as { ':copy'?: { job?: string } } | undefined)?.[':copy']?.job !== undefined,
      40,
    ],
    [
      'after writing its CSV',
      (input: Record<string, unknown>) => (input.Item as { status?: string } | undefined)?.status === 'SUBMITTING',
      1,
    ],
  ])(
    'abandons a job an invocation crashed assembling (%s): its copies are planned again and its record and CSV cleaned up',
    async (_when, isTarget, nth) => {
      // Prepare: an invocation that crashes on the nth matching DynamoDB write while assembling its import job.
      await seedEast(300);
      const client = testDynamoClient();
      let seen = 0;
      client.middlewareStack.add(
        (next) => async (args) => {
          if (isTarget(args.input as Record<string, unknown>) && ++seen === nth) throw new Error('crash while assembling');
          return next(args);
        },
        { step: 'initialize', name: 'crash' },
      );
      await expect(propagate({ region: REGION, mode: 'enforce' }, deps({ doc: documentClient(client) }))).rejects.toThrow(
        'crash while assembling',
      );
      const [crashed] = await stateTable().listJobs(REGION);

      // Act
      const next = await propagate({ region: REGION, mode: 'enforce' }, deps());
      await waitFor(() => jobsDone() === 300, 30_000);
      const followed = await propagate({ region: REGION, mode: 'enforce' }, deps());
      const steady = await propagate({ region: REGION, mode: 'enforce' }, deps());

      // Assess
      expect(crashed).toMatchObject({ status: 'ASSEMBLING' });
      expect(next).toMatchObject({ importJobs: 1, pending: 300, jobsInFlight: 1 });
      expect(followed).toMatchObject({ complete: true, confirmed: 300 });
      expect(steady).toMatchObject({ complete: true, alreadyListed: 300, drift: { missing: 0, extra: 0 } });
      expect(await stateTable().listJobs(REGION)).toEqual([]);
      expect(await csvExists(crashed?.s3Url ?? '')).toBe(false);
    },
  );

  it('never reuses the key of a job an invocation of the same run crashed assembling', async () => {
    // Prepare: a run checkpointed by its first invocation (its hand-over throttled), then an invocation of that run
    // that crashes while marking its job's copies: the count of jobs it took was never checkpointed.
    await seedEast(300);
    emu.failNextRequests(REGION, 1, 'throttle');
    await propagate({ region: REGION, mode: 'enforce' }, virtualInvocation(2_900));
    const client = testDynamoClient();
    let marks = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        const copy = (args.input as { ExpressionAttributeValues?: { ':copy'?: { job?: string } } }).ExpressionAttributeValues?.[':copy'];
        if (copy?.job !== undefined && ++marks === 40) throw new Error('crash while assembling');
        return next(args);
      },
      { step: 'initialize', name: 'crash' },
    );
    await expect(propagate({ region: REGION, mode: 'enforce' }, deps({ doc: documentClient(client) }))).rejects.toThrow();
    const crashed = (await stateTable().listJobs(REGION)).find((job) => job.status === 'ASSEMBLING');

    // Act
    const resumed = await propagate({ region: REGION, mode: 'enforce' }, deps());
    const jobs = await stateTable().listJobs(REGION);

    // Assess: the resumed invocation's job has a key of its own; the crashed one is still on record, abandoned.
    expect(resumed).toMatchObject({ importJobs: 1, pending: 300 });
    expect(jobs.find((job) => job.key === crashed?.key)).toMatchObject({ status: 'FAILED' });
    expect(jobs.filter((job) => job.status === 'SUBMITTED' && job.key !== crashed?.key)).toHaveLength(1);
  });
});
