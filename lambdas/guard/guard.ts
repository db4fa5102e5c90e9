import type { Logger } from '@aws-lambda-powertools/logger';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  AccountVerdict,
  GuardResponse,
  InvalidRecipient,
  Problem,
  ProblemCode,
  SenderVerdict,
  Severity,
  SuppressedRecipient,
} from '../../client/contract';
import { addressRef, canonicalAddress } from '../domain/address';
import { checkAddress, identityCandidates, type ParsedAddress } from '../domain/email';
import type { SuppressionReason } from '../domain/records';
import { boundedValue, excerpt, redactAddresses } from '../domain/text';
import type { LookupCache } from './cache';
import { DependencyError } from './dependency';
import { parseRequest, type RequestIssue, type ValidRequest } from './request';
import {
  type AccountDetails,
  type ConfigurationSetDetails,
  type IdentityDetails,
  type IdentitySummary,
  SesLookups,
  type SharedLookupStore,
} from './ses-lookups';
import { type RegionFreshness, readFreshness, readSuppressionItems, staleRegions, suppressionFinding } from './suppression';

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

interface Candidate {
  readonly index: number;
  readonly parsed: ParsedAddress;
  readonly key: string;
}

type Verdict =
  | { kind: 'allowed'; address: string }
  | { kind: 'suppressed'; value: SuppressedRecipient }
  | { kind: 'invalid'; value: InvalidRecipient };

/**
 * Checks one valid request: the sender's identity, the account and the configuration set in the sending region,
 * the freshness of every configured region's sync, and each recipient against the cross-region suppression table.
 * Independent lookups run concurrently; SES lookups go through the cache.
 */
export async function checkSend(request: ValidRequest, deps: GuardDeps): Promise<GuardResponse> {
  return (await checkSendWithPositions(request, deps)).response;
}

async function checkSendWithPositions(request: ValidRequest, deps: GuardDeps): Promise<Evaluation> {
  const started = Date.now();
  const now = deps.now ?? Date.now;
  const { region } = request;
  const lookups = new SesLookups(deps.ses, deps.cache, deps.paceSes, deps.sharedLookups);
  const problems: Problem[] = [];
  const add = (code: ProblemCode, severity: Severity, message: string, details: Record<string, unknown> = {}) =>
    problems.push({ code, severity, message, details });

  // Recipients: syntax first, then each distinct (case-insensitive) address once.
  const verdicts: Array<Verdict | undefined> = new Array(request.recipients.length);
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  request.recipients.forEach((raw, index) => {
    const key = canonicalAddress(raw);
    if (seen.has(key)) {
      duplicates++;
      return;
    }
    seen.add(key);
    const checked = checkAddress(raw);
    if (!checked.ok) {
      verdicts[index] = {
        kind: 'invalid',
        value: {
          address: boundedValue(raw, 256) as string,
          error: `recipients[${index}] ${excerpt(raw, 256)} is not a valid address: it ${checked.error}`,
        },
      };
      return;
    }
    candidates.push({ index, parsed: checked.value, key });
  });

  const identitiesP = settle(lookups.identities(region));
  const [identities, sender, account, configurationSet, freshness, suppression] = await Promise.all([
    identitiesP,
    identitiesP.then((list) => (list.ok ? settle(resolveSender(lookups, region, request.from, list.value)) : list)),
    settle(lookups.account(region)),
    request.configurationSetName !== undefined ? settle(lookups.configurationSet(region, request.configurationSetName)) : undefined,
    settle(readFreshness(deps.doc, deps.stateTable, deps.regions)),
    settle(
      readSuppressionItems(
        deps.doc,
        deps.suppressionTable,
        candidates.map((c) => c.key),
        deps.batchConcurrency,
      ),
    ),
  ]);

  const failures: DependencyError[] = [];
  const unavailable = (settled: Settled<unknown> | undefined) => {
    if (settled && !settled.ok && !failures.some((f) => f === settled.error)) failures.push(settled.error);
  };
  [identities, sender, account, configurationSet, freshness, suppression].forEach(unavailable);

  // Sender identity in the sending region; where it is not usable, the regions where it is.
  let senderVerdict: SenderVerdict | null = null;
  if (sender.ok) {
    const resolved = sender.value;
    let verifiedInRegions = resolved.usable ? [region] : [];
    if (!resolved.usable) {
      const others = deps.regions.filter((r) => r !== region);
      const lists = await Promise.all(others.map((r) => settle(lookups.identities(r))));
      lists.forEach(unavailable);
      verifiedInRegions = others.filter((_, i) => {
        const list = lists[i];
        return list?.ok && coveringIdentity(list.value, identityCandidates(request.from), true) !== undefined;
      });
    }
    senderVerdict = senderVerdictOf(resolved.details, verifiedInRegions);
    identityProblems(add, region, request.from.address, resolved, verifiedInRegions);
  }

  // Account and configuration set in the sending region.
  let accountVerdict: AccountVerdict | null = null;
  if (account.ok) {
    const a = account.value;
    accountVerdict = {
      sendingEnabled: a.sendingEnabled,
      enforcementStatus: a.enforcementStatus,
      productionAccess: a.productionAccess,
      quota: {
        max24HourSend: a.max24HourSend,
        sentLast24Hours: a.sentLast24Hours,
        remaining: a.max24HourSend < 0 ? null : Math.max(0, a.max24HourSend - a.sentLast24Hours),
      },
    };
    accountProblems(add, region, a);
  }
  if (configurationSet?.ok) configurationSetProblems(add, region, request.configurationSetName ?? '', configurationSet.value);

  // Reasons that apply: the set's own list, else the account's. Unknown (SES unreachable) → all, to fail closed.
  const reasons = new Set<SuppressionReason>(
    configurationSet?.ok && configurationSet.value?.suppressedReasons !== undefined
      ? configurationSet.value.suppressedReasons
      : account.ok
        ? account.value.suppressedReasons
        : ['BOUNCE', 'COMPLAINT'],
  );
  if (
    account.ok &&
    account.value.suppressedReasons.length === 0 &&
    !(configurationSet?.ok && configurationSet.value?.suppressedReasons !== undefined)
  ) {
    add(
      'SUPPRESSION_DISABLED_FOR_ACCOUNT',
      'warn',
      `The account's suppression list is off in ${region} (no suppressed reasons); only manual suppressions are applied to this send.`,
      { region, suppressedReasons: [] },
    );
  }

  // Sync freshness of every configured region.
  if (freshness.ok) {
    const staleAfterMinutes = deps.staleAfterMinutes ?? 60;
    const stale = staleRegions(freshness.value, now(), staleAfterMinutes * 60_000);
    if (stale.length > 0) {
      add(
        'SUPPRESSION_DATA_STALE',
        deps.staleMode ?? 'block',
        `The suppression data of ${stale.map((s) => s.region).join(', ')} is older than ${staleAfterMinutes} minutes (or was never synced), so recently suppressed addresses may be missing.`,
        { staleAfterMinutes, regions: stale.map((s) => freshnessDetails(s, now())) },
      );
    }
  }

  // Recipients: suppressed, not deliverable from a sandbox account, or allowed.
  const sandbox = account.ok && !account.value.productionAccess;
  let unverified = 0;
  if (suppression.ok) {
    for (const candidate of candidates) {
      const finding = suppressionFinding(suppression.value.items.get(candidate.key), reasons);
      if (finding) {
        verdicts[candidate.index] = { kind: 'suppressed', value: { address: candidate.parsed.address, ...finding } };
      } else if (
        sandbox &&
        identities.ok &&
        coveringIdentity(identities.value, identityCandidates(candidate.parsed), false) === undefined
      ) {
        unverified++;
        verdicts[candidate.index] = {
          kind: 'invalid',
          value: {
            address: candidate.parsed.address,
            error: `recipients[${candidate.index}] is not a verified identity in ${region}, and the account is in the SES sandbox there`,
          },
        };
      } else {
        verdicts[candidate.index] = { kind: 'allowed', address: candidate.parsed.address };
      }
    }
  }
  const allowed: string[] = [];
  const suppressed: SuppressedRecipient[] = [];
  const invalid: InvalidRecipient[] = [];
  const positions = { allowed: [] as number[], suppressed: [] as number[], invalid: [] as number[] };
  verdicts.forEach((verdict, index) => {
    if (verdict?.kind === 'allowed') {
      allowed.push(verdict.address);
      positions.allowed.push(index);
    } else if (verdict?.kind === 'suppressed') {
      suppressed.push(verdict.value);
      positions.suppressed.push(index);
    } else if (verdict?.kind === 'invalid') {
      invalid.push(verdict.value);
      positions.invalid.push(index);
    }
  });

  if (sandbox) {
    add(
      'SANDBOX',
      'warn',
      `The account is in the SES sandbox in ${region}: it can only send to verified identities, so ${unverified} recipient(s) were dropped.`,
      {
        region,
        unverifiedRecipients: unverified,
      },
    );
  }
  if (account.ok && account.value.max24HourSend >= 0 && suppression.ok) {
    const remaining = Math.max(0, account.value.max24HourSend - account.value.sentLast24Hours);
    if (allowed.length > remaining) {
      add(
        'QUOTA_EXCEEDED',
        'block',
        `Sending to ${allowed.length} recipient(s) would exceed the 24-hour quota in ${region}: ${remaining} of ${account.value.max24HourSend} remain.`,
        {
          region,
          allowed: allowed.length,
          remaining,
          max24HourSend: account.value.max24HourSend,
          sentLast24Hours: account.value.sentLast24Hours,
        },
      );
    }
  }
  if (suppressed.length > 0) {
    add('RECIPIENTS_SUPPRESSED', 'warn', `${suppressed.length} recipient(s) are on a suppression list and were dropped.`, {
      count: suppressed.length,
      reasons: [...reasons].sort(),
    });
  }
  const malformed = invalid.length - unverified;
  if (malformed > 0) {
    add('RECIPIENTS_INVALID', 'warn', `${malformed} recipient(s) are not valid addresses and were dropped.`, { count: malformed });
  }
  if (suppression.ok && allowed.length === 0) {
    add('NO_DELIVERABLE_RECIPIENTS', 'block', 'No recipient is left to send to after suppressed and invalid recipients were dropped.', {
      total: request.recipients.length,
    });
  }

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
    add(
      'GUARD_DEPENDENCY_UNAVAILABLE',
      'block',
      `The guard could not reach ${failure.dependency === 'ses' ? `SES in ${failure.target}` : `DynamoDB table ${failure.target}`} (${failure.operation}: ${failure.errorName}); refusing to answer without it.`,
      {
        dependency: failure.dependency,
        operation: failure.operation,
        target: failure.target,
        error: failure.errorName,
        httpStatus: failure.httpStatus ?? null,
      },
    );
  }

  const ordered = [...problems.filter((p) => p.severity === 'block'), ...problems.filter((p) => p.severity === 'warn')];
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
    duplicates,
    batchGetRequests: suppression.ok ? suppression.value.requests : undefined,
    durationMs: Date.now() - started,
  });
  return {
    response: {
      proceed,
      problems: ordered,
      sender: senderVerdict,
      account: accountVerdict,
      recipients: { total: request.recipients.length, allowed, suppressed, invalid, duplicates },
    },
    positions,
  };
}

interface ResolvedSender {
  /** Names tried, most specific first. */
  readonly checked: string[];
  /** GetEmailIdentity of the identity SES would use; null when no identity covers the sender. */
  readonly details: IdentityDetails | null;
  /** ListEmailIdentities' entry of that identity. */
  readonly summary?: IdentitySummary;
  readonly usable: boolean;
}

/**
 * Resolves the identity SES uses for `from` in `region`: the most specific verified identity among the address,
 * its domain and its parent domains (a verified parent domain covers every subdomain and address under it), or,
 * when none is verified, the most specific one that exists, so its PENDING or FAILED state can be reported.
 */
async function resolveSender(
  lookups: SesLookups,
  region: string,
  from: ParsedAddress,
  identities: readonly IdentitySummary[],
): Promise<ResolvedSender> {
  const checked = identityCandidates(from);
  const summary = coveringIdentity(identities, checked, true) ?? coveringIdentity(identities, checked, false, true);
  if (!summary) return { checked, details: null, usable: false };
  const details = await lookups.identity(region, summary.name);
  const usable = details?.verifiedForSending === true && summary.sendingEnabled;
  return { checked, details, summary, usable };
}

/** The most specific identity in `identities` named by `candidates`: verified ones only, or any when `anyState`. */
function coveringIdentity(
  identities: readonly IdentitySummary[],
  candidates: readonly string[],
  forSending: boolean,
  anyState = false,
): IdentitySummary | undefined {
  const byName = new Map(identities.map((identity) => [identity.name.toLowerCase(), identity]));
  for (const name of candidates) {
    const identity = byName.get(name);
    if (!identity) continue;
    if (anyState) return identity;
    if (identity.verificationStatus === 'SUCCESS' && (!forSending || identity.sendingEnabled)) return identity;
  }
  return undefined;
}

function senderVerdictOf(details: IdentityDetails | null, verifiedInRegions: string[]): SenderVerdict {
  if (!details) return { identity: null, identityType: null, verifiedForSending: false, dkim: null, mailFrom: null, verifiedInRegions };
  return {
    identity: details.name,
    identityType: details.type,
    verifiedForSending: details.verifiedForSending,
    dkim: details.dkimStatus,
    mailFrom: details.mailFromDomain ? (details.mailFromStatus ?? 'PENDING') : 'NOT_CONFIGURED',
    verifiedInRegions,
  };
}

type AddProblem = (code: ProblemCode, severity: Severity, message: string, details?: Record<string, unknown>) => void;

function identityProblems(add: AddProblem, region: string, from: string, sender: ResolvedSender, verifiedInRegions: string[]): void {
  const elsewhere =
    verifiedInRegions.length > 0
      ? ` It is verified in ${verifiedInRegions.join(', ')}: send from there, or verify it in ${region}.`
      : ` It is not verified in any configured region.`;
  const { details, summary } = sender;
  if (!details) {
    add(
      'IDENTITY_NOT_VERIFIED_IN_REGION',
      'block',
      `No SES identity in ${region} covers ${from} (checked ${sender.checked.join(', ')}).${elsewhere}`,
      {
        region,
        identity: null,
        checked: sender.checked,
        verifiedInRegions,
      },
    );
    return;
  }
  const base = { region, identity: details.name };
  if (!details.verifiedForSending) {
    if (details.verificationStatus === 'PENDING') {
      add(
        'IDENTITY_VERIFICATION_PENDING',
        'block',
        `The identity ${details.name} is still pending verification in ${region}.${elsewhere}`,
        { ...base, status: 'PENDING', verifiedInRegions },
      );
    } else {
      add(
        'IDENTITY_NOT_VERIFIED_IN_REGION',
        'block',
        `The identity ${details.name} is not verified in ${region} (status ${details.verificationStatus}).${elsewhere}`,
        {
          ...base,
          status: details.verificationStatus,
          verifiedInRegions,
        },
      );
    }
    return;
  }
  if (summary && !summary.sendingEnabled) {
    add('IDENTITY_SENDING_DISABLED', 'block', `Sending from the identity ${details.name} is disabled in ${region}.`, base);
    return;
  }
  if (!details.dkimSigningEnabled || details.dkimStatus === 'NOT_STARTED') {
    add(
      'DKIM_NOT_SIGNING',
      'warn',
      `Mail from ${details.name} in ${region} is not DKIM-signed with your domain (DKIM ${details.dkimSigningEnabled ? details.dkimStatus : 'signing disabled'}); receivers that require DKIM alignment may reject it.`,
      {
        ...base,
        status: details.dkimStatus,
        signingEnabled: details.dkimSigningEnabled,
      },
    );
  } else if (details.dkimStatus === 'PENDING') {
    add(
      'DKIM_PENDING',
      'warn',
      `DKIM for ${details.name} is still pending in ${region}; mail is not signed with your domain until SES finds the DKIM records.`,
      { ...base, status: 'PENDING' },
    );
  } else if (details.dkimStatus === 'FAILED') {
    add(
      'DKIM_FAILED',
      'block',
      `DKIM for ${details.name} failed in ${region}: SES cannot find the DKIM records, so mail would go out without your domain's signature and fail DMARC.`,
      {
        ...base,
        status: 'FAILED',
      },
    );
  } else if (details.dkimStatus === 'TEMPORARY_FAILURE') {
    add(
      'DKIM_TEMPORARY_FAILURE',
      'warn',
      `SES could not check the DKIM records of ${details.name} in ${region} recently (temporary failure).`,
      { ...base, status: 'TEMPORARY_FAILURE' },
    );
  }
  if (details.mailFromDomain && details.mailFromStatus !== 'SUCCESS') {
    const rejects = details.behaviorOnMxFailure === 'REJECT_MESSAGE';
    const status = details.mailFromStatus ?? 'PENDING';
    const consequence = rejects
      ? 'SES rejects the send because BehaviorOnMxFailure is REJECT_MESSAGE'
      : 'SES falls back to its default MAIL FROM domain (amazonses.com), so SPF will not align with your domain';
    add(
      status === 'PENDING' ? 'MAIL_FROM_PENDING' : 'MAIL_FROM_FAILED',
      rejects ? 'block' : 'warn',
      `The custom MAIL FROM domain ${details.mailFromDomain} of ${details.name} is ${status} in ${region}: ${consequence}.`,
      {
        ...base,
        mailFromDomain: details.mailFromDomain,
        status,
        behaviorOnMxFailure: details.behaviorOnMxFailure,
      },
    );
  }
}

function accountProblems(add: AddProblem, region: string, account: AccountDetails): void {
  if (!account.sendingEnabled) {
    add('SENDING_DISABLED', 'block', `Email sending is disabled for the account in ${region}.`, { region });
  }
  if (account.enforcementStatus === 'SHUTDOWN') {
    add('ACCOUNT_SHUTDOWN', 'block', `The SES account is shut down in ${region} (enforcement status SHUTDOWN).`, {
      region,
      enforcementStatus: 'SHUTDOWN',
    });
  } else if (account.enforcementStatus === 'PROBATION') {
    add('ACCOUNT_PROBATION', 'warn', `The SES account is on probation in ${region}: more bounces or complaints can get it shut down.`, {
      region,
      enforcementStatus: 'PROBATION',
    });
  }
}

function configurationSetProblems(add: AddProblem, region: string, name: string, set: ConfigurationSetDetails | null): void {
  if (!set) {
    add('CONFIGURATION_SET_NOT_FOUND', 'block', `The configuration set ${name} does not exist in ${region}; SES would reject the send.`, {
      region,
      configurationSetName: name,
    });
    return;
  }
  if (!set.sendingEnabled) {
    add('CONFIGURATION_SET_SENDING_DISABLED', 'block', `Sending is disabled for the configuration set ${name} in ${region}.`, {
      region,
      configurationSetName: name,
    });
  }
  if (set.suppressedReasons !== undefined && set.suppressedReasons.length === 0) {
    add(
      'SUPPRESSION_DISABLED_BY_CONFIGURATION_SET',
      'warn',
      `The configuration set ${name} turns suppression off in ${region}, so only manual suppressions are applied to this send.`,
      { region, configurationSetName: name, suppressedReasons: [] },
    );
  }
}

function freshnessDetails(f: RegionFreshness, now: number): Record<string, unknown> {
  const watermark = f.watermark ?? null;
  return {
    region: f.region,
    watermark,
    ageMinutes: watermark === null ? null : Math.round((now - Date.parse(watermark)) / 60_000),
    lastSuccessAt: f.lastSuccessAt ?? null,
    lastError: f.lastError ? { name: f.lastError.name, at: f.lastError.at } : null,
  };
}
