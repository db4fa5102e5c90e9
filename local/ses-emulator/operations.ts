import { createHash } from 'node:crypto';
import { badRequest, SesError } from './errors';
import { type ImportAction, type ImportJob, type ImportJobRunner, parseS3Url } from './import-jobs';
import type { SendCaller, SendingEngine } from './sending';
import {
  checkEmailAddress,
  checkReason,
  type EmulatedRegion,
  type EventDestinationInput,
  MATCHING_EVENT_TYPES,
  type ResolvedIdentity,
  type SesMatchingEventType,
  type StoredSuppression,
} from './state';

/** A parsed SES request, as handed to an operation handler. */
export interface SesRequest {
  readonly region: EmulatedRegion;
  /** Decoded path labels, in order. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  /** Parsed JSON body, or undefined when the request had none. */
  readonly body: unknown;
  /** Runs import jobs (reads S3). */
  readonly imports: ImportJobRunner;
  /** Accepts messages and publishes their events. */
  readonly sending: SendingEngine;
  /** The SigV4 access key id and the client's address. */
  readonly caller: SendCaller;
}

/** One SES v2 operation, bound to the method + path template read from the SDK's schema. */
export interface SesRoute {
  readonly operation: string;
  readonly method: string;
  /** Matches the raw (still percent-encoded) path; capture groups are the path labels. */
  readonly pattern: RegExp;
  handle(req: SesRequest): unknown | Promise<unknown>;
}

const SUPPRESSION_LIST_MAX_PAGE = 1000;
const IDENTITY_DEFAULT_PAGE = 100;
const IMPORT_JOBS_DEFAULT_PAGE = 100;
const IMPORT_JOBS_MAX_PAGE = 1000;

/** Every SES v2 operation the emulator implements (paths from `@aws-sdk/client-sesv2` dist-cjs schemas). */
export const SES_ROUTES: readonly SesRoute[] = [
  {
    operation: 'ListSuppressedDestinations',
    method: 'GET',
    pattern: /^\/v2\/email\/suppression\/addresses\/?$/,
    handle: listSuppressedDestinations,
  },
  {
    operation: 'PutSuppressedDestination',
    method: 'PUT',
    pattern: /^\/v2\/email\/suppression\/addresses\/?$/,
    handle: putSuppressedDestination,
  },
  {
    operation: 'GetSuppressedDestination',
    method: 'GET',
    pattern: /^\/v2\/email\/suppression\/addresses\/([^/]+)$/,
    handle: getSuppressedDestination,
  },
  {
    operation: 'DeleteSuppressedDestination',
    method: 'DELETE',
    pattern: /^\/v2\/email\/suppression\/addresses\/([^/]+)$/,
    handle: deleteSuppressedDestination,
  },
  { operation: 'GetEmailIdentity', method: 'GET', pattern: /^\/v2\/email\/identities\/([^/]+)$/, handle: getEmailIdentity },
  // Older SDKs list identities with GET + query; current ones POST to list-identities with a JSON body.
  { operation: 'ListEmailIdentities', method: 'GET', pattern: /^\/v2\/email\/identities\/?$/, handle: listEmailIdentitiesGet },
  { operation: 'ListEmailIdentities', method: 'POST', pattern: /^\/v2\/email\/list-identities\/?$/, handle: listEmailIdentitiesPost },
  { operation: 'GetAccount', method: 'GET', pattern: /^\/v2\/email\/account\/?$/, handle: getAccount },
  { operation: 'GetConfigurationSet', method: 'GET', pattern: /^\/v2\/email\/configuration-sets\/([^/]+)$/, handle: getConfigurationSet },
  {
    operation: 'PutEmailIdentityConfigurationSetAttributes',
    method: 'PUT',
    pattern: /^\/v2\/email\/identities\/([^/]+)\/configuration-set$/,
    handle: putEmailIdentityConfigurationSetAttributes,
  },
  {
    operation: 'CreateConfigurationSetEventDestination',
    method: 'POST',
    pattern: /^\/v2\/email\/configuration-sets\/([^/]+)\/event-destinations\/?$/,
    handle: createEventDestination,
  },
  {
    operation: 'GetConfigurationSetEventDestinations',
    method: 'GET',
    pattern: /^\/v2\/email\/configuration-sets\/([^/]+)\/event-destinations\/?$/,
    handle: getEventDestinations,
  },
  {
    operation: 'UpdateConfigurationSetEventDestination',
    method: 'PUT',
    pattern: /^\/v2\/email\/configuration-sets\/([^/]+)\/event-destinations\/([^/]+)$/,
    handle: updateEventDestination,
  },
  {
    operation: 'DeleteConfigurationSetEventDestination',
    method: 'DELETE',
    pattern: /^\/v2\/email\/configuration-sets\/([^/]+)\/event-destinations\/([^/]+)$/,
    handle: deleteEventDestination,
  },
  { operation: 'SendEmail', method: 'POST', pattern: /^\/v2\/email\/outbound-emails\/?$/, handle: sendEmail },
  { operation: 'CreateImportJob', method: 'POST', pattern: /^\/v2\/email\/import-jobs\/?$/, handle: createImportJob },
  // Listed before GetImportJob's pattern could matter: list is a POST, get a GET, so they never collide.
  { operation: 'ListImportJobs', method: 'POST', pattern: /^\/v2\/email\/import-jobs\/list\/?$/, handle: listImportJobs },
  { operation: 'GetImportJob', method: 'GET', pattern: /^\/v2\/email\/import-jobs\/([^/]+)$/, handle: getImportJob },
];

/** Finds the route for a method + raw path; `params` are percent-decoded labels. */
export function matchRoute(method: string, rawPath: string): { route: SesRoute; params: string[] } | undefined {
  for (const route of SES_ROUTES) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(rawPath);
    if (!m) continue;
    const params = m.slice(1).map((label) => {
      try {
        return decodeURIComponent(label ?? '');
      } catch {
        throw badRequest(`Path label "${label}" is not valid percent-encoding.`);
      }
    });
    return { route, params };
  }
  return undefined;
}

// ---------------------------------------------------------------- suppression list

function listSuppressedDestinations({ region, query }: SesRequest): unknown {
  rejectTenant(query);
  const reasons = query.getAll('Reason').map((r) => checkReason(r, 'Reason'));
  const startMs = parseTimestamp(query.get('StartDate'), 'StartDate');
  const endMs = parseTimestamp(query.get('EndDate'), 'EndDate');
  const pageSize = parsePageSize(query.get('PageSize'), 1, SUPPRESSION_LIST_MAX_PAGE, SUPPRESSION_LIST_MAX_PAGE);
  const nextToken = query.get('NextToken') ?? undefined;
  const { page, nextToken: next } = region.listSuppressed({ reasons, startMs, endMs, pageSize, nextToken });
  return {
    SuppressedDestinationSummaries: page.map((s: StoredSuppression) => ({
      EmailAddress: s.emailAddress,
      Reason: s.reason,
      LastUpdateTime: epochSeconds(s.lastUpdateMs),
    })),
    ...(next !== undefined ? { NextToken: next } : {}),
  };
}

function putSuppressedDestination({ region, body }: SesRequest): unknown {
  const input = requireObject(body);
  if (input.TenantName !== undefined) throw tenantNotFound(String(input.TenantName));
  if (input.EmailAddress === undefined) throw badRequest('EmailAddress is required.');
  if (input.Reason === undefined) throw badRequest('Reason is required.');
  const emailAddress = checkEmailAddress(input.EmailAddress);
  region.putSuppressedFromApi(emailAddress, checkReason(input.Reason));
  return {};
}

function getSuppressedDestination({ region, params, query }: SesRequest): unknown {
  rejectTenant(query);
  const emailAddress = params[0] ?? '';
  const entry = region.getSuppressed(emailAddress);
  if (!entry) throw new SesError('NotFoundException', `Email address ${emailAddress} does not exist on your suppression list.`);
  const attrs = entry.attributes;
  return {
    SuppressedDestination: {
      EmailAddress: entry.emailAddress,
      Reason: entry.reason,
      LastUpdateTime: epochSeconds(entry.lastUpdateTime.getTime()),
      ...(attrs ? { Attributes: { MessageId: attrs.messageId, FeedbackId: attrs.feedbackId } } : {}),
    },
  };
}

function deleteSuppressedDestination({ region, params, query }: SesRequest): unknown {
  rejectTenant(query);
  region.deleteSuppressedFromApi(params[0] ?? '');
  return {};
}

// ---------------------------------------------------------------- identities

function getEmailIdentity({ region, params }: SesRequest): unknown {
  const name = params[0] ?? '';
  const id = region.getIdentity(name);
  if (!id) throw new SesError('NotFoundException', `Email identity ${name} does not exist.`);
  return {
    IdentityType: id.type,
    FeedbackForwardingStatus: id.feedbackForwarding,
    VerifiedForSendingStatus: id.verifiedForSending,
    VerificationStatus: id.verificationStatus,
    DkimAttributes: {
      SigningEnabled: id.dkimSigningEnabled,
      Status: id.dkimStatus,
      Tokens: id.type === 'DOMAIN' ? dkimTokens(id.name) : [],
      SigningAttributesOrigin: 'AWS_SES',
      NextSigningKeyLength: 'RSA_2048_BIT',
      CurrentSigningKeyLength: 'RSA_2048_BIT',
    },
    // Without a custom MAIL FROM domain SES still returns the attributes object, with only the MX behaviour.
    MailFromAttributes:
      id.mailFromDomain !== undefined
        ? { MailFromDomain: id.mailFromDomain, MailFromDomainStatus: id.mailFromStatus, BehaviorOnMxFailure: id.behaviorOnMxFailure }
        : { BehaviorOnMxFailure: id.behaviorOnMxFailure },
    Policies: {},
    Tags: [],
    ...(id.configurationSetName !== undefined ? { ConfigurationSetName: id.configurationSetName } : {}),
  };
}

function listEmailIdentitiesGet({ region, query }: SesRequest): unknown {
  return listIdentities(region, query.get('NextToken') ?? undefined, query.get('PageSize'), undefined);
}

function listEmailIdentitiesPost({ region, body }: SesRequest): unknown {
  const input = body === undefined ? {} : requireObject(body);
  const token = input.NextToken;
  if (token !== undefined && typeof token !== 'string') throw badRequest('NextToken must be a string.');
  const pageSize = input.PageSize;
  if (pageSize !== undefined && typeof pageSize !== 'number') throw badRequest('PageSize must be a number.');
  return listIdentities(region, token, pageSize === undefined ? null : String(pageSize), input.Filter);
}

function listIdentities(region: EmulatedRegion, token: string | undefined, rawPageSize: string | null, filter: unknown): unknown {
  const pageSize = parsePageSize(rawPageSize, 1, 1000, IDENTITY_DEFAULT_PAGE);
  const predicate = identityFilter(filter);
  const all = region.listIdentities().filter(predicate);
  let offset = 0;
  if (token !== undefined) {
    const m = /^i(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!m || Number(m[1]) > all.length) throw badRequest('The NextToken provided is invalid.');
    offset = Number(m[1]);
  }
  const end = Math.min(all.length, offset + pageSize);
  return {
    EmailIdentities: all.slice(offset, end).map((id) => ({
      IdentityType: id.type,
      IdentityName: id.name,
      SendingEnabled: id.sendingEnabled,
      VerificationStatus: id.verificationStatus,
    })),
    ...(end < all.length ? { NextToken: Buffer.from(`i${end}`).toString('base64url') } : {}),
  };
}

function identityFilter(filter: unknown): (id: ResolvedIdentity) => boolean {
  if (filter === undefined || filter === null) return () => true;
  const entries = Object.entries(requireObject(filter, 'Filter'));
  const checks = entries.map(([key, value]): ((id: ResolvedIdentity) => boolean) => {
    if (typeof value !== 'string') throw badRequest(`Filter.${key} must be a string.`);
    switch (key) {
      case 'IDENTITY_NAME_CONTAINS':
        return (id) => id.name.toLowerCase().includes(value.toLowerCase());
      case 'IDENTITY_TYPE':
        return (id) => id.type === value;
      case 'VERIFICATION_STATUS':
        return (id) => id.verificationStatus === value;
      default:
        throw badRequest(`Unknown filter key ${key}; expected IDENTITY_NAME_CONTAINS, IDENTITY_TYPE or VERIFICATION_STATUS.`);
    }
  });
  return (id) => checks.every((c) => c(id));
}

// ---------------------------------------------------------------- account & configuration sets

function getAccount({ region }: SesRequest): unknown {
  const a = region.getAccount();
  return {
    DedicatedIpAutoWarmupEnabled: a.dedicatedIpAutoWarmupEnabled,
    EnforcementStatus: a.enforcementStatus,
    ProductionAccessEnabled: a.productionAccessEnabled,
    SendQuota: { Max24HourSend: a.max24HourSend, MaxSendRate: a.maxSendRate, SentLast24Hours: a.sentLast24Hours },
    SendingEnabled: a.sendingEnabled,
    SuppressionAttributes: { SuppressedReasons: a.suppressedReasons },
  };
}

function getConfigurationSet({ region, params }: SesRequest): unknown {
  const name = params[0] ?? '';
  const cs = region.getConfigurationSet(name);
  if (!cs) throw new SesError('NotFoundException', `Configuration set ${name} does not exist.`);
  return {
    ConfigurationSetName: cs.name,
    DeliveryOptions: { TlsPolicy: 'OPTIONAL' },
    ReputationOptions: { ReputationMetricsEnabled: false },
    SendingOptions: { SendingEnabled: cs.sendingEnabled },
    Tags: [],
    // Absent means "inherit the account's reasons"; an empty list means suppression is off for this set.
    ...(cs.suppressedReasons !== undefined ? { SuppressionOptions: { SuppressedReasons: cs.suppressedReasons } } : {}),
  };
}

function putEmailIdentityConfigurationSetAttributes({ region, params, body }: SesRequest): unknown {
  const input = body === undefined ? {} : requireObject(body);
  const name = input.ConfigurationSetName;
  if (name !== undefined && typeof name !== 'string') throw badRequest('ConfigurationSetName must be a string.');
  // Without a ConfigurationSetName the identity's default configuration set is removed.
  region.setIdentityConfigurationSet(params[0] ?? '', name === undefined || name === '' ? undefined : name);
  return {};
}

// ---------------------------------------------------------------- event destinations

const DESTINATION_KINDS = [
  'KinesisFirehoseDestination',
  'CloudWatchDestination',
  'SnsDestination',
  'EventBridgeDestination',
  'PinpointDestination',
];

function eventDestinationFromWire(name: string, value: unknown): EventDestinationInput {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
    throw badRequest(`EventDestinationName "${name}" may contain only ASCII letters, digits, '_' and '-' (at most 64 characters).`);
  }
  const def = requireObject(value ?? null, 'EventDestination');
  const types = def.MatchingEventTypes;
  if (!Array.isArray(types) || types.length === 0) throw badRequest('EventDestination.MatchingEventTypes must be a non-empty list.');
  for (const t of types) {
    if (!MATCHING_EVENT_TYPES.includes(t as SesMatchingEventType)) {
      throw badRequest(`EventDestination.MatchingEventTypes: ${JSON.stringify(t)} is not one of ${MATCHING_EVENT_TYPES.join(', ')}.`);
    }
  }
  if (def.Enabled !== undefined && typeof def.Enabled !== 'boolean') throw badRequest('EventDestination.Enabled must be a boolean.');
  const kinds = DESTINATION_KINDS.filter((k) => def[k] !== undefined && def[k] !== null);
  if (kinds.length !== 1) throw badRequest(`EventDestination must contain exactly one of ${DESTINATION_KINDS.join(', ')}.`);
  const out: EventDestinationInput = {
    name,
    enabled: def.Enabled === true,
    matchingEventTypes: [...new Set(types as SesMatchingEventType[])],
  };
  if (kinds[0] === 'EventBridgeDestination') {
    const arn = requireObject(def.EventBridgeDestination, 'EventBridgeDestination').EventBusArn;
    if (typeof arn !== 'string' || arn.length === 0) throw badRequest('EventBridgeDestination.EventBusArn is required.');
    out.eventBridgeDestination = { eventBusArn: arn };
  } else {
    out.otherDestinations = { [kinds[0] as string]: def[kinds[0] as string] };
  }
  return out;
}

function eventDestinationToWire(d: EventDestinationInput): Record<string, unknown> {
  return {
    Name: d.name,
    Enabled: d.enabled === true,
    MatchingEventTypes: d.matchingEventTypes,
    ...(d.eventBridgeDestination ? { EventBridgeDestination: { EventBusArn: d.eventBridgeDestination.eventBusArn } } : {}),
    ...(d.otherDestinations ?? {}),
  };
}

function createEventDestination({ region, params, body }: SesRequest): unknown {
  const input = requireObject(body);
  if (typeof input.EventDestinationName !== 'string') throw badRequest('EventDestinationName is required.');
  region.createEventDestination(params[0] ?? '', eventDestinationFromWire(input.EventDestinationName, input.EventDestination));
  return {};
}

function getEventDestinations({ region, params }: SesRequest): unknown {
  return { EventDestinations: region.listEventDestinations(params[0] ?? '').map(eventDestinationToWire) };
}

function updateEventDestination({ region, params, body }: SesRequest): unknown {
  const input = requireObject(body);
  region.updateEventDestination(params[0] ?? '', eventDestinationFromWire(params[1] ?? '', input.EventDestination));
  return {};
}

function deleteEventDestination({ region, params }: SesRequest): unknown {
  region.deleteEventDestination(params[0] ?? '', params[1] ?? '');
  return {};
}

// ---------------------------------------------------------------- sending

function sendEmail({ region, body, sending, caller }: SesRequest): unknown {
  return sending.send(region, body, caller);
}

// ---------------------------------------------------------------- import jobs

async function createImportJob({ region, body, imports }: SesRequest): Promise<unknown> {
  const input = requireObject(body);
  const destination = requireObject(input.ImportDestination ?? null, 'ImportDestination');
  if (destination.ContactListDestination !== undefined) {
    throw badRequest('ContactListDestination is not supported by the SES emulator: only SuppressionListDestination imports are emulated.');
  }
  if (destination.SuppressionListDestination === undefined) throw badRequest('ImportDestination.SuppressionListDestination is required.');
  const action = requireObject(destination.SuppressionListDestination, 'SuppressionListDestination').SuppressionListImportAction;
  if (action !== 'PUT' && action !== 'DELETE') {
    throw badRequest(`SuppressionListImportAction must be one of PUT, DELETE (got ${JSON.stringify(action)}).`);
  }
  const source = requireObject(input.ImportDataSource ?? null, 'ImportDataSource');
  if (typeof source.S3Url !== 'string') throw badRequest('ImportDataSource.S3Url is required.');
  parseS3Url(source.S3Url);
  if (source.DataFormat !== 'CSV' && source.DataFormat !== 'JSON') {
    throw badRequest(`ImportDataSource.DataFormat must be one of CSV, JSON (got ${JSON.stringify(source.DataFormat)}).`);
  }
  const job = await imports.create(region, action as ImportAction, source.S3Url, source.DataFormat);
  return { JobId: job.jobId };
}

function getImportJob({ region, params }: SesRequest): unknown {
  const jobId = params[0] ?? '';
  const job = region.getImportJob(jobId);
  if (!job) throw new SesError('NotFoundException', `Import job ${jobId} does not exist.`);
  const failureInfo = {
    ...(job.failedRecordsS3Url !== undefined ? { FailedRecordsS3Url: job.failedRecordsS3Url } : {}),
    ...(job.errorMessage !== undefined ? { ErrorMessage: job.errorMessage } : {}),
  };
  return {
    ...importJobSummary(job),
    ImportDataSource: { S3Url: job.s3Url, DataFormat: job.dataFormat },
    ...(Object.keys(failureInfo).length > 0 ? { FailureInfo: failureInfo } : {}),
    ...(job.completedMs !== undefined ? { CompletedTimestamp: epochSeconds(job.completedMs) } : {}),
  };
}

function listImportJobs({ region, body }: SesRequest): unknown {
  const input = body === undefined ? {} : requireObject(body);
  const type = input.ImportDestinationType;
  if (type !== undefined && type !== 'SUPPRESSION_LIST' && type !== 'CONTACT_LIST') {
    throw badRequest(`ImportDestinationType must be one of SUPPRESSION_LIST, CONTACT_LIST (got ${JSON.stringify(type)}).`);
  }
  const pageSize = input.PageSize;
  if (pageSize !== undefined && typeof pageSize !== 'number') throw badRequest('PageSize must be a number.');
  const size = parsePageSize(pageSize === undefined ? null : String(pageSize), 1, IMPORT_JOBS_MAX_PAGE, IMPORT_JOBS_DEFAULT_PAGE);
  // The emulator has only suppression-list jobs, so a CONTACT_LIST filter matches none.
  const all = type === 'CONTACT_LIST' ? [] : region.listImportJobs();
  let offset = 0;
  const token = input.NextToken;
  if (token !== undefined) {
    if (typeof token !== 'string') throw badRequest('NextToken must be a string.');
    const m = /^j(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!m || Number(m[1]) > all.length) throw new SesError('BadRequestException', 'The NextToken provided is invalid.');
    offset = Number(m[1]);
  }
  const end = Math.min(all.length, offset + size);
  return {
    ImportJobs: all.slice(offset, end).map(importJobSummary),
    ...(end < all.length ? { NextToken: Buffer.from(`j${end}`).toString('base64url') } : {}),
  };
}

function importJobSummary(job: ImportJob): Record<string, unknown> {
  return {
    JobId: job.jobId,
    ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: job.action } },
    JobStatus: job.status,
    CreatedTimestamp: epochSeconds(job.createdMs),
    ProcessedRecordsCount: job.processed,
    FailedRecordsCount: job.failed,
  };
}

// ---------------------------------------------------------------- wire helpers

/** Epoch seconds with millisecond precision, the rest-json timestamp format for bodies. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/**
 * Parses a query timestamp. The SDK sends ISO 8601 date-time for query strings (rest-json default);
 * epoch seconds are accepted too because hand-written clients and the AWS CLI may send them.
 */
export function parseTimestamp(value: string | null, name: string): number | undefined {
  if (value === null) return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw badRequest(`${name} "${value}" is not a valid timestamp (ISO 8601 or epoch seconds).`);
  return ms;
}

function parsePageSize(value: string | null, min: number, max: number, fallback: number): number {
  if (value === null) return fallback;
  const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`PageSize must be an integer from ${min} to ${max} (got "${value}").`);
  return n;
}

function requireObject(body: unknown, name = 'request body'): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`The ${name} must be a JSON object.`);
  return body as Record<string, unknown>;
}

// Tenants have their own suppression lists in SES; the emulator has none, so any tenant is unknown.
function rejectTenant(query: URLSearchParams): void {
  const tenant = query.get('TenantName');
  if (tenant !== null) throw tenantNotFound(tenant);
}

function tenantNotFound(tenant: string): SesError {
  return new SesError('NotFoundException', `Tenant ${tenant} does not exist (tenants are not emulated).`);
}

function dkimTokens(name: string): string[] {
  const digest = createHash('sha256').update(name.toLowerCase()).digest('hex');
  return [digest.slice(0, 32), digest.slice(32, 64), createHash('md5').update(name.toLowerCase()).digest('hex')];
}
