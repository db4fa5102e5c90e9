import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { PropagationSummary, SyncSummary } from '../../client/sync-contract';
import { documentClient, S3Clients } from '../domain/clients';
import type { RegionSyncState } from '../domain/records';
import { SES_CALLERS, SesClients, SesPacers } from '../domain/ses';
import { readEnvironment } from '../domain/settings';
import { parseFunctionEvent } from './event';
import { type PropagationDeps, type PropagationRequest, propagate, propagateQueued, propagateRegion } from './propagation';
import { importBucketName, SYNC_DEADLINE_MARGIN_MS, SYNC_ENVIRONMENT, SYNC_METRICS, SYNC_SERVICE_NAME } from './settings';
import { syncRegion } from './sync';

const settings = readEnvironment(SYNC_ENVIRONMENT);
const logger = new Logger({ serviceName: SYNC_SERVICE_NAME });
const metrics = new Metrics({ namespace: SYNC_METRICS.namespace, serviceName: SYNC_METRICS.serviceName });

const doc = documentClient();
const ses = new SesClients(SES_CALLERS.sync.client);
const s3 = new S3Clients();
const pacers = new SesPacers(settings.requestsPerSecond, SES_CALLERS.sync.pacingHeadroom);

/**
 * Every suppression-list call of a region (the sync's listing, propagation's puts, deletes and import jobs) goes
 * through one pacer: SES's management rate is shared, and the region's lease keeps a sync and a propagation from
 * running at once, so one pacer per region is the whole budget.
 */
const SUPPRESSION_LIST_CALLS = 'SuppressionList';

/**
 * Scheduled entry point: `{"region": "us-east-1", "mode": "incremental" | "full"}` syncs the region (and then
 * propagates into it); `{"region": "us-east-1", "mode": "propagate", "dryRun"?: true}` only propagates.
 */
export const handler = async (event: unknown, context: Context): Promise<SyncSummary | PropagationSummary> => {
  logger.addContext(context);
  const request = parseFunctionEvent(event, settings.regions);
  const { region } = request;
  logger.appendKeys({ region, mode: request.mode });
  metrics.addDimension(SYNC_METRICS.regionDimension, region);
  const remainingMs = (): number => context.getRemainingTimeInMillis();
  const pacer = pacers.forOperation(region, SUPPRESSION_LIST_CALLS);
  const propagationDeps: PropagationDeps = {
    ses: ses.forRegion(region),
    s3: s3.forRegion(region),
    doc,
    suppressionTable: settings.suppressionTable,
    stateTable: settings.stateTable,
    bucket: importBucketName(settings.importBucketPattern, region),
    pacer,
    logger,
    remainingMs,
    options: { bulkThreshold: settings.bulkThreshold, marginMs: SYNC_DEADLINE_MARGIN_MS },
  };
  const propagates = settings.propagation !== 'off' && settings.propagateTo.includes(region);
  const propagationMode: PropagationRequest['mode'] = settings.propagation === 'enforce' ? 'enforce' : 'report';
  try {
    if (request.kind === 'propagate') {
      if (!propagates) {
        throw new Error(
          settings.propagation === 'off'
            ? 'propagation is off (setting "propagation"); nothing to do'
            : `${region} is not one of the regions propagation writes into (setting "propagateTo": ${settings.propagateTo.join(', ')})`,
        );
      }
      const summary = await propagate(
        { region, mode: request.dryRun ? 'report' : propagationMode, ...(request.addresses ? { addresses: request.addresses } : {}) },
        propagationDeps,
      );
      // A targeted run sees a few addresses: its drift of zero must not pull down the drift alarm's minimum.
      if (!request.addresses) recordPropagation(summary);
      logger.info('propagation finished', { summary });
      return summary;
    }
    const summary = await syncRegion(request, {
      ses: ses.forRegion(region),
      doc,
      suppressionTable: settings.suppressionTable,
      stateTable: settings.stateTable,
      pacer,
      logger,
      remainingMs,
      options: { overlapMs: settings.overlapSeconds * 1000, marginMs: SYNC_DEADLINE_MARGIN_MS },
      ...(propagates
        ? {
            afterPass: (owner: string, st: RegionSyncState) =>
              propagateRegion({ region, mode: propagationMode }, propagationDeps, owner, st),
            beforeRelease: async (owner: string) => {
              const drained = await propagateQueued({ region, mode: propagationMode }, propagationDeps, owner);
              if (drained.summaries.length > 0) {
                logger.info('propagated the addresses queued by targeted runs', {
                  addresses: drained.summaries.reduce((n, s) => n + (s.fromQueue ?? 0), 0),
                  added: drained.summaries.reduce((n, s) => n + s.added, 0),
                });
              }
              return drained.released;
            },
          }
        : {}),
    });
    // Three metrics per region (each is a billed custom metric); errors are counted by Lambda's own Errors metric.
    metrics.addMetric(SYNC_METRICS.names.itemsWritten, MetricUnit.Count, summary.itemsWritten);
    metrics.addMetric(SYNC_METRICS.names.throttled, MetricUnit.Count, summary.throttled);
    if (summary.syncedThrough) {
      metrics.addMetric(
        SYNC_METRICS.names.syncLag,
        MetricUnit.Seconds,
        Math.max(0, Math.round((Date.now() - Date.parse(summary.syncedThrough)) / 1000)),
      );
    }
    if (summary.propagation) recordPropagation(summary.propagation);
    logger.info('sync finished', { summary });
    return summary;
  } finally {
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
};

/** Drift after a complete run (an incomplete one has not seen the whole table), and failed import jobs. */
function recordPropagation(summary: PropagationSummary): void {
  if (summary.complete) metrics.addMetric(SYNC_METRICS.names.drift, MetricUnit.Count, summary.drift.missing + summary.drift.extra);
  if (summary.importJobsFailed > 0) metrics.addMetric(SYNC_METRICS.names.importJobsFailed, MetricUnit.Count, summary.importJobsFailed);
}
