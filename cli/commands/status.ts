import type { Command } from 'commander';
import { AttributionTable } from '../../lambdas/domain/attribution-table';
import { type ImportJobRecord, listedRegions, type RegionSyncState } from '../../lambdas/domain/records';
import { StateTable } from '../../lambdas/domain/state-table';
import { SuppressionTable } from '../../lambdas/domain/suppression-table';
import { EXIT, UsageError } from '../errors';
import { formatDuration, formatTime, Progress, table } from '../output';
import type { Runner } from '../runner';
import { type RegionEventTotals, regionEventTotals } from '../senders';

/** The sync status of one region, as `status --json` prints it. */
export interface RegionStatusReport {
  readonly region: string;
  /** `ok`, `stale` (no sync within the threshold) or `error` (the last run failed). */
  readonly health: 'ok' | 'stale' | 'error';
  readonly lastSuccessAt: string | null;
  readonly lastFullSuccessAt: string | null;
  /** Every SES entry updated before this time is in the canonical table. */
  readonly syncedThrough: string | null;
  readonly lagSeconds: number | null;
  /** Entries the region's SES list held at the last full reconciliation. */
  readonly listedAtLastFull: number | null;
  readonly lastRunAt: string | null;
  readonly lastSummary: RegionSyncState['lastSummary'] | null;
  readonly lastError: RegionSyncState['lastError'] | null;
  readonly fullPassPending: boolean;
  /** Propagation into the region's SES list. */
  readonly propagation: RegionPropagationReport;
}

/** Where propagation into one region stands, as `status --json` prints it. */
export interface RegionPropagationReport {
  /** When the last run into the region ended (complete or checkpointed). */
  readonly lastRunAt: string | null;
  /** When the last run that went through the whole table ended. */
  readonly lastCompleteAt: string | null;
  /** What the last complete run did: `enforce` (wrote) or `report` (only computed). */
  readonly lastMode: string | null;
  /** After the last complete run: addresses wanted but not on the list, and copies of ours no longer wanted. */
  readonly drift: { readonly missing: number; readonly extra: number } | null;
  /** Import jobs handed (or being handed) to SES and not yet seen completed. */
  readonly importJobsInFlight: ReadonlyArray<{
    readonly key: string;
    readonly action: 'PUT' | 'DELETE';
    readonly status: ImportJobRecord['status'];
    readonly count: number;
    readonly createdAt: string;
    readonly submittedAt: string | null;
  }>;
  /** Addresses the jobs in flight carry. */
  readonly addressesInFlight: number;
  /** True while a run stopped at a checkpoint and goes on with its next invocation. */
  readonly checkpointed: boolean;
  /** When the checkpointed run began. */
  readonly runStartedAt: string | null;
}

/** Totals of the canonical table. */
export interface CanonicalTotals {
  readonly addresses: number;
  /** Addresses a region lists or an operator suppressed. */
  readonly suppressed: number;
  /** Addresses listed in more than one region. */
  readonly multiRegion: number;
  /** Addresses with an operator's manual suppression in force. */
  readonly manual: number;
}

/** `ssg status`. */
export function registerStatus(program: Command, runner: Runner): void {
  program
    .command('status')
    .description(
      'Sync health per region (last success, lag, entries, last error), propagation per region (last run, drift, import jobs) and canonical table totals',
    )
    .option('--stale-after <minutes>', 'mark a region stale when it has not synced for this long', '60')
    .option('--no-totals', 'skip the scan of the canonical table (faster on large tables)')
    .addHelpText('after', '\nExit code 1 when a region is stale or its last sync failed.')
    .action(
      runner.action<{ staleAfter: string; totals: boolean }>(async ({ out, target }, _operands, options) => {
        const staleAfterMinutes = Number(options.staleAfter);
        if (!Number.isFinite(staleAfterMinutes) || staleAfterMinutes <= 0) {
          throw new UsageError(`--stale-after must be a positive number of minutes, got ${JSON.stringify(options.staleAfter)}`);
        }
        const t = await target();
        const now = Date.now();
        const store = new StateTable(t.doc, t.output('SyncStateTableName'));
        const regions = await t.regions();
        const [states, jobs] = await Promise.all([
          Promise.all(regions.map((region) => store.load(region))),
          Promise.all(regions.map((region) => store.listJobs(region))),
        ]);
        const reports = states.map((state, i) => regionReport(state, jobs[i] ?? [], now, staleAfterMinutes * 60_000));
        const totals = options.totals ? await canonicalTotals(t.doc, t.output('SuppressionTableName'), new Progress(out.stderr)) : null;
        // Today's SES events per region, from the attribution counters (absent where events are off).
        const attributionTable = t.optionalOutput('AttributionTableName');
        const today = new Date(now).toISOString().slice(0, 10);
        const events = attributionTable
          ? { day: today, regions: regionEventTotals(await new AttributionTable(t.doc, attributionTable).countersOfDays([today]), regions) }
          : null;
        const unhealthy = reports.filter((r) => r.health !== 'ok');

        if (out.json) {
          out.printJson({
            target: t.description,
            staleAfterMinutes,
            regions: reports,
            totals,
            events,
            unhealthyRegions: unhealthy.map((r) => r.region),
          });
        } else {
          out.line(`Target: ${t.description}`);
          out.line(`Regions (stale after ${formatDuration(staleAfterMinutes * 60_000)} without a sync):`);
          const rows = reports.map((r) => [
            r.region,
            r.health === 'ok' ? 'ok' : r.health.toUpperCase(),
            r.lastSuccessAt ? formatTime(r.lastSuccessAt, now) : 'never',
            r.lagSeconds === null ? '-' : formatDuration(r.lagSeconds * 1000),
            r.listedAtLastFull === null ? '-' : String(r.listedAtLastFull),
            describeRun(r),
            r.lastError ? `${r.lastError.at}: ${r.lastError.name}: ${r.lastError.message}` : '-',
          ]);
          for (const row of table(['region', 'health', 'last success', 'lag', 'SES entries', 'last run', 'last error'], rows))
            out.line(row);
          for (const line of formatPropagationStatus(reports, now)) out.line(line);
          if (events) for (const line of formatEventTotals(events.day, events.regions)) out.line(line);
          if (totals) {
            out.line(
              `Canonical table: ${totals.addresses} addresses, ${totals.suppressed} suppressed, ${totals.multiRegion} in more than one region, ${totals.manual} suppressed manually`,
            );
          }
          out.line(
            unhealthy.length === 0
              ? 'All regions are in sync.'
              : `Needs attention: ${unhealthy.map((r) => `${r.region} (${r.health})`).join(', ')}`,
          );
        }
        return unhealthy.length === 0 ? EXIT.OK : EXIT.PROBLEMS;
      }),
    );
}

export function regionReport(
  state: RegionSyncState,
  jobs: readonly ImportJobRecord[],
  now: number,
  staleAfterMs: number,
): RegionStatusReport {
  const watermark = state.watermark ? Date.parse(state.watermark) : NaN;
  const lagMs = Number.isFinite(watermark) ? Math.max(0, now - watermark) : null;
  const stale = lagMs === null || lagMs > staleAfterMs;
  return {
    region: state.region,
    health: state.lastError ? 'error' : stale ? 'stale' : 'ok',
    lastSuccessAt: state.lastSuccessAt ?? null,
    lastFullSuccessAt: state.lastFullSuccessAt ?? null,
    syncedThrough: state.watermark ?? null,
    lagSeconds: lagMs === null ? null : Math.round(lagMs / 1000),
    listedAtLastFull: state.listedAtLastFull ?? null,
    lastRunAt: state.lastRunAt ?? null,
    lastSummary: state.lastSummary ?? null,
    lastError: state.lastError ?? null,
    fullPassPending: state.full !== undefined || state.fullRequestedAt !== undefined,
    propagation: propagationReport(state, jobs),
  };
}

/** Where propagation into the region stands, from its state item and its import job records. */
export function propagationReport(state: RegionSyncState, jobs: readonly ImportJobRecord[]): RegionPropagationReport {
  const p = state.propagation;
  const summary = p?.lastSummary;
  const drift = summary?.drift as { missing?: unknown; extra?: unknown } | undefined;
  const inFlight = jobs.filter((j) => j.status === 'SUBMITTED' || j.status === 'SUBMITTING');
  return {
    lastRunAt: p?.lastRunAt ?? null,
    lastCompleteAt: p?.lastCompleteAt ?? null,
    lastMode: typeof summary?.propagation === 'string' ? summary.propagation : null,
    drift:
      drift && typeof drift.missing === 'number' && typeof drift.extra === 'number' ? { missing: drift.missing, extra: drift.extra } : null,
    importJobsInFlight: inFlight.map((j) => ({
      key: j.key,
      action: j.action,
      status: j.status,
      count: j.count,
      createdAt: j.createdAt,
      submittedAt: j.submittedAt ?? null,
    })),
    addressesInFlight: inFlight.reduce((sum, j) => sum + j.count, 0),
    checkpointed: p?.run !== undefined,
    runStartedAt: p?.run?.startedAt ?? null,
  };
}

/** The SES event lines of `ssg status`: today's counters per region, the rates judged as `ssg senders` judges them. */
export function formatEventTotals(day: string, totals: readonly RegionEventTotals[]): string[] {
  const rate = (value: number | null) => (value === null ? '-' : `${(value * 100).toFixed(2)}%`);
  const rows = totals.map((t) => [
    t.region,
    String(t.sends),
    String(t.deliveries),
    `${t.permanentBounces} (${rate(t.bounceRate)}${t.bounceLevel === 'review' || t.bounceLevel === 'at risk' ? ` ${t.bounceLevel.toUpperCase()}` : ''})`,
    `${t.complaints} (${rate(t.complaintRate)}${t.complaintLevel === 'review' || t.complaintLevel === 'at risk' ? ` ${t.complaintLevel.toUpperCase()}` : ''})`,
    String(t.sendsToSuppressed),
  ]);
  return [
    `SES events today (${day} UTC, mail sent with a configuration set that reports to the service; ssg senders names the callers):`,
    ...table(['region', 'sends', 'delivered', 'perm. bounces', 'complaints', 'to suppressed'], rows),
  ];
}

/** The propagation lines of `ssg status`: one row per region. */
export function formatPropagationStatus(reports: readonly RegionStatusReport[], now: number): string[] {
  if (
    reports.every((r) => r.propagation.lastRunAt === null && r.propagation.importJobsInFlight.length === 0 && !r.propagation.checkpointed)
  ) {
    return ['Propagation: no run yet in any region'];
  }
  const rows = reports.map(({ region, propagation: p }) => [
    region,
    p.lastCompleteAt ? formatTime(p.lastCompleteAt, now) : 'never',
    p.lastRunAt ? formatTime(p.lastRunAt, now) : 'never',
    p.drift ? `${p.drift.missing} missing, ${p.drift.extra} extra${p.lastMode === 'report' ? ' (report only)' : ''}` : '-',
    p.importJobsInFlight.length === 0
      ? 'none'
      : p.importJobsInFlight.map((j) => `${j.action} ${j.count} (${j.status.toLowerCase()})`).join(', '),
    p.checkpointed ? `checkpointed, started ${p.runStartedAt ?? '?'}` : '-',
  ]);
  return ['Propagation:', ...table(['region', 'last complete run', 'last run', 'drift', 'import jobs in flight', 'run'], rows)];
}

function describeRun(r: RegionStatusReport): string {
  const s = r.lastSummary;
  if (!s) return r.lastRunAt ? `at ${r.lastRunAt}` : 'never';
  const what = s.skipped
    ? `skipped (${s.skipped})`
    : `${s.complete ? 'complete' : 'checkpointed'}, read ${s.entriesRead}, wrote ${s.itemsWritten}, removed ${s.removals}`;
  return `${s.mode} ${what}${r.fullPassPending ? ', full pass pending' : ''}`;
}

/** Counts the canonical table page by page. */
export async function canonicalTotals(
  doc: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient,
  tableName: string,
  progress: Progress,
): Promise<CanonicalTotals> {
  let addresses = 0;
  let suppressed = 0;
  let multiRegion = 0;
  let manual = 0;
  try {
    for await (const page of new SuppressionTable(doc, tableName).scanPages()) {
      for (const item of page) {
        addresses++;
        const listed = listedRegions(item).length;
        const manualListed = item.manual?.status === 'LISTED';
        if (listed > 0 || manualListed) suppressed++;
        if (listed > 1) multiRegion++;
        if (manualListed) manual++;
      }
      progress.update(`scanning the canonical table: ${addresses} addresses`);
    }
  } finally {
    progress.done();
  }
  return { addresses, suppressed, multiRegion, manual };
}
