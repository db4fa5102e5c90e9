import { METRICS_NAMESPACE } from '../domain/names';
import { positiveNumberVariable, regionListVariable, stringVariable } from '../domain/settings';

/**
 * The sync function's runtime contract: the construct (`lib/suppression-sync.ts`) writes this environment and the
 * stale alarms from it, and the handler reads it and emits its metrics by it.
 */

/** Service name in the function's logs and the `service` dimension of its metrics. */
export const SYNC_SERVICE_NAME = 'ses-suppression-sync';

/** The function's environment variables. */
export const SYNC_ENVIRONMENT = {
  suppressionTable: stringVariable('SUPPRESSION_TABLE_NAME'),
  stateTable: stringVariable('SYNC_STATE_TABLE_NAME'),
  /** The one list every schedule, the guard and the CLI agree on. */
  regions: regionListVariable('SYNC_REGIONS'),
  /** SES requests per second per region. */
  requestsPerSecond: positiveNumberVariable('SES_REQUESTS_PER_SECOND'),
  /** How far before the watermark an incremental pass starts reading. */
  overlapSeconds: positiveNumberVariable('SYNC_OVERLAP_SECONDS'),
} as const;

/** A pass checkpoints and stops this long before the function's deadline. */
export const SYNC_DEADLINE_MARGIN_MS = 20_000;

/** The sync's custom metrics: three per region (each is a billed custom metric). */
export const SYNC_METRICS = {
  namespace: METRICS_NAMESPACE,
  serviceName: SYNC_SERVICE_NAME,
  names: { itemsWritten: 'ItemsWritten', throttled: 'Throttled', syncLag: 'SyncLagSeconds' },
  /** Dimension the handler adds to every metric of one region's run. */
  regionDimension: 'Region',
  /** Every dimension of one region's metrics: Powertools adds `service` (the service name), the handler the region. */
  dimensions: (region: string): Record<string, string> => ({ service: SYNC_SERVICE_NAME, Region: region }),
} as const;
