/**
 * Amazon SES email sending events as they reach the service: an SES event publishing record (the body SES publishes
 * to SNS, Firehose or EventBridge) wrapped in the EventBridge event that carries it. Types only: the ingestion
 * function validates what it receives against these shapes (`lambdas/events/event.ts`), and the local emulator
 * publishes events of these shapes. Fields the service never reads (message headers, open and click details) are
 * left out; they may be present.
 */

/**
 * An SES event on EventBridge (`source` `aws.ses`), as an EventBridge rule with an SQS target delivers it as the
 * message body. `detail-type` names the event: `Email Sent`, `Email Delivered`, `Email Bounced`,
 * `Email Complaint Received`, `Email Rejected` (and others the service ignores, such as `Email Opened`).
 */
export interface SesEventBridgeEvent {
  readonly version: string;
  /** EventBridge's id of the event. */
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** When EventBridge received the event, ISO-8601. */
  readonly time: string;
  /** The region of the SES account that published the event. */
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: SesEventRecord;
}

/** One SES event publishing record: `eventType` says which of the objects beside `mail` is present. */
export interface SesEventRecord {
  readonly eventType:
    | 'Send'
    | 'Delivery'
    | 'Bounce'
    | 'Complaint'
    | 'Reject'
    | 'Open'
    | 'Click'
    | 'Rendering Failure'
    | 'DeliveryDelay'
    | 'Subscription';
  readonly mail: SesMail;
  readonly bounce?: SesBounce;
  readonly complaint?: SesComplaint;
  readonly delivery?: SesDelivery;
  readonly send?: SesSend;
  /** Present when `eventType` is `Reject`: SES did not send the message (a virus was found). */
  readonly reject?: { readonly reason: string };
}

/** The message an event is about. */
export interface SesMail {
  /** When the message was sent, ISO-8601. */
  readonly timestamp: string;
  /** SES's id of the message. */
  readonly messageId: string;
  /** The address the message was sent from (the envelope MAIL FROM), possibly with a display name. */
  readonly source: string;
  /** ARN of the identity used to send the message (`arn:aws:ses:<region>:<account>:identity/<identity>`). */
  readonly sourceArn?: string;
  readonly sendingAccountId?: string;
  /** Every recipient of the message (To, CC and BCC). */
  readonly destination: readonly string[];
  readonly headersTruncated?: boolean;
  /**
   * Message tags, each with a list of values, including SES's automatic tags: `ses:configuration-set`,
   * `ses:source-ip`, `ses:from-domain`, `ses:caller-identity`, `ses:operation`, `ses:outgoing-ip`.
   */
  readonly tags?: Readonly<Record<string, readonly string[]>>;
}

/** Present when `eventType` is `Bounce`. */
export interface SesBounce {
  readonly bounceType: 'Undetermined' | 'Permanent' | 'Transient';
  /**
   * `Undetermined`; for `Permanent`: `General`, `NoEmail`, `Suppressed` (SES's global suppression list),
   * `OnAccountSuppressionList` (the account's suppression list: SES did not send); for `Transient`: `General`,
   * `MailboxFull`, `MessageTooLarge`, `ContentRejected`, `AttachmentRejected`.
   */
  readonly bounceSubType: string;
  readonly bouncedRecipients: readonly {
    readonly emailAddress: string;
    readonly action?: string;
    readonly status?: string;
    readonly diagnosticCode?: string;
  }[];
  /** When the bounce was sent by the ISP, ISO-8601. */
  readonly timestamp: string;
  readonly feedbackId: string;
  readonly reportingMTA?: string;
  readonly remoteMtaIp?: string;
}

/** Present when `eventType` is `Complaint`. */
export interface SesComplaint {
  readonly complainedRecipients: readonly { readonly emailAddress: string }[];
  /** When the ISP sent the complaint, ISO-8601. */
  readonly timestamp: string;
  readonly feedbackId: string;
  /** Null, or `OnAccountSuppressionList`: SES accepted the message but did not send it (the account's list held it). */
  readonly complaintSubType?: string | null;
  readonly userAgent?: string;
  readonly complaintFeedbackType?: string;
  readonly arrivalDate?: string;
}

/** Present when `eventType` is `Delivery`. */
export interface SesDelivery {
  /** When SES delivered the message to the recipient's mail server, ISO-8601. */
  readonly timestamp: string;
  readonly processingTimeMillis?: number;
  readonly recipients: readonly string[];
  readonly smtpResponse?: string;
  readonly reportingMTA?: string;
  readonly remoteMtaIp?: string;
}

/** Present when `eventType` is `Send`: an empty object. */
export interface SesSend {
  readonly [field: string]: never;
}
