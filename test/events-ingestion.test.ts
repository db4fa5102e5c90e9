import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import type { SesEventBridgeEvent, SesEventRecord } from '../client/ses-events';
import { AttributionTable } from '../lambdas/domain/attribution-table';
import { unsuppress } from '../lambdas/domain/manual';
import { isEventOrigin, originsOf, planRegion, wantedReason } from '../lambdas/domain/origins';
import type { EventOriginEntry, SuppressionItem } from '../lambdas/domain/records';
import { StateTable } from '../lambdas/domain/state-table';
import { SuppressionTable } from '../lambdas/domain/suppression-table';
import { EventError, parseEventBody } from '../lambdas/events/event';
import { findResource } from '../local/template-resources';
import { createTestTables, scanAll, TEST_CREDENTIALS, type TestTables, testTemplate } from './support/local-aws';

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];
const DAY = '2026-03-04';
const at = (minute: number): string => new Date(Date.parse(`${DAY}T10:00:00.000Z`) + minute * 60_000).toISOString();

/** What an event of the tests varies; the rest is as SES publishes it. */
interface EventSpec {
  readonly region?: string;
  readonly messageId?: string;
  readonly sender?: string;
  readonly minute?: number;
  readonly caller?: string;
}

function envelope(detailType: string, detail: SesEventRecord, spec: EventSpec): SesEventBridgeEvent {
  return {
    version: '0',
    id: `eb-${Math.random().toString(16).slice(2)}`,
    'detail-type': detailType,
    source: 'aws.ses',
    account: '123456789012',
    time: at((spec.minute ?? 0) + 1),
    region: spec.region ?? 'us-east-1',
    resources: ['arn:aws:ses:us-east-1:123456789012:configuration-set/transactional'],
    detail,
  };
}

function mail(destination: string[], spec: EventSpec): SesEventRecord['mail'] {
  const sender = spec.sender ?? 'example.com';
  return {
    timestamp: at(spec.minute ?? 0),
    messageId: spec.messageId ?? `msg-${spec.minute ?? 0}`,
    source: `Sender <noreply@${sender}>`,
    sourceArn: `arn:aws:ses:${spec.region ?? 'us-east-1'}:123456789012:identity/${sender}`,
    sendingAccountId: '123456789012',
    destination,
    tags: {
      'ses:configuration-set': ['transactional'],
      'ses:source-ip': ['192.0.2.10'],
      'ses:from-domain': [sender],
      'ses:caller-identity': [spec.caller ?? 'mailer-role'],
    },
  };
}

const bounce = (
  recipients: string[],
  bounceType: 'Permanent' | 'Transient' | 'Undetermined',
  bounceSubType: string,
  spec: EventSpec = {},
): SesEventBridgeEvent =>
  envelope(
    'Email Bounced',
    {
      eventType: 'Bounce',
      mail: mail(recipients, spec),
      bounce: {
        bounceType,
        bounceSubType,
        bouncedRecipients: recipients.map((emailAddress) => ({ emailAddress, action: 'failed', status: '5.1.1' })),
        timestamp: at((spec.minute ?? 0) + 0.5),
        feedbackId: `fb-${spec.messageId ?? spec.minute ?? 0}-${bounceType}`,
        reportingMTA: 'dsn; mta.example.net',
      },
    },
    spec,
  );

const complaint = (recipients: string[], spec: EventSpec = {}, complaintSubType: string | null = null): SesEventBridgeEvent =>
  envelope(
    'Email Complaint Received',
    {
      eventType: 'Complaint',
      mail: mail(recipients, spec),
      complaint: {
        complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })),
        timestamp: at((spec.minute ?? 0) + 0.5),
        feedbackId: `fb-${spec.messageId ?? spec.minute ?? 0}-complaint`,
        complaintSubType,
        complaintFeedbackType: 'abuse',
      },
    },
    spec,
  );

const send = (recipients: string[], spec: EventSpec = {}): SesEventBridgeEvent =>
  envelope('Email Sent', { eventType: 'Send', mail: mail(recipients, spec), send: {} }, spec);

const delivery = (recipients: string[], spec: EventSpec = {}): SesEventBridgeEvent =>
  envelope(
    'Email Delivered',
    {
      eventType: 'Delivery',
      mail: mail(recipients, spec),
      delivery: { timestamp: at((spec.minute ?? 0) + 0.2), recipients, smtpResponse: '250 2.0.0 OK', processingTimeMillis: 120 },
    },
    spec,
  );

let sqsId = 0;
const record = (body: unknown): SQSRecord => ({
  messageId: `sqs-${++sqsId}`,
  receiptHandle: 'handle',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '0',
    SenderId: 'AIDAEXAMPLE',
    ApproximateFirstReceiveTimestamp: '0',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:ses-events',
  awsRegion: 'us-east-1',
});

const context = {
  functionName: 'events',
  awsRequestId: 'request',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

let tables: TestTables;
let attributionTableName: string;
let suppression: SuppressionTable;
let attribution: AttributionTable;
let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const ingest = (...events: unknown[]): Promise<SQSBatchResponse> => handler({ Records: events.map(record) }, context);
const item = (key: string): Promise<SuppressionItem | undefined> => suppression.get(key);
const counters = async (sender: string) => (await attribution.dayCounters(DAY)).filter((c) => c.sender === sender);

beforeAll(async () => {
  tables = await createTestTables();
  const { template } = testTemplate();
  attributionTableName = tables.names[findResource(template, 'AWS::DynamoDB::Table', 'TablesAttributionTable')] as string;
  suppression = new SuppressionTable(tables.doc, tables.suppressionTable);
  attribution = new AttributionTable(tables.doc, attributionTableName);
  // The handler reads its settings and builds its client when loaded, as in Lambda.
  Object.assign(process.env, {
    SUPPRESSION_TABLE_NAME: tables.suppressionTable,
    ATTRIBUTION_TABLE_NAME: attributionTableName,
    EVENT_DEDUPE_TTL_DAYS: '35',
    ATTRIBUTION_RETENTION_DAYS: '400',
    PROPAGATION_FUNCTION_NAME: 'none',
    PROPAGATE_TO_REGIONS: 'us-east-1,us-west-2,eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: process.env.SSG_TEST_DYNAMODB_ENDPOINT,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  });
  ({ handler } = await import('../lambdas/events/handler'));
});

describe('Function: events handler (DynamoDB Local)', () => {
  it('records a permanent bounce as an event origin that every region wants', async () => {
    // Act
    const response = await ingest(bounce(['Hard.Bounce@Example.org'], 'Permanent', 'General', { sender: 'bounce.example', minute: 1 }));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const stored = await item('hard.bounce@example.org');
    expect(stored).toMatchObject({
      firstSeen: at(1.5),
      origin: 'event:us-east-1',
      'event:us-east-1': {
        address: 'Hard.Bounce@Example.org',
        reason: 'BOUNCE',
        at: at(1.5),
        firstAt: at(1.5),
        lastAt: at(1.5),
        messageId: 'msg-1',
        feedbackId: 'fb-1-Permanent',
      },
    });
    const origins = originsOf(stored as SuppressionItem);
    expect(origins).toEqual([{ source: 'event:us-east-1', reason: 'BOUNCE' }]);
    for (const region of REGIONS) {
      expect(planRegion(stored as SuppressionItem, region, () => undefined)).toEqual({
        kind: 'add',
        address: 'Hard.Bounce@Example.org',
        reason: 'BOUNCE',
      });
    }
    expect(await counters('bounce.example')).toEqual([
      expect.objectContaining({
        region: 'us-east-1',
        callerIdentity: 'mailer-role',
        sourceIp: '192.0.2.10',
        configurationSet: 'transactional',
        counts: expect.objectContaining({ permanentBounces: 1, transientBounces: 0, sendsToSuppressed: 0 }),
      }),
    ]);
  });

  it('counts transient and undetermined bounces without making them origins', async () => {
    // Act
    await ingest(
      bounce(['soft@example.org'], 'Transient', 'MailboxFull', { sender: 'soft.example', minute: 2 }),
      bounce(['unsure@example.org'], 'Undetermined', 'Undetermined', { sender: 'soft.example', minute: 3 }),
    );

    // Assess
    expect(await item('soft@example.org')).toBeUndefined();
    expect(await item('unsure@example.org')).toBeUndefined();
    const [c] = await counters('soft.example');
    expect(c?.counts).toMatchObject({ transientBounces: 2, permanentBounces: 0 });
  });

  it('records every complained recipient as a COMPLAINT origin, and only those', async () => {
    // Act
    await ingest(complaint(['one@example.org', 'two@example.org'], { region: 'eu-west-1', sender: 'complaint.example', minute: 4 }));

    // Assess
    for (const key of ['one@example.org', 'two@example.org']) {
      const stored = (await item(key)) as SuppressionItem;
      expect(originsOf(stored)).toEqual([{ source: 'event:eu-west-1', reason: 'COMPLAINT' }]);
      expect(wantedReason(originsOf(stored))).toBe('COMPLAINT');
    }
    expect((await counters('complaint.example'))[0]?.counts).toMatchObject({ complaints: 2 });
  });

  it('counts a bounce of an address on the suppression list as a send to a suppressed address, not a new origin', async () => {
    // Act
    await ingest(
      bounce(['listed@example.org'], 'Permanent', 'OnAccountSuppressionList', { sender: 'suppressed.example', minute: 5 }),
      complaint(['listed@example.org'], { sender: 'suppressed.example', minute: 6 }, 'OnAccountSuppressionList'),
    );

    // Assess
    expect(await item('listed@example.org')).toBeUndefined();
    expect((await counters('suppressed.example'))[0]?.counts).toMatchObject({
      sendsToSuppressed: 1,
      suppressedComplaints: 1,
      permanentBounces: 0,
      complaints: 0,
    });
  });

  it('changes nothing when the same events arrive again, in the same batch or later, under a new EventBridge id', async () => {
    // Prepare
    const events = [
      send(['dup@example.org', 'other@example.org'], { sender: 'dup.example', minute: 7 }),
      delivery(['dup@example.org'], { sender: 'dup.example', minute: 7 }),
      bounce(['dup@example.org'], 'Permanent', 'NoEmail', { sender: 'dup.example', minute: 8 }),
      complaint(['dup@example.org'], { sender: 'dup.example', minute: 9 }),
    ];
    await ingest(...events);
    const itemBefore = await item('dup@example.org');
    const countersBefore = await counters('dup.example');

    // Act
    const again = await ingest(...events, ...events);
    await ingest(...events.map((e) => ({ ...e, id: `${e.id}-redelivered` })));

    // Assess
    expect(again.batchItemFailures).toEqual([]);
    expect(await item('dup@example.org')).toEqual(itemBefore);
    expect(await counters('dup.example')).toEqual(countersBefore);
    expect(countersBefore[0]?.counts).toMatchObject({ sends: 2, deliveries: 1, permanentBounces: 1, complaints: 1 });
  });

  it('reports only the malformed records in batchItemFailures and processes the others', async () => {
    // Prepare
    const good = record(bounce(['batch.ok@example.org'], 'Permanent', 'General', { sender: 'batch.example', minute: 10 }));
    const notJson = record('{"source": "aws.ses", "detail": {"mail": {"destination": ["secret@example.org"]');
    const badType = record({
      ...bounce(['batch.bad@example.org'], 'Permanent', 'General', { sender: 'batch.example', minute: 11 }),
      detail: { ...bounce(['batch.bad@example.org'], 'Permanent', 'General').detail, eventType: 'Delivery' },
    });
    const ignored = record({ ...send(['x@example.org']), 'detail-type': 'Email Opened' });
    const alsoGood = record(send(['batch.ok@example.org'], { sender: 'batch.example', minute: 12 }));

    // Act
    const response = await handler({ Records: [good, notJson, badType, ignored, alsoGood] }, context);

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: notJson.messageId }, { itemIdentifier: badType.messageId }]);
    expect(originsOf((await item('batch.ok@example.org')) as SuppressionItem)).toHaveLength(1);
    expect(await item('batch.bad@example.org')).toBeUndefined();
    expect((await counters('batch.example'))[0]?.counts).toMatchObject({ permanentBounces: 1, sends: 1 });
  });

  it('ends the event origins on unsuppress, and an older event delivered afterwards does not bring them back', async () => {
    // Prepare
    const late = bounce(['lifted@example.org'], 'Permanent', 'General', { region: 'us-west-2', sender: 'lift.example', minute: 13 });
    await ingest(
      bounce(['lifted@example.org'], 'Permanent', 'General', { sender: 'lift.example', minute: 14 }),
      complaint(['lifted@example.org'], { region: 'eu-west-1', sender: 'lift.example', minute: 15 }),
    );
    const notListed = { send: async () => Promise.reject(Object.assign(new Error('not listed'), { name: 'NotFoundException' })) };

    // Act
    const result = await unsuppress(
      { suppression, state: new StateTable(tables.doc, tables.stateTable) },
      {
        address: 'Lifted@example.org',
        why: 'customer asked',
        regions: REGIONS,
        by: 'test',
        ses: () => notListed as unknown as SESv2Client,
        candidates: (recorded) => [recorded ?? 'Lifted@example.org'],
      },
    );
    await ingest(late);

    // Assess
    expect(result.changed).toBe(true);
    expect(result.eventsEnded).toEqual(['eu-west-1', 'us-east-1']);
    const stored = (await item('lifted@example.org')) as SuppressionItem;
    expect(originsOf(stored)).toEqual([]);
    expect(stored['event:us-west-2']).toBeUndefined();
    expect(planRegion(stored, 'us-west-2', () => undefined)).toEqual({ kind: 'keep', why: 'not-wanted' });

    // A bounce after the unsuppress is an origin again.
    await ingest(bounce(['lifted@example.org'], 'Permanent', 'General', { sender: 'lift.example', minute: 24 * 60 * 365 }));
    expect(originsOf((await item('lifted@example.org')) as SuppressionItem)).toEqual([{ source: 'event:us-east-1', reason: 'BOUNCE' }]);
  });
});

describe('Property: event ingestion does not depend on order', () => {
  it('leaves the same canonical items and counters after any order and batching of the same events', async () => {
    // The events of one run; `run` keeps each run's addresses and sender apart in the shared tables.
    const eventsOf = (run: number): unknown[] => {
      const a = `Order.A.${run}@example.org`;
      const b = `order.b.${run}@example.org`;
      const sender = `order${run}.example`;
      const first = bounce([a], 'Permanent', 'General', { sender, minute: 20, messageId: 'm1' });
      return [
        send([a, b], { sender, minute: 19, messageId: 'm0' }),
        first,
        { ...first, id: 'another-delivery' },
        bounce([a.toLowerCase()], 'Permanent', 'General', { sender, minute: 40, messageId: 'm2' }),
        complaint([a], { region: 'eu-west-1', sender, minute: 30, messageId: 'm3' }),
        bounce([a, b], 'Permanent', 'General', { region: 'us-west-2', sender, minute: 25, messageId: 'm4' }),
        bounce([b], 'Transient', 'General', { sender, minute: 21, messageId: 'm5' }),
        bounce([b], 'Permanent', 'OnAccountSuppressionList', { sender, minute: 22, messageId: 'm6' }),
        complaint([b], { region: 'us-west-2', sender, minute: 23, messageId: 'm7' }),
        delivery([a], { sender, minute: 19, messageId: 'm0' }),
      ];
    };
    const snapshot = async (run: number) => {
      const items = (await scanAll(tables.doc, tables.suppressionTable))
        .filter((i) => String(i.address).includes(`.${run}@`))
        .map(({ lastUpdated: _, ...rest }) => JSON.parse(JSON.stringify(rest).replaceAll(`.${run}@`, '.N@')))
        .sort((x, y) => (x.address < y.address ? -1 : 1));
      const counts = (await counters(`order${run}.example`)).map((c) => ({ region: c.region, ...c.counts }));
      return { items, counts };
    };

    // The order the events were generated in, as the reference.
    let run = 0;
    await ingest(...eventsOf(run));
    const expected = await snapshot(run);
    expect(expected.items).toHaveLength(2);
    expect(expected.items[0]).toMatchObject({
      address: 'order.a.N@example.org',
      firstSeen: at(20.5),
      origin: 'event:us-east-1',
      'event:us-east-1': { reason: 'BOUNCE', firstAt: at(20.5), lastAt: at(40.5), at: at(40.5), messageId: 'm2' },
      'event:eu-west-1': { reason: 'COMPLAINT', at: at(30.5) },
      'event:us-west-2': { reason: 'BOUNCE', at: at(25.5) },
    });
    expect(expected.items[1]).toMatchObject({ 'event:us-west-2': { reason: 'COMPLAINT', firstAt: at(23.5), lastAt: at(25.5) } });
    expect(expected.items[1]['event:us-east-1']).toBeUndefined();
    expect(expected.counts).toEqual([
      expect.objectContaining({ region: 'eu-west-1', complaints: 1 }),
      expect.objectContaining({
        region: 'us-east-1',
        sends: 2,
        deliveries: 1,
        permanentBounces: 2,
        transientBounces: 1,
        sendsToSuppressed: 1,
      }),
      expect.objectContaining({ region: 'us-west-2', permanentBounces: 2, complaints: 1 }),
    ]);

    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray([...Array(eventsOf(0).length).keys()], { minLength: eventsOf(0).length }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 10, maxLength: 10 }),
        async (order, batchSizes) => {
          run++;
          const events = eventsOf(run);
          const shuffled = order.map((i) => events[i]);
          // Each batch is processed in parallel by the batch processor; batches one after another.
          for (let i = 0, b = 0; i < shuffled.length; b++) {
            const size = batchSizes[b % batchSizes.length] ?? 1;
            const response = await ingest(...shuffled.slice(i, i + size));
            expect(response.batchItemFailures).toEqual([]);
            i += size;
          }
          expect(await snapshot(run)).toEqual(expected);
        },
      ),
      { seed: 20260304, numRuns: 12 },
    );
  });
});

describe('Function: originsOf with event origins', () => {
  const base: SuppressionItem = {
    address: 'someone@example.org',
    'event:us-east-1': {
      address: 'Someone@example.org',
      reason: 'BOUNCE',
      at: at(10),
      messageId: 'm',
      feedbackId: 'f',
      firstAt: at(10),
      lastAt: at(10),
    },
    'event:eu-west-1': {
      address: 'someone@example.org',
      reason: 'COMPLAINT',
      at: at(5),
      messageId: 'm',
      feedbackId: 'f',
      firstAt: at(5),
      lastAt: at(5),
    },
  };

  it('lists each standing event origin with its region and reason, after SES entries and before the manual one', () => {
    // Prepare
    const item: SuppressionItem = {
      ...base,
      'region:us-west-2': { address: 'someone@example.org', reason: 'BOUNCE', lastUpdateTime: at(1), status: 'LISTED', syncedAt: at(2) },
      manual: { reason: 'BOUNCE', status: 'LISTED', at: at(3), by: 'op' },
    };

    // Act
    const origins = originsOf(item);

    // Assess
    expect(origins).toEqual([
      { source: 'ses:us-west-2', reason: 'BOUNCE' },
      { source: 'event:eu-west-1', reason: 'COMPLAINT' },
      { source: 'event:us-east-1', reason: 'BOUNCE' },
      { source: 'manual', reason: 'BOUNCE' },
    ]);
    expect(wantedReason(origins)).toBe('COMPLAINT');
  });

  it('drops the event origins an unsuppress ended, but not one later than it', () => {
    // Act
    const origins = originsOf({ ...base, eventsEndedAt: at(7) });

    // Assess
    expect(origins).toEqual([{ source: 'event:us-east-1', reason: 'BOUNCE' }]);
  });

  it("drops an event origin once a full reconciliation found SES's own entry for it removed from that region's list", () => {
    // Prepare
    const removed = (lastUpdateTime: string, removedAt: string): SuppressionItem => ({
      ...base,
      'region:us-east-1': {
        address: 'Someone@example.org',
        reason: 'BOUNCE',
        lastUpdateTime,
        status: 'REMOVED',
        syncedAt: at(11),
        removedAt,
      },
    });

    // Act + Assess: SES stamped its entry when it processed the bounce; an operator removed it since.
    expect(isEventOrigin(removed(at(10.1), at(60)), 'us-east-1', base['event:us-east-1'] as EventOriginEntry)).toBe(false);
    expect(originsOf(removed(at(10.1), at(60)))).toEqual([{ source: 'event:eu-west-1', reason: 'COMPLAINT' }]);
    // An entry SES stamped well before the event was removed for another reason: the event still stands.
    expect(originsOf(removed(at(1), at(60)))).toHaveLength(2);
  });

  it('keeps an event origin whose region lists the address, or our propagated copy was removed', () => {
    // Prepare
    const item: SuppressionItem = {
      ...base,
      'region:us-east-1': {
        address: 'Someone@example.org',
        reason: 'BOUNCE',
        lastUpdateTime: at(20),
        status: 'REMOVED',
        syncedAt: at(30),
        removedAt: at(30),
      },
      'propagated:us-east-1': {
        address: 'Someone@example.org',
        reason: 'BOUNCE',
        status: 'ADDED',
        requestedAt: at(19.99),
        addedAt: at(20),
        via: 'put',
      },
    };

    // Act + Assess
    expect(originsOf(item).map((o) => o.source)).toEqual(['event:eu-west-1', 'event:us-east-1']);
  });
});

describe('Function: parseEventBody', () => {
  it('names the invalid field and never shows a value that may hold an address', () => {
    // Prepare
    const body = bounce(['private.person@example.org'], 'Permanent', 'General');
    const broken = {
      ...body,
      detail: { ...body.detail, bounce: { ...body.detail.bounce, bouncedRecipients: 'private.person@example.org' } },
    };

    // Act
    const error = (() => {
      try {
        parseEventBody(JSON.stringify(broken));
        return undefined;
      } catch (e) {
        return e as EventError;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(EventError);
    expect(error?.field).toBe('detail.bounce.bouncedRecipients');
    expect(error?.message).not.toContain('private.person');
    expect(error?.message).toMatch(/detail\.bounce\.bouncedRecipients is invalid \(string of 26 characters, not shown/);
  });

  it('shows at most 40 characters of another bad value', () => {
    // Prepare
    const body = { ...bounce(['a@example.org'], 'Permanent', 'General'), region: 'x'.repeat(100) };

    // Act + Assess
    expect(() => parseEventBody(JSON.stringify(body))).toThrow(
      `SES event: region is invalid (string "${'x'.repeat(40)}"... (100 characters))`,
    );
  });
});
