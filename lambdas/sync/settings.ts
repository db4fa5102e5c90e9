import { METRICS_NAMESPACE } from '../domain/names';
import { choiceVariable, positiveNumberVariable, regionListVariable, stringVariable } from '../domain/settings';

/**
 * The sync function's runtime contract: the construct (`lib/suppression-sync.ts`) writes this environment and the
 * stale alarms from it, and the handler reads it and emits its metrics by it.
 */

/** Service name in the function's logs and the `service` dimension of its metrics. */
export const SYNC_SERVICE_NAME = 'ses-suppression-sync';

/** What propagation may do (the `propagation` setting). */
export const PROPAGATION_MODES = ['enforce', 'report', 'off'] as const;
export type PropagationMode = (typeof PROPAGATION_MODES)[number];

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
  /** `enforce` writes into the regions' SES lists, `report` only computes drift, `off` does neither. */
  propagation: choiceVariable('PROPAGATION_MODE', PROPAGATION_MODES),
  /** Regions whose SES lists propagation writes into (a subset of `regions`). */
  propagateTo: regionListVariable('PROPAGATE_TO_REGIONS'),
  /** Name of each region's import bucket, with `{region}` standing for the region (`ssg-imports-123456789012-{region}`). */
  importBucketPattern: stringVariable('IMPORT_BUCKET_NAME_PATTERN'),
  /** A delta of at least this many addresses goes to SES as an import job instead of one call per address. */
  bulkThreshold: positiveNumberVariable('PROPAGATION_BULK_THRESHOLD'),
} as const;

/** The import bucket of `region`, from {@link SYNC_ENVIRONMENT}'s `importBucketPattern`. */
export function importBucketName(pattern: string, region: string): string {
  return pattern.replace('{region}', region);
}

/** A pass checkpoints and stops this long before the function's deadline. */
export const SYNC_DEADLINE_MARGIN_MS = 20_000;

/** The sync's custom metrics: three per region (each is a billed custom metric). */
export const SYNC_METRICS = {
  namespace: METRICS_NAMESPACE,
  serviceName: SYNC_SERVICE_NAME,
  names: {
    itemsWritten: 'ItemsWritten',
    throttled: 'Throttled',
    syncLag: 'SyncLagSeconds',
    /** After a propagation run: addresses wanted in the region but not on its list, plus ours no longer wanted. */
    drift: 'PropagationDrift',
    /** Import jobs of the run that SES reported FAILED (or whose records kept failing). */
    importJobsFailed: 'ImportJobsFailed',
  },
  /** Dimension the handler adds to every metric of one region's run. */
  regionDimension: 'Region',
  /** Every dimension of one region's metrics: Powertools adds `service` (the service name), the handler the region. */
  dimensions: (region: string): Record<string, string> => ({ service: SYNC_SERVICE_NAME, Region: region }),
} as const;
