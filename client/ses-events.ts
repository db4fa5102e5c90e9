/**
 * Amazon SES email sending events as EventBridge delivers them (an event destination with `EventBridgeDestination`
 * publishes to the default bus with `source: "aws.ses"`). Types only: no runtime code, so an ingestion function can
 * import them without pulling in anything else.
 *
 * Field names follow the SES event record ("Contents of event data that Amazon SES publishes"): `detail` is the
 * record, `eventType` names which of `bounce`, `complaint`, `delivery`, `send`, ... is present. Fields SES documents
 * as optional or that depend on the receiving mail server are optional here.
 */

/** `detail-type` of the SES email sending events on EventBridge. */
export type SesEventDetailType =
  | 'Email Sent'
  | 'Email Delivered'
  | 'Email Bounced'
  | 'Email Complaint Received'
  | 'Email Rejected'
  | 'Email Rendering Failed'
  | 'Email Delivery Delayed'
  | 'Email Opened'
  | 'Email Clicked'
  | 'Email Subscribed';

/** `detail.eventType` of an SES event record. */
export type SesEventType =
  | 'Send'
  | 'Delivery'
  | 'Bounce'
  | 'Complaint'
  | 'Reject'
  | 'Rendering Failure'
  | 'DeliveryDelay'
  | 'Open'
  | 'Click'
  | 'Subscription';

/** A header of the original message. */
export interface SesMailHeader {
  readonly name: string;
  readonly value: string;
}

/** The original message's common headers. */
export interface SesCommonHeaders {
  readonly from?: readonly string[];
  readonly to?: readonly string[];
  readonly cc?: readonly string[];
  readonly bcc?: readonly string[];
  readonly replyTo?: readonly string[];
  readonly date?: string;
  readonly messageId?: string;
  readonly subject?: string;
}

/**
 * The `mail` object: the message that produced the event. `tags` holds the message tags (`EmailTags`) and SES's
 * auto-tags, each a list of values: `ses:configuration-set`, `ses:source-ip`, `ses:from-domain`,
 * `ses:caller-identity` (and others SES may add).
 */
export interface SesMail {
  /** ISO 8601, when the message was sent. */
  readonly timestamp: string;
  readonly messageId: string;
  /** Sender (`FromEmailAddress`, possibly with a display name). */
  readonly source: string;
  /** ARN of the identity used to send (a consumer tolerates its absence). */
  readonly sourceArn?: string;
  readonly sourceIp?: string;
  /** IAM identity (user name) that sent the message. */
  readonly callerIdentity?: string;
  readonly sendingAccountId?: string;
  /** Every recipient of the message (To, Cc and Bcc). */
  readonly destination: readonly string[];
  readonly headersTruncated?: boolean;
  readonly headers?: readonly SesMailHeader[];
  readonly commonHeaders?: SesCommonHeaders;
  readonly tags?: Readonly<Record<string, readonly string[]>>;
}

/** `bounce.bounceType`. */
export type SesBounceType = 'Undetermined' | 'Permanent' | 'Transient';

/** `bounce.bounceSubType` (SES may add values). */
export type SesBounceSubType =
  | 'Undetermined'
  | 'General'
  | 'NoEmail'
  | 'Suppressed'
  | 'OnAccountSuppressionList'
  | 'MailboxFull'
  | 'MessageTooLarge'
  | 'ContentRejected'
  | 'AttachmentRejected'
  | (string & {});

/** One recipient a bounce names. */
export interface SesBouncedRecipient {
  readonly emailAddress: string;
  readonly action?: string;
  readonly status?: string;
  readonly diagnosticCode?: string;
}

/** The `bounce` object. */
export interface SesBounce {
  readonly bounceType: SesBounceType;
  readonly bounceSubType: SesBounceSubType;
  readonly bouncedRecipients: readonly SesBouncedRecipient[];
  readonly timestamp: string;
  readonly feedbackId: string;
  readonly reportingMTA?: string;
  readonly remoteMtaIp?: string;
}

/** One recipient a complaint names. */
export interface SesComplainedRecipient {
  readonly emailAddress: string;
}

/** The `complaint` object. */
export interface SesComplaint {
  readonly complainedRecipients: readonly SesComplainedRecipient[];
  readonly timestamp: string;
  readonly feedbackId: string;
  /** `null` or `OnAccountSuppressionList`. */
  readonly complaintSubType?: string | null;
  readonly userAgent?: string;
  readonly complaintFeedbackType?: string;
  readonly arrivalDate?: string;
}

/** The `delivery` object. */
export interface SesDelivery {
  readonly timestamp: string;
  readonly processingTimeMillis?: number;
  readonly recipients: readonly string[];
  readonly smtpResponse?: string;
  readonly reportingMTA?: string;
  readonly remoteMtaIp?: string;
}

/** The `reject` object. */
export interface SesReject {
  readonly reason: string;
}

/** The `failure` object of a Rendering Failure event. */
export interface SesRenderingFailure {
  readonly templateName: string;
  readonly errorMessage: string;
}

/** An SES event record: `mail` plus the object named by `eventType`. */
export interface SesEventRecord {
  readonly eventType: SesEventType;
  readonly mail: SesMail;
  readonly bounce?: SesBounce;
  readonly complaint?: SesComplaint;
  readonly delivery?: SesDelivery;
  /** Present (and empty) on Send events. */
  readonly send?: Record<string, never>;
  readonly reject?: SesReject;
  readonly failure?: SesRenderingFailure;
}

/** An SES email sending event in the EventBridge envelope. */
export interface SesEventBridgeEvent<D extends SesEventRecord = SesEventRecord> {
  /** `0` for every event EventBridge delivers today. */
  readonly version: string;
  /** A UUID, unique per event. */
  readonly id: string;
  /** One of {@link SesEventDetailType} for the events the service consumes; other SES events carry other names. */
  readonly 'detail-type': SesEventDetailType | (string & {});
  readonly source: 'aws.ses';
  /** 12-digit account id. */
  readonly account: string;
  /** ISO 8601, the event time. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: D;
}
