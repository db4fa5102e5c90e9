import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateImportJobCommand,
  type CreateImportJobCommandOutput,
  DeleteSuppressedDestinationCommand,
  GetImportJobCommand,
  type GetImportJobCommandOutput,
  GetSuppressedDestinationCommand,
  ListImportJobsCommand,
  PutSuppressedDestinationCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAX_TARGETED_ADDRESSES, type PropagationSummary } from '../../client/sync-contract';
import { canonicalAddress } from '../domain/address';
import { forEachLimit } from '../domain/batch';
import { StepBudget } from '../domain/deadline';
import { jobView, planRegion, type RegionPlan } from '../domain/origins';
import {
  type ImportJobRecord,
  PROPAGATION_CLOCK_SKEW_MS,
  type PropagatedEntry,
  type PropagationState,
  propagatedAttribute,
  type RegionSyncState,
  type SuppressionItem,
  type SuppressionReason,
} from '../domain/records';
import { backoffDelay, isRetryable, isThrottle, type Pacer } from '../domain/retry';
import { StateTable } from '../domain/state-table';
import { SuppressionTable } from '../domain/suppression-table';
import type { PropagationMode } from './settings';

/**
 * Propagation: makes one region's SES suppression list hold every address suppressed anywhere (an origin: listed by
 * SES on its own in some region, a manual suppression, an imported row), and withdraws the copies it added once no
 * origin is left. Each copy is recorded on the canonical item (`propagated:<region>`) before SES is asked, so a crash
 * at any point leaves a record that the next run settles, and a later sync of the region never mistakes our copy for
 * a new origin (see `origins.ts`).
 *
 * Delivery by delta size: fewer than `bulkThreshold` changes are made one call each (PutSuppressedDestination,
 * DeleteSuppressedDestination), paced with the sync's calls of the region; more go to SES as import jobs (a CSV in
 * the region's import bucket; up to 100,000 addresses an add job and 10,000 a delete job), tracked until SES
 * reports them done, their failed records retried by the next run.
 */

/** SES's documented maximum of addresses in one import job that adds to the suppression list. */
export const ADD_JOB_LIMIT = 100_000;
/** SES's documented maximum of addresses in one import job that deletes from the suppression list. */
export const DELETE_JOB_LIMIT = 10_000;

/** Tunables of a propagation run; every one has a production default. */
export interface PropagationOptions {
  /** A delta of at least this many addresses goes to SES as import jobs. @default 500 */
  readonly bulkThreshold?: number;
  /** Stop and checkpoint when less than this much invocation time remains. @default 20 seconds */
  readonly marginMs?: number;
  /** Attempts per SES call on throttling and 5xx. @default 8 */
  readonly maxAttempts?: number;
  /** Upper bound of one backoff delay. @default 20 seconds */
  readonly backoffCapMs?: number;
  /** Canonical item writes in flight at once. @default 32 */
  readonly writeConcurrency?: number;
  /**
   * Items per Scan page (its `Limit`), which bounds a page's cost; 0 for DynamoDB's 1 MB pages. @default 1000
   * (the sync's sweep, measured on DynamoDB Local: a 100,000-item table scanned 5× faster in pages of 1,000 than in
   * 1 MB pages, no page of 1,000 longer than 0.2 s where 1 MB pages took up to 3.6 s)
   */
  readonly scanPageSize?: number;
  /** A job handed to SES but never seen there after this long is given up as never created. @default 15 minutes */
  readonly lostJobMs?: number;
  /** Adds of one copy SES refused before it is reported and left alone. @default 3 */
  readonly maxAddAttempts?: number;
}

/** What a propagation run needs. */
export interface PropagationDeps {
  readonly ses: SESv2Client;
  readonly s3: S3Client;
  readonly doc: DynamoDBDocumentClient;
  readonly suppressionTable: string;
  readonly stateTable: string;
  /** The region's import bucket (same region as its SES). */
  readonly bucket: string;
  /** The region's pacer of suppression-list calls, shared with its sync. */
  readonly pacer: Pacer;
  readonly logger: Logger;
  readonly remainingMs: () => number;
  readonly now?: () => number;
  /** Waits `ms` (tests pass a fake). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Plain HTTP GET of SES's failed-records file (a pre-signed URL). */
  readonly fetchText?: (url: string) => Promise<string>;
  readonly options?: PropagationOptions;
}

/** What to propagate. */
export interface PropagationRequest {
  readonly region: string;
  /** `enforce` writes; `report` (also a dry run) only computes what would change. */
  readonly mode: Exclude<PropagationMode, 'off'>;
  /** Canonical keys to converge instead of the whole table (a targeted run: no scan, no checkpoint, no jobs). */
  readonly addresses?: readonly string[];
}

const DEFAULTS = {
  bulkThreshold: 500,
  marginMs: 20_000,
  maxAttempts: 8,
  backoffCapMs: 20_000,
  writeConcurrency: 32,
  scanPageSize: 1000,
  lostJobMs: 15 * 60_000,
  maxAddAttempts: 3,
} satisfies Required<PropagationOptions>;

class DeadlineReached extends Error {
  /** `operation`: the SES call whose next attempt would not fit before the deadline. */
  constructor(readonly operation?: string) {
    super('invocation deadline reached');
    this.name = 'DeadlineReached';
  }
}

/** What the attempts of one SES call tell about whether SES acted on it. */
interface CallOutcome {
  /**
   * False while every attempt was refused before SES acted (throttled, or a 4xx); true once one may have been acted
   * on (a 5xx, a timeout, a lost connection, or an SDK-level retry this loop did not see).
   */
  mayHaveActed: boolean;
}

interface AddAction {
  readonly key: string;
  readonly address: string;
  readonly reason: SuppressionReason;
  readonly attempts: number;
  /** Our earlier copy in the region, if any (a put whose answer never came, a withdrawn or lost copy). */
  readonly prior?: PropagatedEntry;
}

interface WithdrawAction {
  readonly key: string;
  readonly copy: PropagatedEntry;
}

/**
 * Converges one region, holding its lease as `owner` (the caller took it: the same lease as the region's sync, so the
 * two never run at once and never exceed SES's rate together). Resumes the run a previous invocation checkpointed.
 */
export async function propagateRegion(
  request: PropagationRequest,
  deps: PropagationDeps,
  owner: string,
  st: RegionSyncState,
): Promise<PropagationSummary> {
  return new PropagationRun(request, deps, owner, st).run();
}

class PropagationRun {
  private readonly now: () => number;
  /** Time a Scan page with its planning took, and a one-by-one action: no step is started that would overrun the deadline. */
  private readonly budgets: { scan: StepBudget; action: StepBudget; jobs: StepBudget };
  private readonly opts: Required<PropagationOptions>;
  private readonly state: StateTable;
  private readonly table: SuppressionTable;
  private readonly started: number;
  private readonly jobs = new Map<string, ImportJobRecord>();
  private readonly counts = {
    added: 0,
    withdrawn: 0,
    alreadyListed: 0,
    pending: 0,
    confirmed: 0,
    wantedMissing: 0,
    unwanted: 0,
    failed: 0,
    importJobs: 0,
    jobsFailed: 0,
    scanned: 0,
  };

  constructor(
    private readonly request: PropagationRequest,
    private readonly deps: PropagationDeps,
    private readonly owner: string,
    private readonly st: RegionSyncState,
  ) {
    this.now = deps.now ?? Date.now;
    this.opts = { ...DEFAULTS, ...definedOnly(deps.options ?? {}) };
    this.state = new StateTable(deps.doc, deps.stateTable);
    this.table = new SuppressionTable(deps.doc, deps.suppressionTable);
    this.started = this.now();
    this.budgets = {
      scan: new StepBudget(deps.remainingMs, this.opts.marginMs),
      action: new StepBudget(deps.remainingMs, this.opts.marginMs),
      // Each SES call (or failed-records download) made to follow import jobs.
      jobs: new StepBudget(deps.remainingMs, this.opts.marginMs),
    };
  }

  private get enforce(): boolean {
    return this.request.mode === 'enforce';
  }

  async run(): Promise<PropagationSummary> {
    if (this.request.addresses) return this.runTargeted(this.request.addresses);
    const { region } = this.request;
    for (const job of await this.state.listJobs(region)) this.jobs.set(job.key, job);
    if (this.enforce) {
      try {
        await this.followJobs();
      } catch (error) {
        // SES had no room for a GetImportJob or ListImportJobs before the deadline: the jobs not followed yet are
        // followed by the next invocation (their copies wait as in flight), and this one checkpoints as usual.
        if (!(error instanceof DeadlineReached)) throw error;
        this.deps.logger.info('import jobs not all followed before the deadline', { operation: error.operation });
      }
    }

    // A report never touches the checkpoint of an enforcing run: it scans the whole table in this invocation.
    const previous = this.enforce ? this.st.propagation?.run : undefined;
    const run = previous ?? { runId: `p${this.started.toString(36)}${this.owner.slice(0, 6)}`, startedAt: iso(this.started), jobs: 0 };
    let scanKey = previous?.scanKey;
    let bufferStart = scanKey;
    const adds: AddAction[] = [];
    const withdraws: WithdrawAction[] = [];
    let complete = false;
    try {
      for (;;) {
        // A page (the Scan and the page's settling writes) starts only while the time left covers the margin and twice
        // the slowest page so far: a page slower than the margin must not run past the deadline (see StepBudget).
        if (!this.budgets.scan.hasRoom()) throw new DeadlineReached();
        const nextKey = await this.budgets.scan.time(async () => {
          const page = await this.table.scanItems(scanKey, this.opts.scanPageSize || undefined);
          this.counts.scanned += page.items.length;
          await this.planPage(page.items, adds, withdraws);
          return page.nextKey;
        });
        scanKey = nextKey;
        // Full jobs go out as soon as they fill, so a first convergence of millions never holds more than one in memory.
        if (this.enforce && adds.length >= ADD_JOB_LIMIT) await handOver(adds, ADD_JOB_LIMIT, (a) => this.submitAdds(a, run));
        if (this.enforce && withdraws.length >= DELETE_JOB_LIMIT)
          await handOver(withdraws, DELETE_JOB_LIMIT, (w) => this.submitWithdrawals(w, run));
        if (adds.length === 0 && withdraws.length === 0) bufferStart = scanKey;
        if (!scanKey) break;
      }
      if (this.enforce) await this.deliver(adds, withdraws, run);
      complete = true;
    } catch (error) {
      if (!(error instanceof DeadlineReached)) throw error;
      // Whatever is still buffered is found again by the next invocation, which rescans from where the buffer began
      // (copies already written are settled by then and planned as `keep`). A job takes only the copies marked before
      // half the margin is gone; the rest stay buffered. The hand-over is skipped when SES just had no room for a
      // CreateImportJob, and may itself reach the deadline (CreateImportJob throttled again): its copies then stay
      // buffered too, and the invocation still ends as a checkpoint, never as an error.
      if (this.enforce && error.operation !== 'CreateImportJob') {
        try {
          if (adds.length >= this.opts.bulkThreshold) await handOver(adds, adds.length, (a) => this.submitAdds(a, run));
          if (withdraws.length >= this.opts.bulkThreshold)
            await handOver(withdraws, withdraws.length, (w) => this.submitWithdrawals(w, run));
        } catch (handOverError) {
          if (!(handOverError instanceof DeadlineReached)) throw handOverError;
          this.deps.logger.warn('import job not handed to SES before the deadline', { operation: handOverError.operation });
        }
      }
      if (adds.length === 0 && withdraws.length === 0) bufferStart = scanKey;
      this.deps.logger.info('propagation checkpointed before the deadline', { runId: run.runId });
    }

    if (!this.enforce) {
      this.counts.wantedMissing += adds.length;
      this.counts.unwanted += withdraws.length;
    }
    const summary = this.summary(complete, run.runId);
    if (this.enforce) {
      const propagation: PropagationState = {
        ...(this.st.propagation ?? {}),
        lastRunAt: iso(this.now()),
        ...(complete ? { lastCompleteAt: iso(this.now()), lastSummary: { ...summary } } : {}),
      };
      if (complete) delete propagation.run;
      else propagation.run = { ...run, ...(bufferStart ? { scanKey: bufferStart } : {}), jobs: run.jobs };
      if (!complete && !bufferStart) delete propagation.run?.scanKey;
      await this.state.save(region, this.owner, { propagation });
      this.st.propagation = propagation;
      if (complete) await this.forgetSettledJobs(run.startedAt);
    }
    return summary;
  }

  /** Plans each item of a page; confirms and settles records at once, buffers adds and withdrawals. */
  private async planPage(items: readonly SuppressionItem[], adds: AddAction[], withdraws: WithdrawAction[]): Promise<void> {
    const { region } = this.request;
    const settle: Array<{ key: string; copy: PropagatedEntry }> = [];
    for (const item of items) {
      const plan: RegionPlan = planRegion(item, region, (key) => jobView(this.jobs.get(key)), this.st.lastFullListingFrom);
      switch (plan.kind) {
        case 'keep':
          if (plan.why === 'listed-by-ses' || plan.why === 'ours') this.counts.alreadyListed++;
          if (plan.why === 'pending') this.counts.pending++;
          break;
        case 'confirm':
          this.counts.alreadyListed++;
          this.counts.confirmed++;
          settle.push({ key: item.address, copy: withoutJob({ ...plan.copy, status: 'ADDED', addedAt: plan.addedAt, attempts: 0 }) });
          break;
        case 'forget':
          settle.push({
            key: item.address,
            copy: withoutJob({ ...plan.copy, status: 'WITHDRAWN', withdrawnAt: plan.copy.withdrawnAt ?? iso(this.now()) }),
          });
          break;
        case 'add': {
          const attempts =
            (item[propagatedAttribute(region)]?.status === 'PENDING' ? (item[propagatedAttribute(region)]?.attempts ?? 0) : 0) + 1;
          if (attempts > this.opts.maxAddAttempts) {
            // SES refused this copy every time (a failed record, a rejected address): report it, do not loop on it.
            this.counts.failed++;
            this.counts.wantedMissing++;
            break;
          }
          const prior = item[propagatedAttribute(region)];
          adds.push({ key: item.address, address: plan.address, reason: plan.reason, attempts, ...(prior ? { prior } : {}) });
          break;
        }
        case 'withdraw':
          withdraws.push({ key: item.address, copy: plan.copy });
          break;
      }
    }
    if (this.enforce) {
      await forEachLimit(settle, this.opts.writeConcurrency, async ({ key, copy }) => {
        await this.table.putPropagated(key, region, copy);
      });
    }
  }

  /** Small deltas one call each, large ones as import jobs; stops at the deadline. */
  private async deliver(adds: AddAction[], withdraws: WithdrawAction[], run: NonNullable<PropagationState['run']>): Promise<void> {
    if (adds.length >= this.opts.bulkThreshold) await handOver(adds, adds.length, (a) => this.submitAdds(a, run));
    if (withdraws.length >= this.opts.bulkThreshold) await handOver(withdraws, withdraws.length, (w) => this.submitWithdrawals(w, run));
    await this.deliverOneByOne(adds, withdraws);
  }

  /** One SES call per action, withdrawals first; each done action leaves its buffer (so a deadline loses none). */
  private async deliverOneByOne(adds: AddAction[], withdraws: WithdrawAction[]): Promise<void> {
    // Each action is two paced SES calls and its writes: started only while the slowest one so far still fits.
    while (withdraws.length > 0) {
      if (!this.budgets.action.hasRoom()) throw new DeadlineReached();
      const action = withdraws[0] as WithdrawAction;
      await this.budgets.action.time(() => this.withdrawOne(action));
      withdraws.shift();
    }
    while (adds.length > 0) {
      if (!this.budgets.action.hasRoom()) throw new DeadlineReached();
      const action = adds[0] as AddAction;
      await this.budgets.action.time(() => this.addOne(action));
      adds.shift();
    }
  }

  /**
   * Puts one address on the list: recorded PENDING before the call, ADDED after its answer. SES is asked first: an
   * entry it holds that is not our copy (it suppressed the address on its own since the region's last sync) is left
   * alone, since PutSuppressedDestination would overwrite it and its origin would be lost; the next sync records it.
   */
  private async addOne(action: AddAction): Promise<void> {
    const { region } = this.request;
    const existing = await this.getListed(action.address);
    if (existing !== undefined) {
      const prior = action.prior;
      const ours =
        prior !== undefined &&
        existing.at >= Date.parse(prior.requestedAt) - PROPAGATION_CLOCK_SKEW_MS &&
        (prior.status === 'PENDING' ||
          (prior.addedAt !== undefined && existing.at <= Date.parse(prior.addedAt) + PROPAGATION_CLOCK_SKEW_MS));
      if (!ours) {
        this.counts.alreadyListed++;
        return;
      }
      if (existing.reason === action.reason || existing.reason === 'COMPLAINT') {
        // Our earlier put landed (its answer was lost): record it.
        await this.table.putPropagated(action.key, region, {
          ...prior,
          reason: existing.reason,
          status: 'ADDED',
          addedAt: iso(this.now()),
          attempts: 0,
        });
        this.counts.alreadyListed++;
        return;
      }
    }
    const requestedAt = iso(this.now());
    const pending: PropagatedEntry = {
      address: action.address,
      reason: action.reason,
      status: 'PENDING',
      requestedAt,
      via: 'put',
      attempts: action.attempts,
    };
    if (!(await this.table.putPropagated(action.key, region, pending))) return;
    try {
      await this.call('PutSuppressedDestination', () =>
        this.deps.ses.send(new PutSuppressedDestinationCommand({ EmailAddress: action.address, Reason: action.reason })),
      );
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // SES refused this address (a 4xx): the PENDING record counts the attempt; the next run tries again, up to a limit.
      this.counts.failed++;
      this.counts.wantedMissing++;
      this.deps.logger.warn('SES refused a propagated address', { error: (error as Error).name, attempts: action.attempts });
      return;
    }
    await this.table.putPropagated(action.key, region, { ...pending, status: 'ADDED', addedAt: iso(this.now()), attempts: 0 });
    this.counts.added++;
  }

  /**
   * Removes our copy: asks SES first, so an entry SES re-suppressed on its own since our write (stamped after it) is
   * left alone, then deletes exactly the spelling we wrote and marks the region's entry REMOVED.
   */
  private async withdrawOne({ key, copy }: WithdrawAction): Promise<void> {
    const { region } = this.request;
    const ours = Date.parse(copy.addedAt ?? copy.withdrawnAt ?? iso(this.now())) + PROPAGATION_CLOCK_SKEW_MS;
    const listedAt = (await this.getListed(copy.address))?.at;
    const at = iso(this.now());
    if (listedAt !== undefined && listedAt > ours) {
      // SES listed it again on its own after our write: no longer our copy to remove; the next sync records the origin.
      await this.table.putPropagated(key, region, withoutJob({ ...copy, status: 'WITHDRAWN', withdrawnAt: at }));
      return;
    }
    if (listedAt !== undefined) {
      try {
        await this.call('DeleteSuppressedDestination', () =>
          this.deps.ses.send(new DeleteSuppressedDestinationCommand({ EmailAddress: copy.address })),
        );
      } catch (error) {
        if ((error as Error).name !== 'NotFoundException') throw error;
      }
    }
    const confirmedAt = copy.addedAt ?? at;
    await this.table.putPropagated(key, region, withoutJob({ ...copy, addedAt: confirmedAt, status: 'WITHDRAWN', withdrawnAt: at }));
    await this.table.markRegionRemoved(key, region, copy.address, iso(Date.parse(confirmedAt) + PROPAGATION_CLOCK_SKEW_MS + 1), at);
    this.counts.withdrawn++;
  }

  /** The region's entry of exactly `address` (GetSuppressedDestination), or undefined when SES has none. */
  private async getListed(address: string): Promise<{ at: number; reason: SuppressionReason } | undefined> {
    try {
      const out = await this.call('GetSuppressedDestination', () =>
        this.deps.ses.send(new GetSuppressedDestinationCommand({ EmailAddress: address })),
      );
      const found = out.SuppressedDestination;
      if (!found?.LastUpdateTime) return undefined;
      return { at: found.LastUpdateTime.getTime(), reason: found.Reason === 'COMPLAINT' ? 'COMPLAINT' : 'BOUNCE' };
    } catch (error) {
      if ((error as Error).name === 'NotFoundException') return undefined;
      throw error;
    }
  }

  /** Hands adds to SES as import jobs (at most {@link ADD_JOB_LIMIT} each); returns the adds time left unmarked. */
  private async submitAdds(adds: readonly AddAction[], run: NonNullable<PropagationState['run']>): Promise<AddAction[]> {
    for (let i = 0; i < adds.length; i += ADD_JOB_LIMIT) {
      const left = await this.submitJob(
        'PUT',
        adds.slice(i, i + ADD_JOB_LIMIT),
        (a) => ({ address: a.address, reason: a.reason }),
        run,
        (a, job, requestedAt) =>
          this.table.putPropagated(a.key, this.request.region, {
            address: a.address,
            reason: a.reason,
            status: 'PENDING',
            requestedAt,
            via: 'import',
            job,
            attempts: a.attempts,
          }),
      );
      if (left.length > 0) return [...left, ...adds.slice(i + ADD_JOB_LIMIT)];
    }
    return [];
  }

  /** Hands withdrawals to SES as DELETE import jobs (at most {@link DELETE_JOB_LIMIT} each); returns those left unmarked. */
  private async submitWithdrawals(
    withdraws: readonly WithdrawAction[],
    run: NonNullable<PropagationState['run']>,
  ): Promise<WithdrawAction[]> {
    for (let i = 0; i < withdraws.length; i += DELETE_JOB_LIMIT) {
      const left = await this.submitJob(
        'DELETE',
        withdraws.slice(i, i + DELETE_JOB_LIMIT),
        (w) => ({ address: w.copy.address, reason: w.copy.reason }),
        run,
        (w, job, requestedAt) =>
          this.table.putPropagated(w.key, this.request.region, {
            ...w.copy,
            addedAt: w.copy.addedAt ?? requestedAt,
            status: 'WITHDRAWN',
            withdrawnAt: requestedAt,
            via: 'import',
            job,
          }),
      );
      if (left.length > 0) return [...left, ...withdraws.slice(i + DELETE_JOB_LIMIT)];
    }
    return [];
  }

  /**
   * One import job: recorded (ASSEMBLING), the copies marked with its key, the CSV written, recorded again
   * (SUBMITTING), handed to SES, recorded with SES's id (SUBMITTED). A crash at any step leaves records the next run
   * settles: copies of a job SES never got are planned again.
   *
   * Marking is one write per copy, up to 100,000 of them: it stops once half the deadline margin is gone, and the job
   * carries only the copies marked (the CSV never names a copy without its record). Returns the items left unmarked.
   */
  private async submitJob<T>(
    action: 'PUT' | 'DELETE',
    items: readonly T[],
    row: (item: T) => { address: string; reason: SuppressionReason },
    run: NonNullable<PropagationState['run']>,
    mark: (item: T, job: string, requestedAt: string) => Promise<boolean>,
  ): Promise<T[]> {
    const { region } = this.request;
    if (this.markingStopped()) return [...items];
    // A key an invocation of this run that crashed already used (its count of jobs was never checkpointed) is skipped:
    // copies still marked with that job must not be taken for this one's.
    let key: string;
    do {
      run.jobs++;
      key = `${run.runId}-${String(run.jobs).padStart(3, '0')}`;
    } while (this.jobs.has(key));
    const objectKey = `propagation/${region}/${key}.csv`;
    let job: ImportJobRecord = {
      key,
      region,
      action,
      status: 'ASSEMBLING',
      count: items.length,
      s3Url: `s3://${this.deps.bucket}/${objectKey}`,
      createdAt: iso(this.now()),
    };
    this.jobs.set(key, job);
    await this.state.putJob(job);
    const marked: T[] = [];
    const left: T[] = [];
    await forEachLimit(items, this.opts.writeConcurrency, async (item) => {
      if (this.markingStopped()) left.push(item);
      else if (await mark(item, key, job.createdAt)) marked.push(item);
    });
    if (marked.length === 0) {
      await this.state.deleteJob(region, key);
      this.jobs.delete(key);
      return left;
    }
    job = { ...job, count: marked.length };
    this.jobs.set(key, job);
    await this.deps.s3.send(
      new PutObjectCommand({ Bucket: this.deps.bucket, Key: objectKey, Body: importCsv(marked.map(row)), ContentType: 'text/csv' }),
    );
    job.status = 'SUBMITTING';
    await this.state.putJob(job);
    const outcome: CallOutcome = { mayHaveActed: false };
    let out: CreateImportJobCommandOutput;
    try {
      out = await this.call(
        'CreateImportJob',
        () =>
          this.deps.ses.send(
            new CreateImportJobCommand({
              ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: action } },
              ImportDataSource: { S3Url: job.s3Url, DataFormat: 'CSV' },
            }),
          ),
        outcome,
      );
    } catch (error) {
      // Every attempt refused (throttled, or a 4xx): SES created no job, so the record is settled as failed now and
      // its copies are planned again by the next run, without the lost-job search. Otherwise (a 5xx, a timeout) SES
      // may have it: the record stays SUBMITTING for that search.
      if (!outcome.mayHaveActed) {
        const why = error instanceof DeadlineReached || isThrottle(error) ? 'throttled' : `refused (${(error as Error).name})`;
        job.status = 'FAILED';
        job.error = `CreateImportJob ${why}: SES created no job`;
        job.completedAt = iso(this.now());
        await this.state.putJob(job);
      }
      throw error;
    }
    job.status = 'SUBMITTED';
    job.sesJobId = out.JobId;
    job.submittedAt = iso(this.now());
    await this.state.putJob(job);
    this.counts.importJobs++;
    this.counts.pending += marked.length;
    this.deps.logger.info('import job submitted', { job: key, action, count: marked.length, sesJobId: out.JobId });
    return left;
  }

  /**
   * Converges the named addresses only, one SES call each (a handful, from freshly ingested events): plans them as a
   * full run would and delivers per address. It neither follows nor creates import jobs, nor changes the state of a
   * full run (its checkpoint, last run, last summary), so it can never hide drift a full run would report.
   */
  private async runTargeted(keys: readonly string[]): Promise<PropagationSummary> {
    for (const job of await this.state.listJobs(this.request.region)) this.jobs.set(job.key, job);
    const { items } = await this.table.getMany(keys, { consistentRead: true });
    this.counts.scanned += items.size;
    const adds: AddAction[] = [];
    const withdraws: WithdrawAction[] = [];
    await this.planPage([...items.values()], adds, withdraws);
    let complete = true;
    if (this.enforce) {
      try {
        await this.deliverOneByOne(adds, withdraws);
      } catch (error) {
        if (!(error instanceof DeadlineReached)) throw error;
        complete = false;
      }
    } else {
      this.counts.wantedMissing += adds.length;
      this.counts.unwanted += withdraws.length;
    }
    return this.summary(complete, `t${this.started.toString(36)}`);
  }

  /** Asks SES about every job it is processing (or may have been handed); records what completed or failed. */
  private async followJobs(): Promise<void> {
    for (const job of this.jobs.values()) {
      if (job.status === 'ASSEMBLING') await this.abandonAssembling(job);
      if (!this.budgets.jobs.hasRoom() && (job.status === 'SUBMITTING' || job.status === 'SUBMITTED')) throw new DeadlineReached();
      if (job.status === 'SUBMITTING' && job.sesJobId === undefined) await this.findLostJob(job);
      if (job.status !== 'SUBMITTED' || job.sesJobId === undefined) continue;
      const jobId = job.sesJobId;
      let out: GetImportJobCommandOutput;
      try {
        out = await this.budgets.jobs.time(() =>
          this.call('GetImportJob', () => this.deps.ses.send(new GetImportJobCommand({ JobId: jobId }))),
        );
      } catch (error) {
        if ((error as { name?: string }).name !== 'NotFoundException') throw error;
        // SES does not know the job (or no longer): nothing it did can be confirmed, so its copies are planned again
        // (puts are idempotent), and the record is settled rather than failing every run of the region.
        job.status = 'FAILED';
        job.error = `SES does not know import job ${jobId}`;
        job.completedAt = iso(this.now());
        this.counts.jobsFailed++;
        this.deps.logger.error('import job unknown to SES', { job: job.key, sesJobId: jobId });
        await this.state.putJob(job);
        continue;
      }
      if (out.JobStatus !== 'COMPLETED' && out.JobStatus !== 'FAILED') continue;
      job.status = out.JobStatus;
      job.completedAt = (out.CompletedTimestamp ?? new Date(this.now())).toISOString();
      job.processed = out.ProcessedRecordsCount ?? 0;
      job.failed = out.FailedRecordsCount ?? 0;
      if (out.FailureInfo?.ErrorMessage) job.error = out.FailureInfo.ErrorMessage.slice(0, 500);
      if (job.status === 'COMPLETED' && job.failed > 0) {
        const url = out.FailureInfo?.FailedRecordsS3Url;
        try {
          if (!url) throw new Error('SES gave no failed-records file');
          // A download of up to 30 s: only started while that still ends before the margin (the job is followed again).
          if (this.deps.remainingMs() < this.opts.marginMs + FETCH_TIMEOUT_MS) throw new DeadlineReached('GetImportJob');
          job.failedKeys = parseFailedRecords(await this.budgets.jobs.time(() => (this.deps.fetchText ?? fetchText)(url)));
        } catch (error) {
          if (error instanceof DeadlineReached) throw error;
          // Without the list, every record of the job is treated as failed: copies are planned again, none is lost.
          job.status = 'FAILED';
          job.error = `failed records could not be read: ${(error as Error).message}`.slice(0, 500);
        }
      }
      if (job.status === 'FAILED' || (job.failed ?? 0) > 0) {
        this.counts.jobsFailed++;
        this.deps.logger.error('import job failed or had failed records', {
          job: job.key,
          status: job.status,
          failed: job.failed,
          error: job.error,
        });
      }
      await this.state.putJob(job);
    }
  }

  /**
   * A job an earlier invocation was still assembling when it ended (a crash while marking its copies or writing its
   * CSV): SES never got it, since SUBMITTING is recorded before CreateImportJob. Settled FAILED, so the copies it marked
   * are planned again (a copy whose job is neither SUBMITTED nor COMPLETED is planned like one whose outcome is not
   * known) and the next complete run forgets the record and its CSV, like any failed job's.
   */
  private async abandonAssembling(job: ImportJobRecord): Promise<void> {
    job.status = 'FAILED';
    job.error = 'abandoned while assembling: never handed to SES';
    job.completedAt = iso(this.now());
    await this.state.putJob(job);
    this.deps.logger.warn('import job abandoned while assembling', { job: job.key });
  }

  /** A job recorded as being handed to SES with no SES id: SES may have it (a crash after the call) or not. */
  private async findLostJob(job: ImportJobRecord): Promise<void> {
    let nextToken: string | undefined;
    // Up to 100 jobs a page, each asked about with a paced call: every call is started only while it fits (the search
    // starts again in the next invocation otherwise).
    const paced = <T>(operation: string, send: () => Promise<T>): Promise<T> => {
      if (!this.budgets.jobs.hasRoom()) throw new DeadlineReached(operation);
      return this.budgets.jobs.time(() => this.call(operation, send));
    };
    do {
      const token = nextToken;
      const out = await paced('ListImportJobs', () =>
        this.deps.ses.send(new ListImportJobsCommand({ ImportDestinationType: 'SUPPRESSION_LIST', NextToken: token, PageSize: 100 })),
      );
      // A summary does not name its data; the jobs created since ours was recorded are asked one by one.
      const since = Date.parse(job.createdAt) - PROPAGATION_CLOCK_SKEW_MS;
      for (const summary of out.ImportJobs ?? []) {
        if (!summary.JobId || (summary.CreatedTimestamp?.getTime() ?? 0) < since) continue;
        const id = summary.JobId;
        const detail = await paced('GetImportJob', () => this.deps.ses.send(new GetImportJobCommand({ JobId: id })));
        if (detail.ImportDataSource?.S3Url !== job.s3Url) continue;
        job.sesJobId = id;
        job.status = 'SUBMITTED';
        await this.state.putJob(job);
        return;
      }
      nextToken = out.NextToken || undefined;
    } while (nextToken);
    if (this.now() - Date.parse(job.createdAt) > this.opts.lostJobMs) {
      job.status = 'FAILED';
      job.error = 'never reached SES';
      job.completedAt = iso(this.now());
      await this.state.putJob(job);
    }
  }

  /** Drops the records (and CSVs) of jobs that ended before this complete run began: the run settled their copies. */
  private async forgetSettledJobs(runStartedAt: string): Promise<void> {
    for (const job of [...this.jobs.values()]) {
      const ended = job.status === 'COMPLETED' || job.status === 'FAILED';
      if (!ended || job.completedAt === undefined || job.completedAt >= runStartedAt) continue;
      await this.state.deleteJob(job.region, job.key);
      const objectKey = job.s3Url.replace(`s3://${this.deps.bucket}/`, '');
      await this.deps.s3.send(new DeleteObjectCommand({ Bucket: this.deps.bucket, Key: objectKey })).catch(() => undefined);
      this.jobs.delete(job.key);
    }
  }

  /** One SES call, paced with the region's other suppression-list calls, retried with backoff on throttling and 5xx. */
  private async call<T>(operation: string, send: () => Promise<T>, outcome?: CallOutcome): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.deps.pacer.acquire();
      try {
        return await send();
      } catch (error) {
        if (outcome && !refusedBeforeActing(error)) outcome.mayHaveActed = true;
        if (!isRetryable(error) || attempt + 1 >= this.opts.maxAttempts) throw error;
        if (isThrottle(error)) this.deps.logger.debug('throttled', { operation, attempt });
        const delay = backoffDelay(attempt, this.deps.pacer.intervalMs, this.opts.backoffCapMs);
        if (this.deps.remainingMs() - delay < this.opts.marginMs) throw new DeadlineReached(operation);
        this.deps.pacer.delay(delay);
      }
    }
  }

  /** Marking a job's copies may use half the deadline margin; the other half hands the job to SES and checkpoints. */
  private markingStopped(): boolean {
    return this.deps.remainingMs() < this.opts.marginMs / 2;
  }

  private summary(complete: boolean, runId: string): PropagationSummary {
    const c = this.counts;
    return {
      region: this.request.region,
      mode: 'propagate',
      propagation: this.request.mode,
      complete,
      runId,
      scanned: c.scanned,
      added: c.added,
      withdrawn: c.withdrawn,
      alreadyListed: c.alreadyListed,
      pending: c.pending,
      confirmed: c.confirmed,
      failed: c.failed,
      importJobs: c.importJobs,
      importJobsFailed: c.jobsFailed,
      jobsInFlight: [...this.jobs.values()].filter((j) => j.status === 'SUBMITTED' || j.status === 'SUBMITTING').length,
      drift: { missing: c.wantedMissing, extra: c.unwanted },
      durationMs: this.now() - this.started,
    };
  }
}

/** True for SES's answer that the request itself is wrong (a 4xx other than throttling), not worth repeating now. */
function isRefusal(error: unknown): boolean {
  return (error as { $fault?: string }).$fault === 'client' && !isRetryable(error);
}

/**
 * True when SES answered this one attempt with a refusal that did nothing: a throttle or another 4xx, with no retry
 * of the SDK's own behind it (the propagation's client makes one attempt a call).
 */
function refusedBeforeActing(error: unknown): boolean {
  const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
  return attempts <= 1 && (isThrottle(error) || isRefusal(error));
}

/**
 * Takes the first `count` items of `buffer` and hands them to `submit`, putting back what it returns. When `submit`
 * throws, every item taken goes back: the buffer (and so the checkpoint, which resumes where the buffer began) never
 * loses a copy whose job SES may not have.
 */
async function handOver<T>(buffer: T[], count: number, submit: (items: T[]) => Promise<T[]>): Promise<void> {
  const taken = buffer.splice(0, count);
  let left: T[];
  try {
    left = await submit(taken);
  } catch (error) {
    putBack(buffer, taken);
    throw error;
  }
  putBack(buffer, left);
}

/** Puts `items` back at the front of `buffer`, in order (without spreading up to 100,000 arguments). */
function putBack<T>(buffer: T[], items: readonly T[]): void {
  if (items.length === 0) return;
  const rest = buffer.splice(0);
  for (const item of items) buffer.push(item);
  for (const item of rest) buffer.push(item);
}

function withoutJob(copy: PropagatedEntry): PropagatedEntry {
  const { job: _job, ...rest } = copy;
  return rest;
}

/** The CSV SES imports into a suppression list: one `address,REASON` row per address, no header. */
export function importCsv(rows: ReadonlyArray<{ address: string; reason: SuppressionReason }>): string {
  return rows.map((row) => `${csvField(row.address)},${row.reason}\n`).join('');
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Canonical keys of the addresses in SES's failed-records file (its first column; a header row is skipped). */
export function parseFailedRecords(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const first = line.startsWith('"') ? (/^"((?:[^"]|"")*)"/.exec(line)?.[1]?.replace(/""/g, '"') ?? '') : (line.split(',')[0] ?? '');
    if (!first.includes('@')) continue;
    keys.push(canonicalAddress(first));
  }
  return keys;
}

/** The longest a failed-records download may take. */
const FETCH_TIMEOUT_MS = 30_000;

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`GET failed-records file answered ${response.status}`);
  return response.text();
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * How long a targeted run waits for the region's lease held by a sync, and how often it asks. Behind another targeted
 * run (a burst: each holds the lease for its own addresses only, 2 paced SES calls each) it waits until its own
 * deadline nears instead, since no holder would propagate its addresses before the next scheduled run.
 */
export const TARGETED_LEASE_WAIT_MS = 60_000;
const LEASE_POLL_MS = 2_000;

/** Prefix of the lease owner of a targeted run, so a waiting targeted run can tell who holds the lease. */
export const TARGETED_OWNER_PREFIX = 'targeted:';

/**
 * A propagation invocation (`{"region": R, "mode": "propagate"}`): takes the region's lease (shared with its sync, so
 * one run per region at a time and their SES calls paced together), converges the region, gives the lease back.
 * Skipped, with the reason, while another run holds the lease.
 */
export async function propagate(request: PropagationRequest, deps: PropagationDeps): Promise<PropagationSummary> {
  const { region } = request;
  const now = deps.now ?? Date.now;
  const state = new StateTable(deps.doc, deps.stateTable);
  const owner = `${request.addresses ? TARGETED_OWNER_PREFIX : ''}${randomUUID()}`;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const acquire = () => state.acquireLease(region, owner, now() + deps.remainingMs() + 60_000, now());
  let leased = await acquire();
  if (!leased && request.addresses) {
    // Hand the addresses to the holder, which takes the queue before it gives the lease back; then try once more,
    // since the holder may have let go in between (a run that then gets the lease takes the queue itself).
    if (await state.queuePendingAddresses(region, request.addresses)) {
      leased = await acquire();
      if (!leased) {
        return {
          ...skippedSummary(request, `another run holds the lease of ${region}; it propagates these addresses before it lets go`),
          queued: request.addresses.length,
        };
      }
    }
  }
  // The queue is full: a targeted run (fresh events) waits a little for an incremental sync to finish rather than miss
  // its addresses; a long holder (a full pass) propagates the whole table when its pass completes, these addresses
  // included. Another targeted run propagates only its own addresses: behind one, the wait goes on while time is left.
  for (let waited = 0; !leased && request.addresses; waited += LEASE_POLL_MS) {
    if (deps.remainingMs() < LEASE_POLL_MS + 10_000) break;
    if (waited >= TARGETED_LEASE_WAIT_MS) {
      const holder = (await state.load(region)).leaseOwner;
      if (holder !== undefined && !holder.startsWith(TARGETED_OWNER_PREFIX)) break;
    }
    await sleep(LEASE_POLL_MS);
    leased = await acquire();
  }
  if (!leased) {
    return skippedSummary(request, `another sync or propagation of ${region} holds the lease; it propagates when its pass completes`);
  }
  let released = false;
  try {
    const st = await state.load(region);
    const summary = await propagateRegion(request, deps, owner, st);
    const drained = await propagateQueued(request, deps, owner, new Set(request.addresses ?? []));
    released = drained.released;
    return drained.summaries.reduce(addSummaries, summary);
  } catch (error) {
    const e = error as Error;
    deps.logger.error('propagation failed', { error: e });
    await state
      .save(region, owner, {
        lastError: { name: e.name, message: `propagation: ${e.message}`.slice(0, 1000), at: new Date(now()).toISOString() },
      })
      .catch((saveError: unknown) => deps.logger.error('could not record the propagation error', { error: saveError as Error }));
    throw error;
  } finally {
    if (!released) {
      await state
        .releaseLease(region, owner)
        .catch((error: unknown) => deps.logger.warn('could not release the lease', { error: error as Error }));
    }
  }
}

/**
 * Before the lease holder lets go: propagates the addresses targeted runs queued for it while it held the lease, and
 * gives the lease back only once the queue is empty (the release is conditional on it, so an address queued after
 * the last look is not stranded). Stops, leaving the queue to the next holder, when the deadline nears. `done`:
 * addresses this invocation already converged (taken again from the queue, they are not asked of SES twice).
 */
export async function propagateQueued(
  request: Pick<PropagationRequest, 'region' | 'mode'>,
  deps: PropagationDeps,
  owner: string,
  done: Set<string> = new Set(),
): Promise<{ summaries: PropagationSummary[]; released: boolean }> {
  const state = new StateTable(deps.doc, deps.stateTable);
  const margin = deps.options?.marginMs ?? DEFAULTS.marginMs;
  const summaries: PropagationSummary[] = [];
  for (;;) {
    if (deps.remainingMs() < margin) {
      deps.logger.warn('addresses queued for propagation are left to the next run: the deadline is near');
      return { summaries, released: false };
    }
    const queued = await state.takePendingAddresses(request.region, owner);
    const fresh = queued.filter((address) => !done.has(address));
    if (queued.length === 0) {
      if (await state.releaseLease(request.region, owner, { unlessPending: true })) return { summaries, released: true };
      continue;
    }
    for (let i = 0; i < fresh.length; i += MAX_TARGETED_ADDRESSES) {
      const addresses = fresh.slice(i, i + MAX_TARGETED_ADDRESSES);
      const summary = await propagateRegion({ ...request, addresses }, deps, owner, await state.load(request.region));
      summaries.push({ ...summary, fromQueue: addresses.length });
      for (const address of addresses) done.add(address);
    }
  }
}

/** Two runs' figures added up (the first one's identity and completeness). */
function addSummaries(a: PropagationSummary, b: PropagationSummary): PropagationSummary {
  const sum = (key: 'added' | 'withdrawn' | 'alreadyListed' | 'failed' | 'scanned') => a[key] + b[key];
  return {
    ...a,
    scanned: sum('scanned'),
    added: sum('added'),
    withdrawn: sum('withdrawn'),
    alreadyListed: sum('alreadyListed'),
    failed: sum('failed'),
    fromQueue: (a.fromQueue ?? 0) + (b.fromQueue ?? 0),
  };
}

/** The summary of a run that did nothing. */
export function skippedSummary(request: PropagationRequest, skipped: string): PropagationSummary {
  return {
    region: request.region,
    mode: 'propagate',
    propagation: request.mode,
    complete: false,
    skipped,
    scanned: 0,
    added: 0,
    withdrawn: 0,
    alreadyListed: 0,
    pending: 0,
    confirmed: 0,
    failed: 0,
    importJobs: 0,
    importJobsFailed: 0,
    jobsInFlight: 0,
    drift: { missing: 0, extra: 0 },
    durationMs: 0,
  };
}
