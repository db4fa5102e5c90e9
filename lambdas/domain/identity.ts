/**
 * Which SES identity covers a send: the one resolution the guard and `ssg audit` share.
 *
 * SES looks for the most specific verified identity among the From address, its domain and each parent domain
 * (a verified parent domain covers every subdomain and address under it). An identity that exists but is not
 * verified does not stop the walk: with `example.com` verified, mail from `ceo@example.com` goes out even while
 * the address identity `ceo@example.com` is still PENDING.
 */

/** An identity's state, as ListEmailIdentities lists it or GetEmailIdentity reports it. */
export interface IdentityState {
  readonly name: string;
  /** `SUCCESS` when verified; `PENDING`, `FAILED`, `TEMPORARY_FAILURE` or `NOT_STARTED` otherwise. */
  readonly verificationStatus: string;
  /** Whether SES lets the account send from it; undefined when unknown (GetEmailIdentity does not say). */
  readonly sendingEnabled?: boolean;
}

/** Identities of one region by lower-cased name (SES matches identity names case-insensitively). */
export type IdentityIndex = ReadonlyMap<string, IdentityState>;

/** Why a checked name does, or does not, cover the send. */
export type CandidateStatus =
  /** The identity SES uses for the send. */
  | 'covers'
  /** No identity of that name exists in the region. */
  | 'absent'
  /** It exists but is not verified (see its `verificationStatus`). */
  | 'not-verified'
  /** It is verified, but sending from it is disabled. */
  | 'sending-disabled'
  /** It is verified, but a more specific verified identity covers the send. */
  | 'superseded';

/** One checked name and its outcome. */
export interface CandidateOutcome {
  readonly name: string;
  readonly status: CandidateStatus;
  /** The identity of that name, when one exists. */
  readonly identity?: IdentityState;
}

/** The outcome of {@link resolveIdentity}. */
export interface IdentityResolution {
  /** The names tried, most specific first. */
  readonly checked: readonly string[];
  /** The identity SES uses: the most specific verified one whose sending is not disabled; undefined when none covers the send. */
  readonly covering?: IdentityState;
  /**
   * The identity to report on: `covering`, or when none covers the send the most specific one that exists, so that
   * its PENDING or FAILED state (or its disabled sending) explains why the send is not covered.
   */
  readonly reported?: IdentityState;
  /** Every checked name, in `checked` order, with why it does or does not cover the send. */
  readonly outcomes: readonly CandidateOutcome[];
}

/** Indexes identities by lower-cased name; a later entry of the same name replaces an earlier one. */
export function indexIdentities(identities: Iterable<IdentityState>): IdentityIndex {
  const index = new Map<string, IdentityState>();
  for (const identity of identities) index.set(identity.name.toLowerCase(), identity);
  return index;
}

const isVerified = (identity: IdentityState) => identity.verificationStatus === 'SUCCESS';

/** Resolves which identity covers a send whose candidate identities (most specific first, see `identityCandidates`) are `checked`. */
export function resolveIdentity(checked: readonly string[], identities: IdentityIndex): IdentityResolution {
  const found = checked.map((name) => ({ name, identity: identities.get(name.toLowerCase()) }));
  const covering = found.find(({ identity }) => identity && isVerified(identity) && identity.sendingEnabled !== false)?.identity;
  const reported = covering ?? found.find(({ identity }) => identity !== undefined)?.identity;
  const outcomes = found.map(({ name, identity }): CandidateOutcome => {
    if (!identity) return { name, status: 'absent' };
    if (identity === covering) return { name, status: 'covers', identity };
    if (!isVerified(identity)) return { name, status: 'not-verified', identity };
    if (identity.sendingEnabled === false) return { name, status: 'sending-disabled', identity };
    return { name, status: 'superseded', identity };
  });
  return { checked, ...(covering ? { covering } : {}), ...(reported ? { reported } : {}), outcomes };
}

/**
 * Whether a verified identity (sending enabled or not) covers `checked`: what makes a recipient deliverable while
 * the account is in the SES sandbox.
 */
export function isVerifiedIdentity(checked: readonly string[], identities: IdentityIndex): boolean {
  return checked.some((name) => {
    const identity = identities.get(name.toLowerCase());
    return identity !== undefined && isVerified(identity);
  });
}

/** One sentence per checked name more specific than the covering identity that exists but does not cover the send. */
export function passedOver(resolution: IdentityResolution): string[] {
  const reasons: string[] = [];
  for (const outcome of resolution.outcomes) {
    if (outcome.status === 'covers') break;
    if (outcome.status === 'not-verified') reasons.push(`${outcome.name} is ${outcome.identity?.verificationStatus}`);
    else if (outcome.status === 'sending-disabled') reasons.push(`${outcome.name} has sending disabled`);
  }
  return reasons;
}
