import { badRequest, SesError } from './errors';
import type { ImportJob } from './import-jobs';
import { SnapshotPager } from './pagination';
import { type Random, shuffleInPlace } from './random';

/** Why an address is on the suppression list. */
export type SuppressionReason = 'BOUNCE' | 'COMPLAINT';
/** All valid suppression reasons. */
export const SUPPRESSION_REASONS: readonly SuppressionReason[] = ['BOUNCE', 'COMPLAINT'];
/** Verification / DKIM status values used by SES v2. */
export type VerificationStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED';
/** Custom MAIL FROM domain status values. */
export type MailFromDomainStatus = 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE';
/** Account enforcement status values. */
export type EnforcementStatus = 'HEALTHY' | 'PROBATION' | 'SHUTDOWN';
/** Identity type values. */
export type IdentityType = 'EMAIL_ADDRESS' | 'DOMAIN';

/** A suppressed destination as given to / returned by the programmatic API. */
export interface SuppressedEntry {
  emailAddress: string;
  reason: SuppressionReason;
  lastUpdateTime: Date;
  attributes?: { messageId?: string; feedbackId?: string };
}

/** Input for seeding one suppressed destination; `lastUpdateTime` defaults to now. */
export type SuppressedEntryInput = Omit<SuppressedEntry, 'lastUpdateTime'> & { lastUpdateTime?: Date };

/** Stored form: immutable, so listing snapshots can share references instead of copying. */
export interface StoredSuppression {
  readonly emailAddress: string;
  readonly reason: SuppressionReason;
  readonly lastUpdateMs: number;
  readonly messageId?: string;
  readonly feedbackId?: string;
}

/** Input for {@link EmulatedRegion.putIdentity}; everything but the name has a healthy default. */
export interface IdentityInput {
  name: string;
  /** @default 'DOMAIN' unless the name contains '@' */
  type?: IdentityType;
  /** @default verificationStatus === 'SUCCESS' */
  verifiedForSending?: boolean;
  /** @default 'SUCCESS' */
  verificationStatus?: VerificationStatus;
  /** @default 'SUCCESS' for domains, 'NOT_STARTED' for addresses */
  dkimStatus?: VerificationStatus;
  /** @default true for domains, false for addresses */
  dkimSigningEnabled?: boolean;
  /** Custom MAIL FROM domain; when absent only BehaviorOnMxFailure is returned, like SES. */
  mailFromDomain?: string;
  /** @default 'SUCCESS' when mailFromDomain is set */
  mailFromStatus?: MailFromDomainStatus;
  /** @default 'USE_DEFAULT_VALUE' */
  behaviorOnMxFailure?: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE';
  /** @default true */
  sendingEnabled?: boolean;
  /** @default true */
  feedbackForwarding?: boolean;
  /** Default configuration set of the identity. */
  configurationSetName?: string;
}

/** An identity with every default applied. */
export type ResolvedIdentity = Required<Omit<IdentityInput, 'mailFromDomain' | 'configurationSetName'>> &
  Pick<IdentityInput, 'mailFromDomain' | 'configurationSetName'>;

/** Account-level settings returned by GetAccount. */
export interface AccountSettings {
  sendingEnabled: boolean;
  enforcementStatus: EnforcementStatus;
  productionAccessEnabled: boolean;
  dedicatedIpAutoWarmupEnabled: boolean;
  max24HourSend: number;
  maxSendRate: number;
  sentLast24Hours: number;
  suppressedReasons: SuppressionReason[];
}

/** Input for {@link EmulatedRegion.putConfigurationSet}; omitting `suppressedReasons` means "use the account's". */
export interface ConfigurationSetInput {
  name: string;
  suppressedReasons?: SuppressionReason[];
  /** @default true */
  sendingEnabled?: boolean;
}

/** SES v2 event types (`MatchingEventTypes`). */
export type SesMatchingEventType =
  | 'SEND'
  | 'REJECT'
  | 'BOUNCE'
  | 'COMPLAINT'
  | 'DELIVERY'
  | 'OPEN'
  | 'CLICK'
  | 'RENDERING_FAILURE'
  | 'DELIVERY_DELAY'
  | 'SUBSCRIPTION';
/** All valid `MatchingEventTypes` values (from the SDK's `EventType` enum). */
export const MATCHING_EVENT_TYPES: readonly SesMatchingEventType[] = [
  'SEND',
  'REJECT',
  'BOUNCE',
  'COMPLAINT',
  'DELIVERY',
  'OPEN',
  'CLICK',
  'RENDERING_FAILURE',
  'DELIVERY_DELAY',
  'SUBSCRIPTION',
];

/**
 * A configuration set's event destination, as CreateConfigurationSetEventDestination defines it. Only an enabled
 * `eventBridgeDestination` receives events in the emulator; the other destination kinds are kept and echoed back.
 */
export interface EventDestinationInput {
  name: string;
  /** @default false (an omitted `Enabled` is false on the wire) */
  enabled?: boolean;
  matchingEventTypes: SesMatchingEventType[];
  eventBridgeDestination?: { eventBusArn: string };
  /** Other destination kinds (`SnsDestination`, `CloudWatchDestination`, ...), wire names, stored as given. */
  otherDestinations?: Record<string, unknown>;
}

/** What a seeded recipient does when mail is sent to it. */
export type RecipientOutcome = 'bounce' | 'complaint';

/** Filters and paging for a ListSuppressedDestinations call. */
export interface ListSuppressedQuery {
  reasons?: SuppressionReason[];
  startMs?: number;
  endMs?: number;
  nextToken?: string;
  pageSize: number;
}

/** Whether StartDate/EndDate bounds include entries exactly on the boundary. */
export type DateFilterBounds = 'inclusive' | 'exclusive';

/** Shared, emulator-wide settings a region reads at call time (so they can change at runtime). */
export interface RegionContext {
  now(): number;
  nextTokenTtlMs(): number;
  dateFilterBounds(): DateFilterBounds;
}

/** Default account: a healthy production account with SES's standard production quota. */
export function defaultAccount(): AccountSettings {
  return {
    sendingEnabled: true,
    enforcementStatus: 'HEALTHY',
    productionAccessEnabled: true,
    dedicatedIpAutoWarmupEnabled: false,
    max24HourSend: 50000,
    maxSendRate: 14,
    sentLast24Hours: 0,
    suppressedReasons: ['BOUNCE', 'COMPLAINT'],
  };
}

/** Throws a BadRequestException unless `value` is a valid suppression reason. */
export function checkReason(value: unknown, field = 'Reason'): SuppressionReason {
  if (value === 'BOUNCE' || value === 'COMPLAINT') return value;
  throw badRequest(`${field} must be one of BOUNCE, COMPLAINT (got ${JSON.stringify(value)}).`);
}

/** Minimal address check, close to what SES accepts: one '@', non-empty parts, no whitespace. */
export function checkEmailAddress(value: unknown, field = 'EmailAddress'): string {
  if (typeof value !== 'string' || value.length === 0) throw badRequest(`${field} is required.`);
  const at = value.lastIndexOf('@');
  if (value.length > 320 || /\s/.test(value) || at <= 0 || at === value.length - 1) {
    throw badRequest(`${field} "${value}" is not a valid email address.`);
  }
  return value;
}

/** One region's independent SES state: suppression list, identities, account and configuration sets. */
export class EmulatedRegion {
  // Keyed by exact-case address: SES treats the suppression list key case-sensitively.
  private readonly suppressions = new Map<string, StoredSuppression>();
  // Keyed by lower-cased name: identity lookups are case-insensitive.
  private readonly identities = new Map<string, ResolvedIdentity>();
  private readonly configurationSets = new Map<string, ConfigurationSetInput & { sendingEnabled: boolean }>();
  private readonly refusedDeletes = new Map<string, string>();
  // Event destinations per configuration set name, by destination name (in creation order).
  private readonly eventDestinations = new Map<string, Map<string, EventDestinationInput>>();
  // Seeded recipient outcomes, keyed by lower-cased address.
  private readonly recipientOutcomes = new Map<string, RecipientOutcome>();
  private account: AccountSettings = defaultAccount();
  // Import jobs in creation order; failures injected into imports, keyed by lower-cased address.
  private readonly importJobs = new Map<string, ImportJob>();
  private readonly importFailures = new Map<string, string>();
  private readonly pager: SnapshotPager<StoredSuppression>;

  constructor(
    /** Region name, e.g. `us-west-2`. */
    readonly name: string,
    private readonly ctx: RegionContext,
    private readonly shuffleRandom: Random,
  ) {
    this.pager = new SnapshotPager(ctx.now, ctx.nextTokenTtlMs);
  }

  /** Adds or replaces a suppressed destination. */
  putSuppressed(entry: SuppressedEntryInput): void {
    this.putSuppressedMany([entry]);
  }

  /** Bulk-seeds suppressed destinations; validates each entry but stays O(n). */
  putSuppressedMany(entries: readonly SuppressedEntryInput[]): void {
    const now = this.ctx.now();
    const staged: StoredSuppression[] = new Array<StoredSuppression>(entries.length);
    // Validate everything first so a bad entry does not leave a half-seeded region.
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as SuppressedEntryInput;
      const emailAddress = checkEmailAddress(e.emailAddress, `entries[${i}].emailAddress`);
      const reason = checkReason(e.reason, `entries[${i}].reason`);
      const lastUpdateMs = e.lastUpdateTime === undefined ? now : e.lastUpdateTime.getTime();
      if (!Number.isFinite(lastUpdateMs)) throw badRequest(`entries[${i}].lastUpdateTime is not a valid date.`);
      const stored: { -readonly [K in keyof StoredSuppression]: StoredSuppression[K] } = { emailAddress, reason, lastUpdateMs };
      if (e.attributes?.messageId !== undefined) stored.messageId = e.attributes.messageId;
      if (e.attributes?.feedbackId !== undefined) stored.feedbackId = e.attributes.feedbackId;
      staged[i] = stored;
    }
    for (const s of staged) this.suppressions.set(s.emailAddress, s);
  }

  /** Removes a suppressed destination (exact case); false when absent. Ignores refuseDelete (that is wire-only). */
  deleteSuppressed(emailAddress: string): boolean {
    return this.suppressions.delete(emailAddress);
  }

  /** Removes every suppressed destination. */
  clearSuppressed(): void {
    this.suppressions.clear();
  }

  /** Copies of all suppressed destinations, sorted by address for stable inspection. */
  suppressed(): SuppressedEntry[] {
    return [...this.suppressions.values()]
      .sort((a, b) => (a.emailAddress < b.emailAddress ? -1 : a.emailAddress > b.emailAddress ? 1 : 0))
      .map(toEntry);
  }

  /** Number of suppressed destinations. */
  get suppressedCount(): number {
    return this.suppressions.size;
  }

  /** Looks up one suppressed destination by exact-case address. */
  getSuppressed(emailAddress: string): SuppressedEntry | undefined {
    const s = this.suppressions.get(emailAddress);
    return s && toEntry(s);
  }

  /** Makes DeleteSuppressedDestination for this address fail with BadRequestException, like SES sometimes does. */
  refuseDelete(emailAddress: string, message?: string): void {
    this.refusedDeletes.set(emailAddress, message ?? `The email address ${emailAddress} can't be removed from the suppression list.`);
  }

  /** Undoes {@link refuseDelete}. */
  allowDelete(emailAddress: string): void {
    this.refusedDeletes.delete(emailAddress);
  }

  /** Adds or replaces an identity (name matched case-insensitively). */
  putIdentity(identity: IdentityInput): void {
    if (typeof identity.name !== 'string' || identity.name.length === 0) throw badRequest('identity name is required.');
    const type: IdentityType = identity.type ?? (identity.name.includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN');
    const verificationStatus = identity.verificationStatus ?? 'SUCCESS';
    this.identities.set(identity.name.toLowerCase(), {
      name: identity.name,
      type,
      verificationStatus,
      verifiedForSending: identity.verifiedForSending ?? verificationStatus === 'SUCCESS',
      dkimStatus: identity.dkimStatus ?? (type === 'DOMAIN' ? 'SUCCESS' : 'NOT_STARTED'),
      dkimSigningEnabled: identity.dkimSigningEnabled ?? type === 'DOMAIN',
      mailFromDomain: identity.mailFromDomain,
      mailFromStatus: identity.mailFromStatus ?? 'SUCCESS',
      behaviorOnMxFailure: identity.behaviorOnMxFailure ?? 'USE_DEFAULT_VALUE',
      sendingEnabled: identity.sendingEnabled ?? true,
      feedbackForwarding: identity.feedbackForwarding ?? true,
      configurationSetName: identity.configurationSetName,
    });
  }

  /** Removes an identity; false when absent. */
  deleteIdentity(name: string): boolean {
    return this.identities.delete(name.toLowerCase());
  }

  /** Resolved identity (defaults applied), case-insensitive lookup. */
  getIdentity(name: string): ResolvedIdentity | undefined {
    return this.identities.get(name.toLowerCase());
  }

  /** All identities, sorted by lower-cased name so identity paging is stable. */
  listIdentities(): ResolvedIdentity[] {
    return [...this.identities.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }

  /** Patches account settings. */
  setAccount(patch: Partial<AccountSettings>): void {
    for (const r of patch.suppressedReasons ?? []) checkReason(r, 'suppressedReasons');
    this.account = { ...this.account, ...definedOnly(patch) };
  }

  /** Current account settings (a copy). */
  getAccount(): AccountSettings {
    return { ...this.account, suppressedReasons: [...this.account.suppressedReasons] };
  }

  /** Adds or replaces a configuration set (exact-case name). */
  putConfigurationSet(cs: ConfigurationSetInput): void {
    if (typeof cs.name !== 'string' || cs.name.length === 0) throw badRequest('configuration set name is required.');
    for (const r of cs.suppressedReasons ?? []) checkReason(r, 'suppressedReasons');
    this.configurationSets.set(cs.name, {
      name: cs.name,
      sendingEnabled: cs.sendingEnabled ?? true,
      ...(cs.suppressedReasons ? { suppressedReasons: [...cs.suppressedReasons] } : {}),
    });
  }

  /** Removes a configuration set (and its event destinations); false when absent. */
  deleteConfigurationSet(name: string): boolean {
    this.eventDestinations.delete(name);
    return this.configurationSets.delete(name);
  }

  /** Adds an event destination to a configuration set; NotFoundException / AlreadyExistsException like SES. */
  createEventDestination(configurationSetName: string, destination: EventDestinationInput): void {
    const byName = this.destinationsOf(configurationSetName);
    if (byName.has(destination.name)) {
      throw new SesError('AlreadyExistsException', `Event destination ${destination.name} already exists in ${configurationSetName}.`);
    }
    byName.set(destination.name, structuredClone(destination));
  }

  /** Replaces an event destination's definition; NotFoundException when the set or the destination is absent. */
  updateEventDestination(configurationSetName: string, destination: EventDestinationInput): void {
    const byName = this.destinationsOf(configurationSetName);
    if (!byName.has(destination.name)) throw eventDestinationNotFound(configurationSetName, destination.name);
    byName.set(destination.name, structuredClone(destination));
  }

  /** Removes an event destination; NotFoundException when the set or the destination is absent. */
  deleteEventDestination(configurationSetName: string, name: string): void {
    if (!this.destinationsOf(configurationSetName).delete(name)) throw eventDestinationNotFound(configurationSetName, name);
  }

  /** A configuration set's event destinations (copies); NotFoundException when the set is absent. */
  listEventDestinations(configurationSetName: string): EventDestinationInput[] {
    return [...this.destinationsOf(configurationSetName).values()].map((d) => structuredClone(d));
  }

  /** Makes mail to these addresses (any case) bounce (Permanent/General) or draw a complaint. */
  seedRecipientOutcomes(emailAddresses: readonly string[], outcome: RecipientOutcome): void {
    if (outcome !== 'bounce' && outcome !== 'complaint') throw badRequest('outcome must be "bounce" or "complaint".');
    for (const a of emailAddresses) this.recipientOutcomes.set(checkEmailAddress(a, 'emailAddress').toLowerCase(), outcome);
  }

  /** Forgets every seeded recipient outcome. */
  clearRecipientOutcomes(): void {
    this.recipientOutcomes.clear();
  }

  /** The seeded outcome for an address, if any. */
  recipientOutcomeFor(emailAddress: string): RecipientOutcome | undefined {
    return this.recipientOutcomes.get(emailAddress.toLowerCase());
  }

  /** Seeded outcomes as `{bounce: [...], complaint: [...]}` (lower-cased addresses, sorted). */
  recipientOutcomeList(): Record<RecipientOutcome, string[]> {
    const out: Record<RecipientOutcome, string[]> = { bounce: [], complaint: [] };
    for (const [address, outcome] of this.recipientOutcomes) out[outcome].push(address);
    out.bounce.sort();
    out.complaint.sort();
    return out;
  }

  /** PutEmailIdentityConfigurationSetAttributes: sets (or with undefined, removes) an identity's default set. */
  setIdentityConfigurationSet(identityName: string, configurationSetName: string | undefined): void {
    const id = this.identities.get(identityName.toLowerCase());
    if (!id) throw new SesError('NotFoundException', `Email identity ${identityName} does not exist.`);
    if (configurationSetName !== undefined && !this.configurationSets.has(configurationSetName)) {
      throw new SesError('NotFoundException', `Configuration set ${configurationSetName} does not exist.`);
    }
    this.identities.set(identityName.toLowerCase(), { ...id, configurationSetName });
  }

  /** Adds a suppressed destination found by sending (bounce or complaint), with the message's ids as attributes. */
  suppressFromFeedback(emailAddress: string, reason: SuppressionReason, messageId: string, feedbackId: string): void {
    this.suppressions.set(emailAddress, { emailAddress, reason, lastUpdateMs: this.ctx.now(), messageId, feedbackId });
  }

  private destinationsOf(configurationSetName: string): Map<string, EventDestinationInput> {
    if (!this.configurationSets.has(configurationSetName)) {
      throw new SesError('NotFoundException', `Configuration set ${configurationSetName} does not exist.`);
    }
    let byName = this.eventDestinations.get(configurationSetName);
    if (!byName) {
      byName = new Map();
      this.eventDestinations.set(configurationSetName, byName);
    }
    return byName;
  }

  /** Looks up a configuration set by exact name. */
  getConfigurationSet(name: string): (ConfigurationSetInput & { sendingEnabled: boolean }) | undefined {
    return this.configurationSets.get(name);
  }

  /** Makes import jobs fail the record of each of these addresses (any case), with `message` as its error. */
  failImportsFor(emailAddresses: readonly string[], message?: string): void {
    for (const a of emailAddresses) {
      if (typeof a !== 'string' || a.length === 0) throw badRequest('import failure addresses must be non-empty strings.');
      this.importFailures.set(a.toLowerCase(), message ?? `Injected failure for ${a}.`);
    }
  }

  /** Undoes {@link failImportsFor} for every address. */
  clearImportFailures(): void {
    this.importFailures.clear();
  }

  /** The injected import error for an address, if any. */
  importFailureFor(emailAddress: string): string | undefined {
    return this.importFailures.get(emailAddress.toLowerCase());
  }

  /** Addresses whose import records are made to fail. */
  importFailureAddresses(): string[] {
    return [...this.importFailures.keys()].sort();
  }

  /** Records a new import job (the runner changes it in place as it progresses). */
  addImportJob(job: ImportJob): void {
    this.importJobs.set(job.jobId, job);
  }

  /** An import job of this region. */
  getImportJob(jobId: string): ImportJob | undefined {
    return this.importJobs.get(jobId);
  }

  /** The region's import jobs, oldest first. */
  listImportJobs(): ImportJob[] {
    return [...this.importJobs.values()];
  }

  // ---- wire-level operations (used by the SES router) ----

  /** ListSuppressedDestinations: a new listing snapshots + shuffles matches; tokens page through that snapshot. */
  listSuppressed(query: ListSuppressedQuery): { page: readonly StoredSuppression[]; nextToken?: string } {
    if (query.nextToken !== undefined) return this.pager.resume(query.nextToken, query.pageSize);
    const reasons = query.reasons && query.reasons.length > 0 ? new Set(query.reasons) : undefined;
    const inclusive = this.ctx.dateFilterBounds() === 'inclusive';
    const start = query.startMs;
    const end = query.endMs;
    const matches: StoredSuppression[] = [];
    for (const s of this.suppressions.values()) {
      if (reasons && !reasons.has(s.reason)) continue;
      const t = s.lastUpdateMs;
      if (start !== undefined && (inclusive ? t < start : t <= start)) continue;
      if (end !== undefined && (inclusive ? t > end : t >= end)) continue;
      matches.push(s);
    }
    // SES documents no ordering; shuffling every listing keeps consumers from depending on one.
    shuffleInPlace(matches, this.shuffleRandom);
    return this.pager.start(matches, query.pageSize);
  }

  /** PutSuppressedDestination: upserts with LastUpdateTime = now. */
  putSuppressedFromApi(emailAddress: string, reason: SuppressionReason): void {
    this.suppressions.set(emailAddress, { emailAddress, reason, lastUpdateMs: this.ctx.now() });
  }

  /** DeleteSuppressedDestination: exact case, honours refuseDelete. */
  deleteSuppressedFromApi(emailAddress: string): void {
    const refusal = this.refusedDeletes.get(emailAddress);
    if (refusal !== undefined && this.suppressions.has(emailAddress)) throw badRequest(refusal);
    if (!this.suppressions.delete(emailAddress)) {
      throw new SesError('NotFoundException', `Email address ${emailAddress} does not exist on your suppression list.`);
    }
  }

  /** Number of listing snapshots still retained (diagnostics). */
  get openListings(): number {
    return this.pager.size;
  }
}

function eventDestinationNotFound(configurationSetName: string, name: string): SesError {
  return new SesError('NotFoundException', `Event destination ${name} does not exist in configuration set ${configurationSetName}.`);
}

function toEntry(s: StoredSuppression): SuppressedEntry {
  const entry: SuppressedEntry = { emailAddress: s.emailAddress, reason: s.reason, lastUpdateTime: new Date(s.lastUpdateMs) };
  if (s.messageId !== undefined || s.feedbackId !== undefined) {
    entry.attributes = {};
    if (s.messageId !== undefined) entry.attributes.messageId = s.messageId;
    if (s.feedbackId !== undefined) entry.attributes.feedbackId = s.feedbackId;
  }
  return entry;
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
