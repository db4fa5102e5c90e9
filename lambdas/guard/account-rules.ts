import type { AccountVerdict, Problem } from '../../client/contract';
import type { SuppressionReason } from '../domain/records';
import { problem } from './problems';
import type { AccountDetails, ConfigurationSetDetails } from './ses-lookups';

/** The response's `account`. */
export function accountVerdict(account: AccountDetails): AccountVerdict {
  return {
    sendingEnabled: account.sendingEnabled,
    enforcementStatus: account.enforcementStatus,
    productionAccess: account.productionAccess,
    quota: {
      max24HourSend: account.max24HourSend,
      sentLast24Hours: account.sentLast24Hours,
      remaining: remainingQuota(account),
    },
  };
}

/** What is left of the 24-hour quota; null when it is unlimited. */
function remainingQuota(account: AccountDetails): number | null {
  return account.max24HourSend < 0 ? null : Math.max(0, account.max24HourSend - account.sentLast24Hours);
}

/** Sending and enforcement problems of the account in `region`. */
export function accountProblems(region: string, account: AccountDetails): Problem[] {
  const problems: Problem[] = [];
  if (!account.sendingEnabled) {
    problems.push(problem('SENDING_DISABLED', 'block', `Email sending is disabled for the account in ${region}.`, { region }));
  }
  if (account.enforcementStatus === 'SHUTDOWN') {
    problems.push(
      problem('ACCOUNT_SHUTDOWN', 'block', `The SES account is shut down in ${region} (enforcement status SHUTDOWN).`, {
        region,
        enforcementStatus: 'SHUTDOWN',
      }),
    );
  } else if (account.enforcementStatus === 'PROBATION') {
    problems.push(
      problem(
        'ACCOUNT_PROBATION',
        'warn',
        `The SES account is on probation in ${region}: more bounces or complaints can get it shut down.`,
        {
          region,
          enforcementStatus: 'PROBATION',
        },
      ),
    );
  }
  return problems;
}

/** Problems of the configuration set `name` in `region` (`set` null: it does not exist there). */
export function configurationSetProblems(region: string, name: string, set: ConfigurationSetDetails | null): Problem[] {
  const details = { region, configurationSetName: name };
  if (!set) {
    return [
      problem(
        'CONFIGURATION_SET_NOT_FOUND',
        'block',
        `The configuration set ${name} does not exist in ${region}; SES would reject the send.`,
        details,
      ),
    ];
  }
  const problems: Problem[] = [];
  if (!set.sendingEnabled) {
    problems.push(
      problem(
        'CONFIGURATION_SET_SENDING_DISABLED',
        'block',
        `Sending is disabled for the configuration set ${name} in ${region}.`,
        details,
      ),
    );
  }
  if (set.suppressedReasons !== undefined && set.suppressedReasons.length === 0) {
    problems.push(
      problem(
        'SUPPRESSION_DISABLED_BY_CONFIGURATION_SET',
        'warn',
        `The configuration set ${name} turns suppression off in ${region}, so only manual suppressions are applied to this send.`,
        { ...details, suppressedReasons: [] },
      ),
    );
  }
  return problems;
}

/**
 * The suppression reasons that apply to the send: the configuration set's own list, else the account's. Either may be
 * unknown (undefined: not named, or SES gave no answer); with neither known, every reason applies, to fail closed.
 */
export function appliedReasons(
  account: AccountDetails | undefined,
  set: ConfigurationSetDetails | null | undefined,
): Set<SuppressionReason> {
  return new Set(set?.suppressedReasons ?? account?.suppressedReasons ?? ['BOUNCE', 'COMPLAINT']);
}

/** SUPPRESSION_DISABLED_FOR_ACCOUNT when the account's list is off and no configuration set overrides it. */
export function accountSuppressionProblems(
  region: string,
  account: AccountDetails,
  set: ConfigurationSetDetails | null | undefined,
): Problem[] {
  if (account.suppressedReasons.length > 0 || set?.suppressedReasons !== undefined) return [];
  return [
    problem(
      'SUPPRESSION_DISABLED_FOR_ACCOUNT',
      'warn',
      `The account's suppression list is off in ${region} (no suppressed reasons); only manual suppressions are applied to this send.`,
      { region, suppressedReasons: [] },
    ),
  ];
}

/** Whether the account is in the SES sandbox: it can send only to verified identities. */
export function inSandbox(account: AccountDetails): boolean {
  return !account.productionAccess;
}

/** SANDBOX when the account is in the sandbox; `unverified` recipients were dropped for it. */
export function sandboxProblems(region: string, account: AccountDetails, unverified: number): Problem[] {
  if (!inSandbox(account)) return [];
  return [
    problem(
      'SANDBOX',
      'warn',
      `The account is in the SES sandbox in ${region}: it can only send to verified identities, so ${unverified} recipient(s) were dropped.`,
      { region, unverifiedRecipients: unverified },
    ),
  ];
}

/** QUOTA_EXCEEDED when `allowed` recipients are more than the 24-hour quota has left. */
export function quotaProblems(region: string, account: AccountDetails, allowed: number): Problem[] {
  const remaining = remainingQuota(account);
  if (remaining === null || allowed <= remaining) return [];
  return [
    problem(
      'QUOTA_EXCEEDED',
      'block',
      `Sending to ${allowed} recipient(s) would exceed the 24-hour quota in ${region}: ${remaining} of ${account.max24HourSend} remain.`,
      { region, allowed, remaining, max24HourSend: account.max24HourSend, sentLast24Hours: account.sentLast24Hours },
    ),
  ];
}
