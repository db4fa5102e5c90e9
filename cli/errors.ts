import { isNetworkError } from '../lambdas/domain/retry';

/** Exit codes of `ssg`, documented in `ssg --help` and the README. */
export const EXIT = {
  /** Done; for `check`, the guard says proceed. */
  OK: 0,
  /** Done, and the answer is negative: the guard blocked, a region is stale, a check failed, rows were rejected. */
  PROBLEMS: 1,
  /** Bad arguments; nothing was changed. */
  USAGE: 2,
  /** The target could not be reached or used (stack, local environment, guard, AWS credentials or permissions). */
  UNAVAILABLE: 3,
} as const;

/** An error that ends the command with a message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A bad argument or option; the message names it and the value. Exit code 2, nothing changed. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

/** The target could not be reached or used. Exit code 3. */
export class UnavailableError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.UNAVAILABLE, options);
    this.name = 'UnavailableError';
  }
}

/** True when an SDK error means the endpoint could not be reached at all. */
export { isNetworkError };

/**
 * Turns any failure into a {@link CliError}: unreachable endpoints, missing credentials, access denied and other AWS
 * errors all mean the target could not be used (exit 3), with a message that says which call failed.
 */
export function asCliError(error: unknown, doing?: string): CliError {
  if (error instanceof CliError) return error;
  const e = error as { name?: string; code?: string; message?: string };
  const what = doing ? `${doing}: ` : '';
  if (isNetworkError(error)) {
    return new UnavailableError(`${what}could not reach the endpoint (${e.code ?? e.name}: ${e.message ?? ''})`.trim(), { cause: error });
  }
  if (e?.name === 'CredentialsProviderError') {
    return new UnavailableError(`${what}no AWS credentials found (${e.message}); pass --profile, set AWS_PROFILE, or use --local`, {
      cause: error,
    });
  }
  if (e?.message === 'Region is missing') {
    return new UsageError(`${what}no AWS region: pass --stack-region <region>, set AWS_REGION, or configure one in your profile`);
  }
  return new UnavailableError(`${what}${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? String(error)}`, {
    cause: error,
  });
}
