/**
 * The sync function's public contract: the event a schedule (or `ssg sync`) invokes it with and the summary it
 * returns. The summary is also kept on the region's sync state item as `lastSummary`.
 */

/** Which pass a sync invocation works on. */
export type SyncMode = 'incremental' | 'full';

/** The invocation event: `{"region": "us-east-1", "mode": "incremental" | "full"}`; mode defaults to incremental. */
export interface SyncEvent {
  /** One of the configured regions (the function's `SYNC_REGIONS`). */
  readonly region: string;
  /** @default 'incremental' */
  readonly mode?: SyncMode;
}

/** Summary of one sync invocation, returned by the function and kept on the state item. */
export interface SyncSummary {
  readonly region: string;
  readonly mode: SyncMode;
  readonly complete: boolean;
  readonly pages: number;
  readonly entriesRead: number;
  readonly itemsWritten: number;
  readonly removals: number;
  readonly throttled: number;
  readonly restarts: number;
  readonly durationMs: number;
  readonly passId?: string;
  /** Set when the invocation did no work, with the reason. */
  readonly skipped?: string;
  /** True while a full reconciliation is still in progress for the region. */
  readonly fullPassPending: boolean;
  /** Every SES entry updated before this time is in the canonical table (ISO-8601). */
  readonly syncedThrough?: string;
}
