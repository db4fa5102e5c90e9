/**
 * The sync function's public contract: the event a schedule (or `ssg sync`) invokes it with and the summary it
 * returns. The summary is also kept on the region's sync state item as `lastSummary`.
 */

/** Which pass a sync invocation works on. */
export type SyncMode = 'incremental' | 'full';

/** The invocation event of a propagation run: `{"region": "us-east-1", "mode": "propagate", "dryRun"?: true}`. */
export interface PropagationEvent {
  readonly region: string;
  readonly mode: 'propagate';
  /** Compute and report what would change, write nothing (as the `report` setting). @default false */
  readonly dryRun?: boolean;
  /**
   * Converge only these addresses (at most {@link MAX_TARGETED_ADDRESSES}), one SES call each, without scanning the
   * table or touching the checkpoint of a full run: what event ingestion asks for when a bounce or complaint gives an
   * address a new origin. @default every address (a full run)
   */
  readonly addresses?: readonly string[];
}

/** The most addresses one targeted propagation invocation takes. */
export const MAX_TARGETED_ADDRESSES = 500;

/** Summary of one propagation run into a region (returned by a `propagate` invocation, and within a sync's summary). */
export interface PropagationSummary {
  readonly region: string;
  readonly mode: 'propagate';
  /** `enforce` wrote into the region's SES list; `report` (the setting, or a dry run) only computed. */
  readonly propagation: 'enforce' | 'report';
  /** True when the run went through the whole table and delivered (or handed to SES) every change. */
  readonly complete: boolean;
  readonly runId?: string;
  /** Set when the run did no work, with the reason. */
  readonly skipped?: string;
  /**
   * Addresses a targeted run found the region's lease taken for and handed to the holder, which propagates them
   * before it gives the lease back (then `skipped` says so).
   */
  readonly queued?: number;
  /** Addresses this run took from that queue and propagated, on top of its own work (counted in the figures). */
  readonly fromQueue?: number;
  /** Canonical items read. */
  readonly scanned: number;
  /** Copies put on the list by one call each. */
  readonly added: number;
  /** Copies removed from the list because no origin is left. */
  readonly withdrawn: number;
  /** Wanted addresses the list already holds (SES's own entries and our settled copies). */
  readonly alreadyListed: number;
  /** Copies on their way in or out with an import job SES is processing (including the jobs of this run). */
  readonly pending: number;
  /** Copies whose import job completed, recorded as added by this run. */
  readonly confirmed: number;
  /** Copies SES refused (reported; retried by later runs up to a limit). */
  readonly failed: number;
  /** Import jobs this run handed to SES. */
  readonly importJobs: number;
  /** Import jobs SES reported FAILED, or completed with failed records, seen by this run. */
  readonly importJobsFailed: number;
  /** Import jobs SES is still processing after this run. */
  readonly jobsInFlight: number;
  /** After the run: addresses wanted but not on the list, and copies of ours no longer wanted. */
  readonly drift: { readonly missing: number; readonly extra: number };
  readonly durationMs: number;
}

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
  /** The propagation into the region that ran after the completed pass, in the same invocation. */
  readonly propagation?: PropagationSummary;
}
