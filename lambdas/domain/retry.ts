/** Sleeps for `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface AwsLikeError {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** True for throttling errors: SES answers `TooManyRequestsException` (HTTP 429). */
export function isThrottle(error: unknown): boolean {
  const e = error as AwsLikeError;
  return (
    e?.name === 'TooManyRequestsException' ||
    e?.name === 'ThrottlingException' ||
    e?.name === 'ProvisionedThroughputExceededException' ||
    e?.$metadata?.httpStatusCode === 429
  );
}

/** True for errors worth retrying: throttling, 5xx answers and transport failures. */
export function isRetryable(error: unknown): boolean {
  if (isThrottle(error)) return true;
  const e = error as AwsLikeError;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (e?.$retryable) return true;
  const name = e?.name ?? e?.code ?? '';
  return ['TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'NetworkingError'].includes(name);
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
