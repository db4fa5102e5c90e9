import { createHash, randomUUID } from 'node:crypto';
import type { Template } from './synth';

/**
 * The local stand-in for an SQS queue with a Lambda event source mapping, configured from the synthesized template:
 * messages are batched as Lambda's poller batches them (batch size, batching window), delivered in the SQS event
 * shape, the records a partial batch response names (or the whole batch on a function error) are received again
 * after the visibility timeout, and a message received `maxReceiveCount` times goes to the dead-letter list.
 */

/** What the template says about one SQS event source of a function. */
export interface SqsEventSourceConfig {
  /** Logical ID of the `AWS::Lambda::EventSourceMapping`. */
  readonly logicalId: string;
  readonly functionLogicalId: string;
  readonly queueLogicalId: string;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly reportBatchItemFailures: boolean;
  /** Receives before a message goes to the queue's dead-letter queue; Infinity without a redrive policy. */
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutMs: number;
  /** The event pattern of the rule that fills the queue, if a rule does. */
  readonly eventPattern?: { readonly source?: readonly string[]; readonly 'detail-type'?: readonly string[] };
}

/** The SQS event source mappings of the template, each with its queue's redrive policy and the rule that fills it. */
export function sqsEventSourcesFromTemplate(template: Template): SqsEventSourceConfig[] {
  const sources: SqsEventSourceConfig[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const p = resource.Properties ?? {};
    const queueLogicalId = getAttTarget(p.EventSourceArn);
    const functionLogicalId = refTarget(p.FunctionName);
    const queue = queueLogicalId ? template.Resources[queueLogicalId] : undefined;
    if (!queueLogicalId || !functionLogicalId || queue?.Type !== 'AWS::SQS::Queue') continue;
    const rule = Object.values(template.Resources).find(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        (r.Properties?.Targets ?? []).some((t: { Arn?: unknown }) => getAttTarget(t.Arn) === queueLogicalId),
    );
    sources.push({
      logicalId,
      functionLogicalId,
      queueLogicalId,
      batchSize: Number(p.BatchSize ?? 10),
      batchingWindowMs: Number(p.MaximumBatchingWindowInSeconds ?? 0) * 1000,
      reportBatchItemFailures: ((p.FunctionResponseTypes ?? []) as string[]).includes('ReportBatchItemFailures'),
      maxReceiveCount: Number(queue.Properties?.RedrivePolicy?.maxReceiveCount ?? Number.POSITIVE_INFINITY),
      visibilityTimeoutMs: Number(queue.Properties?.VisibilityTimeout ?? 30) * 1000,
      ...(rule?.Properties?.EventPattern ? { eventPattern: rule.Properties.EventPattern } : {}),
    });
  }
  return sources;
}

/** Whether an EventBridge event matches the (source, detail-type) pattern of a rule. */
export function matchesPattern(
  event: { source?: unknown; 'detail-type'?: unknown },
  pattern: SqsEventSourceConfig['eventPattern'],
): boolean {
  if (!pattern) return true;
  if (pattern.source && !pattern.source.includes(String(event.source))) return false;
  if (pattern['detail-type'] && !pattern['detail-type'].includes(String(event['detail-type']))) return false;
  return true;
}

/** One record of an SQS event as Lambda delivers it. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly messageAttributes: Record<string, never>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/** What the function answered for one batch. */
export interface BatchOutcome {
  /** The function's result (a partial batch response when it reports item failures). */
  readonly result?: unknown;
  /** Set when the invocation failed (function error, timeout): the whole batch is received again. */
  readonly error?: unknown;
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
}

/** Counts of a {@link LocalSqsEventSource}, for tests and the bench. */
export interface SqsEventSourceStats {
  readonly sent: number;
  readonly batches: number;
  readonly deleted: number;
  readonly redelivered: number;
  readonly deadLettered: number;
  readonly inFlight: number;
}

/** One batch the function was invoked with, as {@link LocalSqsEventSource.observe} reports it. */
export interface BatchObservation {
  readonly bodies: readonly string[];
  /** When the poller took the batch off the queue and invoked the function (epoch ms). */
  readonly receivedAt: number;
  /** When the function's answer came back (epoch ms). */
  readonly answeredAt: number;
  /** Records of the batch that failed (and go back to the queue, or to the dead-letter list). */
  readonly failed: number;
}

/** A queue and its event source mapping; `send` enqueues, the poller invokes `invoke` with batches. */
export class LocalSqsEventSource {
  private readonly waiting: Message[] = [];
  private readonly deadLetters: Message[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private counts = { sent: 0, batches: 0, deleted: 0, redelivered: 0, deadLettered: 0 };
  private readonly queueArn: string;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly observers = new Set<(batch: BatchObservation) => void>();

  constructor(
    readonly config: SqsEventSourceConfig,
    private readonly invoke: (event: { Records: SqsRecord[] }) => Promise<BatchOutcome>,
    private readonly region: string,
    account = '000000000000',
  ) {
    this.queueArn = `arn:aws:sqs:${region}:${account}:${config.queueLogicalId}`;
  }

  /** Enqueues one message body. */
  send(body: string): void {
    if (this.stopped) return;
    const now = Date.now();
    this.waiting.push({ messageId: randomUUID(), body, sentAt: now, receiveCount: 0, visibleAt: now });
    this.counts.sent++;
    this.schedule(this.config.batchingWindowMs);
  }

  /** Bodies that went to the dead-letter queue. */
  get deadLetterBodies(): string[] {
    return this.deadLetters.map((m) => m.body);
  }

  /** Calls `listener` after every batch the function answered (for the bench); returns the function that stops it. */
  observe(listener: (batch: BatchObservation) => void): () => void {
    this.observers.add(listener);
    return () => {
      this.observers.delete(listener);
    };
  }

  get stats(): SqsEventSourceStats {
    return { ...this.counts, inFlight: this.waiting.length };
  }

  /** Resolves once no message waits or is being processed. */
  idle(): Promise<void> {
    if (this.waiting.length === 0 && !this.polling) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer || this.polling) return;
    // A full batch goes at once; otherwise the batching window gathers more.
    const visible = this.waiting.filter((m) => m.visibleAt <= Date.now()).length;
    const wait = visible >= this.config.batchSize ? 0 : delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.afterPoll();
      });
    }, wait);
  }

  private afterPoll(): void {
    if (this.waiting.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    // Messages already visible have waited their window; the others wait until they are visible again.
    this.schedule(Math.max(0, Math.min(...this.waiting.map((m) => m.visibleAt)) - Date.now()));
  }

  private async poll(): Promise<void> {
    const now = Date.now();
    const batch = this.waiting.filter((m) => m.visibleAt <= now).slice(0, this.config.batchSize);
    if (batch.length === 0) return;
    for (const m of batch) {
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + this.config.visibilityTimeoutMs;
    }
    this.counts.batches++;
    const outcome = await this.invoke({ Records: batch.map((m) => this.record(m)) });
    const failed = this.failedIds(batch, outcome);
    const observation: BatchObservation = {
      bodies: batch.map((m) => m.body),
      receivedAt: now,
      answeredAt: Date.now(),
      failed: failed.size,
    };
    for (const listener of this.observers) listener(observation);
    for (const m of batch) {
      if (failed.has(m.messageId)) {
        if (m.receiveCount >= this.config.maxReceiveCount) {
          this.remove(m);
          this.deadLetters.push(m);
          this.counts.deadLettered++;
        } else {
          // Locally the retry comes after a short pause rather than the whole visibility timeout.
          m.visibleAt = Date.now() + Math.min(this.config.visibilityTimeoutMs, 200);
          this.counts.redelivered++;
        }
      } else {
        this.remove(m);
        this.counts.deleted++;
      }
    }
  }

  /** The batch's failed records: the whole batch on an error, else the items a partial batch response names. */
  private failedIds(batch: readonly Message[], outcome: BatchOutcome): Set<string> {
    if (outcome.error !== undefined) return new Set(batch.map((m) => m.messageId));
    if (!this.config.reportBatchItemFailures) return new Set();
    const failures = (outcome.result as { batchItemFailures?: Array<{ itemIdentifier?: unknown }> } | null)?.batchItemFailures;
    if (failures === undefined || failures === null) return new Set();
    if (!Array.isArray(failures)) return new Set(batch.map((m) => m.messageId));
    const ids = new Set(batch.map((m) => m.messageId));
    // As Lambda does: an empty or unknown identifier fails the whole batch.
    if (failures.some((f) => typeof f?.itemIdentifier !== 'string' || !ids.has(f.itemIdentifier))) return ids;
    return new Set(failures.map((f) => f.itemIdentifier as string));
  }

  private remove(message: Message): void {
    const index = this.waiting.indexOf(message);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  private record(m: Message): SqsRecord {
    return {
      messageId: m.messageId,
      receiptHandle: `${m.messageId}#${m.receiveCount}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: 'AIDAEVENTBRIDGE',
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(m.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.queueArn,
      awsRegion: this.region,
    };
  }
}

function getAttTarget(value: unknown): string | undefined {
  const att = (value as { 'Fn::GetAtt'?: unknown } | null)?.['Fn::GetAtt'];
  return Array.isArray(att) && att[1] === 'Arn' ? String(att[0]) : undefined;
}

function refTarget(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | null)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}
