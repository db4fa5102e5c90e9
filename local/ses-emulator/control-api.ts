import type { SesEventSink } from './events';
import { type FaultConfig, type ForcedFailureKind, validateFaultConfig } from './faults';
import type { EmulatedRegion } from './state';
import type { EmulatorSettings } from './state-document';
import {
  accountFromJson,
  applyRecipientOutcomes,
  applyStateFile,
  asObject,
  ControlError,
  checkRegionName,
  configurationSetFromJson,
  entryFromJson,
  entryToJson,
  identityFromJson,
  importJobToJson,
  jsonRate,
  rateFromJson,
} from './state-document';
import type { EmulatorStats } from './traffic';

/**
 * The control API: the emulator's settings and state over HTTP, for an emulator running in another process (the
 * standalone `main.ts`, or the one `npm start` runs, whose endpoint `.local/environment.json` gives). In-process
 * callers (tests, `npm start` itself) use the `SesEmulator` methods; these routes are a thin JSON layer over the same
 * methods and the same validation (`state-document.ts`), so they cost little to keep. They let a developer seed a
 * running local environment, inject throttling or 5xx faults and watch the guard fail closed, and read the counters.
 */

/** What the control API reads and changes on an emulator. */
export interface ControlledEmulator extends EmulatorSettings {
  readonly endpoint: string;
  readonly traffic: { readonly requestsPerSecond: number; getFaults(): FaultConfig };
  regions(): string[];
  failNextRequests(region: string, count: number, kind: ForcedFailureKind): void;
  readonly importRowsPerSecond: number;
  readonly s3Endpoint: string | undefined;
  readonly events: SesEventSink;
  readonly eventDelayMs: number;
  readonly accountId: string;
  callerIdentities(): Record<string, string>;
  credentials(): string[];
  smtpCaPem(): string;
  setCredential(accessKeyId: string, secretAccessKey: string, userName?: string): void;
  smtpEndpoints(): ReadonlyArray<{ region: string; host: string; serverName: string; starttlsPort: number; tlsPort: number }>;
  stats(): EmulatorStats;
  resetStats(): void;
  reset(): void;
}

/** Path prefix of the control API; SES v2 paths all start with `/v2/`, so this cannot collide. */
export const CONTROL_PREFIX = '/_emulator';

/** Result of a control request. */
export interface ControlResult {
  status: number;
  body: unknown;
}

/** Routes one control-API request. Throws ControlError (or a plain Error → 400) on bad input. */
export function handleControl(emu: ControlledEmulator, method: string, path: string, body: unknown): ControlResult {
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
      return ok({
        ok: true,
        endpoint: emu.endpoint,
        regions: emu.regions(),
        requestsPerSecond: jsonRate(emu.traffic.requestsPerSecond),
        s3Endpoint: emu.s3Endpoint ?? null,
        importRowsPerSecond: emu.importRowsPerSecond,
        eventDelayMs: emu.eventDelayMs,
        accountId: emu.accountId,
        smtp: emu.smtpEndpoints(),
      });
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
    case 'POST /regions/:region/import-failures': {
      const { emailAddresses, message } = asObject(body, 'body');
      if (!Array.isArray(emailAddresses) || !emailAddresses.every((a) => typeof a === 'string')) {
        throw new ControlError(400, 'emailAddresses must be an array of strings');
      }
      if (message !== undefined && typeof message !== 'string') throw new ControlError(400, 'message must be a string');
      const r = region();
      r.failImportsFor(emailAddresses as string[], message);
      return ok({ region: regionName, emailAddresses: r.importFailureAddresses() });
    }
    case 'DELETE /regions/:region/import-failures':
      region().clearImportFailures();
      return ok({ region: regionName, emailAddresses: [] });
    case 'GET /regions/:region/import-jobs':
      return ok({ region: regionName, jobs: region().listImportJobs().map(importJobToJson) });
    case 'POST /regions/:region/fail-next': {
      const { count, kind } = asObject(body, 'body');
      emu.failNextRequests(checkRegionName(regionName), count as number, kind as 'throttle' | 'serverError');
      return ok({ region: regionName, count, kind });
    }
    case 'GET /regions/:region/recipient-outcomes':
      return ok({ region: regionName, ...region().recipientOutcomeList() });
    case 'POST /regions/:region/recipient-outcomes':
    case 'PUT /regions/:region/recipient-outcomes': {
      const r = region();
      applyRecipientOutcomes(r, body, 'body');
      return ok({ region: regionName, ...r.recipientOutcomeList() });
    }
    case 'DELETE /regions/:region/recipient-outcomes':
      region().clearRecipientOutcomes();
      return ok({ region: regionName, bounce: [], complaint: [] });
    case 'GET /events': {
      const events = emu.events.list();
      return ok({ count: events.length, pending: emu.events.pendingMessages, events });
    }
    case 'POST /events/drain': {
      const events = emu.events.drain();
      return ok({ count: events.length, pending: emu.events.pendingMessages, events });
    }
    case 'DELETE /events':
      emu.events.clear();
      return ok({ count: 0 });
    case 'GET /caller-identities':
      return ok({ callerIdentities: emu.callerIdentities() });
    case 'PUT /caller-identities':
    case 'POST /caller-identities': {
      const { accessKeyId, userName } = asObject(body, 'body');
      if (typeof accessKeyId !== 'string' || typeof userName !== 'string') {
        throw new ControlError(400, 'body must be {"accessKeyId": "...", "userName": "..."}');
      }
      emu.setCallerIdentity(accessKeyId, userName);
      return ok({ callerIdentities: emu.callerIdentities() });
    }
    case 'GET /credentials':
      return ok({ accessKeyIds: emu.credentials() });
    case 'PUT /credentials':
    case 'POST /credentials': {
      const { accessKeyId, secretAccessKey, userName } = asObject(body, 'body');
      if (
        typeof accessKeyId !== 'string' ||
        typeof secretAccessKey !== 'string' ||
        (userName !== undefined && typeof userName !== 'string')
      ) {
        throw new ControlError(400, 'body must be {"accessKeyId": "...", "secretAccessKey": "...", "userName"?: "..."}');
      }
      emu.setCredential(accessKeyId, secretAccessKey, userName);
      return ok({ accessKeyIds: emu.credentials() });
    }
    case 'GET /smtp':
      return ok({ endpoints: emu.smtpEndpoints(), caPem: emu.smtpEndpoints().length > 0 ? emu.smtpCaPem() : null });
    case 'GET /event-delay':
      return ok({ eventDelayMs: emu.eventDelayMs });
    case 'PUT /event-delay':
      emu.setEventDelayMs(asObject(body, 'body').eventDelayMs as number);
      return ok({ eventDelayMs: emu.eventDelayMs });
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

function ok(body: unknown): ControlResult {
  return { status: 200, body };
}
