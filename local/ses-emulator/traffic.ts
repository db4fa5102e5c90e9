import { SesError } from './errors';
import { type FaultConfig, type ForcedFailureKind, rateFor, validateFaultConfig } from './faults';
import { deriveRandom, type Random } from './random';
import { TokenBucket } from './token-bucket';

/** Counters for one operation in one region. */
export interface OperationStats {
  requests: number;
  /** Responses with 429 (injected or rate-limited). */
  throttled: number;
  /** Responses with 5xx. */
  serverErrors: number;
  /** Other 4xx responses (validation, not found, ...). */
  clientErrors: number;
}

/** Request counters per region per operation, plus totals. */
export interface EmulatorStats {
  regions: Record<string, Record<string, OperationStats>>;
  totals: OperationStats;
}

/** What the traffic controller decided for one request. */
export interface TrafficDecision {
  delayMs: number;
  failure?: SesError;
}

interface RegionTraffic {
  /** One bucket per operation: SES documents its management limits per operation ("no more than once per second"). */
  buckets: Map<string, TokenBucket>;
  random: Random;
  forced: ForcedFailureKind[];
}

/** Per-region rate limiting, seeded fault injection and request statistics. */
export class TrafficController {
  private readonly perRegion = new Map<string, RegionTraffic>();
  private readonly counters = new Map<string, Map<string, OperationStats>>();
  private faults: FaultConfig;

  constructor(
    private readonly seed: number,
    private readonly now: () => number,
    private rps: number,
    faults: FaultConfig = {},
  ) {
    this.faults = validateFaultConfig(faults);
  }

  /** Replaces the fault configuration. */
  setFaults(faults: FaultConfig): void {
    this.faults = validateFaultConfig(faults);
  }

  /** Current fault configuration. */
  getFaults(): FaultConfig {
    return structuredClone(this.faults);
  }

  /** Changes the per-region request rate; buckets restart full. */
  setRequestsPerSecond(rps: number): void {
    if (typeof rps !== 'number' || Number.isNaN(rps) || rps < 0)
      throw new Error('requestsPerSecond must be a number >= 0 (0 or Infinity = unlimited)');
    this.rps = rps;
    for (const t of this.perRegion.values()) t.buckets.clear();
  }

  /** Current per-region request rate. */
  get requestsPerSecond(): number {
    return this.rps;
  }

  /** Forces the next `count` SES requests of `region` to fail with `kind`, ahead of any random faults. */
  failNext(region: string, count: number, kind: ForcedFailureKind): void {
    if (!Number.isInteger(count) || count < 0) throw new Error('count must be an integer >= 0');
    if (kind !== 'throttle' && kind !== 'serverError') throw new Error('kind must be "throttle" or "serverError"');
    const t = this.traffic(region);
    for (let i = 0; i < count; i++) t.forced.push(kind);
  }

  /** Decides latency and failure for one SES request of `operation` in `region`. */
  decide(region: string, operation: string): TrafficDecision {
    const t = this.traffic(region);
    let bucket = t.buckets.get(operation);
    if (!bucket) {
      bucket = new TokenBucket(this.rps, this.now());
      t.buckets.set(operation, bucket);
    }
    // Every request makes the same draws whatever the outcome, so the fault sequence for a given seed does not
    // shift when the (wall-clock dependent) token bucket happens to throttle a different request.
    const latency = this.faults.latencyMs;
    const latencyDraw = t.random();
    const throttleDraw = t.random();
    const serverErrorDraw = t.random();
    const delayMs =
      latency === undefined
        ? 0
        : typeof latency === 'number'
          ? latency
          : Math.round(latency.min + latencyDraw * (latency.max - latency.min));

    const forced = t.forced.shift();
    if (forced === 'throttle') return { delayMs, failure: throttled() };
    if (forced === 'serverError') return { delayMs, failure: serverError() };
    if (throttleDraw < rateFor(this.faults.throttleRate, region)) return { delayMs, failure: throttled() };
    if (!bucket.tryTake(this.now())) return { delayMs, failure: throttled() };
    if (serverErrorDraw < rateFor(this.faults.serverErrorRate, region)) return { delayMs, failure: serverError() };
    return { delayMs };
  }

  /** Records the outcome of one request. */
  record(region: string, operation: string, status: number): void {
    let byOp = this.counters.get(region);
    if (!byOp) {
      byOp = new Map();
      this.counters.set(region, byOp);
    }
    let s = byOp.get(operation);
    if (!s) {
      s = { requests: 0, throttled: 0, serverErrors: 0, clientErrors: 0 };
      byOp.set(operation, s);
    }
    s.requests++;
    if (status === 429) s.throttled++;
    else if (status >= 500) s.serverErrors++;
    else if (status >= 400) s.clientErrors++;
  }

  /** Snapshot of the counters. */
  stats(): EmulatorStats {
    const totals: OperationStats = { requests: 0, throttled: 0, serverErrors: 0, clientErrors: 0 };
    const regions: EmulatorStats['regions'] = {};
    for (const [region, byOp] of this.counters) {
      const out: Record<string, OperationStats> = {};
      for (const [op, s] of byOp) {
        out[op] = { ...s };
        totals.requests += s.requests;
        totals.throttled += s.throttled;
        totals.serverErrors += s.serverErrors;
        totals.clientErrors += s.clientErrors;
      }
      regions[region] = out;
    }
    return { regions, totals };
  }

  /** Zeroes the counters. */
  resetStats(): void {
    this.counters.clear();
  }

  /** Forgets buckets, PRNG streams and forced failures, so a reset emulator replays the same fault sequence. */
  reset(): void {
    this.perRegion.clear();
    this.counters.clear();
  }

  private traffic(region: string): RegionTraffic {
    let t = this.perRegion.get(region);
    if (!t) {
      // Independent stream per region: parallel per-region workers see the same faults whatever the interleaving.
      t = { buckets: new Map(), random: deriveRandom(this.seed, `faults:${region}`), forced: [] };
      this.perRegion.set(region, t);
    }
    return t;
  }
}

function throttled(): SesError {
  return new SesError('TooManyRequestsException', 'Too many requests have been made to the operation.');
}

function serverError(): SesError {
  return new SesError(
    'InternalServiceErrorException',
    'The request couldn’t be processed because an error occurred with the Amazon SES API v2.',
  );
}
