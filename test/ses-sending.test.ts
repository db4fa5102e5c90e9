import {
  CreateConfigurationSetEventDestinationCommand,
  DeleteConfigurationSetEventDestinationCommand,
  GetConfigurationSetEventDestinationsCommand,
  GetEmailIdentityCommand,
  PutEmailIdentityConfigurationSetAttributesCommand,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  type SendEmailCommandInput,
  UpdateConfigurationSetEventDestinationCommand,
} from '@aws-sdk/client-sesv2';
import type { SesEventBridgeEvent } from '../client/ses-events';
import { DEFAULT_CALLER_IDENTITY, SesEmulator } from '../local/ses-emulator';

const REGION = 'us-east-1';
const OTHER_REGION = 'eu-west-1';
const ACCESS_KEY = 'AKIDSENDER';
const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: 'x' };
const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/default';
const ALL_TYPES = ['SEND', 'DELIVERY', 'BOUNCE', 'COMPLAINT'] as const;

async function sesError(promise: Promise<unknown>): Promise<SESv2ServiceException> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SESv2ServiceException) return err;
    throw err;
  }
  throw new Error('expected the SES call to fail');
}

describe('SendEmail and SES events in the emulator', () => {
  let emu: SesEmulator;
  let ses: SESv2Client;

  function client(region: string, accessKeyId = ACCESS_KEY): SESv2Client {
    return new SESv2Client({ region, endpoint: emu.endpoint, credentials: { ...credentials, accessKeyId }, maxAttempts: 1 });
  }

  function simple(to: string[], extra: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput {
    return {
      FromEmailAddress: 'Sender <news@example.com>',
      Destination: { ToAddresses: to },
      Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Hi there' } } } },
      ConfigurationSetName: 'tracked',
      ...extra,
    };
  }

  /** Sends, waits until the message is processed, returns its id and the events published for it. */
  async function send(input: SendEmailCommandInput, c = ses): Promise<{ messageId: string; events: SesEventBridgeEvent[] }> {
    const out = await c.send(new SendEmailCommand(input));
    const messageId = out.MessageId ?? '';
    await emu.events.idle();
    return { messageId, events: emu.events.list().filter((e) => e.detail.mail.messageId === messageId) };
  }

  function types(events: SesEventBridgeEvent[]): string[] {
    return events.map((e) => `${e['detail-type']}:${e.detail.eventType}`);
  }

  beforeEach(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, eventDelayMs: 0 });
    const r = emu.region(REGION);
    r.putIdentity({ name: 'example.com' });
    r.putConfigurationSet({ name: 'tracked' });
    emu.setCallerIdentity(ACCESS_KEY, 'blast-sender');
    ses = client(REGION);
    await ses.send(
      new CreateConfigurationSetEventDestinationCommand({
        ConfigurationSetName: 'tracked',
        EventDestinationName: 'to-eventbridge',
        EventDestination: { Enabled: true, MatchingEventTypes: [...ALL_TYPES], EventBridgeDestination: { EventBusArn: BUS } },
      }),
    );
  });

  afterEach(async () => {
    ses.destroy();
    await emu.stop();
  });

  test('success@simulator: Send then Delivery, in the EventBridge envelope, with the tags a consumer reads', async () => {
    const { messageId, events } = await send(
      simple(['success@simulator.amazonses.com'], { EmailTags: [{ Name: 'campaign', Value: 'spring-2026' }] }),
    );
    expect(messageId).toMatch(/^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/);
    expect(types(events)).toEqual(['Email Sent:Send', 'Email Delivered:Delivery']);
    const [sent, delivered] = events as [SesEventBridgeEvent, SesEventBridgeEvent];
    expect(sent).toMatchObject({ version: '0', source: 'aws.ses', account: '123456789012', region: REGION, resources: [] });
    expect(sent.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(sent.detail.send).toEqual({});
    expect(sent.detail.mail).toMatchObject({
      messageId,
      source: 'Sender <news@example.com>',
      sourceArn: `arn:aws:ses:${REGION}:123456789012:identity/example.com`,
      sourceIp: '127.0.0.1',
      callerIdentity: 'blast-sender',
      sendingAccountId: '123456789012',
      destination: ['success@simulator.amazonses.com'],
      commonHeaders: { subject: 'Hello', to: ['success@simulator.amazonses.com'] },
    });
    expect(sent.detail.mail.tags).toEqual({
      campaign: ['spring-2026'],
      'ses:configuration-set': ['tracked'],
      'ses:source-ip': ['127.0.0.1'],
      'ses:from-domain': ['example.com'],
      'ses:caller-identity': ['blast-sender'],
    });
    expect(delivered.detail.delivery).toMatchObject({ recipients: ['success@simulator.amazonses.com'] });
  });

  test('an access key without a registered name is reported as the default caller identity', async () => {
    const other = client(REGION, 'AKIDUNKNOWN');
    const { events } = await send(simple(['success@simulator.amazonses.com']), other);
    other.destroy();
    expect(events[0]?.detail.mail.tags?.['ses:caller-identity']).toEqual([DEFAULT_CALLER_IDENTITY]);
  });

  test('bounce@simulator: Permanent/General bounce, and the simulator address is not suppressed', async () => {
    const { events } = await send(simple(['bounce@simulator.amazonses.com']));
    expect(types(events)).toEqual(['Email Sent:Send', 'Email Bounced:Bounce']);
    expect(events[1]?.detail.bounce).toMatchObject({
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: 'bounce@simulator.amazonses.com', action: 'failed', status: '5.1.1' }],
    });
    expect(emu.region(REGION).suppressedCount).toBe(0);
  });

  test('complaint@simulator: delivered, then a complaint; not suppressed', async () => {
    const { events } = await send(simple(['complaint@simulator.amazonses.com']));
    expect(types(events)).toEqual(['Email Sent:Send', 'Email Delivered:Delivery', 'Email Complaint Received:Complaint']);
    expect(events[2]?.detail.complaint?.complainedRecipients).toEqual([{ emailAddress: 'complaint@simulator.amazonses.com' }]);
    expect(emu.region(REGION).suppressedCount).toBe(0);
  });

  test('ooto@simulator is delivered; suppressionlist@simulator bounces OnAccountSuppressionList without being added', async () => {
    const ooto = await send(simple(['ooto@simulator.amazonses.com']));
    expect(types(ooto.events)).toEqual(['Email Sent:Send', 'Email Delivered:Delivery']);
    const listed = await send(simple(['suppressionlist@simulator.amazonses.com']));
    expect(types(listed.events)).toEqual(['Email Sent:Send', 'Email Bounced:Bounce']);
    expect(listed.events[1]?.detail.bounce).toMatchObject({ bounceType: 'Permanent', bounceSubType: 'OnAccountSuppressionList' });
    expect(emu.region(REGION).suppressedCount).toBe(0);
  });

  test('seeded bounce and complaint (control API) affect only the named recipients, across To, Cc and Bcc', async () => {
    const seeded = await fetch(`${emu.endpoint}/_emulator/regions/${REGION}/recipient-outcomes`, {
      method: 'POST',
      body: JSON.stringify({ bounce: ['gone@customer.test'], complaint: ['Angry@customer.test'] }),
    });
    expect(seeded.status).toBe(200);
    const { messageId, events } = await send(
      simple(['ok@customer.test'], {
        Destination: { ToAddresses: ['ok@customer.test'], CcAddresses: ['gone@customer.test'], BccAddresses: ['angry@customer.test'] },
      }),
    );
    expect(events[0]?.detail.mail.destination).toEqual(['ok@customer.test', 'gone@customer.test', 'angry@customer.test']);
    expect(events[0]?.detail.mail.headers?.some((h) => h.name.toLowerCase() === 'bcc')).toBe(false);
    expect(types(events)).toEqual([
      'Email Sent:Send',
      'Email Delivered:Delivery',
      'Email Bounced:Bounce',
      'Email Delivered:Delivery',
      'Email Complaint Received:Complaint',
    ]);
    expect(events[1]?.detail.delivery?.recipients).toEqual(['ok@customer.test']);
    expect(events[2]?.detail.bounce?.bouncedRecipients.map((r) => r.emailAddress)).toEqual(['gone@customer.test']);
    expect(events[4]?.detail.complaint?.complainedRecipients).toEqual([{ emailAddress: 'angry@customer.test' }]);
    const region = emu.region(REGION);
    expect(region.suppressed().map((e) => [e.emailAddress, e.reason])).toEqual([
      ['angry@customer.test', 'COMPLAINT'],
      ['gone@customer.test', 'BOUNCE'],
    ]);
    expect(region.getSuppressed('gone@customer.test')?.attributes).toEqual({
      messageId,
      feedbackId: events[2]?.detail.bounce?.feedbackId,
    });
  });

  test('a recipient on the account suppression list bounces OnAccountSuppressionList and is not delivered', async () => {
    emu.region(REGION).putSuppressed({ emailAddress: 'listed@customer.test', reason: 'BOUNCE' });
    const { events } = await send(simple(['listed@customer.test', 'fine@customer.test']));
    expect(types(events)).toEqual(['Email Sent:Send', 'Email Bounced:Bounce', 'Email Delivered:Delivery']);
    expect(events[1]?.detail.bounce).toMatchObject({
      bounceType: 'Permanent',
      bounceSubType: 'OnAccountSuppressionList',
      bouncedRecipients: [{ emailAddress: 'listed@customer.test' }],
    });
    expect(events[2]?.detail.delivery?.recipients).toEqual(['fine@customer.test']);
  });

  test("the configuration set's SuppressedReasons override the account's, for suppressing and for adding", async () => {
    const region = emu.region(REGION);
    region.putSuppressed({ emailAddress: 'bounced-before@customer.test', reason: 'BOUNCE' });
    region.seedRecipientOutcomes(['gone@customer.test'], 'bounce');
    region.putConfigurationSet({ name: 'tracked', suppressedReasons: ['COMPLAINT'] });
    const { events } = await send(simple(['bounced-before@customer.test', 'gone@customer.test']));
    expect(types(events)).toEqual(['Email Sent:Send', 'Email Delivered:Delivery', 'Email Bounced:Bounce']);
    expect(region.getSuppressed('gone@customer.test')).toBeUndefined();

    // Without a configuration set the account's reasons apply; an empty list adds nothing.
    region.setAccount({ suppressedReasons: [] });
    await send(simple(['gone@customer.test'], { ConfigurationSetName: undefined }));
    expect(region.getSuppressed('gone@customer.test')).toBeUndefined();
    region.setAccount({ suppressedReasons: ['BOUNCE'] });
    await send(simple(['gone@customer.test'], { ConfigurationSetName: undefined }));
    expect(region.getSuppressed('gone@customer.test')?.reason).toBe('BOUNCE');
  });

  test('the sender identity must be verified in the region of the request', async () => {
    const eu = client(OTHER_REGION);
    const err = await sesError(
      eu.send(new SendEmailCommand(simple(['success@simulator.amazonses.com'], { ConfigurationSetName: undefined }))),
    );
    expect(err.name).toBe('MessageRejected');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toContain('EU-WEST-1');
    expect(err.message).toContain('news@example.com');
    // A verified address identity, or a subdomain of a verified domain, is enough.
    emu.region(OTHER_REGION).putIdentity({ name: 'news@example.com' });
    await expect(
      eu.send(new SendEmailCommand(simple(['success@simulator.amazonses.com'], { ConfigurationSetName: undefined }))),
    ).resolves.toBeDefined();
    await expect(
      ses.send(new SendEmailCommand(simple(['success@simulator.amazonses.com'], { FromEmailAddress: 'a@mail.example.com' }))),
    ).resolves.toBeDefined();
    emu.region(REGION).putIdentity({ name: 'pending.test', verificationStatus: 'PENDING' });
    expect((await sesError(ses.send(new SendEmailCommand(simple(['x@y.test'], { FromEmailAddress: 'a@pending.test' }))))).name).toBe(
      'MessageRejected',
    );
    eu.destroy();
  });

  test('unknown configuration set, paused sending and bad input are refused like SES', async () => {
    expect((await sesError(ses.send(new SendEmailCommand(simple(['a@b.test'], { ConfigurationSetName: 'nope' }))))).name).toBe(
      'NotFoundException',
    );
    const tooMany = Array.from({ length: 51 }, (_, i) => `r${i}@customer.test`);
    expect((await sesError(ses.send(new SendEmailCommand(simple(tooMany))))).name).toBe('MessageRejected');
    await expect(ses.send(new SendEmailCommand(simple(tooMany.slice(0, 50))))).resolves.toBeDefined();
    expect((await sesError(ses.send(new SendEmailCommand(simple([]))))).name).toBe('BadRequestException');
    expect(await sesError(ses.send(new SendEmailCommand(simple(['not-an-address']))))).toMatchObject({ name: 'BadRequestException' });
    expect((await sesError(ses.send(new SendEmailCommand({ ...simple(['a@b.test']), Content: {} })))).name).toBe('BadRequestException');
    expect(
      (await sesError(ses.send(new SendEmailCommand(simple(['a@b.test'], { EmailTags: [{ Name: 'ses:mine', Value: 'x' }] }))))).name,
    ).toBe('BadRequestException');
    emu.region(REGION).setAccount({ sendingEnabled: false });
    expect((await sesError(ses.send(new SendEmailCommand(simple(['a@b.test']))))).name).toBe('SendingPausedException');
  });

  test('Raw content: sender and recipients from the MIME headers', async () => {
    const mime = [
      'From: "News" <news@example.com>',
      'To: first@customer.test, "Second, Person" <second@customer.test>',
      'Cc: third@customer.test',
      'Subject: Raw hello',
      'MIME-Version: 1.0',
      'Content-Type: text/plain',
      '',
      'Body',
    ].join('\r\n');
    const { events } = await send({ Content: { Raw: { Data: Buffer.from(mime) } }, ConfigurationSetName: 'tracked' });
    expect(events[0]?.detail.mail).toMatchObject({
      source: '"News" <news@example.com>',
      destination: ['first@customer.test', 'second@customer.test', 'third@customer.test'],
      commonHeaders: { subject: 'Raw hello' },
    });
    expect(events.filter((e) => e.detail.eventType === 'Delivery')).toHaveLength(3);
  });

  test('events are published only through an enabled EventBridge destination whose MatchingEventTypes match', async () => {
    emu.region(REGION).seedRecipientOutcomes(['gone@customer.test'], 'bounce');
    await ses.send(
      new UpdateConfigurationSetEventDestinationCommand({
        ConfigurationSetName: 'tracked',
        EventDestinationName: 'to-eventbridge',
        EventDestination: { Enabled: true, MatchingEventTypes: ['BOUNCE'], EventBridgeDestination: { EventBusArn: BUS } },
      }),
    );
    let sent = await send(simple(['gone@customer.test', 'ok@customer.test']));
    expect(types(sent.events)).toEqual(['Email Bounced:Bounce']);

    await ses.send(
      new UpdateConfigurationSetEventDestinationCommand({
        ConfigurationSetName: 'tracked',
        EventDestinationName: 'to-eventbridge',
        EventDestination: { Enabled: false, MatchingEventTypes: [...ALL_TYPES], EventBridgeDestination: { EventBusArn: BUS } },
      }),
    );
    sent = await send(simple(['ok@customer.test']));
    expect(sent.events).toEqual([]);

    // An SNS destination is kept and listed, but the emulator publishes only EventBridge events.
    emu.region(REGION).putConfigurationSet({ name: 'sns-only' });
    await ses.send(
      new CreateConfigurationSetEventDestinationCommand({
        ConfigurationSetName: 'sns-only',
        EventDestinationName: 'sns',
        EventDestination: {
          Enabled: true,
          MatchingEventTypes: ['SEND'],
          SnsDestination: { TopicArn: 'arn:aws:sns:us-east-1:123456789012:t' },
        },
      }),
    );
    sent = await send(simple(['ok@customer.test'], { ConfigurationSetName: 'sns-only' }));
    expect(sent.events).toEqual([]);
  });

  test('no configuration set: no events, but hard bounces still reach the suppression list', async () => {
    emu.region(REGION).seedRecipientOutcomes(['gone@customer.test'], 'bounce');
    const { events } = await send(simple(['gone@customer.test'], { ConfigurationSetName: undefined }));
    expect(events).toEqual([]);
    expect(emu.region(REGION).getSuppressed('gone@customer.test')?.reason).toBe('BOUNCE');
  });

  test("the identity's default configuration set (PutEmailIdentityConfigurationSetAttributes) is used", async () => {
    await ses.send(
      new PutEmailIdentityConfigurationSetAttributesCommand({ EmailIdentity: 'example.com', ConfigurationSetName: 'tracked' }),
    );
    expect((await ses.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' }))).ConfigurationSetName).toBe('tracked');
    let sent = await send(simple(['success@simulator.amazonses.com'], { ConfigurationSetName: undefined }));
    expect(types(sent.events)).toEqual(['Email Sent:Send', 'Email Delivered:Delivery']);
    expect(sent.events[0]?.detail.mail.tags?.['ses:configuration-set']).toEqual(['tracked']);

    await ses.send(new PutEmailIdentityConfigurationSetAttributesCommand({ EmailIdentity: 'example.com' }));
    sent = await send(simple(['success@simulator.amazonses.com'], { ConfigurationSetName: undefined }));
    expect(sent.events).toEqual([]);
    expect(
      (
        await sesError(
          ses.send(new PutEmailIdentityConfigurationSetAttributesCommand({ EmailIdentity: 'example.com', ConfigurationSetName: 'nope' })),
        )
      ).name,
    ).toBe('NotFoundException');
  });

  test('event destination API: get, already exists, update, delete, not found', async () => {
    const got = await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'tracked' }));
    expect(got.EventDestinations).toEqual([
      { Name: 'to-eventbridge', Enabled: true, MatchingEventTypes: [...ALL_TYPES], EventBridgeDestination: { EventBusArn: BUS } },
    ]);
    const create = new CreateConfigurationSetEventDestinationCommand({
      ConfigurationSetName: 'tracked',
      EventDestinationName: 'to-eventbridge',
      EventDestination: { MatchingEventTypes: ['SEND'], EventBridgeDestination: { EventBusArn: BUS } },
    });
    expect((await sesError(ses.send(create))).name).toBe('AlreadyExistsException');
    await ses.send(
      new DeleteConfigurationSetEventDestinationCommand({ ConfigurationSetName: 'tracked', EventDestinationName: 'to-eventbridge' }),
    );
    expect(
      (await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'tracked' }))).EventDestinations,
    ).toEqual([]);
    expect(
      (
        await sesError(
          ses.send(new DeleteConfigurationSetEventDestinationCommand({ ConfigurationSetName: 'tracked', EventDestinationName: 'x' })),
        )
      ).name,
    ).toBe('NotFoundException');
    expect((await sesError(ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'nope' })))).name).toBe(
      'NotFoundException',
    );
    // Enabled omitted is false.
    await ses.send(create);
    const [dest] =
      (await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'tracked' }))).EventDestinations ?? [];
    expect(dest?.Enabled).toBe(false);
  });

  test('events are asynchronous; listeners, the control API list and drain all see them', async () => {
    emu.setEventDelayMs(50);
    const seen: SesEventBridgeEvent[] = [];
    const unsubscribe = emu.events.subscribe((e) => seen.push(e));
    await ses.send(new SendEmailCommand(simple(['success@simulator.amazonses.com'])));
    expect(emu.events.list()).toEqual([]);
    expect(emu.events.pendingMessages).toBe(1);
    await emu.events.idle();
    unsubscribe();
    expect(seen.map((e) => e['detail-type'])).toEqual(['Email Sent', 'Email Delivered']);

    const listed = (await (await fetch(`${emu.endpoint}/_emulator/events`)).json()) as { count: number; events: SesEventBridgeEvent[] };
    expect(listed.count).toBe(2);
    expect(listed.events).toEqual(JSON.parse(JSON.stringify(seen)));
    const drained = (await (await fetch(`${emu.endpoint}/_emulator/events/drain`, { method: 'POST' })).json()) as { count: number };
    expect(drained.count).toBe(2);
    expect(emu.events.list()).toEqual([]);
  });

  test('state document and control API: caller identities, recipient outcomes, event delay', async () => {
    emu.loadState({
      eventDelayMs: 0,
      callerIdentities: { AKIDSTATE: 'from-state' },
      regions: { [REGION]: { recipientOutcomes: { bounce: ['state-bounce@customer.test'] } } },
    });
    const put = await fetch(`${emu.endpoint}/_emulator/caller-identities`, {
      method: 'PUT',
      body: JSON.stringify({ accessKeyId: 'AKIDCONTROL', userName: 'from-control' }),
    });
    expect(((await put.json()) as { callerIdentities: Record<string, string> }).callerIdentities).toEqual({
      AKIDCONTROL: 'from-control',
      AKIDSENDER: 'blast-sender',
      AKIDSTATE: 'from-state',
    });
    const delay = await fetch(`${emu.endpoint}/_emulator/event-delay`, { method: 'PUT', body: JSON.stringify({ eventDelayMs: 0 }) });
    expect(await delay.json()).toEqual({ eventDelayMs: 0 });
    const outcomes = await fetch(`${emu.endpoint}/_emulator/regions/${REGION}/recipient-outcomes`);
    expect(await outcomes.json()).toEqual({ region: REGION, bounce: ['state-bounce@customer.test'], complaint: [] });

    const c = client(REGION, 'AKIDSTATE');
    const { events } = await send(simple(['state-bounce@customer.test']), c);
    c.destroy();
    expect(types(events)).toEqual(['Email Sent:Send', 'Email Bounced:Bounce']);
    expect(events[0]?.detail.mail.callerIdentity).toBe('from-state');
    const cleared = await fetch(`${emu.endpoint}/_emulator/regions/${REGION}/recipient-outcomes`, { method: 'DELETE' });
    expect(cleared.status).toBe(200);
    expect(emu.region(REGION).recipientOutcomeFor('state-bounce@customer.test')).toBeUndefined();
  });
});
