import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { SyncSummary } from '../../client/sync-contract';
import { documentClient, SesClients } from '../domain/clients';
import { numberFromEnv, regionsFromEnv, requireEnv } from '../domain/env';
import { Pacer } from '../domain/retry';
import { parseSyncEvent } from './event';
import { syncRegion } from './sync';

const logger = new Logger({ serviceName: 'ses-suppression-sync' });
const metrics = new Metrics({ namespace: 'SesSuppressionGuard', serviceName: 'ses-suppression-sync' });

const SUPPRESSION_TABLE = requireEnv('SUPPRESSION_TABLE_NAME');
const STATE_TABLE = requireEnv('SYNC_STATE_TABLE_NAME');
const REGIONS = regionsFromEnv('SYNC_REGIONS');
const REQUESTS_PER_SECOND = numberFromEnv('SES_REQUESTS_PER_SECOND', 1);
const OVERLAP_MS = numberFromEnv('SYNC_OVERLAP_SECONDS', 600) * 1000;
const MARGIN_MS = numberFromEnv('SYNC_DEADLINE_MARGIN_SECONDS', 20) * 1000;
// Pace a little under the allowed rate: requests that land a few milliseconds early would be throttled.
const PACING_HEADROOM = 0.97;

const doc = documentClient();
// The sync runs its own paced retry loop for SES, so the SDK must not add a second, unpaced one.
const ses = new SesClients({ maxAttempts: 1 });
const pacers = new Map<string, Pacer>();

/** Scheduled entry point: `{"region": "us-east-1", "mode": "incremental" | "full"}`. */
export const handler = async (event: unknown, context: Context): Promise<SyncSummary> => {
  logger.addContext(context);
  const request = parseSyncEvent(event, REGIONS);
  logger.appendKeys({ region: request.region, mode: request.mode });
  let pacer = pacers.get(request.region);
  if (!pacer) {
    pacer = new Pacer(REQUESTS_PER_SECOND * PACING_HEADROOM);
    pacers.set(request.region, pacer);
  }
  metrics.addDimension('Region', request.region);
  try {
    const summary = await syncRegion(request, {
      ses: ses.forRegion(request.region),
      doc,
      suppressionTable: SUPPRESSION_TABLE,
      stateTable: STATE_TABLE,
      pacer,
      logger,
      remainingMs: () => context.getRemainingTimeInMillis(),
      options: { overlapMs: OVERLAP_MS, marginMs: MARGIN_MS },
    });
    // Three metrics per region (each is a billed custom metric); errors are counted by Lambda's own Errors metric.
    metrics.addMetric('ItemsWritten', MetricUnit.Count, summary.itemsWritten);
    metrics.addMetric('Throttled', MetricUnit.Count, summary.throttled);
    if (summary.syncedThrough) {
      metrics.addMetric(
        'SyncLagSeconds',
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
