/** Token bucket; `rate` of 0 or Infinity means unlimited. Burst is max(1, rate) like a 1-second window. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly capacity: number;

  constructor(
    readonly rate: number,
    now: number,
  ) {
    this.capacity = Math.max(1, Number.isFinite(rate) ? rate : 1);
    this.tokens = this.capacity;
    this.last = now;
  }

  /** Whether this bucket never throttles. */
  get unlimited(): boolean {
    return this.rate <= 0 || !Number.isFinite(this.rate);
  }

  /** Takes one token if available; false means the caller must be throttled. */
  tryTake(now: number): boolean {
    if (this.unlimited) return true;
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.rate);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}
