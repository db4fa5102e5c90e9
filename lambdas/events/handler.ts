import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MAX_TARGETED_ADDRESSES, type PropagationEvent } from '../../client/sync-contract';
import { AttributionTable } from '../domain/attribution-table';
import { documentClient } from '../domain/clients';
import { readEnvironment } from '../domain/settings';
import { SuppressionTable } from '../domain/suppression-table';
import { EventError, type IngestedEventType, parseEventBody } from './event';
import { type IngestionDeps, ingestEvent } from './ingest';
import { EVENTS_ENVIRONMENT, EVENTS_METRICS, EVENTS_SERVICE_NAME, NO_PROPAGATION_FUNCTION } from './settings';

const settings = readEnvironment(EVENTS_ENVIRONMENT);
const logger = new Logger({ serviceName: EVENTS_SERVICE_NAME });
const metrics = new Metrics({ namespace: EVENTS_METRICS.namespace, serviceName: EVENTS_METRICS.serviceName });

const doc = documentClient();
const deps: IngestionDeps = {
  suppression: new SuppressionTable(doc, settings.suppressionTable),
  attribution: new AttributionTable(doc, settings.attributionTable),
  dedupeTtlDays: settings.dedupeTtlDays,
  retentionDays: settings.retentionDays,
  now: () => new Date(),
};
const processor = new BatchProcessor(EventType.SQS);
const lambda = settings.propagationFunction === NO_PROPAGATION_FUNCTION ? undefined : new LambdaClient({});

/**
 * Starts a targeted propagation of `keys` into every propagateTo region (asynchronous invocations, so the batch does
 * not wait for SES's pacing). An invocation that cannot be started is logged and counted, not retried: the
 * scheduled and post-sync runs propagate every origin anyway, only later.
 */
async function startPropagation(keys: readonly string[]): Promise<void> {
  if (!lambda || keys.length === 0) return;
  const calls: Promise<unknown>[] = [];
  for (const region of settings.propagateTo) {
    for (let i = 0; i < keys.length; i += MAX_TARGETED_ADDRESSES) {
      const payload: PropagationEvent = { region, mode: 'propagate', addresses: keys.slice(i, i + MAX_TARGETED_ADDRESSES) };
      calls.push(
        lambda
          .send(
            new InvokeCommand({ FunctionName: settings.propagationFunction, InvocationType: 'Event', Payload: JSON.stringify(payload) }),
          )
          .catch((error: unknown) => {
            logger.error('targeted propagation not started', { region, count: payload.addresses?.length, error: error as Error });
            metrics.addMetric(EVENTS_METRICS.names.propagationNotStarted, MetricUnit.Count, 1);
          }),
      );
    }
  }
  await Promise.all(calls);
}

/**
 * SQS entry point of the events queue (an event source mapping with `ReportBatchItemFailures`): each message is one
 * SES event as EventBridge delivered it. A record that fails (a malformed body, a DynamoDB error) is reported in
 * `batchItemFailures` and goes back to the queue alone; the others are done. When every record fails the batch
 * processor throws, so the invocation fails as a whole.
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  const ingested = new Map<IngestedEventType, number>();
  const newOrigins = new Set<string>();
  try {
    const response = await processPartialResponse(
      event,
      async (record: SQSRecord): Promise<void> => {
        let parsed: ReturnType<typeof parseEventBody>;
        try {
          parsed = parseEventBody(record.body);
        } catch (error) {
          if (error instanceof EventError) {
            metrics.addMetric(EVENTS_METRICS.names.malformed, MetricUnit.Count, 1);
            // The message names the field and never shows a value that may hold an address.
            logger.warn('malformed SES event', { messageId: record.messageId, field: error.field, error: error.message });
          }
          throw error;
        }
        if (parsed.kind === 'ignored') {
          metrics.addMetric(EVENTS_METRICS.names.ignored, MetricUnit.Count, 1);
          return;
        }
        let outcome: Awaited<ReturnType<typeof ingestEvent>>;
        try {
          outcome = await ingestEvent(parsed, deps);
        } catch (error) {
          // DynamoDB's errors carry no item values; the record goes back to the queue and is tried again.
          logger.error('SES event not ingested', { messageId: record.messageId, id: parsed.event.id, type: parsed.type, error });
          throw error;
        }
        ingested.set(parsed.type, (ingested.get(parsed.type) ?? 0) + 1);
        if (outcome.originsRecorded > 0) metrics.addMetric(EVENTS_METRICS.names.originsRecorded, MetricUnit.Count, outcome.originsRecorded);
        for (const key of outcome.originKeys) newOrigins.add(key);
        metrics.addMetric(EVENTS_METRICS.names.ingestionAge, MetricUnit.Milliseconds, Math.max(0, Date.now() - Date.parse(parsed.at)));
        if (!outcome.counted) logger.debug('duplicate SES event, counted before', { id: parsed.event.id, type: parsed.type });
      },
      processor,
      { context },
    );
    await startPropagation([...newOrigins]);
    return response;
  } finally {
    // One count per event type (at most five metric sets), instead of one metric set per record.
    for (const [type, count] of ingested) {
      const single = metrics.singleMetric();
      single.addDimension(EVENTS_METRICS.typeDimension, type);
      single.addMetric(EVENTS_METRICS.names.ingested, MetricUnit.Count, count);
    }
    metrics.publishStoredMetrics();
  }
};
