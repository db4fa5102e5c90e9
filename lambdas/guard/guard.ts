import type { Logger } from '@aws-lambda-powertools/logger';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { GuardResponse, Problem, Severity } from '../../client/contract';
import { addressRef } from '../domain/address';
import { identityCandidates } from '../domain/email';
import { type IdentityIndex, indexIdentities, resolveIdentity } from '../domain/identity';
import { redactAddresses } from '../domain/text';
import {
  accountProblems,
  accountSuppressionProblems,
  accountVerdict,
  appliedReasons,
  configurationSetProblems,
  inSandbox,
  quotaProblems,
  sandboxProblems,
} from './account-rules';
import type { LookupCache } from './cache';
import { DependencyError, dependencyProblem } from './dependency';
import { eventDeliveryProblems } from './event-rules';
import { freshnessProblems } from './freshness-rules';
import { blocksFirst } from './problems';
import { classifyRecipients, recipientProblems, screenRecipients } from './recipient-rules';
import { parseRequest, type RequestIssue, type ValidRequest } from './request';
import { type ResolvedSender, senderProblems, senderUsable, senderVerdict, verifiedElsewhere } from './sender-rules';
import { SesLookups, type SharedLookupStore } from './ses-lookups';
import { readFreshness, readSuppressionItems } from './suppression';

/** What a check needs; the handler builds these once per container, tests build their own. */
export interface GuardDeps {
  readonly doc: DynamoDBDocumentClient;
  /** The SES v2 client of a region. */
  readonly ses: (region: string) => SESv2Client;
  readonly suppressionTable: string;
  readonly stateTable: string;
  /** Configured regions (`SYNC_REGIONS`): the regions a request may name and whose sync freshness is checked. */
  readonly regions: readonly string[];
  /** The guard's own region (`AWS_REGION`), the default of `region`. */
  readonly defaultRegion: string;
  /** Cache of SES lookups, kept at module level by the handler so warm invocations share it. */
  readonly cache: LookupCache;
  readonly logger: Logger;
  /** A region whose watermark is older than this is stale. @default 60 */
  readonly staleAfterMinutes?: number;
  /** Severity of SUPPRESSION_DATA_STALE. @default 'block' */
  readonly staleMode?: Severity;
  /** Resolves when the next call of an SES operation in a region may start (SES allows about one a second per operation). @default no pacing */
  readonly paceSes?: (region: string, operation: string) => Promise<void>;
  /** SES answers shared between execution environments (the state table in production). @default none */
  readonly sharedLookups?: SharedLookupStore;
  /**
   * Configuration sets whose mail delivers SES events to the service (`GUARD_EVENT_CONFIGURATION_SETS`: the service's
   * own set first), or `'off'` when events are off. @default 'off' (no EVENTS_NOT_DELIVERED)
   */
  readonly eventConfigurationSets?: readonly string[] | 'off';
  /** BatchGetItem requests in flight at once. @default 16 */
  readonly batchConcurrency?: number;
  readonly now?: () => number;
}

/** Validates `event` and checks it; never throws for bad input or unavailable dependencies. */
export async function evaluate(event: unknown, deps: GuardDeps): Promise<GuardResponse> {
  return (await evaluateWithPositions(event, deps)).response;
}

/**
 * Where each listed recipient stands in the request's `recipients`: `allowed[i]` is the position of
 * `response.recipients.allowed[i]`, and so on. The handler uses them to name recipients by position when the full
 * answer would not fit in a Lambda response.
 */
export interface RecipientPositions {
  readonly allowed: readonly number[];
  readonly suppressed: readonly number[];
  readonly invalid: readonly number[];
}

/** An answer and the request positions of the recipients it lists. */
export interface Evaluation {
  readonly response: GuardResponse;
  readonly positions: RecipientPositions;
}

/** {@link evaluate}, also returning the request position of every listed recipient. */
export async function evaluateWithPositions(event: unknown, deps: GuardDeps): Promise<Evaluation> {
  const parsed = parseRequest(event, deps);
  if (!parsed.ok) {
    deps.logger.warn('invalid request', {
      issues: parsed.issues.map((i) => ({ field: redactAddresses(i.field), message: redactAddresses(i.message) })),
    });
    return { response: invalidRequestResponse(parsed.issues, event), positions: { allowed: [], suppressed: [], invalid: [] } };
  }
  return checkSendWithPositions(parsed.request, deps);
}

/** The answer to a malformed request: one `INVALID_REQUEST` problem per issue, nothing checked, never proceed. */
export function invalidRequestResponse(issues: readonly RequestIssue[], event?: unknown): GuardResponse {
  const recipients = (event as { recipients?: unknown } | null)?.recipients;
  return {
    proceed: false,
    problems: issues.map((issue) => ({
      code: 'INVALID_REQUEST',
      severity: 'block',
      message: issue.message,
      details: { field: issue.field, value: issue.value },
    })),
    sender: null,
    account: null,
    recipients: { total: Array.isArray(recipients) ? recipients.length : 0, allowed: [], suppressed: [], invalid: [], duplicates: 0 },
  };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: DependencyError };

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    // Anything but a dependency failure is a bug in the guard and surfaces as a function error.
    if (error instanceof DependencyError) return { ok: false, error };
    throw error;
  }
}

/** The value of a lookup that answered; undefined when it was not made or gave no answer. */
const answered = <T>(settled: Settled<T> | undefined): T | undefined => (settled?.ok ? settled.value : undefined);

/**
 * Checks one valid request: the sender's identity, the account and the configuration set in the sending region,
 * the freshness of every configured region's sync, and each recipient against the cross-region suppression table.
 * Independent lookups run concurrently; SES lookups go through the cache.
 */
export async function checkSend(request: ValidRequest, deps: GuardDeps): Promise<GuardResponse> {
  return (await checkSendWithPositions(request, deps)).response;
}

/**
 * Gathers and settles the lookups, hands them to the rule modules (sender, account and configuration set, freshness,
 * recipients) and assembles their verdicts and problems into the answer.
 */
async function checkSendWithPositions(request: ValidRequest, deps: GuardDeps): Promise<Evaluation> {
  const started = Date.now();
  const now = deps.now ?? Date.now;
  const { region } = request;
  const lookups = new SesLookups(deps.ses, deps.cache, deps.paceSes, deps.sharedLookups);
  const screened = screenRecipients(request.recipients);
  const checked = identityCandidates(request.from);

  const identitiesP = settle(lookups.identities(region).then(indexIdentities));
  const [identities, sender, account, configurationSet, freshness, suppression] = await Promise.all([
    identitiesP,
    identitiesP.then((index) => (index.ok ? settle(readSender(lookups, region, checked, index.value)) : index)),
    settle(lookups.account(region)),
    request.configurationSetName !== undefined ? settle(lookups.configurationSet(region, request.configurationSetName)) : undefined,
    settle(readFreshness(deps.doc, deps.stateTable, deps.regions)),
    settle(
      readSuppressionItems(
        deps.doc,
        deps.suppressionTable,
        screened.candidates.map((c) => c.key),
        deps.batchConcurrency,
      ),
    ),
  ]);

  const failures: DependencyError[] = [];
  const unavailable = (settled: Settled<unknown> | undefined) => {
    if (settled && !settled.ok && !failures.some((f) => f === settled.error)) failures.push(settled.error);
  };
  [identities, sender, account, configurationSet, freshness, suppression].forEach(unavailable);

  // Where the sender is not usable in the sending region, the other configured regions say where it is.
  let verifiedInRegions: string[] = [];
  if (sender.ok) {
    if (sender.value.usable) {
      verifiedInRegions = [region];
    } else {
      const others = deps.regions.filter((r) => r !== region);
      const lists = await Promise.all(others.map((r) => settle(lookups.identities(r).then(indexIdentities))));
      lists.forEach(unavailable);
      verifiedInRegions = verifiedElsewhere(
        checked,
        others.map((r, i) => ({ region: r, identities: answered(lists[i]) })),
      );
    }
  }

  const accountValue = answered(account);
  const setValue = answered(configurationSet);
  const reasons = appliedReasons(accountValue, setValue);
  const recipients = classifyRecipients(
    screened,
    suppression.ok
      ? {
          region,
          items: suppression.value.items,
          reasons,
          ...(accountValue && inSandbox(accountValue) && identities.ok ? { sandboxIdentities: identities.value } : {}),
        }
      : undefined,
  );

  // The order in which the rules add problems is the order of the answer within each severity.
  const problems: Problem[] = [];
  if (sender.ok) problems.push(...senderProblems(region, request.from.address, sender.value, verifiedInRegions));
  if (accountValue) problems.push(...accountProblems(region, accountValue));
  if (configurationSet?.ok) problems.push(...configurationSetProblems(region, request.configurationSetName ?? '', configurationSet.value));
  if (accountValue) problems.push(...accountSuppressionProblems(region, accountValue, setValue));
  problems.push(
    ...eventDeliveryProblems(
      region,
      request.configurationSetName,
      sender.ok ? sender.value.details : undefined,
      deps.eventConfigurationSets ?? 'off',
    ),
  );
  if (freshness.ok) {
    problems.push(...freshnessProblems(freshness.value, now(), deps.staleAfterMinutes ?? 60, deps.staleMode ?? 'block'));
  }
  if (accountValue) problems.push(...sandboxProblems(region, accountValue, recipients.unverified));
  if (accountValue && suppression.ok) problems.push(...quotaProblems(region, accountValue, recipients.allowed.length));
  problems.push(...recipientProblems(recipients, request.recipients.length, reasons, suppression.ok));
  for (const failure of failures) {
    deps.logger.error('dependency unavailable', {
      dependency: failure.dependency,
      operation: failure.operation,
      target: failure.target,
      error: {
        name: failure.errorName,
        httpStatus: failure.httpStatus,
        message: redactAddresses(String((failure.cause as Error)?.message ?? '').slice(0, 500)),
      },
    });
    problems.push(dependencyProblem(failure));
  }

  const ordered = blocksFirst(problems);
  const { allowed, suppressed, invalid, positions } = recipients;
  const proceed = ordered.every((p) => p.severity !== 'block') && allowed.length > 0;
  deps.logger.info('check finished', {
    caller: request.caller === undefined ? undefined : redactAddresses(request.caller),
    region,
    fromRef: addressRef(request.from.address),
    proceed,
    problems: ordered.map((p) => `${p.code}:${p.severity}`),
    total: request.recipients.length,
    allowed: allowed.length,
    suppressed: suppressed.length,
    invalid: invalid.length,
    duplicates: screened.duplicates,
    batchGetRequests: suppression.ok ? suppression.value.requests : undefined,
    durationMs: Date.now() - started,
  });
  return {
    response: {
      proceed,
      problems: ordered,
      sender: sender.ok ? senderVerdict(sender.value.details, verifiedInRegions) : null,
      account: accountValue ? accountVerdict(accountValue) : null,
      recipients: { total: request.recipients.length, allowed, suppressed, invalid, duplicates: screened.duplicates },
    },
    positions,
  };
}

/** Resolves the identity SES uses for the sender among the region's identities and reads its details. */
async function readSender(
  lookups: SesLookups,
  region: string,
  checked: readonly string[],
  identities: IdentityIndex,
): Promise<ResolvedSender> {
  const resolution = resolveIdentity(checked, identities);
  const details = resolution.reported ? await lookups.identity(region, resolution.reported.name) : null;
  return { resolution, details, usable: senderUsable(resolution, details) };
}
