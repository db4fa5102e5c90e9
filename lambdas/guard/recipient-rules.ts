import type { InvalidRecipient, Problem, SuppressedRecipient } from '../../client/contract';
import { canonicalAddress } from '../domain/address';
import { checkAddress, identityCandidates, type ParsedAddress } from '../domain/email';
import { suppressionFinding } from '../domain/finding';
import { type IdentityIndex, isVerifiedIdentity } from '../domain/identity';
import type { SuppressionItem, SuppressionReason } from '../domain/records';
import { boundedValue, excerpt } from '../domain/text';
import { problem } from './problems';

/** A syntactically valid recipient, the first of its (case-insensitive) spelling in the request. */
export interface Candidate {
  /** Its position in the request's `recipients`. */
  readonly index: number;
  readonly parsed: ParsedAddress;
  /** Its canonical address, the suppression table's key. */
  readonly key: string;
}

type Verdict =
  | { kind: 'allowed'; address: string }
  | { kind: 'suppressed'; value: SuppressedRecipient }
  | { kind: 'invalid'; value: InvalidRecipient };

/** The recipients after the syntax check, before any lookup. */
export interface ScreenedRecipients {
  readonly total: number;
  /** Each distinct valid address once, in request order: what the suppression table is asked about. */
  readonly candidates: readonly Candidate[];
  /** Verdicts by request position: so far only the malformed recipients. */
  readonly verdicts: ReadonlyArray<Verdict | undefined>;
  /** Recipients that repeat an earlier one (case-insensitively). */
  readonly duplicates: number;
}

/** Checks the syntax of every recipient and keeps each distinct (case-insensitive) address once. */
export function screenRecipients(recipients: readonly string[]): ScreenedRecipients {
  const verdicts: Array<Verdict | undefined> = new Array(recipients.length);
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  recipients.forEach((raw, index) => {
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
  return { total: recipients.length, candidates, verdicts, duplicates };
}

/** What the classification of the valid recipients rests on. */
export interface RecipientLookups {
  readonly region: string;
  /** The canonical items of the candidates that have one. */
  readonly items: ReadonlyMap<string, SuppressionItem>;
  /** The suppression reasons that apply to the send. */
  readonly reasons: ReadonlySet<SuppressionReason>;
  /** The sending region's identities when the account is in the sandbox there (and they are known): only they can receive. */
  readonly sandboxIdentities?: IdentityIndex;
}

/** Each recipient's list, in request order, and the request position of every listed recipient. */
export interface RecipientClassification {
  readonly allowed: string[];
  readonly suppressed: SuppressedRecipient[];
  readonly invalid: InvalidRecipient[];
  readonly positions: { readonly allowed: number[]; readonly suppressed: number[]; readonly invalid: number[] };
  /** Recipients dropped because the account is in the sandbox and no verified identity covers them. */
  readonly unverified: number;
}

/**
 * Classifies the recipients: suppressed, not deliverable from a sandbox account, or allowed. Without `lookups` (the
 * suppression table gave no answer) only the malformed recipients are listed: the others are neither allowed nor dropped.
 */
export function classifyRecipients(screened: ScreenedRecipients, lookups: RecipientLookups | undefined): RecipientClassification {
  const verdicts = [...screened.verdicts];
  let unverified = 0;
  if (lookups) {
    for (const candidate of screened.candidates) {
      const finding = suppressionFinding(lookups.items.get(candidate.key), lookups.reasons);
      if (finding) {
        verdicts[candidate.index] = { kind: 'suppressed', value: { address: candidate.parsed.address, ...finding } };
      } else if (lookups.sandboxIdentities && !isVerifiedIdentity(identityCandidates(candidate.parsed), lookups.sandboxIdentities)) {
        unverified++;
        verdicts[candidate.index] = {
          kind: 'invalid',
          value: {
            address: candidate.parsed.address,
            error: `recipients[${candidate.index}] is not a verified identity in ${lookups.region}, and the account is in the SES sandbox there`,
          },
        };
      } else {
        verdicts[candidate.index] = { kind: 'allowed', address: candidate.parsed.address };
      }
    }
  }
  const result: RecipientClassification = {
    allowed: [],
    suppressed: [],
    invalid: [],
    positions: { allowed: [], suppressed: [], invalid: [] },
    unverified,
  };
  verdicts.forEach((verdict, index) => {
    if (verdict?.kind === 'allowed') {
      result.allowed.push(verdict.address);
      result.positions.allowed.push(index);
    } else if (verdict?.kind === 'suppressed') {
      result.suppressed.push(verdict.value);
      result.positions.suppressed.push(index);
    } else if (verdict?.kind === 'invalid') {
      result.invalid.push(verdict.value);
      result.positions.invalid.push(index);
    }
  });
  return result;
}

/**
 * Problems of the recipients: some suppressed, some malformed, none left. `classified` is false when the suppression
 * table gave no answer, so that nothing can be said about what is left.
 */
export function recipientProblems(
  recipients: RecipientClassification,
  total: number,
  reasons: ReadonlySet<SuppressionReason>,
  classified: boolean,
): Problem[] {
  const problems: Problem[] = [];
  if (recipients.suppressed.length > 0) {
    problems.push(
      problem('RECIPIENTS_SUPPRESSED', 'warn', `${recipients.suppressed.length} recipient(s) are on a suppression list and were dropped.`, {
        count: recipients.suppressed.length,
        reasons: [...reasons].sort(),
      }),
    );
  }
  const malformed = recipients.invalid.length - recipients.unverified;
  if (malformed > 0) {
    problems.push(
      problem('RECIPIENTS_INVALID', 'warn', `${malformed} recipient(s) are not valid addresses and were dropped.`, { count: malformed }),
    );
  }
  if (classified && recipients.allowed.length === 0) {
    problems.push(
      problem(
        'NO_DELIVERABLE_RECIPIENTS',
        'block',
        'No recipient is left to send to after suppressed and invalid recipients were dropped.',
        {
          total,
        },
      ),
    );
  }
  return problems;
}
