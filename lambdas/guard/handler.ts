import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { GuardResponse, Severity } from '../../client/contract';
import { documentClient, SesClients } from '../domain/clients';
import { numberFromEnv, regionsFromEnv, requireEnv } from '../domain/env';
import { Pacer } from '../domain/retry';
import { LookupCache } from './cache';
import { GUARD_SDK_SETTINGS, guardDynamoClient } from './clients';
import { evaluate, type GuardDeps, invalidRequestResponse } from './guard';

const logger = new Logger({ serviceName: 'ses-suppression-guard' });

/** Reads GUARD_STALE_MODE: `block` (default) or `warn`. */
function staleModeFromEnv(name: string): Severity {
  const value = (process.env[name] ?? '').trim() || 'block';
  if (value !== 'block' && value !== 'warn')
    throw new Error(`${name} environment variable must be "block" or "warn", got ${JSON.stringify(process.env[name])}`);
  return value;
}

// Pace well under the allowed rate: the first request of a cold container leaves late (SDK set-up), so the next
// one would land early. What still gets throttled (the sync shares the budget) is retried by the SDK.
const SES_REQUESTS_PER_SECOND = numberFromEnv('SES_REQUESTS_PER_SECOND', 1) * 0.8;
const pacers = new Map<string, Pacer>();

/** Waits for the next slot of `operation` in `region`; one pacer per region and operation for the container's lifetime. */
function paceSes(region: string, operation: string): Promise<void> {
  const key = `${region}|${operation}`;
  let pacer = pacers.get(key);
  if (!pacer) {
    pacer = new Pacer(SES_REQUESTS_PER_SECOND);
    pacers.set(key, pacer);
  }
  return pacer.acquire();
}

const sesClients = new SesClients(GUARD_SDK_SETTINGS);

const deps: GuardDeps = {
  doc: documentClient(guardDynamoClient()),
  ses: (region) => sesClients.forRegion(region),
  paceSes,
  suppressionTable: requireEnv('SUPPRESSION_TABLE_NAME'),
  stateTable: requireEnv('SYNC_STATE_TABLE_NAME'),
  regions: regionsFromEnv('SYNC_REGIONS'),
  defaultRegion: requireEnv('AWS_REGION'),
  // Module level, so a burst of checks in one container shares each SES lookup.
  cache: new LookupCache(numberFromEnv('GUARD_CACHE_TTL_SECONDS', 60) * 1000),
  logger,
  staleAfterMinutes: numberFromEnv('GUARD_STALE_AFTER_MINUTES', 60),
  staleMode: staleModeFromEnv('GUARD_STALE_MODE'),
};

/** A Lambda function URL (payload format 2.0) request. */
interface FunctionUrlEvent {
  readonly version: '2.0';
  readonly requestContext: { readonly http: { readonly method: string } };
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

/** A function URL response. */
interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function isFunctionUrlEvent(event: unknown): event is FunctionUrlEvent {
  const e = event as Partial<FunctionUrlEvent> | null;
  return e !== null && typeof e === 'object' && e.version === '2.0' && typeof e.requestContext?.http?.method === 'string';
}

/**
 * Entry point. Invoked directly, the payload is the request and the result the response. Through the optional
 * function URL, the request is the JSON body of a POST and the response the JSON body (400 for INVALID_REQUEST).
 */
export const handler = async (event: unknown, context?: Context): Promise<GuardResponse | FunctionUrlResult> => {
  if (context) logger.addContext(context);
  if (!isFunctionUrlEvent(event)) return evaluate(event, deps);

  let response: GuardResponse;
  if (event.requestContext.http.method !== 'POST') {
    response = invalidRequestResponse([
      {
        field: '(request)',
        value: event.requestContext.http.method,
        message: `the guard answers POST requests only, got ${event.requestContext.http.method}`,
      },
    ]);
    return urlResult(405, response);
  }
  let body: unknown;
  try {
    const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    body = JSON.parse(text);
  } catch {
    return urlResult(400, invalidRequestResponse([{ field: '(request)', value: null, message: 'the request body must be a JSON object' }]));
  }
  response = await evaluate(body, deps);
  return urlResult(response.problems.some((p) => p.code === 'INVALID_REQUEST') ? 400 : 200, response);
};

function urlResult(statusCode: number, response: GuardResponse): FunctionUrlResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(response) };
}
