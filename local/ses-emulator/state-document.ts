import type { FaultConfig } from './faults';
import { validateFaultConfig } from './faults';
import type { ImportJob } from './import-jobs';
import {
  type AccountSettings,
  type ConfigurationSetInput,
  type EmulatedRegion,
  type IdentityInput,
  SUPPRESSION_REASONS,
  type SuppressedEntry,
  type SuppressedEntryInput,
} from './state';

/**
 * The emulator's JSON state document (`main.ts --state`, `SesEmulator.loadState`, `POST /_emulator/state`) and the
 * JSON forms of what it holds, validated field by field. Knows the emulator only through {@link EmulatorSettings}.
 */

/** What the state document sets on an emulator. */
export interface EmulatorSettings {
  region(name: string): EmulatedRegion;
  setRequestsPerSecond(rps: number): void;
  setFaults(faults: FaultConfig): void;
  setNextTokenTtlMs(ttlMs: number): void;
  setS3Endpoint(endpoint: string | undefined): void;
  setImportRowsPerSecond(rowsPerSecond: number): void;
  setCallerIdentity(accessKeyId: string, userName: string): void;
  setEventDelayMs(ms: number): void;
}

/** Invalid input to the state document or the control API, with the HTTP status the control API answers. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** JSON form of a suppressed entry: `lastUpdateTime` is an ISO string or epoch milliseconds. */
export interface SuppressedEntryJson {
  emailAddress: string;
  reason: string;
  lastUpdateTime?: string | number;
  attributes?: { messageId?: string; feedbackId?: string };
}

/** JSON state document accepted by `main.ts --state` and `POST /_emulator/state`. */
export interface EmulatorStateFile {
  requestsPerSecond?: number | null;
  faults?: unknown;
  nextTokenTtlMs?: number;
  /** S3 endpoint import jobs read from. */
  s3Endpoint?: string;
  /** Records an import job applies per second. */
  importRowsPerSecond?: number;
  /** Delay before a sent message's events are published. */
  eventDelayMs?: number;
  /** IAM user name per access key id, reported as the caller identity of sent messages. */
  callerIdentities?: Record<string, string>;
  regions?: Record<
    string,
    {
      suppressed?: SuppressedEntryJson[];
      identities?: IdentityInput[];
      account?: Partial<AccountSettings>;
      configurationSets?: ConfigurationSetInput[];
      refuseDelete?: Array<string | { emailAddress: string; message?: string }>;
      /** Addresses whose records fail in import jobs. */
      importFailures?: Array<string | { emailAddress: string; message?: string }>;
      /** Recipients whose mail bounces (Permanent/General) or draws a complaint. */
      recipientOutcomes?: { bounce?: string[]; complaint?: string[] };
    }
  >;
}

/** Applies a state document to the emulator; validates everything it reads. */
export function applyStateFile(emu: EmulatorSettings, doc: unknown): void {
  const state = asObject(doc, 'state') as EmulatorStateFile;
  if (state.requestsPerSecond !== undefined) emu.setRequestsPerSecond(rateFromJson(state.requestsPerSecond));
  if (state.faults !== undefined) emu.setFaults(validateFaultConfig(state.faults));
  if (state.nextTokenTtlMs !== undefined) emu.setNextTokenTtlMs(state.nextTokenTtlMs);
  if (state.s3Endpoint !== undefined) {
    if (typeof state.s3Endpoint !== 'string') throw new ControlError(400, 's3Endpoint must be a URL string');
    emu.setS3Endpoint(state.s3Endpoint);
  }
  if (state.importRowsPerSecond !== undefined) emu.setImportRowsPerSecond(state.importRowsPerSecond);
  if (state.eventDelayMs !== undefined) emu.setEventDelayMs(state.eventDelayMs);
  for (const [accessKeyId, userName] of Object.entries(asObject(state.callerIdentities ?? {}, 'callerIdentities'))) {
    if (typeof userName !== 'string') throw new ControlError(400, `callerIdentities.${accessKeyId} must be a user name string`);
    emu.setCallerIdentity(accessKeyId, userName);
  }
  for (const [name, r] of Object.entries(asObject(state.regions ?? {}, 'regions'))) {
    const spec = asObject(r, `regions.${name}`) as NonNullable<EmulatorStateFile['regions']>[string];
    const region = emu.region(checkRegionName(name));
    if (spec.suppressed)
      region.putSuppressedMany(arrayOf(spec.suppressed, `regions.${name}.suppressed`).map((e, i) => entryFromJson(e, i)));
    for (const id of arrayOf(spec.identities ?? [], `regions.${name}.identities`)) region.putIdentity(identityFromJson(id));
    if (spec.account) region.setAccount(accountFromJson(spec.account));
    for (const cs of arrayOf(spec.configurationSets ?? [], `regions.${name}.configurationSets`))
      region.putConfigurationSet(configurationSetFromJson(cs));
    for (const refusal of arrayOf(spec.refuseDelete ?? [], `regions.${name}.refuseDelete`)) {
      if (typeof refusal === 'string') region.refuseDelete(refusal);
      else {
        const { emailAddress, message } = asObject(refusal, 'refuseDelete entry');
        if (typeof emailAddress !== 'string') throw new ControlError(400, 'refuseDelete entries need an emailAddress');
        region.refuseDelete(emailAddress, typeof message === 'string' ? message : undefined);
      }
    }
    if (spec.recipientOutcomes !== undefined) applyRecipientOutcomes(region, spec.recipientOutcomes, `regions.${name}.recipientOutcomes`);
    for (const failure of arrayOf(spec.importFailures ?? [], `regions.${name}.importFailures`)) {
      if (typeof failure === 'string') region.failImportsFor([failure]);
      else {
        const { emailAddress, message } = asObject(failure, 'importFailures entry');
        if (typeof emailAddress !== 'string') throw new ControlError(400, 'importFailures entries need an emailAddress');
        region.failImportsFor([emailAddress], typeof message === 'string' ? message : undefined);
      }
    }
  }
}

/** Seeds recipient outcomes from `{bounce?: [...], complaint?: [...]}`. */
export function applyRecipientOutcomes(region: EmulatedRegion, value: unknown, what: string): void {
  const spec = asObject(value, what);
  for (const [key, list] of Object.entries(spec)) {
    if (key !== 'bounce' && key !== 'complaint') throw new ControlError(400, `${what}: unknown key "${key}" (expected bounce, complaint)`);
    if (!Array.isArray(list) || !list.every((a) => typeof a === 'string'))
      throw new ControlError(400, `${what}.${key} must be an array of addresses`);
    region.seedRecipientOutcomes(list as string[], key);
  }
}

/** JSON form of an import job (ISO timestamps), for the control API. */
export function importJobToJson(job: ImportJob): Record<string, unknown> {
  return {
    jobId: job.jobId,
    action: job.action,
    s3Url: job.s3Url,
    dataFormat: job.dataFormat,
    status: job.status,
    createdTimestamp: new Date(job.createdMs).toISOString(),
    ...(job.completedMs !== undefined ? { completedTimestamp: new Date(job.completedMs).toISOString() } : {}),
    processedRecordsCount: job.processed,
    failedRecordsCount: job.failed,
    ...(job.failedRecordsS3Url !== undefined ? { failedRecordsS3Url: job.failedRecordsS3Url } : {}),
    ...(job.errorMessage !== undefined ? { errorMessage: job.errorMessage } : {}),
  };
}

/** JSON form of a suppressed entry (ISO timestamps). */
export function entryToJson(e: SuppressedEntry): SuppressedEntryJson {
  return {
    emailAddress: e.emailAddress,
    reason: e.reason,
    lastUpdateTime: e.lastUpdateTime.toISOString(),
    ...(e.attributes ? { attributes: e.attributes } : {}),
  };
}

export function entryFromJson(value: unknown, index: number): SuppressedEntryInput {
  const e = asObject(value, `entries[${index}]`);
  const out: SuppressedEntryInput = { emailAddress: e.emailAddress as string, reason: e.reason as SuppressedEntryInput['reason'] };
  if (e.lastUpdateTime !== undefined) {
    const t = e.lastUpdateTime;
    const date = typeof t === 'number' ? new Date(t) : typeof t === 'string' ? new Date(t) : new Date(NaN);
    if (Number.isNaN(date.getTime()))
      throw new ControlError(400, `entries[${index}].lastUpdateTime must be an ISO string or epoch milliseconds`);
    out.lastUpdateTime = date;
  }
  if (e.attributes !== undefined)
    out.attributes = asObject(e.attributes, `entries[${index}].attributes`) as SuppressedEntryInput['attributes'];
  return out;
}

const IDENTITY_FIELDS: Record<string, 'string' | 'boolean'> = {
  name: 'string',
  type: 'string',
  verifiedForSending: 'boolean',
  verificationStatus: 'string',
  dkimStatus: 'string',
  dkimSigningEnabled: 'boolean',
  mailFromDomain: 'string',
  mailFromStatus: 'string',
  behaviorOnMxFailure: 'string',
  sendingEnabled: 'boolean',
  feedbackForwarding: 'boolean',
  configurationSetName: 'string',
};

export function identityFromJson(value: unknown): IdentityInput {
  return checkFields(asObject(value, 'identity'), IDENTITY_FIELDS, 'identity') as unknown as IdentityInput;
}

const ACCOUNT_FIELDS: Record<string, 'string' | 'boolean' | 'number' | 'reasons'> = {
  sendingEnabled: 'boolean',
  enforcementStatus: 'string',
  productionAccessEnabled: 'boolean',
  dedicatedIpAutoWarmupEnabled: 'boolean',
  max24HourSend: 'number',
  maxSendRate: 'number',
  sentLast24Hours: 'number',
  suppressedReasons: 'reasons',
};

export function accountFromJson(value: unknown): Partial<AccountSettings> {
  const patch = checkFields(asObject(value, 'account'), ACCOUNT_FIELDS, 'account') as Partial<AccountSettings>;
  if (patch.enforcementStatus !== undefined && !['HEALTHY', 'PROBATION', 'SHUTDOWN'].includes(patch.enforcementStatus)) {
    throw new ControlError(400, 'account.enforcementStatus must be HEALTHY, PROBATION or SHUTDOWN');
  }
  return patch;
}

export function configurationSetFromJson(value: unknown): ConfigurationSetInput {
  return checkFields(
    asObject(value, 'configuration set'),
    { name: 'string', suppressedReasons: 'reasons', sendingEnabled: 'boolean' },
    'configuration set',
  ) as unknown as ConfigurationSetInput;
}

function checkFields(obj: Record<string, unknown>, fields: Record<string, string>, what: string): Record<string, unknown> {
  for (const [key, v] of Object.entries(obj)) {
    const kind = fields[key];
    if (kind === undefined)
      throw new ControlError(400, `unknown ${what} field "${key}" (expected one of ${Object.keys(fields).join(', ')})`);
    if (v === undefined) continue;
    const okType = kind === 'reasons' ? Array.isArray(v) && v.every((r) => SUPPRESSION_REASONS.includes(r as never)) : typeof v === kind;
    if (!okType) throw new ControlError(400, `${what}.${key} must be ${kind === 'reasons' ? 'an array of BOUNCE/COMPLAINT' : `a ${kind}`}`);
  }
  return obj;
}

export function checkRegionName(name: string | undefined): string {
  if (name === undefined || !/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(name))
    throw new ControlError(400, `invalid region name ${JSON.stringify(name)}`);
  return name;
}

// JSON has no Infinity: null means unlimited on the wire (0 is accepted too, and reported back as null).
export function rateFromJson(value: unknown): number {
  if (value === null) return Infinity;
  if (typeof value !== 'number' || value < 0) throw new ControlError(400, 'requestsPerSecond must be a number >= 0 or null (unlimited)');
  return value;
}

export function jsonRate(rps: number): number | null {
  return rps > 0 && Number.isFinite(rps) ? rps : null;
}

export function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ControlError(400, `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function arrayOf<T>(value: T[] | unknown, what: string): T[] {
  if (!Array.isArray(value)) throw new ControlError(400, `${what} must be an array`);
  return value as T[];
}
