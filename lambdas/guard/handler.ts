import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { type GuardResponse, type GuardWireResponse, MAX_PAYLOAD_BYTES } from '../../client/contract';
import { documentClient } from '../domain/clients';
import { SES_CALLERS, SesClients, SesPacers } from '../domain/ses';
import { readEnvironment, stringVariable } from '../domain/settings';
import { StateTable } from '../domain/state-table';
import { LookupCache } from './cache';
import { guardDynamoClient } from './clients';
import { type Evaluation, evaluateWithPositions, type GuardDeps, invalidRequestResponse } from './guard';
import { fitResponse, jsonBytes, type PayloadMeasure } from './response-size';
import { GUARD_ENVIRONMENT, GUARD_METRICS, GUARD_SERVICE_NAME } from './settings';

const settings = readEnvironment(GUARD_ENVIRONMENT);
const logger = new Logger({ serviceName: GUARD_SERVICE_NAME });
const metrics = new Metrics({ namespace: GUARD_METRICS.namespace, serviceName: GUARD_METRICS.serviceName });

const sesClients = new SesClients(SES_CALLERS.guard.client);
const sesPacers = new SesPacers(settings.requestsPerSecond, SES_CALLERS.guard.pacingHeadroom);

const doc = documentClient(guardDynamoClient());
const stateTable = new StateTable(doc, settings.stateTable);

const deps: GuardDeps = {
  doc,
  ses: (region) => sesClients.forRegion(region),
  paceSes: (region, operation) => sesPacers.acquire(region, operation),
  suppressionTable: settings.suppressionTable,
  stateTable: settings.stateTable,
  regions: settings.regions,
  defaultRegion: readEnvironment({ region: stringVariable('AWS_REGION') }).region, // set by the Lambda runtime
  // Module level, so a burst of checks in one container shares each SES lookup.
  cache: new LookupCache(settings.cacheTtlSeconds * 1000),
  logger,
  staleAfterMinutes: settings.staleAfterMinutes,
  staleMode: settings.staleMode,
  eventConfigurationSets: settings.eventConfigurationSets,
  // Shared answers younger than half the TTL are used, so no answer is older than 1.5 × the TTL.
  sharedLookups: {
    get: (key) => stateTable.getSesLookup(key),
    put: (key, value, fetchedAt) => stateTable.putSesLookup(key, value, fetchedAt),
    ttlMs: (settings.cacheTtlSeconds * 1000) / 2,
    now: Date.now,
  },
};

/** What an answer may take of Lambda's 6 MB response quota: a margin below it for the runtime's own framing. */
export const RESPONSE_BUDGET_BYTES = MAX_PAYLOAD_BYTES - 16 * 1024;

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
export const handler = async (event: unknown, context?: Context): Promise<GuardWireResponse | FunctionUrlResult> => {
  if (context) logger.addContext(context);
  if (!isFunctionUrlEvent(event)) return withinQuota(recorded(await evaluateWithPositions(event, deps), event), jsonBytes);

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
  const evaluation = recorded(await evaluateWithPositions(body, deps), body);
  const status = evaluation.response.problems.some((p) => p.code === 'INVALID_REQUEST') ? 400 : 200;
  // Through a function URL the answer travels as a string inside the runtime's response: measure it escaped.
  return urlResult(
    status,
    withinQuota(evaluation, (candidate) => jsonBytes(urlResult(status, candidate))),
  );
};

/**
 * Publishes the verdict and its problem codes (no addresses, no identities): `Region` is the request's region when
 * the service knows it, else `other`, so a caller's typo cannot add metrics.
 */
function recorded(evaluation: Evaluation, request: unknown): Evaluation {
  const asked = (request as { region?: unknown } | null)?.region;
  const region = typeof asked === 'string' && settings.regions.includes(asked) ? asked : 'other';
  const { response } = evaluation;
  const verdict = metrics.singleMetric();
  verdict.addDimensions({
    [GUARD_METRICS.regionDimension]: region,
    [GUARD_METRICS.verdictDimension]: response.proceed ? 'proceed' : 'stop',
  });
  verdict.addMetric(GUARD_METRICS.names.checks, MetricUnit.Count, 1);
  for (const code of new Set(response.problems.map((p) => p.code))) {
    const problem = metrics.singleMetric();
    problem.addDimensions({ [GUARD_METRICS.regionDimension]: region, [GUARD_METRICS.problemDimension]: code });
    problem.addMetric(GUARD_METRICS.names.problems, MetricUnit.Count, 1);
  }
  return evaluation;
}

/** The answer in the form that fits Lambda's response quota (see README, "Response size"). */
function withinQuota({ response, positions }: Evaluation, measure: PayloadMeasure): GuardWireResponse {
  const fitted = fitResponse(response, positions, measure, RESPONSE_BUDGET_BYTES);
  if (fitted.form !== 'full') logger.warn('answer fitted under the response quota', { form: fitted.form, omitted: fitted.omitted });
  return fitted.response;
}

function urlResult(statusCode: number, response: GuardWireResponse): FunctionUrlResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(response) };
}
