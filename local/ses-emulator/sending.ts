import { randomUUID } from 'node:crypto';
import type {
  SesBounce,
  SesEventBridgeEvent,
  SesEventDetailType,
  SesEventRecord,
  SesEventType,
  SesMail,
  SesMailHeader,
} from '../../client/ses-events';
import { badRequest, SesError } from './errors';
import type { SesEventSink } from './events';
import { checkEmailAddress, type EmulatedRegion, type ResolvedIdentity, type SesMatchingEventType, type SuppressionReason } from './state';

/**
 * SendEmail (SES v2 `POST /v2/email/outbound-emails`) and what follows it: the message is checked like SES checks it
 * and accepted with a MessageId; a little later (`eventDelayMs`) each recipient's outcome is decided (delivery,
 * bounce, complaint; the mailbox simulator's addresses, seeded recipients and the region's account-level suppression
 * list) and the Send / Delivery / Bounce / Complaint events are published to the event sink through the configuration
 * set's enabled EventBridge destinations. Hard bounces and complaints add the address to the region's suppression
 * list when the effective suppressed reasons include the reason, whether or not events are published.
 */

/** Most recipients (To + Cc + Bcc) one message may have. */
export const MAX_RECIPIENTS = 50;
/** Domain of the SES mailbox simulator. */
export const SIMULATOR_DOMAIN = 'simulator.amazonses.com';
/** IAM user name reported for an access key that has no registered name. */
export const DEFAULT_CALLER_IDENTITY = 'ses-emulator-user';

/** Settings read at call time, so they can change at runtime. */
export interface SendingSettings {
  now(): number;
  /** 12-digit account id used in ARNs and events. */
  accountId(): string;
  /** Delay between accepting a message and publishing its events. */
  eventDelayMs(): number;
  /** IAM user name for an access key id. */
  callerIdentity(accessKeyId: string | undefined): string;
}

/** Who sent the request: the SigV4 access key id and the client's IP address. */
export interface SendCaller {
  readonly accessKeyId?: string;
  readonly sourceIp: string;
}

const DETAIL_TYPES: Record<SesEventType, SesEventDetailType> = {
  Send: 'Email Sent',
  Delivery: 'Email Delivered',
  Bounce: 'Email Bounced',
  Complaint: 'Email Complaint Received',
  Reject: 'Email Rejected',
  'Rendering Failure': 'Email Rendering Failed',
  DeliveryDelay: 'Email Delivery Delayed',
  Open: 'Email Opened',
  Click: 'Email Clicked',
  Subscription: 'Email Subscribed',
};

const MATCHING_TYPE: Record<SesEventType, SesMatchingEventType> = {
  Send: 'SEND',
  Delivery: 'DELIVERY',
  Bounce: 'BOUNCE',
  Complaint: 'COMPLAINT',
  Reject: 'REJECT',
  'Rendering Failure': 'RENDERING_FAILURE',
  DeliveryDelay: 'DELIVERY_DELAY',
  Open: 'OPEN',
  Click: 'CLICK',
  Subscription: 'SUBSCRIPTION',
};

const TAG_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/** A message accepted by SendEmail, waiting for its outcome. */
interface AcceptedMessage {
  readonly region: EmulatedRegion;
  readonly messageId: string;
  readonly sentMs: number;
  readonly source: string;
  readonly identity: ResolvedIdentity;
  readonly fromDomain: string;
  readonly recipients: readonly string[];
  readonly headers: readonly SesMailHeader[];
  readonly commonHeaders: SesMail['commonHeaders'];
  readonly configurationSetName?: string;
  readonly tags: ReadonlyArray<readonly [string, string]>;
  readonly caller: SendCaller;
}

/** Validates and accepts messages, then decides outcomes and publishes events asynchronously. */
export class SendingEngine {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly settings: SendingSettings,
    private readonly sink: SesEventSink,
  ) {}

  /** SendEmail: throws the SesError SES would answer with, or accepts the message and returns its id. */
  send(region: EmulatedRegion, body: unknown, caller: SendCaller): { MessageId: string } {
    return this.enqueue(this.accept(region, requestInput(body), caller));
  }

  /**
   * A message submitted over SMTP: the raw message in the listener's region, the envelope recipients as its
   * destinations, and the envelope sender checked with the From header. Same checks, outcomes and events as SendEmail.
   */
  sendRaw(region: EmulatedRegion, message: RawSubmission, caller: SendCaller): { MessageId: string } {
    return this.enqueue(this.accept(region, rawInput(message), caller));
  }

  private enqueue(message: AcceptedMessage): { MessageId: string } {
    this.sink.begin();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        this.process(message);
      } catch (err) {
        process.stderr.write(`ses-emulator: processing ${message.messageId} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      } finally {
        this.sink.end();
      }
    }, this.settings.eventDelayMs());
    this.timers.add(timer);
    return { MessageId: message.messageId };
  }

  /** Cancels messages not processed yet (their events are never published). */
  stop(): void {
    for (const t of this.timers) {
      clearTimeout(t);
      this.sink.end();
    }
    this.timers.clear();
  }

  private accept(region: EmulatedRegion, input: SendInput, caller: SendCaller): AcceptedMessage {
    const { mime, subject, from, to, cc, recipients, tags, explicitSet } = input;
    if (recipients.length === 0) throw badRequest('The message must have at least one recipient (To, Cc or Bcc).');
    if (recipients.length > MAX_RECIPIENTS) throw new SesError('MessageRejected', `Recipient count exceeds ${MAX_RECIPIENTS}.`);

    // Configuration set: the request's, else (raw) the X-SES-CONFIGURATION-SET header, else the identity's default.
    if (explicitSet !== undefined && !region.getConfigurationSet(explicitSet)) {
      throw new SesError('NotFoundException', `Configuration set ${explicitSet} does not exist.`);
    }

    const account = region.getAccount();
    if (account.enforcementStatus === 'SHUTDOWN') {
      throw new SesError(
        'AccountSuspendedException',
        "The message can't be sent because the account's ability to send email has been permanently restricted.",
      );
    }
    if (!account.sendingEnabled) {
      throw new SesError(
        'SendingPausedException',
        "The message can't be sent because the account's ability to send email is currently paused.",
      );
    }

    // Every sender address must be verified (SMTP: the envelope sender too); the From address's identity is the source.
    const unverifiedSenders = input.senders.filter((address) => !sendingIdentity(region, address));
    if (unverifiedSenders.length > 0) throw notVerified(region.name, unverifiedSenders);
    const identity = sendingIdentity(region, input.fromAddress);
    if (!identity) throw notVerified(region.name, [input.fromAddress]);
    if (!account.productionAccessEnabled) {
      // Sandbox: recipients must be verified identities too (the mailbox simulator is always allowed).
      const unverified = recipients.filter((r) => domainOf(r) !== SIMULATOR_DOMAIN && !sendingIdentity(region, r));
      if (unverified.length > 0) throw notVerified(region.name, unverified);
    }

    const defaultSet = identity.configurationSetName;
    const configurationSetName =
      explicitSet ?? (defaultSet !== undefined && region.getConfigurationSet(defaultSet) ? defaultSet : undefined);
    if (configurationSetName !== undefined && region.getConfigurationSet(configurationSetName)?.sendingEnabled === false) {
      throw new SesError('SendingPausedException', `Sending is paused for configuration set ${configurationSetName}.`);
    }

    const sentMs = this.settings.now();
    const messageId = newMessageId(sentMs);
    const headers: SesMailHeader[] = mime
      ? mime.headers.filter((h) => h.name.toLowerCase() !== 'bcc')
      : [
          { name: 'From', value: from },
          { name: 'To', value: to.join(', ') },
          ...(cc.length > 0 ? [{ name: 'Cc', value: cc.join(', ') }] : []),
          { name: 'Subject', value: subject ?? '' },
          { name: 'MIME-Version', value: '1.0' },
          { name: 'Content-Type', value: 'multipart/alternative' },
        ];
    region.setAccount({ sentLast24Hours: account.sentLast24Hours + recipients.length });
    return {
      region,
      messageId,
      sentMs,
      source: from,
      identity,
      fromDomain: domainOf(input.fromAddress),
      recipients,
      headers,
      commonHeaders: {
        from: [from],
        ...(to.length > 0 ? { to } : {}),
        ...(cc.length > 0 ? { cc } : {}),
        messageId,
        ...(subject !== undefined ? { subject } : {}),
      },
      ...(configurationSetName !== undefined ? { configurationSetName } : {}),
      tags,
      caller,
    };
  }

  private process(m: AcceptedMessage): void {
    const { region } = m;
    const account = region.getAccount();
    const cs = m.configurationSetName !== undefined ? region.getConfigurationSet(m.configurationSetName) : undefined;
    // A configuration set's SuppressionOptions override the account's reasons, for both suppressing and adding.
    const reasons = new Set<SuppressionReason>(cs?.suppressedReasons ?? account.suppressedReasons);
    const callerIdentity = this.settings.callerIdentity(m.caller.accessKeyId);
    const accountId = this.settings.accountId();
    const mail: SesMail = {
      timestamp: new Date(m.sentMs).toISOString(),
      messageId: m.messageId,
      source: m.source,
      sourceArn: `arn:aws:ses:${region.name}:${accountId}:identity/${m.identity.name}`,
      sourceIp: m.caller.sourceIp,
      callerIdentity,
      sendingAccountId: accountId,
      destination: m.recipients,
      headersTruncated: false,
      headers: m.headers,
      ...(m.commonHeaders ? { commonHeaders: m.commonHeaders } : {}),
      tags: mailTags(m, callerIdentity),
    };
    const reportingMTA = `a1-1.smtp-out.${region.name}.amazonses.com`;
    const records: SesEventRecord[] = [{ eventType: 'Send', mail, send: {} }];
    const at = (): string => new Date(this.settings.now()).toISOString();
    const delivery = (recipient: string): SesEventRecord => ({
      eventType: 'Delivery',
      mail,
      delivery: {
        timestamp: at(),
        processingTimeMillis: Math.max(0, this.settings.now() - m.sentMs),
        recipients: [recipient],
        smtpResponse: '250 2.6.0 Message received',
        reportingMTA,
      },
    });
    const bounce = (recipient: string, subType: SesBounce['bounceSubType'], status: string, diagnosticCode: string): SesEventRecord => ({
      eventType: 'Bounce',
      mail,
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: subType,
        bouncedRecipients: [{ emailAddress: recipient, action: 'failed', status, diagnosticCode }],
        timestamp: at(),
        feedbackId: newFeedbackId(this.settings.now()),
        reportingMTA: `dsn; ${reportingMTA}`,
      },
    });
    const complaint = (recipient: string): SesEventRecord => ({
      eventType: 'Complaint',
      mail,
      complaint: {
        complainedRecipients: [{ emailAddress: recipient }],
        timestamp: at(),
        feedbackId: newFeedbackId(this.settings.now()),
        complaintSubType: null,
        userAgent: 'ses-emulator',
        complaintFeedbackType: 'abuse',
        arrivalDate: at(),
      },
    });
    const userUnknown = ['5.1.1', 'smtp; 550 5.1.1 user unknown'] as const;
    const onAccountList = [
      '5.1.1',
      'Amazon SES did not send the message to this address because it is on the suppression list for your account.',
    ] as const;

    for (const recipient of m.recipients) {
      const simulated = simulatorScenario(recipient);
      if (simulated !== undefined) {
        // Mailbox simulator: its addresses are never added to the account's suppression list.
        if (simulated === 'bounce') records.push(bounce(recipient, 'General', ...userUnknown));
        else if (simulated === 'suppressionlist') records.push(bounce(recipient, 'OnAccountSuppressionList', ...onAccountList));
        else if (simulated === 'complaint') records.push(delivery(recipient), complaint(recipient));
        else records.push(delivery(recipient)); // success, ooto (the autoresponse itself is not emulated), others
        continue;
      }
      const suppressed = region.getSuppressed(recipient);
      if (suppressed && reasons.has(suppressed.reason)) {
        // Accepted, counted as a send, not delivered.
        records.push(bounce(recipient, 'OnAccountSuppressionList', ...onAccountList));
        continue;
      }
      const seeded = region.recipientOutcomeFor(recipient);
      if (seeded === 'bounce') {
        const record = bounce(recipient, 'General', ...userUnknown);
        records.push(record);
        if (reasons.has('BOUNCE')) region.suppressFromFeedback(recipient, 'BOUNCE', m.messageId, record.bounce?.feedbackId ?? '');
      } else if (seeded === 'complaint') {
        const record = complaint(recipient);
        records.push(delivery(recipient), record);
        if (reasons.has('COMPLAINT')) region.suppressFromFeedback(recipient, 'COMPLAINT', m.messageId, record.complaint?.feedbackId ?? '');
      } else {
        records.push(delivery(recipient));
      }
    }

    if (m.configurationSetName === undefined || !cs) return;
    const destinations = region.listEventDestinations(m.configurationSetName).filter((d) => d.enabled && d.eventBridgeDestination);
    for (const record of records) {
      for (const d of destinations) {
        if (!d.matchingEventTypes.includes(MATCHING_TYPE[record.eventType])) continue;
        this.sink.publish(this.envelope(region.name, accountId, record));
      }
    }
  }

  private envelope(region: string, accountId: string, detail: SesEventRecord): SesEventBridgeEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': DETAIL_TYPES[detail.eventType],
      source: 'aws.ses',
      account: accountId,
      time: new Date(this.settings.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [],
      detail,
    };
  }
}

/** A message as submitted over SMTP: the DATA and the envelope. */
export interface RawSubmission {
  /** The message as received after DATA (headers and body). */
  readonly data: Buffer;
  /** MAIL FROM (the envelope sender, SES's "Source"); empty for a null reverse-path. */
  readonly mailFrom: string;
  /** RCPT TO addresses: the message's destinations. */
  readonly recipients: readonly string[];
}

/** What both kinds of submission come down to before the shared checks. */
interface SendInput {
  readonly mime?: ParsedMime;
  readonly subject?: string;
  /** The From as written (header or FromEmailAddress). */
  readonly from: string;
  readonly fromAddress: string;
  /** Addresses that must be verified identities in the region (the From, and the SMTP envelope sender). */
  readonly senders: readonly string[];
  readonly to: readonly string[];
  readonly cc: readonly string[];
  /** Bare destination addresses. */
  readonly recipients: readonly string[];
  readonly tags: ReadonlyArray<readonly [string, string]>;
  /** `ConfigurationSetName`, else the `X-SES-CONFIGURATION-SET` header. */
  readonly explicitSet?: string;
}

/** SendEmail's request body → SendInput (BadRequestException on invalid input). */
function requestInput(body: unknown): SendInput {
  const input = requireObject(body, 'request body');
  const content = requireObject(input.Content, 'Content');
  const kinds = (['Simple', 'Raw', 'Template'] as const).filter((k) => content[k] !== undefined && content[k] !== null);
  if (kinds.length !== 1) throw badRequest('Content must contain exactly one of Simple, Raw or Template.');
  if (kinds[0] === 'Template') {
    throw badRequest('Template content is not supported by the SES emulator (templates are not emulated); send Simple or Raw content.');
  }

  let mime: ParsedMime | undefined;
  let subject: string | undefined;
  if (kinds[0] === 'Simple') {
    const simple = requireObject(content.Simple, 'Content.Simple');
    subject = requireString(requireObject(simple.Subject, 'Content.Simple.Subject').Data, 'Content.Simple.Subject.Data');
    const msgBody = requireObject(simple.Body, 'Content.Simple.Body');
    if (msgBody.Text === undefined && msgBody.Html === undefined) throw badRequest('Content.Simple.Body must contain Text or Html.');
    for (const part of ['Text', 'Html'] as const) {
      if (msgBody[part] !== undefined)
        requireString(requireObject(msgBody[part], `Content.Simple.Body.${part}`).Data, `Content.Simple.Body.${part}.Data`);
    }
  } else {
    const data = requireObject(content.Raw, 'Content.Raw').Data;
    if (typeof data !== 'string' || data.length === 0) throw badRequest('Content.Raw.Data is required.');
    mime = parseMime(Buffer.from(data, 'base64').toString('utf8'));
    subject = mime.header('subject');
  }

  const from = optionalString(input.FromEmailAddress, 'FromEmailAddress') ?? mime?.header('from');
  if (from === undefined) throw badRequest('FromEmailAddress is required (or a From header in the raw message).');
  const fromAddress = checkEmailAddress(bareAddress(from), 'FromEmailAddress');

  const destination = input.Destination === undefined ? undefined : requireObject(input.Destination, 'Destination');
  const list = (field: 'ToAddresses' | 'CcAddresses' | 'BccAddresses', header: string): string[] => {
    if (destination) return stringList(destination[field], `Destination.${field}`);
    return mime ? splitAddressList(mime.header(header) ?? '') : [];
  };
  const to = list('ToAddresses', 'to');
  const cc = list('CcAddresses', 'cc');
  const bcc = list('BccAddresses', 'bcc');
  const recipients = [...to, ...cc, ...bcc].map((r, i) => checkEmailAddress(bareAddress(r), `Destination recipient ${i + 1}`));
  const tags = input.EmailTags !== undefined ? parseEmailTags(input.EmailTags) : parseTagHeader(mime?.header('x-ses-message-tags'));
  const explicitSet = optionalString(input.ConfigurationSetName, 'ConfigurationSetName') ?? mime?.header('x-ses-configuration-set');
  return {
    mime,
    subject,
    from,
    fromAddress,
    senders: [fromAddress],
    to,
    cc,
    recipients,
    tags,
    ...(explicitSet !== undefined ? { explicitSet } : {}),
  };
}

/** An SMTP submission → SendInput: headers from the message, destinations and sender from the envelope. */
function rawInput(message: RawSubmission): SendInput {
  const mime = parseMime(message.data.toString('utf8'));
  const header = mime.header('from');
  const envelopeSender = message.mailFrom.length > 0 ? checkEmailAddress(message.mailFrom, 'MAIL FROM') : undefined;
  const from = header ?? envelopeSender;
  if (from === undefined) throw badRequest('The message has no From header and no envelope sender.');
  const fromAddress = checkEmailAddress(bareAddress(from), 'From');
  const senders =
    envelopeSender !== undefined && envelopeSender.toLowerCase() !== fromAddress.toLowerCase()
      ? [fromAddress, envelopeSender]
      : [fromAddress];
  const recipients = message.recipients.map((r, i) => checkEmailAddress(r, `RCPT TO ${i + 1}`));
  const explicitSet = mime.header('x-ses-configuration-set');
  return {
    mime,
    subject: mime.header('subject'),
    from,
    fromAddress,
    senders,
    to: splitAddressList(mime.header('to') ?? ''),
    cc: splitAddressList(mime.header('cc') ?? ''),
    recipients,
    tags: parseTagHeader(mime.header('x-ses-message-tags')),
    ...(explicitSet !== undefined ? { explicitSet } : {}),
  };
}

/** The verified identity that authorizes sending from an address: the address itself, else its domain or a parent. */
export function sendingIdentity(region: EmulatedRegion, address: string): ResolvedIdentity | undefined {
  const own = region.getIdentity(address);
  if (own?.verifiedForSending) return own;
  const labels = domainOf(address).split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const id = region.getIdentity(labels.slice(i).join('.'));
    if (id?.type === 'DOMAIN' && id.verifiedForSending) return id;
  }
  return undefined;
}

/** The mailbox-simulator scenario of an address (its local part without a `+label`), if it is a simulator address. */
export function simulatorScenario(address: string): string | undefined {
  if (domainOf(address) !== SIMULATOR_DOMAIN) return undefined;
  const local = address.slice(0, address.lastIndexOf('@')).toLowerCase();
  return local.split('+')[0];
}

function notVerified(region: string, addresses: readonly string[]): SesError {
  return new SesError(
    'MessageRejected',
    `Email address is not verified. The following identities failed the check in region ${region.toUpperCase()}: ${addresses.join(', ')}`,
  );
}

function mailTags(m: AcceptedMessage, callerIdentity: string): Record<string, string[]> {
  const tags: Record<string, string[]> = {};
  for (const [name, value] of m.tags) tags[name] = [...(tags[name] ?? []), value];
  if (m.configurationSetName !== undefined) tags['ses:configuration-set'] = [m.configurationSetName];
  tags['ses:source-ip'] = [m.caller.sourceIp];
  tags['ses:from-domain'] = [m.fromDomain];
  tags['ses:caller-identity'] = [callerIdentity];
  return tags;
}

function parseEmailTags(value: unknown): Array<[string, string]> {
  if (!Array.isArray(value)) throw badRequest('EmailTags must be a list of {Name, Value}.');
  return value.map((t, i) => {
    const tag = requireObject(t, `EmailTags[${i}]`);
    const name = requireString(tag.Name, `EmailTags[${i}].Name`);
    const v = requireString(tag.Value, `EmailTags[${i}].Value`);
    if (!TAG_PATTERN.test(name) || !TAG_PATTERN.test(v)) {
      throw badRequest(`EmailTags[${i}]: names and values may contain only A-Z, a-z, 0-9, '_' and '-' (1 to 256 characters).`);
    }
    if (name.toLowerCase().startsWith('ses:')) throw badRequest(`EmailTags[${i}].Name: the "ses:" prefix is reserved.`);
    return [name, v];
  });
}

// X-SES-MESSAGE-TAGS: "name1=value1, name2=value2" (raw messages only; ignored when EmailTags is given).
function parseTagHeader(header: string | undefined): Array<[string, string]> {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf('=');
      const name = eq < 0 ? '' : p.slice(0, eq).trim();
      const value = eq < 0 ? '' : p.slice(eq + 1).trim();
      if (!TAG_PATTERN.test(name) || !TAG_PATTERN.test(value)) throw badRequest(`X-SES-MESSAGE-TAGS entry "${p}" is not name=value.`);
      return [name, value] as [string, string];
    });
}

interface ParsedMime {
  readonly headers: SesMailHeader[];
  header(name: string): string | undefined;
}

/** Header section of a MIME message (unfolded); the body is not needed. */
function parseMime(text: string): ParsedMime {
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const headers: SesMailHeader[] = [];
  for (const line of head.split(/\r?\n/)) {
    const last = headers[headers.length - 1];
    if (/^[ \t]/.test(line) && last) {
      headers[headers.length - 1] = { name: last.name, value: `${last.value} ${line.trim()}` };
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return { headers, header: (name) => headers.find((h) => h.name.toLowerCase() === name)?.value };
}

/** Splits an address-list header on commas outside quotes and angle brackets. */
function splitAddressList(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle++;
    else if (!quoted && ch === '>') angle = Math.max(0, angle - 1);
    if (ch === ',' && !quoted && angle === 0) {
      if (current.trim()) out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** `Name <a@b>` → `a@b`; a bare address is returned trimmed. */
function bareAddress(value: string): string {
  const m = /<([^<>]+)>\s*$/.exec(value);
  return (m?.[1] ?? value).trim();
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

// SES ids look like 0100018d2f4c1a2b-<uuid>-000000.
function newMessageId(ms: number): string {
  return `0100${ms.toString(16).padStart(12, '0')}-${randomUUID()}-000000`;
}

function newFeedbackId(ms: number): string {
  return `0100${ms.toString(16).padStart(12, '0')}-${randomUUID()}-000000`;
}

function requireObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`${name} is required and must be an object.`);
  return value as Record<string, unknown>;
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw badRequest(`${name} is required and must be a string.`);
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return requireString(value, name);
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw badRequest(`${name} must be a list of strings.`);
  return value as string[];
}
