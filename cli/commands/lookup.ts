import type { Command } from 'commander';
import { canonicalAddress } from '../../lambdas/domain/address';
import { suppressionFinding } from '../../lambdas/domain/finding';
import {
  type AuditEntry,
  type ManualEntry,
  type PropagatedEntry,
  propagatedAttribute,
  type RegionEntry,
  regionEntries,
  type SuppressionItem,
} from '../../lambdas/domain/records';
import { StateTable } from '../../lambdas/domain/state-table';
import { SuppressionTable } from '../../lambdas/domain/suppression-table';
import { caseCandidates, requireAddress } from '../address';
import { EXIT, UsageError } from '../errors';
import { compareLive, DEFAULT_LIST_LIMIT, type LiveEntry, liveEntry } from '../live-ses';
import { formatTime, table } from '../output';
import { describeCopy, type Provenance, provenance } from '../provenance';
import type { Runner } from '../runner';

/** `ssg lookup`. */
export function registerLookup(program: Command, runner: Runner): void {
  program
    .command('lookup')
    .description(
      "Why an address is suppressed: its origins, who put it on each region's list (SES itself or propagation), what propagation does next, manual suppression, audit trail",
    )
    .argument('<address>', 'the address (any case)')
    .option('--live', "also ask every region's SES list now, and report where it disagrees with the canonical record")
    .option(
      '--list-limit <entries>',
      `with --live: the most entries of each region's list to read looking for other spellings (default ${DEFAULT_LIST_LIMIT})`,
    )
    .addHelpText(
      'after',
      '\nSES keys its list by the exact address and cannot filter a listing by address: --live asks for the recorded,\n' +
        "the given and the lower-case spelling, then reads each region's whole list (up to --list-limit entries) for any\n" +
        'other spelling. Where the limit stops it, the answer is "could not be sure", never agreement.\n' +
        'Exit code 1 when --live finds a disagreement, could not be sure, or a region could not be asked.',
    )
    .action(
      runner.action<{ live?: boolean; listLimit?: string }>(async ({ out, target }, [rawAddress = ''], options) => {
        const given = requireAddress(rawAddress, '<address>', false);
        const listLimit = options.listLimit !== undefined ? parseListLimit(options.listLimit) : DEFAULT_LIST_LIMIT;
        if (options.listLimit !== undefined && !options.live) throw new UsageError('--list-limit applies to --live only');
        const key = canonicalAddress(given);
        const t = await target();
        const state = new StateTable(t.doc, t.output('SyncStateTableName'));
        const [item, trail, regions, settings] = await Promise.all([
          new SuppressionTable(t.doc, t.output('SuppressionTableName')).get(key),
          state.readAuditTrail(key),
          t.regions(),
          t.propagation(),
        ]);
        // Only the regions whose copy names an import job need their job records.
        const jobRegions = regions.filter((region) => item?.[propagatedAttribute(region)]?.job !== undefined);
        const jobs = new Map(await Promise.all(jobRegions.map(async (region) => [region, await state.listJobs(region)] as const)));
        const origin = provenance(item, regions, jobs, settings?.regions);
        const entries = item ? regionEntries(item) : new Map<string, RegionEntry>();
        const manual = item?.manual;
        const finding = suppressionFinding(item, new Set(['BOUNCE', 'COMPLAINT']));

        let live: LiveEntry[] | undefined;
        let disagreements: string[] = [];
        let uncertain: string[] = [];
        if (options.live) {
          const regions = await t.regions();
          live = await Promise.all(
            regions.map((region) => liveEntry(t.ses(region), region, key, caseCandidates(entries.get(region)?.address, given), listLimit)),
          );
          const copies = new Map<string, PropagatedEntry>();
          for (const region of regions) {
            const copy = item?.[propagatedAttribute(region)];
            if (copy) copies.set(region, copy);
          }
          ({ disagreements, uncertain } = compareLive(entries, live, copies));
        }

        if (out.json) {
          out.printJson({
            address: key,
            suppressed: finding !== undefined,
            reason: finding?.reason ?? null,
            suppressedBy: finding?.regions ?? [],
            since: finding?.since ?? null,
            origins: origin.origins,
            wantedReason: origin.wantedReason,
            regions: origin.regions,
            propagation: settings ? { mode: settings.mode, propagateTo: settings.regions } : null,
            record: item ?? null,
            auditTrail: trail,
            ...(live ? { live, disagreements, uncertain } : {}),
          });
        } else {
          printLookup(out.line, key, item, entries, manual, finding, trail, origin, settings?.mode);
          if (live) printLive(out.line, live, disagreements, uncertain);
        }
        return disagreements.length > 0 || uncertain.length > 0 || live?.some((l) => l.error) ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

type Line = (text?: string) => void;

function printLookup(
  line: Line,
  key: string,
  item: SuppressionItem | undefined,
  entries: Map<string, RegionEntry>,
  manual: ManualEntry | undefined,
  finding: ReturnType<typeof suppressionFinding>,
  trail: readonly AuditEntry[],
  origin: Provenance,
  mode: string | undefined,
): void {
  if (!item) {
    line(`${key}: not suppressed (no canonical record)`);
  } else {
    line(
      finding
        ? `${key}: SUPPRESSED (${finding.reason}) by ${finding.regions.join(', ')} since ${finding.since}`
        : `${key}: not suppressed (no region lists it and no manual suppression is in force)`,
    );
    line(
      `  origin ${String(item.origin ?? '-')}, first seen ${String(item.firstSeen ?? '-')}, last updated ${String(item.lastUpdated ?? '-')}`,
    );
    if (entries.size > 0) {
      const rows = [...entries]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([region, e]) => [
          region,
          e.status,
          e.reason,
          formatTime(e.lastUpdateTime),
          e.address,
          e.status === 'REMOVED' ? `removed ${e.removedAt ?? '?'}` : `synced ${e.syncedAt}`,
        ]);
      for (const row of table(['region', 'status', 'reason', 'since', 'SES address', 'sync'], rows)) line(row);
    } else {
      line('  no region has listed it');
    }
    line(
      manual
        ? `  manual: ${manual.status} ${manual.reason} at ${manual.at} by ${manual.by}${manual.note ? ` (note: ${manual.note})` : ''}`
        : '  manual: none',
    );
  }
  for (const text of formatProvenance(origin, mode)) line(text);
  if (trail.length > 0) {
    line('Audit trail:');
    for (const entry of trail) {
      line(
        `  ${entry.at}  ${entry.action.padEnd(10)} by ${entry.by}  why: ${entry.reason}${entry.note ? `  note: ${entry.note}` : ''}${summarizeDetails(entry)}`,
      );
    }
  } else {
    line('Audit trail: no manual changes');
  }
}

/** The origins of an address, who holds it in each region's list, and what propagation does next there. */
export function formatProvenance(origin: Provenance, mode: string | undefined): string[] {
  const lines = [
    origin.origins.length > 0
      ? `Origins: ${origin.origins.map((o) => `${o.source} (${o.reason})`).join(', ')}; every region's list should hold it as ${origin.wantedReason}`
      : 'Origins: none (no region lists it on its own and no manual suppression is in force)',
  ];
  const rows = origin.regions.map((r) => [
    r.region,
    r.listedBy === 'ses'
      ? `on its own (origin) as ${r.entry?.address ?? '?'}`
      : r.listedBy === 'propagation' && r.propagated
        ? `propagated by us: ${describeCopy(r.propagated, r.job)}`
        : r.propagated
          ? `not listed; our copy ${describeCopy(r.propagated, r.job)}`
          : 'not listed',
    r.next ? `${mode === 'report' ? '(report only) ' : ''}${r.next.description}` : 'not propagated into',
  ]);
  lines.push(...table(['region', "region's SES list", 'propagation next'], rows));
  return lines;
}

function summarizeDetails(entry: AuditEntry): string {
  const d = entry.details ?? {};
  const parts: string[] = [];
  if (Array.isArray(d.removedFrom) && d.removedFrom.length) parts.push(`removed from ${d.removedFrom.join(', ')}`);
  if (Array.isArray(d.failed) && d.failed.length)
    parts.push(`SES refused in ${(d.failed as Array<{ region: string }>).map((f) => f.region).join(', ')}`);
  if (typeof d.source === 'string') parts.push(`source ${d.source}`);
  return parts.length ? `  (${parts.join('; ')})` : '';
}

function printLive(line: Line, live: readonly LiveEntry[], disagreements: readonly string[], uncertain: readonly string[]): void {
  line('Live (each region’s SES list now):');
  const rows: string[][] = [];
  for (const l of live) {
    const unsure = l.complete ? '' : '; other spellings not ruled out';
    if (l.error) rows.push([l.region, 'ERROR', l.error]);
    else if (!l.listed)
      rows.push([l.region, l.complete ? 'not listed' : 'UNSURE', `tried ${l.tried.join(', ')}; read ${l.read} entries${unsure}`]);
    else
      l.spellings.forEach((s, i) => {
        rows.push([
          i === 0 ? l.region : '',
          i === 0 ? 'LISTED' : '',
          `${s.reason} since ${s.lastUpdateTime ?? '?'} as ${s.address}${unsure}`,
        ]);
      });
  }
  for (const row of table(['region', 'SES now', 'detail'], rows)) line(row);
  if (disagreements.length > 0) {
    line(`Disagreements (${disagreements.length}):`);
    for (const d of disagreements) line(`  ${d}`);
    line('  A sync brings the canonical record up to date: ssg sync --full');
  }
  if (uncertain.length > 0) {
    line(
      `Could not be sure in ${live
        .filter((l) => !l.error && !l.complete)
        .map((l) => l.region)
        .join(', ')}:`,
    );
    for (const u of uncertain) line(`  ${u}`);
    line('  Raise --list-limit to read more of the list.');
  }
  if (disagreements.length === 0 && uncertain.length === 0 && !live.some((l) => l.error))
    line('Live SES agrees with the canonical record.');
}

/** Parses `--list-limit`. */
function parseListLimit(raw: string): number {
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1 || value > 10_000_000)
    throw new UsageError(`--list-limit must be a whole number of entries from 1 to 10000000, got ${JSON.stringify(raw.slice(0, 40))}`);
  return value;
}
