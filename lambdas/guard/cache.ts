/**
 * A time-to-live cache of lookups that keeps the promise, so concurrent callers share one in-flight request.
 * Failed lookups are dropped at once: the next caller asks again instead of being answered with a stale error.
 */
export class LookupCache {
  private readonly entries = new Map<string, { promise: Promise<unknown>; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    /** Entries kept at most; the oldest are evicted first. */
    private readonly maxEntries = 1000,
  ) {}

  /** The cached value of `key`, or the result of `load()` (cached for the TTL once it succeeds). */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.promise as Promise<T>;
    const promise = load();
    const entry = { promise, expiresAt: now + this.ttlMs };
    this.entries.delete(key);
    this.entries.set(key, entry);
    promise.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return promise;
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }
}
