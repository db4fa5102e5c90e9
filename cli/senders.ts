import type { CounterName, SenderDayCounters } from '../lambdas/domain/records';

/**
 * What `ssg senders` computes from the attribution counters: per (region, sender identity, caller identity, source
 * IP, configuration set), the counters summed over the days read, the bounce and complaint rates, and how each rate
 * compares with the thresholds SES applies to an account's reputation.
 */

/** SES's reputation thresholds: at `review` SES may review the account, at `atRisk` it may pause its sending. */
export const THRESHOLDS = {
  bounce: { review: 0.05, atRisk: 0.1 },
  complaint: { review: 0.001, atRisk: 0.005 },
} as const;

/** How a rate compares with its thresholds; `no sends` when there is no denominator. */
export type Level = 'ok' | 'review' | 'at risk' | 'no sends';

const SEVERITY: Record<Level, number> = { 'at risk': 3, review: 2, ok: 0, 'no sends': 1 };

/** The counters of one sender over the days read, with its rates. */
export interface SenderReport {
  readonly region: string;
  readonly sender: string;
  readonly callerIdentity: string | null;
  readonly sourceIp: string | null;
  readonly configurationSet: string | null;
  /** Days with counters, oldest first. */
  readonly days: readonly string[];
  readonly sends: number;
  readonly deliveries: number;
  readonly rejects: number;
  readonly permanentBounces: number;
  readonly transientBounces: number;
  readonly complaints: number;
  readonly sendsToSuppressed: number;
  readonly suppressedComplaints: number;
  /** permanentBounces ÷ sends; null without sends. */
  readonly bounceRate: number | null;
  /** complaints ÷ sends; null without sends. */
  readonly complaintRate: number | null;
  readonly bounceLevel: Level;
  readonly complaintLevel: Level;
}

/** Which counters to report on. */
export interface SenderFilter {
  /** A sender identity (domain or address), compared case-insensitively; a domain also matches addresses at it. */
  readonly identity?: string;
  readonly region?: string;
}

/** True when the sender identity `sender` is `identity`, or an address at the domain `identity`. */
export function matchesIdentity(sender: string, identity: string): boolean {
  const s = sender.toLowerCase();
  const i = identity.trim().toLowerCase();
  return s === i || (!i.includes('@') && s.endsWith(`@${i}`));
}

/** How `rate` compares with `thresholds`. */
export function level(rate: number | null, thresholds: { readonly review: number; readonly atRisk: number }): Level {
  if (rate === null) return 'no sends';
  if (rate >= thresholds.atRisk) return 'at risk';
  if (rate >= thresholds.review) return 'review';
  return 'ok';
}

const SUMMED: readonly CounterName[] = [
  'sends',
  'deliveries',
  'rejects',
  'permanentBounces',
  'transientBounces',
  'complaints',
  'sendsToSuppressed',
  'suppressedComplaints',
];

/** Sums the counters per (region, sender, caller, source IP, configuration set) and sorts them worst first. */
export function aggregateSenders(counters: readonly SenderDayCounters[], filter: SenderFilter = {}): SenderReport[] {
  const groups = new Map<string, { key: SenderDayCounters; days: Set<string>; sums: Record<CounterName, number> }>();
  for (const c of counters) {
    if (filter.region !== undefined && c.region !== filter.region) continue;
    if (filter.identity !== undefined && !matchesIdentity(c.sender, filter.identity)) continue;
    const id = JSON.stringify([c.region, c.sender, c.callerIdentity ?? null, c.sourceIp ?? null, c.configurationSet ?? null]);
    let group = groups.get(id);
    if (!group) {
      group = { key: c, days: new Set(), sums: Object.fromEntries(SUMMED.map((n) => [n, 0])) as Record<CounterName, number> };
      groups.set(id, group);
    }
    group.days.add(c.day);
    for (const name of SUMMED) group.sums[name] += c.counts[name];
  }
  const reports = [...groups.values()].map(({ key, days, sums }): SenderReport => {
    const bounceRate = sums.sends > 0 ? sums.permanentBounces / sums.sends : null;
    const complaintRate = sums.sends > 0 ? sums.complaints / sums.sends : null;
    return {
      region: key.region,
      sender: key.sender,
      callerIdentity: key.callerIdentity ?? null,
      sourceIp: key.sourceIp ?? null,
      configurationSet: key.configurationSet ?? null,
      days: [...days].sort(),
      ...sums,
      bounceRate,
      complaintRate,
      bounceLevel: level(bounceRate, THRESHOLDS.bounce),
      complaintLevel: level(complaintRate, THRESHOLDS.complaint),
    };
  });
  return reports.sort(compareWorstFirst);
}

/** The worse of a report's two levels. */
export function worstLevel(r: Pick<SenderReport, 'bounceLevel' | 'complaintLevel'>): Level {
  return SEVERITY[r.bounceLevel] >= SEVERITY[r.complaintLevel] ? r.bounceLevel : r.complaintLevel;
}

/** How far a report is towards its "at risk" thresholds (the larger of its rates, each over its threshold). */
function pressure(r: SenderReport): number {
  return Math.max((r.bounceRate ?? 0) / THRESHOLDS.bounce.atRisk, (r.complaintRate ?? 0) / THRESHOLDS.complaint.atRisk);
}

/** Worst level first, then the higher rate (relative to its threshold), then more sends to suppressed addresses, then more sends. */
function compareWorstFirst(a: SenderReport, b: SenderReport): number {
  return (
    SEVERITY[worstLevel(b)] - SEVERITY[worstLevel(a)] ||
    pressure(b) - pressure(a) ||
    b.sendsToSuppressed - a.sendsToSuppressed ||
    b.sends - a.sends ||
    a.region.localeCompare(b.region) ||
    a.sender.localeCompare(b.sender)
  );
}

/** The callers that mailed suppressed addresses, most such sends first. */
export function callersMailingSuppressed(reports: readonly SenderReport[]): SenderReport[] {
  return reports.filter((r) => r.sendsToSuppressed > 0).sort((a, b) => b.sendsToSuppressed - a.sendsToSuppressed || b.sends - a.sends);
}

/** The last `n` UTC days up to and including the day of `now`, oldest first, as `YYYY-MM-DD`. */
export function lastDays(n: number, now: number): string[] {
  const days: string[] = [];
  for (let i = n - 1; i >= 0; i--) days.push(new Date(now - i * 86_400_000).toISOString().slice(0, 10));
  return days;
}

/** A rate as a percentage with enough digits to compare with 0.1%: `2.50%`, `0.125%`, `-` without sends. */
export function formatRate(rate: number | null): string {
  if (rate === null) return '-';
  const percent = rate * 100;
  return `${percent < 1 && percent > 0 ? percent.toFixed(3) : percent.toFixed(2)}%`;
}

/** One region's totals over every sender, for `ssg status`. */
export interface RegionEventTotals {
  readonly region: string;
  readonly sends: number;
  readonly deliveries: number;
  readonly permanentBounces: number;
  readonly complaints: number;
  readonly sendsToSuppressed: number;
  readonly bounceRate: number | null;
  readonly complaintRate: number | null;
  readonly bounceLevel: Level;
  readonly complaintLevel: Level;
}

/** The counters summed per region (every sender), in the order of `regions`; a region without events has zeros. */
export function regionEventTotals(counters: readonly SenderDayCounters[], regions: readonly string[]): RegionEventTotals[] {
  return regions.map((region) => {
    const sum = (name: CounterName) => counters.reduce((n, c) => (c.region === region ? n + c.counts[name] : n), 0);
    const sends = sum('sends');
    const permanentBounces = sum('permanentBounces');
    const complaints = sum('complaints');
    const bounceRate = sends > 0 ? permanentBounces / sends : null;
    const complaintRate = sends > 0 ? complaints / sends : null;
    return {
      region,
      sends,
      deliveries: sum('deliveries'),
      permanentBounces,
      complaints,
      sendsToSuppressed: sum('sendsToSuppressed'),
      bounceRate,
      complaintRate,
      bounceLevel: level(bounceRate, THRESHOLDS.bounce),
      complaintLevel: level(complaintRate, THRESHOLDS.complaint),
    };
  });
}
