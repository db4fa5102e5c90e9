import { GetSuppressedDestinationCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { Command } from 'commander';
import { canonicalAddress } from '../../lambdas/domain/address';
import { suppressionFinding } from '../../lambdas/domain/finding';
import { type AuditEntry, type ManualEntry, type RegionEntry, regionEntries, type SuppressionItem } from '../../lambdas/domain/records';
import { StateTable } from '../../lambdas/domain/state-table';
import { SuppressionTable } from '../../lambdas/domain/suppression-table';
import { caseCandidates, requireAddress } from '../address';
import { EXIT } from '../errors';
import { formatTime, table } from '../output';
import type { Runner } from '../runner';

/** What one region's SES list says right now. */
export interface LiveEntry {
  readonly region: string;
  /** The spelling SES holds, when listed. */
  readonly address?: string;
  readonly reason?: string;
  readonly lastUpdateTime?: string;
  readonly listed: boolean;
  /** Set when SES could not be asked. */
  readonly error?: string;
  /** Spellings tried, in order. */
  readonly tried: readonly string[];
}

/** `ssg lookup`. */
export function registerLookup(program: Command, runner: Runner): void {
  program
    .command('lookup')
    .description('Why an address is suppressed: per-region entries, manual suppression, audit trail')
    .argument('<address>', 'the address (any case)')
    .option('--live', "also ask every region's SES list now, and report where it disagrees with the canonical record")
    .addHelpText('after', '\nExit code 1 when --live finds a disagreement or a region could not be asked.')
    .action(
      runner.action<{ live?: boolean }>(async ({ out, target }, [rawAddress = ''], options) => {
        const given = requireAddress(rawAddress, '<address>', false);
        const key = canonicalAddress(given);
        const t = await target();
        const [item, trail] = await Promise.all([
          new SuppressionTable(t.doc, t.output('SuppressionTableName')).get(key),
          new StateTable(t.doc, t.output('SyncStateTableName')).readAuditTrail(key),
        ]);
        const entries = item ? regionEntries(item) : new Map<string, RegionEntry>();
        const manual = item?.manual;
        const finding = suppressionFinding(item, new Set(['BOUNCE', 'COMPLAINT']));

        let live: LiveEntry[] | undefined;
        let disagreements: string[] = [];
        if (options.live) {
          const regions = await t.regions();
          live = await Promise.all(
            regions.map((region) => liveEntry(t.ses(region), region, caseCandidates(entries.get(region)?.address, given))),
          );
          disagreements = compare(entries, live);
        }

        if (out.json) {
          out.printJson({
            address: key,
            suppressed: finding !== undefined,
            reason: finding?.reason ?? null,
            suppressedBy: finding?.regions ?? [],
            since: finding?.since ?? null,
            record: item ?? null,
            auditTrail: trail,
            ...(live ? { live, disagreements } : {}),
          });
        } else {
          printLookup(out.line, key, item, entries, manual, finding, trail);
          if (live) printLive(out.line, live, disagreements);
        }
        return disagreements.length > 0 || live?.some((l) => l.error) ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

async function liveEntry(ses: SESv2Client, region: string, candidates: string[]): Promise<LiveEntry> {
  const tried: string[] = [];
  for (const candidate of candidates) {
    tried.push(candidate);
    try {
      const out = await ses.send(new GetSuppressedDestinationCommand({ EmailAddress: candidate }));
      const d = out.SuppressedDestination;
      return {
        region,
        listed: true,
        address: d?.EmailAddress ?? candidate,
        reason: d?.Reason,
        lastUpdateTime: d?.LastUpdateTime?.toISOString(),
        tried,
      };
    } catch (error) {
      if ((error as Error).name === 'NotFoundException') continue;
      return { region, listed: false, error: `${(error as Error).name}: ${(error as Error).message}`, tried };
    }
  }
  return { region, listed: false, tried };
}

/** Where the canonical record and SES disagree, one sentence each. */
function compare(entries: Map<string, RegionEntry>, live: readonly LiveEntry[]): string[] {
  const found: string[] = [];
  for (const l of live) {
    if (l.error) continue;
    const entry = entries.get(l.region);
    const canonicalListed = entry?.status === 'LISTED';
    if (canonicalListed && !l.listed) {
      found.push(
        `${l.region}: the canonical record lists it (${entry.reason}, as ${entry.address}) but SES does not hold it now (removed since the last sync?)`,
      );
    } else if (!canonicalListed && l.listed) {
      found.push(
        `${l.region}: SES lists it now (${l.reason}, as ${l.address}) but the canonical record ${entry ? 'marks it REMOVED' : 'has no entry'} (not synced yet?)`,
      );
    } else if (canonicalListed && l.listed && entry) {
      if (entry.reason !== l.reason) found.push(`${l.region}: reason differs: canonical ${entry.reason}, SES ${l.reason}`);
      if (entry.address !== l.address) found.push(`${l.region}: SES holds it as ${l.address}, the canonical record has ${entry.address}`);
    }
  }
  return found;
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

function summarizeDetails(entry: AuditEntry): string {
  const d = entry.details ?? {};
  const parts: string[] = [];
  if (Array.isArray(d.removedFrom) && d.removedFrom.length) parts.push(`removed from ${d.removedFrom.join(', ')}`);
  if (Array.isArray(d.failed) && d.failed.length)
    parts.push(`SES refused in ${(d.failed as Array<{ region: string }>).map((f) => f.region).join(', ')}`);
  if (typeof d.source === 'string') parts.push(`source ${d.source}`);
  return parts.length ? `  (${parts.join('; ')})` : '';
}

function printLive(line: Line, live: readonly LiveEntry[], disagreements: readonly string[]): void {
  line('Live (each region’s SES list now):');
  const rows = live.map((l) => [
    l.region,
    l.error ? 'ERROR' : l.listed ? 'LISTED' : 'not listed',
    l.listed ? `${l.reason} since ${l.lastUpdateTime ?? '?'} as ${l.address}` : (l.error ?? `tried ${l.tried.join(', ')}`),
  ]);
  for (const row of table(['region', 'SES now', 'detail'], rows)) line(row);
  if (disagreements.length === 0) line('Live SES agrees with the canonical record.');
  else {
    line(`Disagreements (${disagreements.length}):`);
    for (const d of disagreements) line(`  ${d}`);
    line('  A sync brings the canonical record up to date: ssg sync --full');
  }
}
