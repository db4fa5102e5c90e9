/**
 * The pre-send guard's public contract: the request a blast sender passes to the guard function and the
 * verdict it gets back. These types are the product's API; they change only in backwards-compatible ways.
 */

/** Most recipients one check accepts; a larger list is an `INVALID_REQUEST`. */
export const MAX_RECIPIENTS = 50_000;

/** What a blast sender asks before it sends. */
export interface GuardRequest {
  /** Sender, as a bare address (`campaigns@example.com`) or with a display name (`Campaigns <campaigns@example.com>`). */
  readonly from: string;
  /** SES region the mail will be sent from. @default - the guard function's own region (`AWS_REGION`) */
  readonly region?: string;
  /** Bare recipient addresses, 1 to 50,000. Duplicates (case-insensitive) are checked once. */
  readonly recipients: readonly string[];
  /** Configuration set the send will use; its suppression and sending options, and whether it delivers SES events to the service, are checked. */
  readonly configurationSetName?: string;
  /** Free-form name of the calling sender, for the guard's logs. */
  readonly caller?: string;
}

/** Whether a problem stops the send (`block`) or is only reported (`warn`). */
export type Severity = 'block' | 'warn';

/** Stable machine-readable problem codes; see the README's table for meaning and severity. */
export type ProblemCode =
  | 'INVALID_REQUEST'
  | 'GUARD_DEPENDENCY_UNAVAILABLE'
  | 'IDENTITY_NOT_VERIFIED_IN_REGION'
  | 'IDENTITY_VERIFICATION_PENDING'
  | 'IDENTITY_SENDING_DISABLED'
  | 'DKIM_PENDING'
  | 'DKIM_FAILED'
  | 'DKIM_TEMPORARY_FAILURE'
  | 'DKIM_NOT_SIGNING'
  | 'MAIL_FROM_PENDING'
  | 'MAIL_FROM_FAILED'
  | 'SENDING_DISABLED'
  | 'ACCOUNT_PROBATION'
  | 'ACCOUNT_SHUTDOWN'
  | 'SANDBOX'
  | 'QUOTA_EXCEEDED'
  | 'CONFIGURATION_SET_NOT_FOUND'
  | 'CONFIGURATION_SET_SENDING_DISABLED'
  | 'SUPPRESSION_DISABLED_BY_CONFIGURATION_SET'
  | 'SUPPRESSION_DISABLED_FOR_ACCOUNT'
  | 'SUPPRESSION_DATA_STALE'
  | 'EVENTS_NOT_DELIVERED'
  | 'RECIPIENTS_SUPPRESSED'
  | 'RECIPIENTS_INVALID'
  | 'NO_DELIVERABLE_RECIPIENTS';

/** One finding of a check. */
export interface Problem {
  readonly code: ProblemCode;
  readonly severity: Severity;
  /** A sentence for humans; never parse it, use `code` and `details`. */
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/** SES verification states as GetEmailIdentity reports them. */
export type VerificationState = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED';

/** The SES identity that covers the sender in the requested region. */
export interface SenderVerdict {
  /** The most specific identity SES would use (`campaigns@example.com`, `example.com`, ...); null when none exists. */
  readonly identity: string | null;
  readonly identityType: 'EMAIL_ADDRESS' | 'DOMAIN' | 'MANAGED_DOMAIN' | null;
  /** GetEmailIdentity's VerifiedForSendingStatus for that identity in the requested region. */
  readonly verifiedForSending: boolean;
  /** DKIM status of the identity; null when no identity exists. */
  readonly dkim: VerificationState | null;
  /** Custom MAIL FROM status, `NOT_CONFIGURED` without a custom MAIL FROM domain; null when no identity exists. */
  readonly mailFrom: 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_CONFIGURED' | null;
  /**
   * Regions where the sender is verified: the requested region when it is usable there; otherwise every configured
   * region where a verified identity covers it (empty when none does).
   */
  readonly verifiedInRegions: readonly string[];
}

/** Sending quota of the account in the requested region. */
export interface QuotaVerdict {
  /** -1 means unlimited. */
  readonly max24HourSend: number;
  readonly sentLast24Hours: number;
  /** What is left of the 24-hour quota; null when the quota is unlimited. */
  readonly remaining: number | null;
}

/** The SES account in the requested region. */
export interface AccountVerdict {
  readonly sendingEnabled: boolean;
  /** `HEALTHY`, `PROBATION` or `SHUTDOWN` (as SES reports it). */
  readonly enforcementStatus: string;
  /** False while the account is in the SES sandbox in that region. */
  readonly productionAccess: boolean;
  readonly quota: QuotaVerdict;
}

/** A recipient that must not be sent to because it is on a suppression list. */
export interface SuppressedRecipient {
  readonly address: string;
  /** `COMPLAINT` when any applicable listing is a complaint, else `BOUNCE`. */
  readonly reason: 'BOUNCE' | 'COMPLAINT';
  /** Regions whose SES list holds the address for an applicable reason, plus `manual` for an operator suppression. */
  readonly regions: readonly string[];
  /** Earliest listing time (ISO-8601) among those listings. */
  readonly since: string;
}

/** A recipient that cannot be sent to: malformed, or not a verified identity while the account is in the sandbox. */
export interface InvalidRecipient {
  readonly address: string;
  readonly error: string;
}

/** Per-recipient verdicts, each list in input order; every distinct address is in exactly one list. */
export interface RecipientsVerdict {
  /** Number of recipients in the request, duplicates included. */
  readonly total: number;
  readonly allowed: readonly string[];
  readonly suppressed: readonly SuppressedRecipient[];
  readonly invalid: readonly InvalidRecipient[];
  /** Recipients that repeat an earlier one (case-insensitively); each address is checked and listed once. */
  readonly duplicates: number;
  /**
   * Present only when the guard left entries out of `suppressed` and `invalid` to keep its answer under Lambda's
   * payload limit: how many of each are not listed. `allowed` is always complete.
   */
  readonly omitted?: { readonly suppressed: number; readonly invalid: number };
}

/** Lambda's limit on a synchronous response payload (and on a request payload): 6 MB. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * The recipients part of the guard's answer when the full form would not fit under Lambda's payload limit: each
 * recipient named by its position in the request's `recipients` instead of by its address. A typical answer is far
 * below the limit and uses the full form; {@link GuardClient.check} expands this form, so its callers always see the
 * full one. Callers of the function URL or of `Invoke` receive it as is.
 */
export interface IndexedRecipientsVerdict {
  readonly form: 'indexed';
  readonly total: number;
  /** Positions in the request of the recipients to send to, in input order. */
  readonly allowedIndexes: readonly number[];
  readonly suppressed: ReadonlyArray<Omit<SuppressedRecipient, 'address'> & { readonly index: number }>;
  readonly invalid: ReadonlyArray<Omit<InvalidRecipient, 'address'> & { readonly index: number }>;
  readonly duplicates: number;
  readonly omitted?: { readonly suppressed: number; readonly invalid: number };
}

/** What the guard function returns: its answer, with the recipients in the full or (for very large answers) the indexed form. */
export type GuardWireResponse = GuardResponse | (Omit<GuardResponse, 'recipients'> & { readonly recipients: IndexedRecipientsVerdict });

/** True when `response` names its recipients by position. */
export function isIndexed(
  response: GuardWireResponse,
): response is Omit<GuardResponse, 'recipients'> & { readonly recipients: IndexedRecipientsVerdict } {
  return (response.recipients as Partial<IndexedRecipientsVerdict>).form === 'indexed';
}

/**
 * The full form of a guard answer, given the request it answers: indexed recipients become the addresses at those
 * positions, allowed and suppressed ones trimmed as the guard lists them; an invalid one is the value as sent (the
 * full form bounds an echo of over 256 characters and trims a sandbox-unverified address).
 */
export function expandResponse(response: GuardWireResponse, request: Pick<GuardRequest, 'recipients'>): GuardResponse {
  if (!isIndexed(response)) return response;
  const { form: _form, allowedIndexes, suppressed, invalid, ...counts } = response.recipients;
  const at = (index: number) => {
    const value = request.recipients[index];
    if (typeof value !== 'string') throw new RangeError(`the guard named recipient ${index}, which the request does not have`);
    return value;
  };
  return {
    ...response,
    recipients: {
      ...counts,
      allowed: allowedIndexes.map((index) => at(index).trim()),
      suppressed: suppressed.map(({ index, ...rest }) => ({ address: at(index).trim(), ...rest })),
      invalid: invalid.map(({ index, ...rest }) => ({ address: at(index), ...rest })),
    },
  };
}

/** The guard's answer. */
export interface GuardResponse {
  /** True only when no problem blocks and at least one recipient is allowed. */
  readonly proceed: boolean;
  readonly problems: readonly Problem[];
  /** Null when the request was invalid or SES could not be asked. */
  readonly sender: SenderVerdict | null;
  /** Null when the request was invalid or SES could not be asked. */
  readonly account: AccountVerdict | null;
  readonly recipients: RecipientsVerdict;
}
