import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/** Sleeps for `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * True for throttling errors (SES answers `TooManyRequestsException`, HTTP 429), as the SDK's own retry strategy
 * classifies them.
 */
export function isThrottle(error: unknown): boolean {
  return isSdkError(error) && isThrottlingError(error);
}

/**
 * True for errors worth retrying: throttling, 5xx answers, transport failures and timeouts, as the SDK's own retry
 * strategy classifies them.
 */
export function isRetryable(error: unknown): boolean {
  if (!isSdkError(error)) return false;
  return isThrottlingError(error) || isTransientError(error) || isServerError(error);
}

/** Node.js socket and resolver error codes of an endpoint that could not be reached at all. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * True when `error` (or one of its causes) says the endpoint could not be reached: a Node.js network error (which
 * keeps the name `Error` and says what happened in `code`) or the SDK's timeout and networking errors.
 */
export function isNetworkError(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { code, name, cause } = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (NETWORK_CODES.has(String(code)) || name === 'TimeoutError' || name === 'NetworkingError') return true;
    e = cause;
  }
  return false;
}

/** The SDK's error shape (name, `$metadata`, `$retryable`), as its classifier reads it. */
type SdkError = Parameters<typeof isThrottlingError>[0];

function isSdkError(error: unknown): error is SdkError {
  return typeof error === 'object' && error !== null;
}

/** Exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^attempt)]. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/**
 * Spaces calls to at most `requestsPerSecond`, the rate SES allows for its management APIs. One pacer per
 * region lives at module scope so warm invocations keep honouring the previous invocation's last call.
 */
export class Pacer {
  private next = 0;
  readonly intervalMs: number;

  constructor(
    requestsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {
    if (!(requestsPerSecond > 0)) {
      throw new Error(`requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
    }
    this.intervalMs = 1000 / requestsPerSecond;
  }

  /** Resolves when the next call may start, and books the slot after it. */
  async acquire(): Promise<void> {
    const now = this.now();
    const start = Math.max(now, this.next);
    this.next = start + this.intervalMs;
    if (start > now) await this.wait(start - now);
  }

  /** Pushes the next slot back, e.g. after the service said we were too fast. */
  delay(ms: number): void {
    this.next = Math.max(this.next, this.now() + ms);
  }
}
