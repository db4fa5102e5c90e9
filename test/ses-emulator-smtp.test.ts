import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { SesEventBridgeEvent } from '../client/ses-events';
import { deriveSmtpPassword, legacySmtpPassword, smtpEndpoint } from '../lambdas/domain/smtp';
import { readEnvironmentFile, writeEnvironmentFile } from '../local/environment-file';
import { SesEmulator } from '../local/ses-emulator';

const WEST = 'us-west-2';
const EAST = 'us-east-1';
const KEY = 'AKIASMTPRELAY000001';
const SECRET = 'relay/Secret+Key0123456789abcdefghijklmn';
const TEMPORARY_KEY = 'ASIASMTPTEMPORARY001';
const BUS = 'arn:aws:events:us-west-2:123456789012:event-bus/default';

interface SmtpFailure {
  responseCode?: number;
  response?: string;
  command?: string;
}

describe('SES SMTP interface of the emulator', () => {
  let emu: SesEmulator;

  beforeAll(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, eventDelayMs: 0, smtpRegions: [WEST, EAST] });
    emu.setCredential(KEY, SECRET, 'smtp-relay-user');
    emu.setCredential(TEMPORARY_KEY, SECRET);
  });

  afterAll(async () => {
    await emu.stop();
  });

  beforeEach(() => {
    emu.reset();
    for (const region of [WEST, EAST]) {
      const r = emu.region(region);
      r.putIdentity({ name: 'example.com', configurationSetName: 'relay-events' });
      r.putConfigurationSet({ name: 'relay-events' });
      r.createEventDestination('relay-events', {
        name: 'bus',
        enabled: true,
        matchingEventTypes: ['SEND', 'DELIVERY', 'BOUNCE'],
        eventBridgeDestination: { eventBusArn: BUS },
      });
    }
  });

  type Mode = 'starttls' | 'tls';

  function transport(region: string, mode: Mode, auth?: { user: string; pass: string }, options: SMTPTransport.Options = {}) {
    return nodemailer.createTransport({
      host: '127.0.0.1',
      port: mode === 'tls' ? emu.smtpsPort(region) : emu.smtpPort(region),
      secure: mode === 'tls',
      requireTLS: mode === 'starttls',
      ...(auth ? { auth } : {}),
      tls: { ca: emu.smtpCaPem(), servername: smtpEndpoint(region), minVersion: 'TLSv1.2' },
      ...options,
    });
  }

  const relay = (region: string, mode: Mode = 'starttls', pass = deriveSmtpPassword(SECRET, region)) =>
    transport(region, mode, { user: KEY, pass });

  const mail = (to: string[], extra: SendMailOptions = {}): SendMailOptions => ({
    from: 'News <news@example.com>',
    to,
    subject: 'Weekly news',
    text: 'Hello',
    ...extra,
  });

  async function failure(promise: Promise<unknown>): Promise<SmtpFailure> {
    try {
      await promise;
    } catch (err) {
      return err as SmtpFailure;
    }
    throw new Error('expected the SMTP exchange to fail');
  }

  function eventsOf(messageId: string): SesEventBridgeEvent[] {
    return emu.events.list().filter((e) => e.detail.mail.messageId === messageId);
  }

  /** The SES message id of a `250 Ok <id>` reply. */
  function messageIdOf(info: SMTPTransport.SentMessageInfo): string {
    const match = /^250 Ok (\S+)$/.exec(info.response);
    if (!match?.[1]) throw new Error(`unexpected reply ${info.response}`);
    return match[1];
  }

  test('endpoints: two listeners per region, a certificate for email-smtp.<region>.amazonaws.com chained to the CA, TLS 1.2 at least', async () => {
    expect(emu.smtpEndpoints().map((e) => e.region)).toEqual([EAST, WEST]);
    const west = emu.smtpEndpoints().find((e) => e.region === WEST);
    expect(west).toMatchObject({ host: '127.0.0.1', serverName: 'email-smtp.us-west-2.amazonaws.com' });
    expect(new Set(emu.smtpEndpoints().flatMap((e) => [e.starttlsPort, e.tlsPort])).size).toBe(4);
    expect(emu.smtpCaPem()).toMatch(/^-----BEGIN CERTIFICATE-----/);

    const peer = await new Promise<{ subject: string; protocol: string | null }>((resolve, reject) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port: emu.smtpsPort(WEST), ca: emu.smtpCaPem(), servername: smtpEndpoint(WEST) },
        () => {
          const cert = socket.getPeerCertificate();
          resolve({ subject: String(cert.subject.CN), protocol: socket.getProtocol() });
          socket.destroy();
        },
      );
      socket.once('error', reject);
    });
    expect(peer.subject).toBe('email-smtp.us-west-2.amazonaws.com');
    expect(['TLSv1.2', 'TLSv1.3']).toContain(peer.protocol);

    const refused = await new Promise<Error>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: emu.smtpsPort(WEST),
        ca: emu.smtpCaPem(),
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
      });
      socket.once('error', resolve);
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(new Error('connected with TLS 1.1'));
      });
    });
    expect(refused.message).not.toBe('connected with TLS 1.1');
  });

  test.each<Mode>(['starttls', 'tls'])(
    'AUTH and send over %s, verified against the CA: 250 Ok <message-id>, events carry the relay user',
    async (mode) => {
      const t = relay(WEST, mode);
      const info = await t.sendMail(mail(['success@simulator.amazonses.com']));
      t.close();
      const messageId = messageIdOf(info);
      expect(messageId).toMatch(/^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/);
      expect(info.accepted).toEqual(['success@simulator.amazonses.com']);
      await emu.events.idle();
      const events = eventsOf(messageId);
      expect(events.map((e) => e.detail.eventType)).toEqual(['Send', 'Delivery']);
      expect(events[0]?.region).toBe(WEST);
      expect(events[0]?.detail.mail).toMatchObject({
        source: 'News <news@example.com>',
        sourceArn: `arn:aws:ses:${WEST}:123456789012:identity/example.com`,
        sourceIp: '127.0.0.1',
        callerIdentity: 'smtp-relay-user',
        destination: ['success@simulator.amazonses.com'],
        commonHeaders: { subject: 'Weekly news', to: ['success@simulator.amazonses.com'] },
      });
      expect(events[0]?.detail.mail.tags).toMatchObject({
        'ses:configuration-set': ['relay-events'],
        'ses:caller-identity': ['smtp-relay-user'],
        'ses:source-ip': ['127.0.0.1'],
      });
      expect(emu.region(WEST).getAccount().sentLast24Hours).toBe(1);
      expect(emu.region(EAST).getAccount().sentLast24Hours).toBe(0);
    },
  );

  test('envelope recipients are the destinations (Bcc included), X-SES-CONFIGURATION-SET is honoured', async () => {
    emu.region(WEST).putConfigurationSet({ name: 'other-set' });
    emu.region(WEST).createEventDestination('other-set', {
      name: 'bus',
      enabled: true,
      matchingEventTypes: ['SEND'],
      eventBridgeDestination: { eventBusArn: BUS },
    });
    const t = relay(WEST);
    const info = await t.sendMail(
      mail(['success@simulator.amazonses.com'], {
        bcc: 'success+hidden@simulator.amazonses.com',
        headers: { 'X-SES-CONFIGURATION-SET': 'other-set' },
      }),
    );
    t.close();
    await emu.events.idle();
    const [sent, ...rest] = eventsOf(messageIdOf(info));
    expect(rest).toEqual([]);
    expect(sent?.detail.mail.destination).toEqual(['success@simulator.amazonses.com', 'success+hidden@simulator.amazonses.com']);
    expect(sent?.detail.mail.tags?.['ses:configuration-set']).toEqual(['other-set']);
    expect((sent?.detail.mail.headers ?? []).some((h) => h.name.toLowerCase() === 'bcc')).toBe(false);
  });

  test.each([
    ['an unknown access key id', 'AKIAUNKNOWNKEY000001', deriveSmtpPassword(SECRET, WEST)],
    ['the raw secret access key as password', KEY, SECRET],
    ['a legacy (version 2) SMTP password', KEY, legacySmtpPassword(SECRET)],
    ['a password derived for another region (us-east-1 on the us-west-2 listener)', KEY, deriveSmtpPassword(SECRET, EAST)],
    ['a temporary (ASIA...) key, even registered', TEMPORARY_KEY, deriveSmtpPassword(SECRET, WEST)],
  ])('535 Authentication Credentials Invalid: %s', async (_why, user, pass) => {
    for (const mode of ['starttls', 'tls'] as const) {
      const t = transport(WEST, mode, { user, pass });
      const err = await failure(t.sendMail(mail(['success@simulator.amazonses.com'])));
      t.close();
      expect(err.responseCode).toBe(535);
      expect(err.response).toBe('535 Authentication Credentials Invalid');
    }
    expect(emu.events.list()).toEqual([]);
  });

  test('the password derived for us-east-1 works on the us-east-1 listener and not on us-west-2', async () => {
    const east = relay(EAST, 'tls', deriveSmtpPassword(SECRET, EAST));
    await expect(east.verify()).resolves.toBe(true);
    east.close();
    const west = relay(WEST, 'tls', deriveSmtpPassword(SECRET, EAST));
    expect((await failure(west.verify())).response).toBe('535 Authentication Credentials Invalid');
    west.close();
  });

  test('530 Authentication required: MAIL FROM without AUTH', async () => {
    const t = transport(WEST, 'starttls');
    const err = await failure(t.sendMail(mail(['success@simulator.amazonses.com'])));
    t.close();
    expect(err.responseCode).toBe(530);
    expect(err.response).toBe('530 Authentication required');
  });

  test('AUTH before STARTTLS is refused: 530 Must issue a STARTTLS command first', async () => {
    const t = transport(WEST, 'starttls', { user: KEY, pass: deriveSmtpPassword(SECRET, WEST) }, { ignoreTLS: true, requireTLS: false });
    const err = await failure(t.sendMail(mail(['success@simulator.amazonses.com'])));
    t.close();
    expect(err.responseCode).toBe(530);
    expect(err.response).toBe('530 Must issue a STARTTLS command first');
    expect(emu.events.list()).toEqual([]);
  });

  test('unverified sender: 554 after the end of DATA, naming the region in upper case', async () => {
    const t = relay(WEST);
    const err = await failure(t.sendMail(mail(['success@simulator.amazonses.com'], { from: 'someone@unverified.example' })));
    t.close();
    expect(err.responseCode).toBe(554);
    expect(err.command).toBe('DATA');
    expect(err.response).toBe(
      '554 Message rejected: Email address is not verified. The following identities failed the check in region US-WEST-2: someone@unverified.example',
    );
    expect(emu.region(WEST).getAccount().sentLast24Hours).toBe(0);
  });

  test('the envelope sender is checked with the From header', async () => {
    const t = relay(WEST);
    const err = await failure(
      t.sendMail(
        mail(['success@simulator.amazonses.com'], {
          envelope: { from: 'bounces@unverified.example', to: 'success@simulator.amazonses.com' },
        }),
      ),
    );
    t.close();
    expect(err.response).toBe(
      '554 Message rejected: Email address is not verified. The following identities failed the check in region US-WEST-2: bounces@unverified.example',
    );
  });

  test('an identity verified only in us-east-1 is refused by the us-west-2 listener and accepted by the us-east-1 one', async () => {
    emu.region(WEST).deleteIdentity('example.com');
    const west = relay(WEST);
    expect((await failure(west.sendMail(mail(['success@simulator.amazonses.com'])))).response).toMatch(
      /in region US-WEST-2: news@example\.com$/,
    );
    west.close();
    const east = relay(EAST, 'tls', deriveSmtpPassword(SECRET, EAST));
    await expect(east.sendMail(mail(['success@simulator.amazonses.com']))).resolves.toMatchObject({
      response: expect.stringMatching(/^250 Ok /),
    });
    east.close();
  });

  test('a recipient on the region suppression list is accepted (250), then bounces OnAccountSuppressionList like SendEmail', async () => {
    emu.region(WEST).putSuppressed({ emailAddress: 'gone@example.org', reason: 'BOUNCE' });
    const t = relay(WEST);
    const info = await t.sendMail(mail(['gone@example.org', 'success@simulator.amazonses.com']));
    t.close();
    expect(info.response).toMatch(/^250 Ok /);
    expect(info.accepted).toEqual(['gone@example.org', 'success@simulator.amazonses.com']);
    await emu.events.idle();
    const events = eventsOf(messageIdOf(info));
    expect(events.map((e) => e.detail.eventType)).toEqual(['Send', 'Bounce', 'Delivery']);
    expect(events[1]?.detail.bounce).toMatchObject({
      bounceType: 'Permanent',
      bounceSubType: 'OnAccountSuppressionList',
      bouncedRecipients: [{ emailAddress: 'gone@example.org' }],
    });
    expect(events[1]?.detail.mail.callerIdentity).toBe('smtp-relay-user');
  });

  test('a seeded bouncing recipient is added to the region suppression list, as after SendEmail', async () => {
    emu.region(WEST).seedRecipientOutcomes(['bounces.later@example.org'], 'bounce');
    const t = relay(WEST, 'tls');
    const info = await t.sendMail(mail(['bounces.later@example.org']));
    t.close();
    await emu.events.idle();
    expect(emu.region(WEST).getSuppressed('bounces.later@example.org')).toMatchObject({
      reason: 'BOUNCE',
      attributes: { messageId: messageIdOf(info) },
    });
    expect(emu.region(EAST).getSuppressed('bounces.later@example.org')).toBeUndefined();
  });

  test('throttling: 454 Maximum sending rate exceeded (forced) and Daily message quota exceeded', async () => {
    emu.failNextRequests(WEST, 1, 'throttle');
    const t = relay(WEST);
    const throttled = await failure(t.sendMail(mail(['success@simulator.amazonses.com'])));
    expect(throttled.response).toBe('454 Throttling failure: Maximum sending rate exceeded');
    emu.region(WEST).setAccount({ max24HourSend: 1, sentLast24Hours: 1 });
    const quota = await failure(t.sendMail(mail(['success@simulator.amazonses.com'])));
    expect(quota.response).toBe('454 Throttling failure: Daily message quota exceeded');
    t.close();
    expect(emu.stats().regions[WEST]?.SMTP).toMatchObject({ requests: 2, throttled: 2 });
  });

  test('552 Message is too long. over the size limit', async () => {
    const small = await SesEmulator.start({ requestsPerSecond: 0, eventDelayMs: 0, smtpRegions: [WEST], smtpMaxMessageBytes: 2048 });
    try {
      small.region(WEST).putIdentity({ name: 'example.com' });
      small.setCredential(KEY, SECRET);
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: small.smtpsPort(WEST),
        secure: true,
        auth: { user: KEY, pass: deriveSmtpPassword(SECRET, WEST) },
        tls: { ca: small.smtpCaPem(), servername: smtpEndpoint(WEST) },
      });
      const err = await failure(t.sendMail(mail(['success@simulator.amazonses.com'], { text: 'x'.repeat(4096) })));
      t.close();
      expect(err.response).toBe('552 Message is too long.');
    } finally {
      await small.stop();
    }
  });

  test('control API: PUT /_emulator/credentials registers a key (the secret is never echoed), GET /_emulator/smtp gives ports and CA', async () => {
    const put = await fetch(`${emu.endpoint}/_emulator/credentials`, {
      method: 'PUT',
      body: JSON.stringify({ accessKeyId: 'AKIACONTROLAPI000001', secretAccessKey: 'control-secret', userName: 'control-user' }),
    });
    expect(put.status).toBe(200);
    const listed = (await put.json()) as { accessKeyIds: string[] };
    expect(listed.accessKeyIds).toContain('AKIACONTROLAPI000001');
    expect(JSON.stringify(listed)).not.toContain('control-secret');
    const bad = await fetch(`${emu.endpoint}/_emulator/credentials`, { method: 'PUT', body: JSON.stringify({ accessKeyId: 'AKIAX' }) });
    expect(bad.status).toBe(400);

    const smtp = (await (await fetch(`${emu.endpoint}/_emulator/smtp`)).json()) as { endpoints: unknown[]; caPem: string };
    expect(smtp.endpoints).toEqual(emu.smtpEndpoints());
    expect(smtp.caPem).toBe(emu.smtpCaPem());

    const t = transport(WEST, 'tls', { user: 'AKIACONTROLAPI000001', pass: deriveSmtpPassword('control-secret', WEST) });
    const info = await t.sendMail(mail(['success@simulator.amazonses.com']));
    t.close();
    await emu.events.idle();
    expect(eventsOf(messageIdOf(info))[0]?.detail.mail.callerIdentity).toBe('control-user');
  });

  test('the environment file carries the SMTP ports and the CA file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smtp-env-'));
    try {
      const file = join(dir, 'environment.json');
      const smtp = { caFile: join(dir, 'ses-smtp-ca.pem'), endpoints: emu.smtpEndpoints() };
      writeEnvironmentFile(file, {
        region: EAST,
        credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
        endpoints: { dynamodb: 'http://127.0.0.1:1', sesv2: emu.endpoint, lambda: 'http://127.0.0.1:3' },
        outputs: {},
        regions: [EAST, WEST],
        smtp,
        pid: process.pid,
      });
      const read = readEnvironmentFile(file);
      expect(read.state).toBe('running');
      expect(read.state === 'running' ? read.description.smtp : undefined).toEqual(smtp);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
