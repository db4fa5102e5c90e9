import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { SyncSummary } from '../../client/sync-contract';
import { documentClient } from '../domain/clients';
import { SES_CALLERS, SesClients, SesPacers } from '../domain/ses';
import { readEnvironment } from '../domain/settings';
import { parseSyncEvent } from './event';
import { SYNC_DEADLINE_MARGIN_MS, SYNC_ENVIRONMENT, SYNC_METRICS, SYNC_SERVICE_NAME } from './settings';
import { syncRegion } from './sync';

const settings = readEnvironment(SYNC_ENVIRONMENT);
const logger = new Logger({ serviceName: SYNC_SERVICE_NAME });
const metrics = new Metrics({ namespace: SYNC_METRICS.namespace, serviceName: SYNC_METRICS.serviceName });

const doc = documentClient();
const ses = new SesClients(SES_CALLERS.sync.client);
const pacers = new SesPacers(settings.requestsPerSecond, SES_CALLERS.sync.pacingHeadroom);

/** Scheduled entry point: `{"region": "us-east-1", "mode": "incremental" | "full"}`. */
export const handler = async (event: unknown, context: Context): Promise<SyncSummary> => {
  logger.addContext(context);
  const request = parseSyncEvent(event, settings.regions);
  logger.appendKeys({ region: request.region, mode: request.mode });
  metrics.addDimension(SYNC_METRICS.regionDimension, request.region);
  try {
    const summary = await syncRegion(request, {
      ses: ses.forRegion(request.region),
      doc,
      suppressionTable: settings.suppressionTable,
      stateTable: settings.stateTable,
      pacer: pacers.forOperation(request.region, 'ListSuppressedDestinations'),
      logger,
      remainingMs: () => context.getRemainingTimeInMillis(),
      options: { overlapMs: settings.overlapSeconds * 1000, marginMs: SYNC_DEADLINE_MARGIN_MS },
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
    logger.info('sync finished', { summary });
    return summary;
  } finally {
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
};
