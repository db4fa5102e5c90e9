import type { SesBounce, SesComplaint, SesDelivery, SesEventBridgeEvent, SesEventRecord, SesMail } from '../../client/ses-events';
import { REGION_PATTERN } from '../domain/settings';

/**
 * Parses and validates the body of one SQS message of the events queue: an SES event as an EventBridge rule with an
 * SQS target delivers it (`source` `aws.ses`, `detail` the SES event publishing record). Errors name the field and
 * show a bounded excerpt of its value, never a value that may hold an address.
 */

/** The SES event types the service ingests. */
export type IngestedEventType = 'Send' | 'Delivery' | 'Bounce' | 'Complaint' | 'Reject';

/** The EventBridge detail-type of each ingested SES event type. */
export const DETAIL_TYPES: Readonly<Record<string, IngestedEventType>> = {
  'Email Sent': 'Send',
  'Email Delivered': 'Delivery',
  'Email Bounced': 'Bounce',
  'Email Complaint Received': 'Complaint',
  'Email Rejected': 'Reject',
};

/**
 * A valid SES event of a type the service ingests, with the object its type promises beside `mail`; every timestamp
 * is in `Date.toISOString`'s format.
 */
export type SesEvent = {
  readonly kind: 'ingest';
  readonly event: SesEventBridgeEvent;
  /** When it happened: the bounce's, complaint's or delivery's timestamp; the message's for a send or a reject. */
  readonly at: string;
} & (
  | { readonly type: 'Bounce'; readonly bounce: SesBounce }
  | { readonly type: 'Complaint'; readonly complaint: SesComplaint }
  | { readonly type: 'Delivery'; readonly delivery: SesDelivery }
  | { readonly type: 'Send' | 'Reject' }
);

/** A valid SES event of a type the service does not ingest (opens, clicks, account status changes, ...). */
export interface IgnoredEvent {
  readonly kind: 'ignored';
  readonly id: string;
  readonly detailType: string;
}

/** A message body that is not a valid SES event. */
export class EventError extends Error {
  constructor(
    readonly field: string,
    value: unknown,
  ) {
    super(`SES event: ${field} ${describe(value)}`);
    this.name = 'EventError';
  }
}

/** Parses one message body (see the module's comment); throws {@link EventError} naming the first invalid field. */
export function parseEventBody(body: string): SesEvent | IgnoredEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new EventError('body (not JSON)', body);
  }
  const envelope = obj(raw, 'body');
  if (envelope.source !== 'aws.ses') throw new EventError('source', envelope.source);
  const id = nonEmpty(envelope, 'id', '');
  const detailType = nonEmpty(envelope, 'detail-type', '');
  const type = DETAIL_TYPES[detailType];
  if (type === undefined) return { kind: 'ignored', id, detailType };
  const region = nonEmpty(envelope, 'region', '');
  if (!REGION_PATTERN.test(region)) throw new EventError('region', region);
  const time = timestamp(envelope, 'time', '');
  const resources = optStrings(envelope, 'resources', '') ?? [];

  const rawDetail = obj(envelope.detail, 'detail');
  if (rawDetail.eventType !== type) throw new EventError('detail.eventType', rawDetail.eventType);
  const mail = parseMail(obj(rawDetail.mail, 'detail.mail'));
  const envelopeOf = (detail: SesEventRecord): SesEventBridgeEvent => ({
    version: str(envelope, 'version', ''),
    id,
    'detail-type': detailType,
    source: 'aws.ses',
    account: str(envelope, 'account', ''),
    time,
    region,
    resources,
    detail,
  });
  switch (type) {
    case 'Bounce': {
      const bounce = parseBounce(obj(rawDetail.bounce, 'detail.bounce'));
      return { kind: 'ingest', type, bounce, event: envelopeOf({ eventType: type, mail, bounce }), at: bounce.timestamp };
    }
    case 'Complaint': {
      const complaint = parseComplaint(obj(rawDetail.complaint, 'detail.complaint'));
      return { kind: 'ingest', type, complaint, event: envelopeOf({ eventType: type, mail, complaint }), at: complaint.timestamp };
    }
    case 'Delivery': {
      const delivery = parseDelivery(obj(rawDetail.delivery, 'detail.delivery'));
      return { kind: 'ingest', type, delivery, event: envelopeOf({ eventType: type, mail, delivery }), at: delivery.timestamp };
    }
    case 'Send':
      if (rawDetail.send !== undefined) obj(rawDetail.send, 'detail.send');
      return { kind: 'ingest', type, event: envelopeOf({ eventType: type, mail, send: {} }), at: mail.timestamp };
    case 'Reject': {
      const reason = str(obj(rawDetail.reject, 'detail.reject'), 'reason', 'detail.reject');
      return { kind: 'ingest', type, event: envelopeOf({ eventType: type, mail, reject: { reason } }), at: mail.timestamp };
    }
  }
}

function parseMail(raw: Record<string, unknown>): SesMail {
  const at = 'detail.mail';
  const sourceArn = optStr(raw, 'sourceArn', at);
  const sendingAccountId = optStr(raw, 'sendingAccountId', at);
  let tags: Record<string, string[]> | undefined;
  if (raw.tags !== undefined) {
    const rawTags = obj(raw.tags, `${at}.tags`);
    tags = {};
    for (const name of Object.keys(rawTags)) {
      const values = optStrings(rawTags, name, `${at}.tags`);
      if (values !== undefined) tags[name] = values;
    }
  }
  return {
    timestamp: timestamp(raw, 'timestamp', at),
    messageId: nonEmpty(raw, 'messageId', at),
    source: nonEmpty(raw, 'source', at),
    ...(sourceArn !== undefined ? { sourceArn } : {}),
    ...(sendingAccountId !== undefined ? { sendingAccountId } : {}),
    destination: optStrings(raw, 'destination', at) ?? [],
    ...(tags !== undefined ? { tags } : {}),
  };
}

const BOUNCE_TYPES = ['Undetermined', 'Permanent', 'Transient'] as const;

function parseBounce(raw: Record<string, unknown>): SesBounce {
  const at = 'detail.bounce';
  const bounceType = raw.bounceType;
  if (!BOUNCE_TYPES.includes(bounceType as SesBounce['bounceType'])) throw new EventError(`${at}.bounceType`, bounceType);
  return {
    bounceType: bounceType as SesBounce['bounceType'],
    bounceSubType: nonEmpty(raw, 'bounceSubType', at),
    bouncedRecipients: recipients(raw, 'bouncedRecipients', at),
    timestamp: timestamp(raw, 'timestamp', at),
    feedbackId: nonEmpty(raw, 'feedbackId', at),
  };
}

function parseComplaint(raw: Record<string, unknown>): SesComplaint {
  const at = 'detail.complaint';
  const subType = raw.complaintSubType;
  if (subType !== undefined && subType !== null && typeof subType !== 'string') throw new EventError(`${at}.complaintSubType`, subType);
  return {
    complainedRecipients: recipients(raw, 'complainedRecipients', at),
    timestamp: timestamp(raw, 'timestamp', at),
    feedbackId: nonEmpty(raw, 'feedbackId', at),
    ...(typeof subType === 'string' ? { complaintSubType: subType } : {}),
  };
}

function parseDelivery(raw: Record<string, unknown>): SesDelivery {
  const at = 'detail.delivery';
  const delivered = optStrings(raw, 'recipients', at);
  if (delivered === undefined || delivered.length === 0) throw new EventError(`${at}.recipients`, raw.recipients);
  return { timestamp: timestamp(raw, 'timestamp', at), recipients: delivered };
}

/** A non-empty list of `{ emailAddress }`, each an address (it has an `@`). */
function recipients(raw: Record<string, unknown>, name: string, at: string): { emailAddress: string }[] {
  const list = raw[name];
  if (!Array.isArray(list) || list.length === 0) throw new EventError(`${at}.${name}`, list);
  return list.map((item, i) => {
    const emailAddress = nonEmpty(obj(item, `${at}.${name}[${i}]`), 'emailAddress', `${at}.${name}[${i}]`);
    if (!emailAddress.includes('@')) throw new EventError(`${at}.${name}[${i}].emailAddress`, emailAddress);
    return { emailAddress };
  });
}

function path(at: string, name: string): string {
  return at === '' ? name : `${at}.${name}`;
}

function obj(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new EventError(field, value);
  return value as Record<string, unknown>;
}

function str(raw: Record<string, unknown>, name: string, at: string): string {
  const value = raw[name];
  if (typeof value !== 'string') throw new EventError(path(at, name), value);
  return value;
}

function nonEmpty(raw: Record<string, unknown>, name: string, at: string): string {
  const value = str(raw, name, at);
  if (value.trim() === '') throw new EventError(path(at, name), value);
  return value;
}

function optStr(raw: Record<string, unknown>, name: string, at: string): string | undefined {
  return raw[name] === undefined || raw[name] === null ? undefined : str(raw, name, at);
}

function optStrings(raw: Record<string, unknown>, name: string, at: string): string[] | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new EventError(path(at, name), value);
  return value as string[];
}

/** An ISO-8601 time, returned as `Date.toISOString` writes it (so times compare as strings). */
function timestamp(raw: Record<string, unknown>, name: string, at: string): string {
  const value = str(raw, name, at);
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw new EventError(path(at, name), value);
  return new Date(ms).toISOString();
}

/**
 * A bounded description of a bad value: its type and at most 40 characters of it. A value that may hold an address
 * (it has an `@`) is not shown at all, only its type and length: these messages end up in logs.
 */
function describe(value: unknown): string {
  if (value === undefined) return 'is missing';
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  if (text.includes('@')) return `is invalid (${kind} of ${text.length} characters, not shown: it may hold an address)`;
  const shown = text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}... (${text.length} characters)` : JSON.stringify(text);
  return `is invalid (${kind} ${shown})`;
}
