import type { Problem } from '../../client/contract';
import { problem } from './problems';

/** A backing service the guard could not get an answer from. */
export type Dependency = 'ses' | 'dynamodb';

/**
 * Thrown by the guard's lookups when SES or DynamoDB gave no usable answer (5xx after retries, throttling, network
 * failure, access denied, ...). The guard turns it into a `GUARD_DEPENDENCY_UNAVAILABLE` problem: it never guesses.
 */
export class DependencyError extends Error {
  constructor(
    readonly dependency: Dependency,
    readonly operation: string,
    readonly target: string,
    readonly cause: unknown,
  ) {
    super(`${dependency} ${operation} on ${target} failed: ${errorName(cause)}`);
    this.name = 'DependencyError';
  }

  /** HTTP status of the failed call, when there was an answer at all. */
  get httpStatus(): number | undefined {
    return (this.cause as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  }

  /** The underlying error's name or code (`InternalFailure`, `ECONNREFUSED`, `AccessDeniedException`, ...). */
  get errorName(): string {
    return errorName(this.cause);
  }
}

/** Runs `call`, wrapping whatever it throws in a {@link DependencyError}. */
export async function callDependency<T>(dependency: Dependency, operation: string, target: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DependencyError) throw error;
    throw new DependencyError(dependency, operation, target, error);
  }
}

/** The GUARD_DEPENDENCY_UNAVAILABLE problem of a failed lookup: the guard fails closed. */
export function dependencyProblem(failure: DependencyError): Problem {
  return problem(
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

function errorName(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string } | undefined;
  if (e?.name && e.name !== 'Error') return e.name;
  if (e?.code) return e.code;
  // The SDK wraps foreign errors ("AWS SDK error wrapper for Error: connect ECONNREFUSED ..."), dropping the code.
  const code = /\b(E[A-Z]{4,})\b/.exec(e?.message ?? '')?.[1];
  return code ?? e?.name ?? 'UnknownError';
}
