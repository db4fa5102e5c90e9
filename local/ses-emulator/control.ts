import type { SesEmulator } from './emulator';
import { validateFaultConfig } from './faults';
import {
  type AccountSettings,
  type ConfigurationSetInput,
  type EmulatedRegion,
  type IdentityInput,
  SUPPRESSION_REASONS,
  type SuppressedEntry,
  type SuppressedEntryInput,
} from './state';

/** Path prefix of the control API; SES v2 paths all start with `/v2/`, so this cannot collide. */
export const CONTROL_PREFIX = '/_emulator';

/** A control-API failure with its HTTP status. */
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
  regions?: Record<
    string,
    {
      suppressed?: SuppressedEntryJson[];
      identities?: IdentityInput[];
      account?: Partial<AccountSettings>;
      configurationSets?: ConfigurationSetInput[];
      refuseDelete?: Array<string | { emailAddress: string; message?: string }>;
    }
  >;
}

/** Result of a control request. */
export interface ControlResult {
  status: number;
  body: unknown;
}

/** Routes one control-API request. Throws ControlError (or a plain Error → 400) on bad input. */
export function handleControl(emu: SesEmulator, method: string, path: string, body: unknown): ControlResult {
  const parts = path
    .slice(CONTROL_PREFIX.length)
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => decodeURIComponent(p));
  const route = `${method} /${parts.map((p, i) => (parts[0] === 'regions' && i === 1 ? ':region' : i === 3 ? ':name' : p)).join('/')}`;
  const regionName = parts[0] === 'regions' ? parts[1] : undefined;
  const region = (): EmulatedRegion => emu.region(checkRegionName(regionName));

  switch (route) {
    case 'GET /health':
      return ok({ ok: true, endpoint: emu.endpoint, regions: emu.regions(), requestsPerSecond: jsonRate(emu.traffic.requestsPerSecond) });
    case 'GET /regions':
      return ok({ regions: emu.regions().map((name) => ({ name, suppressed: emu.region(name).suppressedCount })) });
    case 'GET /regions/:region/suppressed': {
      const entries = region().suppressed().map(entryToJson);
      return ok({ region: regionName, count: entries.length, entries });
    }
    case 'POST /regions/:region/suppressed': {
      const list = Array.isArray(body) ? body : (asObject(body, 'body').entries as unknown);
      if (!Array.isArray(list)) throw new ControlError(400, 'body must be an array of entries or {"entries": [...]}');
      const r = region();
      r.putSuppressedMany(list.map((e, i) => entryFromJson(e, i)));
      return ok({ region: regionName, added: list.length, count: r.suppressedCount });
    }
    case 'DELETE /regions/:region/suppressed':
      region().clearSuppressed();
      return ok({ region: regionName, count: 0 });
    case 'DELETE /regions/:region/suppressed/:name': {
      const deleted = region().deleteSuppressed(parts[3] ?? '');
      return { status: deleted ? 200 : 404, body: { deleted } };
    }
    case 'PUT /regions/:region/identities':
    case 'POST /regions/:region/identities':
      region().putIdentity(identityFromJson(body));
      return ok({ region: regionName, identity: asObject(body, 'body').name });
    case 'DELETE /regions/:region/identities/:name': {
      const deleted = region().deleteIdentity(parts[3] ?? '');
      return { status: deleted ? 200 : 404, body: { deleted } };
    }
    case 'GET /regions/:region/account':
      return ok(region().getAccount());
    case 'PUT /regions/:region/account':
    case 'PATCH /regions/:region/account':
      region().setAccount(accountFromJson(body));
      return ok(region().getAccount());
    case 'PUT /regions/:region/configuration-sets':
    case 'POST /regions/:region/configuration-sets':
      region().putConfigurationSet(configurationSetFromJson(body));
      return ok({ region: regionName, configurationSet: asObject(body, 'body').name });
    case 'POST /regions/:region/refuse-delete': {
      const { emailAddress, message } = asObject(body, 'body');
      if (typeof emailAddress !== 'string') throw new ControlError(400, 'emailAddress must be a string');
      if (message !== undefined && typeof message !== 'string') throw new ControlError(400, 'message must be a string');
      region().refuseDelete(emailAddress, message);
      return ok({ region: regionName, emailAddress });
    }
    case 'POST /regions/:region/fail-next': {
      const { count, kind } = asObject(body, 'body');
      emu.failNextRequests(checkRegionName(regionName), count as number, kind as 'throttle' | 'serverError');
      return ok({ region: regionName, count, kind });
    }
    case 'GET /faults':
      return ok(emu.traffic.getFaults());
    case 'PUT /faults':
      emu.setFaults(validateFaultConfig(body));
      return ok(emu.traffic.getFaults());
    case 'GET /rps':
      return ok({ requestsPerSecond: jsonRate(emu.traffic.requestsPerSecond) });
    case 'PUT /rps':
      emu.setRequestsPerSecond(rateFromJson(asObject(body, 'body').requestsPerSecond));
      return ok({ requestsPerSecond: jsonRate(emu.traffic.requestsPerSecond) });
    case 'GET /stats':
      return ok(emu.stats());
    case 'DELETE /stats':
      emu.resetStats();
      return ok(emu.stats());
    case 'POST /state':
      applyStateFile(emu, body);
      return ok({ regions: emu.regions() });
    case 'POST /reset':
      emu.reset();
      return ok({ regions: [] });
    default:
      throw new ControlError(404, `Unknown control route ${method} ${path}; see local/ses-emulator/control.ts for the route list.`);
  }
}

/** Applies a state document to the emulator; validates everything it reads. */
export function applyStateFile(emu: SesEmulator, doc: unknown): void {
  const state = asObject(doc, 'state') as EmulatorStateFile;
  if (state.requestsPerSecond !== undefined) emu.setRequestsPerSecond(rateFromJson(state.requestsPerSecond));
  if (state.faults !== undefined) emu.setFaults(validateFaultConfig(state.faults));
  if (state.nextTokenTtlMs !== undefined) emu.setNextTokenTtlMs(state.nextTokenTtlMs);
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
  }
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

function entryFromJson(value: unknown, index: number): SuppressedEntryInput {
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

function identityFromJson(value: unknown): IdentityInput {
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

function accountFromJson(value: unknown): Partial<AccountSettings> {
  const patch = checkFields(asObject(value, 'account'), ACCOUNT_FIELDS, 'account') as Partial<AccountSettings>;
  if (patch.enforcementStatus !== undefined && !['HEALTHY', 'PROBATION', 'SHUTDOWN'].includes(patch.enforcementStatus)) {
    throw new ControlError(400, 'account.enforcementStatus must be HEALTHY, PROBATION or SHUTDOWN');
  }
  return patch;
}

function configurationSetFromJson(value: unknown): ConfigurationSetInput {
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

function checkRegionName(name: string | undefined): string {
  if (name === undefined || !/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(name))
    throw new ControlError(400, `invalid region name ${JSON.stringify(name)}`);
  return name;
}

// JSON has no Infinity: null means unlimited on the wire (0 is accepted too, and reported back as null).
function rateFromJson(value: unknown): number {
  if (value === null) return Infinity;
  if (typeof value !== 'number' || value < 0) throw new ControlError(400, 'requestsPerSecond must be a number >= 0 or null (unlimited)');
  return value;
}

function jsonRate(rps: number): number | null {
  return rps > 0 && Number.isFinite(rps) ? rps : null;
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ControlError(400, `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function arrayOf<T>(value: T[] | unknown, what: string): T[] {
  if (!Array.isArray(value)) throw new ControlError(400, `${what} must be an array`);
  return value as T[];
}

function ok(body: unknown): ControlResult {
  return { status: 200, body };
}
