/**
 * Whether one more step of a loop (a listing page, a sweep page, a Query page) fits before an invocation's deadline.
 *
 * Checking `remaining < margin` before a step protects the deadline only while every step is shorter than the margin.
 * A step whose duration depends on something else (a Scan page of a large table on a loaded DynamoDB, an SES call
 * with backoff) can be longer: at 1,000,000 entries one Scan page of DynamoDB Local took longer than the sync's 20 s
 * margin, and the invocation was killed at its timeout. So a step is started only while the time left exceeds the
 * margin plus `factor` times the slowest step of the same loop seen in this invocation: the margin stays for what
 * follows the loop (the checkpoint, the final writes), and the steps' own cost is learned, not assumed.
 *
 * Durations are read from `remainingMs` itself (the time left before the step less the time left after it), so a step
 * is measured on the same clock as the deadline: Lambda's `getRemainingTimeInMillis`, or a test's virtual clock.
 * The first step of a loop has no measurement yet; each loop bounds its steps (a Scan `Limit`, a page size) so that
 * one is short by construction.
 */
export class StepBudget {
  private slowest = 0;

  constructor(
    private readonly remainingMs: () => number,
    private readonly marginMs: number,
    /** Headroom over the slowest step seen: a step may take this many times the slowest one so far. */
    private readonly factor = STEP_HEADROOM,
  ) {}

  /** The slowest step measured so far (ms). */
  get slowestMs(): number {
    return this.slowest;
  }

  /** True while one more step (as slow as `factor` × the slowest so far) still ends before the margin. */
  hasRoom(): boolean {
    return this.remainingMs() >= this.marginMs + this.factor * this.slowest;
  }

  /** Runs one step and records its duration. */
  async time<T>(step: () => Promise<T>): Promise<T> {
    const before = this.remainingMs();
    try {
      return await step();
    } finally {
      this.record(before - this.remainingMs());
    }
  }

  /** Records a step's duration (ms), measured by the caller. */
  record(ms: number): void {
    if (ms > this.slowest) this.slowest = ms;
  }
}

/**
 * Headroom over the slowest step seen. Under the shared machine's load the same 1 MB Scan page of DynamoDB Local took
 * 9–12 s, and pages of a growing table get slower as the scan goes on; twice the slowest covers that spread, and the
 * margin itself still lies behind it.
 */
export const STEP_HEADROOM = 2;
