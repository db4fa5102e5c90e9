import { canonicalAddress } from '../lambdas/domain/address';
import { checkAddress } from '../lambdas/domain/email';
import { excerpt } from '../lambdas/domain/text';
import { UsageError } from './errors';

/**
 * Checks an address argument. `strict` applies the guard's rules (what SES can deliver to), for addresses the CLI
 * adds; lenient accepts anything shaped like `local@domain`, so odd addresses SES already holds can still be
 * looked up and removed.
 */
export function requireAddress(raw: string, what: string, strict: boolean): string {
  const address = raw.trim();
  if (strict) {
    const checked = checkAddress(address);
    if (!checked.ok) throw new UsageError(`${what} ${excerpt(raw)} is not a valid email address: it ${checked.error}`);
    return checked.value.address;
  }
  const at = address.lastIndexOf('@');
  if (address === '' || /\s/.test(address) || at <= 0 || at === address.length - 1) {
    throw new UsageError(`${what} ${excerpt(raw)} is not a valid email address (expected local-part@domain)`);
  }
  return address;
}

/** The spellings to try against SES, whose suppression list is keyed by the exact case: recorded, given, lower. */
export function caseCandidates(recorded: string | undefined, given: string): string[] {
  return [...new Set([recorded, given.trim(), canonicalAddress(given)].filter((a): a is string => Boolean(a)))];
}
