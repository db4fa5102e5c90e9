import type { Command } from 'commander';
import type { SyncSummary } from '../../client/sync-contract';
import { checkRegion } from '../context';
import { EXIT, UsageError } from '../errors';
import { invokeJson } from '../invoke';
import { formatDuration, Progress, table } from '../output';
import type { Runner } from '../runner';

/** The outcome of one region's sync invocation. */
export interface RegionSyncResult {
  readonly region: string;
  readonly summary?: SyncSummary;
  readonly error?: string;
}

/** `ssg sync`. */
export function registerSync(program: Command, runner: Runner): void {
  program
    .command('sync')
    .description('Run the sync function now for one region or every configured region, and show what it did')
    .option('--region <region>', 'sync only this region (default: every configured region, in parallel)')
    .option('--full', 'a full reconciliation (also finds removals) instead of an incremental pass')
    .addHelpText('after', "\nExit code 1 when a region's sync failed or stopped at a checkpoint (it continues on its next run).")
    .action(
      runner.action<{ region?: string; full?: boolean }>(async ({ out, target }, _operands, options) => {
        const only = options.region !== undefined ? checkRegion(options.region, '--region') : undefined;
        const t = await target();
        const configured = await t.regions();
        if (only && !configured.includes(only)) {
          throw new UsageError(`--region must be one of the configured regions ${configured.join(', ')}, got ${JSON.stringify(only)}`);
        }
        const regions = only ? [only] : configured;
        const mode = options.full ? 'full' : 'incremental';
        const functionName = t.output('SyncFunctionName');
        const progress = new Progress(out.stderr);
        const started = Date.now();
        const pending = new Set(regions);
        const timer = setInterval(
          () => progress.update(`${mode} sync running in ${[...pending].join(', ')} (${formatDuration(Date.now() - started)})`, true),
          1000,
        );
        let results: RegionSyncResult[];
        try {
          results = await Promise.all(
            regions.map(async (region): Promise<RegionSyncResult> => {
              try {
                const outcome = await invokeJson<SyncSummary>(
                  t.lambda,
                  functionName,
                  { region, mode },
                  `invoking the sync function ${functionName} for ${region}`,
                );
                return outcome.error !== undefined ? { region, error: outcome.error } : { region, summary: outcome.result };
              } finally {
                pending.delete(region);
              }
            }),
          );
        } finally {
          clearInterval(timer);
          progress.done();
        }

        const problems = results.filter((r) => r.error || !r.summary?.complete);
        if (out.json) out.printJson({ mode, results });
        else {
          out.line(`${mode === 'full' ? 'Full' : 'Incremental'} sync of ${regions.join(', ')}:`);
          const rows = results.map((r) => {
            const s = r.summary;
            if (!s) return [r.region, 'FAILED', '-', '-', '-', '-', '-', '-', r.error ?? ''];
            return [
              r.region,
              s.complete ? 'complete' : s.skipped ? 'skipped' : 'checkpointed',
              String(s.pages),
              String(s.entriesRead),
              String(s.itemsWritten),
              String(s.removals),
              String(s.throttled),
              formatDuration(s.durationMs),
              s.skipped ?? (s.syncedThrough ? `synced through ${s.syncedThrough}${s.fullPassPending ? '; full pass pending' : ''}` : ''),
            ];
          });
          for (const row of table(['region', 'result', 'pages', 'read', 'written', 'removed', 'throttled', 'took', 'note'], rows))
            out.line(row);
        }
        return problems.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}
