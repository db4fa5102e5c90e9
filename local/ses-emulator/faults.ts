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
