import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { SesEventBridgeEvent } from '../client/ses-events';
import { AttributionTable } from '../lambdas/domain/attribution-table';
import { documentClient } from '../lambdas/domain/clients';
import { COUNTER_NAMES, type CounterName } from '../lambdas/domain/records';
import { SES_CALLERS } from '../lambdas/domain/ses';
import { type LocalEnvironment, startLocalEnvironment } from '../local/environment';
import type { BatchObservation } from '../local/sqs-event-source';
import { CountingProxy } from './counting-proxy';
import { type BenchDynamo, percentile, round } from './harness';

/** Settings of the events benchmark. */
export interface EventsBenchOptions {
  /** Latency: this many sends from us-east-1, one bouncing recipient each, one every `sendIntervalMs`. */
  readonly latencySends: number;
  readonly sendIntervalMs: number;
  /** Burst: one message to this many bouncing recipients (SES takes at most 50 a message). */
  readonly burst: number;
  /** Throughput: synthetic events pushed straight into the queue (plus `duplicates` of them again). */
  readonly throughputEvents: number;
  readonly duplicates: number;
  /** The emulator's SES rate per operation and region; the sync function paces itself to the template's rate. */
  readonly sesRequestsPerSecond: number;
  /** Between SendEmail and the message's events in the emulator. */
  readonly eventDelayMs: number;
  /** How often each region's list is looked at. */
  readonly pollMs: number;
  /** How long to wait for an address to reach every region before counting it as not reached. */
  readonly reachTimeoutMs: number;
}

/** One address of the latency or burst case, its times in ms from the event's publication. */
export interface AddressTiming {
  /** SendEmail returned → the event was published (the emulator's event delay). */
  readonly sendToEventMs: number;
  /** Event published → the poller handed its batch to the ingestion function (batching window, earlier batches). */
  readonly queueMs: number;
  /** The batch in the ingestion function (DynamoDB writes, starting the targeted propagations). */
  readonly ingestionMs: number;
  /** Ingestion answered → the address was on every other region's list (lease, pacing, SES calls). */
  readonly propagationMs: number;
  /** Event published → on every other region's list. */
  readonly totalMs: number;
}

/** Percentiles of one case. */
export interface LatencySummary {
  readonly addresses: number;
  readonly reached: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** Medians of the parts of the reached addresses. */
  readonly medianQueueMs: number;
  readonly medianIngestionMs: number;
  readonly medianPropagationMs: number;
  /** p95 from SendEmail's return (the event delay included). */
  readonly p95FromSendMs: number;
  readonly batches: number;
  /** Every reached address's times, in send order. */
  readonly timings: readonly AddressTiming[];
}

/** What the events benchmark measured. */
export interface EventsBenchResult {
  readonly options: EventsBenchOptions;
  readonly regions: readonly string[];
  /** The targeted runs' pacing: the sync function's rate × its headroom, requests/second per region. */
  readonly pacedRequestsPerSecond: number;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly latency: LatencySummary;
  readonly burst: LatencySummary & {
    /** First event published → the last address on every other region's list. */
    readonly allEverywhereMs: number;
    /** What the arithmetic predicts for that: batches per region × addresses a batch × 2 requests ÷ the paced rate. */
    readonly predictedMs: number;
  };
  readonly throughput: {
    readonly events: number;
    readonly byType: Record<string, number>;
    readonly ms: number;
    readonly eventsPerSecond: number;
    readonly batches: number;
    readonly dynamoRequests: Record<string, number>;
    readonly dynamoRequestsPerEvent: number;
    /** SES suppression-list requests made meanwhile (none: these events start no propagation). */
    readonly sesSuppressionRequests: number;
    /** Counters of the bench sender against the distinct events pushed (duplicates counted once). */
    readonly countersExpected: Partial<Record<CounterName, number>>;
    readonly countersMeasured: Partial<Record<CounterName, number>>;
  };
  readonly deadLettered: number;
  readonly redelivered: number;
}

const ORIGIN = 'us-east-1';
/** The identity of the synthetic events' sender, so their counters stand apart from the real sends'. */
const THROUGHPUT_SENDER = 'bench-events.example.net';

/**
 * The SES event path end to end on the local environment (synthesized template, emulator at SES's pacing): latency
 * of a bounce from its event to every other region's list, a burst of bounces, and the ingestion bundle's throughput.
 */
export async function runEventsBench(
  dynamo: BenchDynamo,
  options: EventsBenchOptions,
  log: (line: string) => void,
): Promise<EventsBenchResult> {
  const proxy = await CountingProxy.start(dynamo.local.endpoint);
  let env: LocalEnvironment | undefined;
  let ses: SESv2Client | undefined;
  let ddb: DynamoDBClient | undefined;
  try {
    log('  events: starting the local environment (functions, SES emulator, queue)...');
    env = await startLocalEnvironment({
      envFile: false,
      dynamodbEndpoint: proxy.endpoint,
      outdir: dynamo.outdir,
      reuseAssembly: true,
      sesRequestsPerSecond: options.sesRequestsPerSecond,
      tableSuffix: `-evbench-${randomBytes(3).toString('hex')}`,
    });
    env.ses.setEventDelayMs(options.eventDelayMs);
    const [source] = env.eventSources;
    if (!source) throw new Error('the template has no SQS event source');
    ses = new SESv2Client({ region: ORIGIN, endpoint: env.endpoints.sesv2, credentials: env.credentials });
    ddb = new DynamoDBClient({ endpoint: dynamo.local.endpoint, region: env.region, credentials: env.credentials });
    const east = env.ses.region(ORIGIN);
    for (const name of ['example.com', THROUGHPUT_SENDER]) {
      east.putIdentity({ name, type: 'DOMAIN', verifiedForSending: true, verificationStatus: 'SUCCESS', dkimStatus: 'SUCCESS' });
      // What `ssg events attach` does: the service's configuration set becomes the identity's default.
      east.setIdentityConfigurationSet(name, 'ses-suppression-guard');
    }
    const others = env.regions.filter((r) => r !== ORIGIN);
    const syncRate = Number(
      Object.values(env.template.Resources).find((r) => r.Properties?.Environment?.Variables?.SES_REQUESTS_PER_SECOND !== undefined)
        ?.Properties?.Environment?.Variables?.SES_REQUESTS_PER_SECOND ?? 1,
    );
    const pacedRequestsPerSecond = syncRate * (SES_CALLERS.sync.pacingHeadroom ?? 1);

    // Every address's times: the send's return, the event's publication, its batch, every other region's list.
    const sentAt = new Map<string, number>();
    const publishedAt = new Map<string, number>();
    const batchOf = new Map<string, BatchObservation>();
    const reachedAt = new Map<string, number>();
    const unsubscribe = env.ses.events.subscribe((event) => {
      if (event.detail.eventType !== 'Bounce') return;
      for (const r of event.detail.bounce?.bouncedRecipients ?? []) {
        const key = r.emailAddress.toLowerCase();
        if (!publishedAt.has(key)) publishedAt.set(key, Date.now());
      }
    });
    const unobserve = source.observe((batch) => {
      for (const body of batch.bodies) {
        const event = JSON.parse(body) as SesEventBridgeEvent;
        for (const r of event.detail?.bounce?.bouncedRecipients ?? []) {
          const key = r.emailAddress.toLowerCase();
          if (!batchOf.has(key)) batchOf.set(key, batch);
        }
      }
    });
    const watching = new Set<string>();
    const watch = setInterval(() => {
      for (const address of watching) {
        if (others.every((region) => env?.ses.region(region).getSuppressed(address) !== undefined)) {
          reachedAt.set(address, Date.now());
          watching.delete(address);
        }
      }
    }, options.pollMs);
    const send = async (to: string[]) => {
      for (const a of to) watching.add(a);
      await ses!.send(
        new SendEmailCommand({
          FromEmailAddress: 'news@example.com',
          Destination: { ToAddresses: to },
          Content: { Simple: { Subject: { Data: 'bench' }, Body: { Text: { Data: 'bench' } } } },
        }),
      );
      const now = Date.now();
      for (const a of to) sentAt.set(a, now);
    };
    const waitReached = async (addresses: readonly string[]) => {
      const bound = Date.now() + options.reachTimeoutMs;
      while (addresses.some((a) => !reachedAt.has(a)) && Date.now() < bound) await sleep(options.pollMs);
    };
    const timings = (addresses: readonly string[]): AddressTiming[] =>
      addresses.flatMap((a) => {
        const published = publishedAt.get(a);
        const batch = batchOf.get(a);
        const reached = reachedAt.get(a);
        if (published === undefined || batch === undefined || reached === undefined) return [];
        return [
          {
            sendToEventMs: published - (sentAt.get(a) ?? published),
            queueMs: batch.receivedAt - published,
            ingestionMs: batch.answeredAt - batch.receivedAt,
            propagationMs: reached - batch.answeredAt,
            totalMs: reached - published,
          },
        ];
      });
    const summarize = (addresses: readonly string[]): LatencySummary => {
      const t = timings(addresses);
      const totals = t.map((x) => x.totalMs);
      return {
        addresses: addresses.length,
        reached: addresses.filter((a) => reachedAt.has(a)).length,
        p50Ms: percentile(totals, 50),
        p95Ms: percentile(totals, 95),
        maxMs: totals.length ? Math.max(...totals) : NaN,
        medianQueueMs: percentile(
          t.map((x) => x.queueMs),
          50,
        ),
        medianIngestionMs: percentile(
          t.map((x) => x.ingestionMs),
          50,
        ),
        medianPropagationMs: percentile(
          t.map((x) => x.propagationMs),
          50,
        ),
        p95FromSendMs: percentile(
          t.map((x) => x.totalMs + x.sendToEventMs),
          95,
        ),
        batches: new Set(addresses.map((a) => batchOf.get(a)).filter((b) => b !== undefined)).size,
        timings: t,
      };
    };

    let latency: LatencySummary;
    let burst: EventsBenchResult['burst'];
    try {
      // Latency: one bounce every sendIntervalMs, each to a distinct address.
      const latencyAddresses = Array.from({ length: options.latencySends }, (_, i) => `latency.${i}@bounce.example.org`);
      east.seedRecipientOutcomes(latencyAddresses, 'bounce');
      log(
        `  events: latency, ${options.latencySends} bounces from ${ORIGIN}, one every ${options.sendIntervalMs / 1000} s, until each is on ${others.join(' and ')}...`,
      );
      const started = Date.now();
      for (const [i, address] of latencyAddresses.entries()) {
        await sleep(started + i * options.sendIntervalMs - Date.now());
        await send([address]);
      }
      await waitReached(latencyAddresses);
      await env.lambdaApi.asyncIdle();
      await source.idle();
      latency = summarize(latencyAddresses);

      // Burst: one message to `burst` bouncing recipients, so every event is published at once.
      const burstAddresses = Array.from({ length: options.burst }, (_, i) => `burst.${i}@bounce.example.org`);
      east.seedRecipientOutcomes(burstAddresses, 'bounce');
      const batchesPerRegion = Math.ceil(options.burst / source.config.batchSize);
      const predictedMs = Math.round(((options.burst * 2) / pacedRequestsPerSecond) * 1000);
      log(
        `  events: burst, one message to ${options.burst} bouncing recipients (≈ ${batchesPerRegion} batch(es), so ${batchesPerRegion} targeted invocation(s) a region, one at a time on the lease; ≈ ${(predictedMs / 1000).toFixed(0)} s of paced SES calls a region)...`,
      );
      await send(burstAddresses);
      await waitReached(burstAddresses);
      await env.lambdaApi.asyncIdle();
      await source.idle();
      const firstPublished = Math.min(...burstAddresses.map((a) => publishedAt.get(a) ?? Number.POSITIVE_INFINITY));
      const lastReached = Math.max(...burstAddresses.map((a) => reachedAt.get(a) ?? Number.NaN));
      burst = { ...summarize(burstAddresses), allEverywhereMs: lastReached - firstPublished, predictedMs };
    } finally {
      clearInterval(watch);
      unsubscribe();
      unobserve();
    }

    // Throughput: event shapes from a real send of the bench sender, then synthetic copies straight into the queue.
    log(`  events: throughput, ${options.throughputEvents} synthetic Send / Delivery / suppressed-bounce events into the queue...`);
    const captured: SesEventBridgeEvent[] = [];
    const stopCapture = env.ses.events.subscribe((event) => captured.push(event));
    // latency.0 is on us-east-1's list since its bounce: SES answers with an OnAccountSuppressionList bounce (no origin).
    await ses.send(
      new SendEmailCommand({
        FromEmailAddress: `news@${THROUGHPUT_SENDER}`,
        Destination: { ToAddresses: ['reader@example.org', 'latency.0@bounce.example.org'] },
        Content: { Simple: { Subject: { Data: 'bench' }, Body: { Text: { Data: 'bench' } } } },
      }),
    );
    await env.ses.events.idle();
    stopCapture();
    await source.idle();
    await env.lambdaApi.asyncIdle();
    const shapes = {
      Send: captured.find((e) => e.detail.eventType === 'Send'),
      Delivery: captured.find((e) => e.detail.eventType === 'Delivery'),
      Bounce: captured.find((e) => e.detail.eventType === 'Bounce'),
    };
    if (!shapes.Send || !shapes.Delivery || shapes.Bounce?.detail.bounce?.bounceSubType !== 'OnAccountSuppressionList')
      throw new Error(`the emulator did not publish the expected events: ${captured.map((e) => e.detail.eventType).join(', ')}`);
    const attribution = new AttributionTable(documentClient(ddb), env.outputs.AttributionTableName!);
    const day = shapes.Send.time.slice(0, 10);
    const countersBefore = await senderCounters(attribution, day);
    const bodies: string[] = [];
    const byType: Record<string, number> = {};
    for (let k = 0; k < options.throughputEvents; k++) {
      const type = k % 10 < 4 ? 'Send' : k % 10 < 8 ? 'Delivery' : 'Bounce';
      byType[type] = (byType[type] ?? 0) + 1;
      bodies.push(JSON.stringify(synthetic(shapes[type]!, k)));
    }
    const dups = bodies.filter((_, k) => k % Math.max(1, Math.floor(options.throughputEvents / options.duplicates)) === 0);
    const pushed = [...bodies, ...dups.slice(0, options.duplicates)];
    const sesBefore = suppressionRequests(env);
    let throughputBatches = 0;
    const stopCounting = source.observe(() => throughputBatches++);
    proxy.reset();
    const pushStarted = Date.now();
    for (const body of pushed) source.send(body);
    await source.idle();
    const ms = Date.now() - pushStarted;
    stopCounting();
    const dynamoRequests = Object.fromEntries(Object.entries(proxy.snapshot()).sort(([a], [b]) => (a < b ? -1 : 1)));
    await env.lambdaApi.asyncIdle();
    const sesSuppressionRequests = suppressionRequests(env) - sesBefore;
    const countersAfter = await senderCounters(attribution, day);
    const countersMeasured: Partial<Record<CounterName, number>> = {};
    for (const name of COUNTER_NAMES) {
      const n = (countersAfter[name] ?? 0) - (countersBefore[name] ?? 0);
      if (n !== 0) countersMeasured[name] = n;
    }
    const total = Object.values(dynamoRequests).reduce((a, b) => a + b, 0);
    const stats = source.stats;
    return {
      options,
      regions: env.regions,
      pacedRequestsPerSecond: round(pacedRequestsPerSecond, 3),
      batchSize: source.config.batchSize,
      batchingWindowMs: source.config.batchingWindowMs,
      latency,
      burst,
      throughput: {
        events: pushed.length,
        byType: { ...byType, duplicates: pushed.length - bodies.length },
        ms,
        eventsPerSecond: round(pushed.length / Math.max(0.001, ms / 1000), 1),
        batches: throughputBatches,
        dynamoRequests,
        dynamoRequestsPerEvent: round(total / pushed.length, 2),
        sesSuppressionRequests,
        countersExpected: { sends: byType.Send ?? 0, deliveries: byType.Delivery ?? 0, sendsToSuppressed: byType.Bounce ?? 0 },
        countersMeasured,
      },
      deadLettered: stats.deadLettered,
      redelivered: stats.redelivered,
    };
  } finally {
    ses?.destroy();
    ddb?.destroy();
    await env?.stop();
    await proxy.stop();
  }
}

/** A copy of a captured event as another message would give it: its own ids and recipient, the same shape. */
function synthetic(shape: SesEventBridgeEvent, k: number): SesEventBridgeEvent {
  const event = structuredClone(shape) as SesEventBridgeEvent & { id: string; detail: Record<string, unknown> };
  const recipient = `reader.${k}@example.org`;
  event.id = randomUUID();
  const detail = event.detail as unknown as {
    mail: { messageId: string; destination: string[] };
    delivery?: { recipients: string[] };
    bounce?: { bouncedRecipients: Array<{ emailAddress: string }>; feedbackId: string };
  };
  detail.mail.messageId = `bench-${k.toString().padStart(8, '0')}-${randomBytes(4).toString('hex')}`;
  detail.mail.destination = [recipient];
  if (detail.delivery) detail.delivery.recipients = [recipient];
  if (detail.bounce) {
    for (const r of detail.bounce.bouncedRecipients) r.emailAddress = recipient;
    detail.bounce.feedbackId = `${detail.mail.messageId}-feedback`;
  }
  return event;
}

/** The bench sender's counters of `day`, summed over its rows. */
async function senderCounters(table: AttributionTable, day: string): Promise<Partial<Record<CounterName, number>>> {
  const out: Partial<Record<CounterName, number>> = {};
  for (const row of await table.dayCounters(day)) {
    if (row.sender !== THROUGHPUT_SENDER) continue;
    for (const name of COUNTER_NAMES) out[name] = (out[name] ?? 0) + row.counts[name];
  }
  return out;
}

/** Suppression-list requests of every region so far. */
function suppressionRequests(env: LocalEnvironment): number {
  let n = 0;
  for (const ops of Object.values(env.ses.stats().regions))
    for (const [op, s] of Object.entries(ops)) if (/SuppressedDestination|ImportJob/.test(op)) n += s.requests;
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** The target for an event to reach every region. */
export const EVENT_TO_EVERY_REGION_P95_MS = 60_000;
