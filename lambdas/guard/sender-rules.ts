import type { Problem, SenderVerdict } from '../../client/contract';
import { type IdentityIndex, type IdentityResolution, resolveIdentity } from '../domain/identity';
import { problem } from './problems';
import type { IdentityDetails } from './ses-lookups';

/** The sender's identity in the sending region: which one covers it, and what GetEmailIdentity says about it. */
export interface ResolvedSender {
  /** The identity resolution over the region's identities (`checked`: the names tried, most specific first). */
  readonly resolution: IdentityResolution;
  /** GetEmailIdentity of `resolution.reported`; null when no identity covers the sender (or SES no longer knows it). */
  readonly details: IdentityDetails | null;
  /** Whether SES would send from it: verified for sending and sending enabled. */
  readonly usable: boolean;
}

/** Whether the reported identity, as `details` describe it, lets SES send. */
export function senderUsable(resolution: IdentityResolution, details: IdentityDetails | null): boolean {
  return details?.verifiedForSending === true && resolution.reported?.sendingEnabled === true;
}

/** The regions (of `others`) where a verified identity with sending enabled covers the sender; unknown lists count as no. */
export function verifiedElsewhere(
  checked: readonly string[],
  others: ReadonlyArray<{ readonly region: string; readonly identities: IdentityIndex | undefined }>,
): string[] {
  return others.filter(({ identities }) => identities && resolveIdentity(checked, identities).covering !== undefined).map((o) => o.region);
}

/** The response's `sender`. */
export function senderVerdict(details: IdentityDetails | null, verifiedInRegions: string[]): SenderVerdict {
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

/** Identity, DKIM and MAIL FROM problems of the sender `from` in `region`. */
export function senderProblems(region: string, from: string, sender: ResolvedSender, verifiedInRegions: string[]): Problem[] {
  const elsewhere =
    verifiedInRegions.length > 0
      ? ` It is verified in ${verifiedInRegions.join(', ')}: send from there, or verify it in ${region}.`
      : ` It is not verified in any configured region.`;
  const { details } = sender;
  const { checked, reported } = sender.resolution;
  if (!details) {
    return [
      problem(
        'IDENTITY_NOT_VERIFIED_IN_REGION',
        'block',
        `No SES identity in ${region} covers ${from} (checked ${checked.join(', ')}).${elsewhere}`,
        {
          region,
          identity: null,
          checked,
          verifiedInRegions,
        },
      ),
    ];
  }
  const base = { region, identity: details.name };
  if (!details.verifiedForSending) {
    if (details.verificationStatus === 'PENDING') {
      return [
        problem(
          'IDENTITY_VERIFICATION_PENDING',
          'block',
          `The identity ${details.name} is still pending verification in ${region}.${elsewhere}`,
          {
            ...base,
            status: 'PENDING',
            verifiedInRegions,
          },
        ),
      ];
    }
    return [
      problem(
        'IDENTITY_NOT_VERIFIED_IN_REGION',
        'block',
        `The identity ${details.name} is not verified in ${region} (status ${details.verificationStatus}).${elsewhere}`,
        { ...base, status: details.verificationStatus, verifiedInRegions },
      ),
    ];
  }
  if (reported && reported.sendingEnabled === false) {
    return [problem('IDENTITY_SENDING_DISABLED', 'block', `Sending from the identity ${details.name} is disabled in ${region}.`, base)];
  }
  const problems: Problem[] = [];
  const dkim = dkimProblem(region, details);
  if (dkim) problems.push(dkim);
  const mailFrom = mailFromProblem(region, details);
  if (mailFrom) problems.push(mailFrom);
  return problems;
}

function dkimProblem(region: string, details: IdentityDetails): Problem | undefined {
  const base = { region, identity: details.name };
  if (!details.dkimSigningEnabled || details.dkimStatus === 'NOT_STARTED') {
    return problem(
      'DKIM_NOT_SIGNING',
      'warn',
      `Mail from ${details.name} in ${region} is not DKIM-signed with your domain (DKIM ${details.dkimSigningEnabled ? details.dkimStatus : 'signing disabled'}); receivers that require DKIM alignment may reject it.`,
      { ...base, status: details.dkimStatus, signingEnabled: details.dkimSigningEnabled },
    );
  }
  if (details.dkimStatus === 'PENDING') {
    return problem(
      'DKIM_PENDING',
      'warn',
      `DKIM for ${details.name} is still pending in ${region}; mail is not signed with your domain until SES finds the DKIM records.`,
      { ...base, status: 'PENDING' },
    );
  }
  if (details.dkimStatus === 'FAILED') {
    return problem(
      'DKIM_FAILED',
      'block',
      `DKIM for ${details.name} failed in ${region}: SES cannot find the DKIM records, so mail would go out without your domain's signature and fail DMARC.`,
      { ...base, status: 'FAILED' },
    );
  }
  if (details.dkimStatus === 'TEMPORARY_FAILURE') {
    return problem(
      'DKIM_TEMPORARY_FAILURE',
      'warn',
      `SES could not check the DKIM records of ${details.name} in ${region} recently (temporary failure).`,
      { ...base, status: 'TEMPORARY_FAILURE' },
    );
  }
  return undefined;
}

function mailFromProblem(region: string, details: IdentityDetails): Problem | undefined {
  if (!details.mailFromDomain || details.mailFromStatus === 'SUCCESS') return undefined;
  const rejects = details.behaviorOnMxFailure === 'REJECT_MESSAGE';
  const status = details.mailFromStatus ?? 'PENDING';
  const consequence = rejects
    ? 'SES rejects the send because BehaviorOnMxFailure is REJECT_MESSAGE'
    : 'SES falls back to its default MAIL FROM domain (amazonses.com), so SPF will not align with your domain';
  return problem(
    status === 'PENDING' ? 'MAIL_FROM_PENDING' : 'MAIL_FROM_FAILED',
    rejects ? 'block' : 'warn',
    `The custom MAIL FROM domain ${details.mailFromDomain} of ${details.name} is ${status} in ${region}: ${consequence}.`,
    { region, identity: details.name, mailFromDomain: details.mailFromDomain, status, behaviorOnMxFailure: details.behaviorOnMxFailure },
  );
}
