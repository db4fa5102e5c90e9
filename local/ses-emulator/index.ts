/**
 * Amazon SES v2 emulator speaking the real rest-json wire protocol, for local runs, tests and benchmarks.
 * Point `@aws-sdk/client-sesv2` at {@link SesEmulator.endpoint} (or set `AWS_ENDPOINT_URL_SESV2`).
 */

export type { SesEventBridgeEvent, SesEventRecord } from '../../client/ses-events';
export { CONTROL_PREFIX } from './control-api';
export type { SesEmulatorOptions } from './emulator';
export { SesEmulator } from './emulator';
export type { SesErrorCode } from './errors';
export { SesError } from './errors';
export type { SesEventListener } from './events';
export { SesEventSink } from './events';
export type { FaultConfig, ForcedFailureKind } from './faults';
export { DEFAULT_CALLER_IDENTITY, MAX_RECIPIENTS as MAX_SEND_RECIPIENTS, SIMULATOR_DOMAIN } from './sending';
export type { SmtpEndpoint } from './smtp';
export { SMTP_MAX_MESSAGE_BYTES, SMTP_OPERATION, SMTP_REPLIES } from './smtp';
export type {
  AccountSettings,
  ConfigurationSetInput,
  DateFilterBounds,
  EnforcementStatus,
  EventDestinationInput,
  IdentityInput,
  IdentityType,
  MailFromDomainStatus,
  RecipientOutcome,
  SesMatchingEventType,
  SuppressedEntry,
  SuppressedEntryInput,
  SuppressionReason,
  VerificationStatus,
} from './state';
export { defaultAccount, EmulatedRegion, MATCHING_EVENT_TYPES, SUPPRESSION_REASONS } from './state';
export type { EmulatorStateFile, SuppressedEntryJson } from './state-document';
export type { EmulatorStats, OperationStats } from './traffic';
