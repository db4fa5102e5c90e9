/** A deterministic PRNG returning floats in [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough for fault draws and shuffles; same seed → same sequence. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash, used to derive independent per-region PRNG streams from one seed. */
export function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Derives a seeded PRNG for one named stream, so streams do not perturb each other. */
export function deriveRandom(seed: number, stream: string): Random {
  return mulberry32((seed ^ hashString(stream)) >>> 0);
}

/** In-place Fisher–Yates shuffle, O(n). */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

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

/** Fault-injection settings; probabilities are 0..1, either global or per region (`'*'` = default). */
export interface FaultConfig {
  /** Probability that a request fails with 429 TooManyRequestsException. */
  throttleRate?: number | Record<string, number>;
  /** Probability that a request fails with 500 InternalServiceErrorException. */
  serverErrorRate?: number | Record<string, number>;
  /** Extra latency per SES request: fixed, or drawn uniformly from [min, max]. */
  latencyMs?: number | { min: number; max: number };
}

/** A forced failure for the next request(s) of a region. */
export type ForcedFailureKind = 'throttle' | 'serverError';

/** Resolves a global-or-per-region rate for one region. */
export function rateFor(rate: number | Record<string, number> | undefined, region: string): number {
  if (rate === undefined) return 0;
  if (typeof rate === 'number') return rate;
  return rate[region] ?? rate['*'] ?? 0;
}

/** Validates a fault config (shared by the programmatic and HTTP control APIs); throws with a clear message. */
export function validateFaultConfig(value: unknown): FaultConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('faults must be an object');
  const input = value as Record<string, unknown>;
  const out: FaultConfig = {};
  for (const key of Object.keys(input)) {
    if (key !== 'throttleRate' && key !== 'serverErrorRate' && key !== 'latencyMs') throw new Error(`unknown fault setting "${key}"`);
  }
  for (const key of ['throttleRate', 'serverErrorRate'] as const) {
    const rate = input[key];
    if (rate === undefined) continue;
    if (typeof rate === 'number') {
      out[key] = checkProbability(rate, key);
    } else if (typeof rate === 'object' && rate !== null && !Array.isArray(rate)) {
      const perRegion: Record<string, number> = {};
      for (const [region, r] of Object.entries(rate)) perRegion[region] = checkProbability(r, `${key}.${region}`);
      out[key] = perRegion;
    } else {
      throw new Error(`${key} must be a number or a map of region → number`);
    }
  }
  const latency = input.latencyMs;
  if (typeof latency === 'number') {
    if (!(latency >= 0) || !Number.isFinite(latency)) throw new Error('latencyMs must be a finite number >= 0');
    out.latencyMs = latency;
  } else if (typeof latency === 'object' && latency !== null) {
    const { min, max } = latency as { min?: unknown; max?: unknown };
    if (typeof min !== 'number' || typeof max !== 'number' || !(min >= 0) || !(max >= min) || !Number.isFinite(max)) {
      throw new Error('latencyMs range must be {min, max} with 0 <= min <= max');
    }
    out.latencyMs = { min, max };
  } else if (latency !== undefined) {
    throw new Error('latencyMs must be a number or {min, max}');
  }
  return out;
}

function checkProbability(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new Error(`${name} must be a probability between 0 and 1`);
  return value;
}
