import type { Command } from 'commander';
import type { PropagationSummary } from '../../client/sync-contract';
import { checkRegion } from '../context';
import { CliError, EXIT, UsageError } from '../errors';
import { invokeJson } from '../invoke';
import { formatDuration, Progress, table } from '../output';
import type { Runner } from '../runner';

/** The outcome of one region's propagation invocation. */
export interface RegionPropagationResult {
  readonly region: string;
  readonly summary?: PropagationSummary;
  /** The error the function ended with. */
  readonly error?: string;
  /** True when the function refused the region: propagation does not write into it (or is off). */
  readonly refused?: boolean;
}

/** How the function says it does not propagate into a region (see the sync function's handler). */
const REFUSAL = /is not one of the regions propagation writes into|propagation is off/;

/** `ssg propagate`. */
export function registerPropagate(program: Command, runner: Runner): void {
  program
    .command('propagate')
    .description("Run propagation now: make each region's SES list hold every address suppressed anywhere, and show what it did")
    .option(
      '--region <region>',
      'propagate only into this region; repeat it (or give a comma-separated list) for several (default: every region the stack propagates into, in parallel)',
      (value: string, previous: string[]) => [...previous, ...value.split(',')],
      [] as string[],
    )
    .option('--dry-run', 'compute and report what would change (drift), write nothing')
    .addHelpText(
      'after',
      '\nColumns: added and withdrawn by one call each, already listed (by SES on its own, or our settled copy), pending\n' +
        '(in an import job SES is processing), import jobs handed to SES, drift after the run (missing: wanted but not\n' +
        'listed; extra: our copies no longer wanted), copies SES refused. A dry run reports as drift what a run would change.\n' +
        "Exit code 1 when a region's run failed, was refused, was skipped (another sync or propagation holds the region),\n" +
        'stopped at a checkpoint (it continues on its next run), SES refused copies or import jobs failed; with --dry-run,\n' +
        'also when any drift is found.',
    )
    .action(
      runner.action<{ region: string[]; dryRun?: boolean }>(async ({ out, target }, _operands, options) => {
        const asked = [...new Set(options.region.map((r) => checkRegion(r, '--region')))];
        const dryRun = Boolean(options.dryRun);
        const t = await target();
        const configured = await t.regions();
        const settings = await t.propagation();
        const unknown = asked.filter((r) => !configured.includes(r));
        if (unknown.length > 0) {
          throw new UsageError(
            `--region must be one of the configured regions ${configured.join(', ')}, got ${JSON.stringify(unknown[0])}`,
          );
        }
        if (settings?.mode === 'off') {
          throw new CliError(`propagation is off in ${t.description} (setting "propagation"); nothing to do`, EXIT.PROBLEMS);
        }
        if (settings) {
          const outside = asked.filter((r) => !settings.regions.includes(r));
          if (outside.length > 0) {
            throw new UsageError(
              `--region ${outside.join(', ')}: propagation does not write into it (setting "propagateTo": ${settings.regions.join(', ') || 'none'})`,
            );
          }
        }
        const regions = asked.length > 0 ? asked : settings ? configured.filter((r) => settings.regions.includes(r)) : configured;
        if (regions.length === 0) throw new CliError(`${t.description} propagates into none of ${configured.join(', ')}`, EXIT.PROBLEMS);
        // The same function as the sync; a stack deployed before the propagation output has only the sync's.
        const functionName = t.optionalOutput('PropagationFunctionName') ?? t.output('SyncFunctionName');

        const progress = new Progress(out.stderr);
        const started = Date.now();
        const running = new Set(regions);
        const timer = setInterval(
          () => progress.update(`propagation running in ${[...running].join(', ')} (${formatDuration(Date.now() - started)})`, true),
          1000,
        );
        let results: RegionPropagationResult[];
        try {
          results = await Promise.all(
            regions.map(async (region): Promise<RegionPropagationResult> => {
              try {
                const outcome = await invokeJson<PropagationSummary>(
                  t.lambda,
                  functionName,
                  { region, mode: 'propagate', dryRun },
                  `invoking the propagation function ${functionName} for ${region}`,
                );
                if (outcome.error === undefined) return { region, summary: outcome.result };
                return { region, error: outcome.error, ...(REFUSAL.test(outcome.error) ? { refused: true } : {}) };
              } finally {
                running.delete(region);
              }
            }),
          );
        } finally {
          clearInterval(timer);
          progress.done();
        }

        if (out.json) out.printJson({ dryRun, functionName, results });
        else for (const line of formatPropagation(results, dryRun)) out.line(line);
        return results.some((r) => propagationProblem(r, dryRun)) ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

/** True when a region's outcome makes the command exit 1 (see the command's help). */
export function propagationProblem(r: RegionPropagationResult, dryRun: boolean): boolean {
  const s = r.summary;
  if (!s) return true;
  if (!s.complete || s.failed > 0 || s.importJobsFailed > 0) return true;
  return dryRun && s.drift.missing + s.drift.extra > 0;
}

/** The text report of `ssg propagate`: a header, one row per region, and what a report-only run means. */
export function formatPropagation(results: readonly RegionPropagationResult[], dryRun: boolean): string[] {
  const lines = [`Propagation${dryRun ? ' (dry run: nothing written)' : ''} into ${results.map((r) => r.region).join(', ')}:`];
  const rows = results.map((r) => {
    const s = r.summary;
    if (!s) return [r.region, r.refused ? 'REFUSED' : 'FAILED', '-', '-', '-', '-', '-', '-', '-', '-', '-', r.error ?? ''];
    if (s.skipped) return [r.region, 'skipped', '-', '-', '-', '-', '-', '-', '-', '-', '-', `skipped: ${s.skipped}`];
    const notes: string[] = [];
    if (s.jobsInFlight > 0) notes.push(`${s.jobsInFlight} import job${s.jobsInFlight === 1 ? '' : 's'} in flight`);
    if (s.importJobsFailed > 0) notes.push(`${s.importJobsFailed} import job${s.importJobsFailed === 1 ? '' : 's'} failed`);
    if (s.confirmed > 0) notes.push(`${s.confirmed} confirmed from completed jobs`);
    if (!s.complete) notes.push('continues on its next run');
    return [
      r.region,
      s.complete ? 'complete' : 'checkpointed',
      String(s.added),
      String(s.withdrawn),
      String(s.alreadyListed),
      String(s.pending),
      String(s.importJobs),
      String(s.drift.missing),
      String(s.drift.extra),
      String(s.failed),
      formatDuration(s.durationMs),
      notes.join('; '),
    ];
  });
  lines.push(
    ...table(['region', 'result', 'added', 'withdrawn', 'already', 'pending', 'jobs', 'missing', 'extra', 'failed', 'took', 'note'], rows),
  );
  if (!dryRun && results.some((r) => r.summary?.propagation === 'report' && !r.summary.skipped)) {
    lines.push('The stack\'s propagation setting is "report": nothing was written; missing and extra are what enforcing would change.');
  }
  const refused = results.filter((r) => r.refused);
  if (refused.length > 0) {
    lines.push(`Refused: ${refused.map((r) => r.region).join(', ')} (propagation does not write into them; see the setting "propagateTo")`);
  }
  return lines;
}
