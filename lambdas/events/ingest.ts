import { createHash } from 'node:crypto';
import { canonicalAddress } from '../domain/address';
import type { AttributionTable } from '../domain/attribution-table';
import type { EventClaim } from '../domain/origins';
import type { CounterIncrements, SenderKey } from '../domain/records';
import type { SuppressionTable } from '../domain/suppression-table';
import type { SesEvent } from './event';

/**
 * What one SES event changes: the origins it gives recipients on the canonical table, and its sender's counters in
 * the attribution table. Both are idempotent, so an event delivered twice (SQS and EventBridge deliver at least once,
 * and a failed record is retried) changes nothing the second time.
 */

/** Bounce subtypes SES reports when a suppression list already held the recipient: it did not try to deliver. */
export const SUPPRESSED_BOUNCE_SUBTYPES: readonly string[] = ['OnAccountSuppressionList', 'Suppressed'];

/** Complaint subtype SES reports when the account's suppression list held the recipient: the message was not sent. */
export const SUPPRESSED_COMPLAINT_SUBTYPE = 'OnAccountSuppressionList';

/** One recipient's origin to record. */
export interface OriginWrite {
  /** The canonical address (the table's key). */
  readonly key: string;
  readonly claim: EventClaim;
}

/** What ingesting one event writes. */
export interface IngestionPlan {
  readonly region: string;
  /**
   * Origins: each bounced recipient of a permanent bounce (not one of {@link SUPPRESSED_BOUNCE_SUBTYPES}) and each
   * complained recipient (unless {@link SUPPRESSED_COMPLAINT_SUBTYPE}). Transient and undetermined bounces give none.
   */
  readonly origins: readonly OriginWrite[];
  /** The day (UTC, of the event's time) whose counters the event adds to. */
  readonly day: string;
  readonly sender: SenderKey;
  readonly increments: CounterIncrements;
  /**
   * A digest of what identifies the event (region, type, message id, feedback id, recipients): the same for every
   * delivery of it, whatever EventBridge id each delivery carries (SES may publish an event twice).
   */
  readonly eventKey: string;
}

/** Plans one event (a pure function of it). */
export function planIngestion(parsed: SesEvent): IngestionPlan {
  const { event, at } = parsed;
  const { mail } = event.detail;
  const increments: CounterIncrements = {};
  const origins: OriginWrite[] = [];
  let recipients: readonly string[];
  let feedbackId = '';
  const claims = (reason: EventClaim['reason'], id: string): void => {
    for (const address of unique(recipients)) {
      origins.push({
        key: canonicalAddress(address),
        claim: { address: address.trim(), reason, at, messageId: mail.messageId, feedbackId: id },
      });
    }
  };
  switch (parsed.type) {
    case 'Send':
    case 'Reject':
      recipients = mail.destination;
      increments[parsed.type === 'Send' ? 'sends' : 'rejects'] = Math.max(1, unique(recipients).length);
      break;
    case 'Delivery':
      recipients = parsed.delivery.recipients;
      increments.deliveries = unique(recipients).length;
      break;
    case 'Bounce': {
      const { bounce } = parsed;
      recipients = bounce.bouncedRecipients.map((r) => r.emailAddress);
      feedbackId = bounce.feedbackId;
      const n = unique(recipients).length;
      if (bounce.bounceType !== 'Permanent') increments.transientBounces = n;
      else if (SUPPRESSED_BOUNCE_SUBTYPES.includes(bounce.bounceSubType)) increments.sendsToSuppressed = n;
      else {
        increments.permanentBounces = n;
        claims('BOUNCE', feedbackId);
      }
      break;
    }
    case 'Complaint': {
      const { complaint } = parsed;
      recipients = complaint.complainedRecipients.map((r) => r.emailAddress);
      feedbackId = complaint.feedbackId;
      const n = unique(recipients).length;
      if (complaint.complaintSubType === SUPPRESSED_COMPLAINT_SUBTYPE) increments.suppressedComplaints = n;
      else {
        increments.complaints = n;
        claims('COMPLAINT', feedbackId);
      }
      break;
    }
  }
  const eventKey = createHash('sha256')
    .update(JSON.stringify([event.region, parsed.type, mail.messageId, feedbackId, [...new Set(recipients.map(canonicalAddress))].sort()]))
    .digest('hex');
  return { region: event.region, origins, day: at.slice(0, 10), sender: senderOf(parsed), increments, eventKey };
}

/** Who sent the event's message, from its `mail` object. */
export function senderOf(parsed: SesEvent): SenderKey {
  const { mail } = parsed.event.detail;
  const identity = mail.sourceArn === undefined ? undefined : /:identity\/(.+)$/.exec(mail.sourceArn)?.[1];
  const tag = (name: string): string | undefined => mail.tags?.[name]?.[0];
  const callerIdentity = tag('ses:caller-identity');
  const sourceIp = tag('ses:source-ip');
  const configurationSet = tag('ses:configuration-set');
  return {
    region: parsed.event.region,
    sender: identity !== undefined ? identity.toLowerCase() : fromAddress(mail.source),
    ...(callerIdentity !== undefined ? { callerIdentity } : {}),
    ...(sourceIp !== undefined ? { sourceIp } : {}),
    ...(configurationSet !== undefined ? { configurationSet } : {}),
  };
}

/** The canonical address of a From value such as `Sender Name <sender@example.com>`. */
function fromAddress(source: string): string {
  return canonicalAddress(/<([^<>]+)>\s*$/.exec(source)?.[1] ?? source);
}

/** The distinct recipients of a list (compared canonically), in their first spelling. */
function unique(recipients: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const r of recipients) if (!seen.has(canonicalAddress(r))) seen.set(canonicalAddress(r), r);
  return [...seen.values()];
}

/** What ingestion needs. */
export interface IngestionDeps {
  readonly suppression: SuppressionTable;
  readonly attribution: AttributionTable;
  /** Days an event stays recorded as counted. */
  readonly dedupeTtlDays: number;
  /** Days a day's counters are kept after that day. */
  readonly retentionDays: number;
  readonly now: () => Date;
}

/** What ingesting one event did. */
export interface IngestionOutcome {
  /** Origins written (an origin the event did not change is not counted). */
  readonly originsRecorded: number;
  /** Canonical keys of the addresses whose origin the event wrote: the addresses to propagate now. */
  readonly originKeys: readonly string[];
  /** False when the event had been counted before (a duplicate). */
  readonly counted: boolean;
}

/**
 * Ingests one event: its origins first, then its counters. A failure leaves the record to be retried; what was done
 * before it is done again harmlessly (origins join idempotently; counters were not added, or were added once).
 */
export async function ingestEvent(parsed: SesEvent, deps: IngestionDeps): Promise<IngestionOutcome> {
  const plan = planIngestion(parsed);
  const now = deps.now();
  const originKeys: string[] = [];
  for (const { key, claim } of plan.origins) {
    if (await deps.suppression.putEventOrigin(key, plan.region, claim, now.toISOString())) originKeys.push(key);
  }
  const dayStart = Date.parse(`${plan.day}T00:00:00.000Z`) / 1000;
  const counted = await deps.attribution.countOnce(plan.eventKey, plan.day, plan.sender, plan.increments, {
    countedUntil: Math.floor(now.getTime() / 1000) + Math.round(deps.dedupeTtlDays * DAY_SECONDS),
    countersUntil: dayStart + Math.round((deps.retentionDays + 1) * DAY_SECONDS),
  });
  return { originsRecorded: originKeys.length, originKeys, counted };
}

const DAY_SECONDS = 86_400;
