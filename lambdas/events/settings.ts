import { METRICS_NAMESPACE } from '../domain/names';
import { positiveNumberVariable, regionListVariable, stringVariable } from '../domain/settings';

/**
 * The event ingestion function's runtime contract. It reads these environment variables, all required (the
 * construct writes every one; a missing or invalid one fails the cold start with the variable's name):
 *
 * | variable | value |
 * | --- | --- |
 * | `SUPPRESSION_TABLE_NAME` | the canonical suppression table (GetItem, UpdateItem) |
 * | `ATTRIBUTION_TABLE_NAME` | the attribution table (TransactWriteItems of a PutItem and an UpdateItem) |
 * | `EVENT_DEDUPE_TTL_DAYS` | days an event stays recorded as counted: a duplicate delivered within them is not counted again (e.g. 35) |
 * | `ATTRIBUTION_RETENTION_DAYS` | days a day's counters are kept after that day (e.g. 400) |
 * | `PROPAGATION_FUNCTION_NAME` | the function to invoke (asynchronously) with `{"region", "mode": "propagate", "addresses"}` for each new origin, or `none` when propagation does not enforce |
 * | `PROPAGATE_TO_REGIONS` | the regions to invoke it for |
 *
 * The grants: `SuppressionTables.grantEventIngester` in `lib/tables.ts`. The function is an SQS event source with
 * `ReportBatchItemFailures`; its handler is the export `handler` of `lambdas/events/handler.ts`.
 */

/** Service name in the function's logs and the `service` dimension of its metrics. */
export const EVENTS_SERVICE_NAME = 'ses-suppression-events';

/** The function's environment variables. */
export const EVENTS_ENVIRONMENT = {
  suppressionTable: stringVariable('SUPPRESSION_TABLE_NAME'),
  attributionTable: stringVariable('ATTRIBUTION_TABLE_NAME'),
  dedupeTtlDays: positiveNumberVariable('EVENT_DEDUPE_TTL_DAYS'),
  retentionDays: positiveNumberVariable('ATTRIBUTION_RETENTION_DAYS'),
  propagationFunction: stringVariable('PROPAGATION_FUNCTION_NAME'),
  propagateTo: regionListVariable('PROPAGATE_TO_REGIONS'),
} as const;

/** `PROPAGATION_FUNCTION_NAME` when no propagation is to be started (propagation `report` or `off`). */
export const NO_PROPAGATION_FUNCTION = 'none';

/** The function's custom metrics; none carries an address. */
export const EVENTS_METRICS = {
  namespace: METRICS_NAMESPACE,
  serviceName: EVENTS_SERVICE_NAME,
  names: {
    /** Events ingested, with the {@link EVENTS_METRICS.typeDimension} dimension. */
    ingested: 'EventsIngested',
    /** Event origins written (a recipient's origin that changed; a duplicate writes none). */
    originsRecorded: 'OriginsRecorded',
    /** Message bodies that are not valid SES events (each fails alone and goes back to the queue). */
    malformed: 'MalformedEvents',
    /** Valid SES events of a type the service does not ingest (opens, clicks, ...). */
    ignored: 'EventsIgnored',
    /** Now minus the event's time, in milliseconds, per ingested event. */
    ingestionAge: 'IngestionAge',
    /** Targeted propagation invocations that could not be started (the scheduled runs propagate those addresses). */
    propagationNotStarted: 'PropagationNotStarted',
  },
  /** Dimension of {@link EVENTS_METRICS.names.ingested}: the SES event type (`Bounce`, `Complaint`, ...). */
  typeDimension: 'EventType',
} as const;
