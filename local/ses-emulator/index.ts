/**
 * Amazon SES v2 emulator speaking the real rest-json wire protocol, for local runs, tests and benchmarks.
 * Point `@aws-sdk/client-sesv2` at {@link SesEmulator.endpoint} (or set `AWS_ENDPOINT_URL_SESV2`).
 */

export { CONTROL_PREFIX } from './control-api';
export type { SesEmulatorOptions } from './emulator';
export { SesEmulator } from './emulator';
export type { SesErrorCode } from './errors';
export { SesError } from './errors';
export type { FaultConfig, ForcedFailureKind } from './faults';
export type {
  AccountSettings,
  ConfigurationSetInput,
  DateFilterBounds,
  EnforcementStatus,
  IdentityInput,
  IdentityType,
  MailFromDomainStatus,
  SuppressedEntry,
  SuppressedEntryInput,
  SuppressionReason,
  VerificationStatus,
} from './state';
export { defaultAccount, EmulatedRegion, SUPPRESSION_REASONS } from './state';
export type { EmulatorStateFile, SuppressedEntryJson } from './state-document';
export type { EmulatorStats, OperationStats } from './traffic';
