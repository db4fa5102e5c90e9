import type { Command } from 'commander';
import { AttributionTable } from '../../lambdas/domain/attribution-table';
import { checkRegion } from '../context';
import { EXIT, UnavailableError, UsageError } from '../errors';
import { table } from '../output';
import type { Runner } from '../runner';
import { aggregateSenders, callersMailingSuppressed, formatRate, lastDays, type SenderReport, THRESHOLDS, worstLevel } from '../senders';

/** Most days `--days` accepts (the counters expire after `attributionRetentionDays` anyway). */
const MAX_DAYS = 400;

/** How rates are computed and judged, for the text report and `--json`. */
export const RATE_DEFINITIONS = {
  bounceRate: 'permanentBounces / sends',
  complaintRate: 'complaints / sends',
  sends: 'recipients of the messages SES accepted (Send events)',
  thresholds: THRESHOLDS,
} as const;

/** `ssg senders`. */
export function registerSenders(program: Command, runner: Runner): void {
  program
    .command('senders')
    .description(
      'Who sends, from SES events: per region, sender identity, caller, source IP and configuration set, the sends, bounces and complaints of the last days, the rates against SES thresholds, and the callers mailing suppressed addresses',
    )
    .option('--identity <identity>', 'only this sender identity (a domain also matches addresses at it)')
    .option('--region <region>', 'only this SES region')
    .option('--days <n>', 'days to read, today (UTC) included', '7')
    .addHelpText(
      'after',
      '\nBounce rate = permanent bounces / sends; complaint rate = complaints / sends (sends: recipients of the messages\n' +
        'SES accepted). SES thresholds: bounce 5% review, 10% at risk; complaint 0.1% review, 0.5% at risk.\n' +
        'Exit code 1 when a sender is at or above a review threshold, or a caller mailed suppressed addresses.',
    )
    .action(
      runner.action<{ identity?: string; region?: string; days: string }>(async ({ out, target }, _operands, options) => {
        const days = Number(options.days);
        if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
          throw new UsageError(`--days must be a whole number from 1 to ${MAX_DAYS}, got ${JSON.stringify(options.days)}`);
        }
        const region = options.region !== undefined ? checkRegion(options.region, '--region') : undefined;
        const identity = options.identity?.trim();
        if (options.identity !== undefined && !identity) throw new UsageError('--identity must name a sender identity, got ""');
        const t = await target();
        const tableName = t.optionalOutput('AttributionTableName');
        if (!tableName) {
          throw new UnavailableError(
            `${t.description} has no output AttributionTableName: SES events are off there (setting "events") or the stack predates them`,
          );
        }
        const period = lastDays(days, Date.now());
        const counters = await new AttributionTable(t.doc, tableName).countersOfDays(period, region !== undefined ? { region } : {});
        const senders = aggregateSenders(counters, { ...(identity !== undefined ? { identity } : {}), ...(region ? { region } : {}) });
        const mailingSuppressed = callersMailingSuppressed(senders);
        const flagged = senders.filter((s) => worstLevel(s) === 'review' || worstLevel(s) === 'at risk');

        if (out.json) {
          out.printJson({
            target: t.description,
            from: period[0],
            to: period[period.length - 1],
            days,
            filter: { identity: identity ?? null, region: region ?? null },
            definitions: RATE_DEFINITIONS,
            senders,
            callersMailingSuppressed: mailingSuppressed,
          });
        } else {
          for (const line of formatSenders(senders, mailingSuppressed, period, { identity, region })) out.line(line);
        }
        return flagged.length > 0 || mailingSuppressed.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

const dash = (value: string | null) => value ?? '-';

/** The verdict column: each rate at or above a threshold, else `ok`. */
export function judgement(r: SenderReport): string {
  if (r.bounceLevel === 'no sends') return 'no sends counted';
  const parts: string[] = [];
  if (r.bounceLevel !== 'ok') parts.push(`bounce ${r.bounceLevel.toUpperCase()}`);
  if (r.complaintLevel !== 'ok') parts.push(`complaint ${r.complaintLevel.toUpperCase()}`);
  return parts.length === 0 ? 'ok' : parts.join(', ');
}

/** The text report of `ssg senders`. */
export function formatSenders(
  senders: readonly SenderReport[],
  mailingSuppressed: readonly SenderReport[],
  period: readonly string[],
  filter: { readonly identity?: string; readonly region?: string },
): string[] {
  const scope = [filter.identity ? `identity ${filter.identity}` : '', filter.region ? `region ${filter.region}` : '']
    .filter(Boolean)
    .join(', ');
  const lines = [
    `Senders, ${period[0]} to ${period[period.length - 1]} (UTC, ${period.length} day${period.length === 1 ? '' : 's'})${scope ? `, ${scope}` : ''}, worst first:`,
  ];
  if (senders.length === 0) {
    lines.push('  no SES events counted (is the identity attached to a configuration set that sends events? see ssg events status)');
    return lines;
  }
  lines.push(
    ...table(
      [
        'region',
        'sender',
        'caller',
        'source IP',
        'config set',
        'sends',
        'delivered',
        'perm. bounces',
        'bounce rate',
        'transient',
        'complaints',
        'complaint rate',
        'to suppressed',
        'judged',
      ],
      senders.map((r) => [
        r.region,
        r.sender,
        dash(r.callerIdentity),
        dash(r.sourceIp),
        dash(r.configurationSet),
        String(r.sends),
        String(r.deliveries),
        String(r.permanentBounces),
        formatRate(r.bounceRate),
        String(r.transientBounces),
        String(r.complaints),
        formatRate(r.complaintRate),
        String(r.sendsToSuppressed),
        judgement(r),
      ]),
    ),
  );
  lines.push(
    'Bounce rate = permanent bounces / sends; complaint rate = complaints / sends (sends: recipients of the messages SES accepted).',
    'SES thresholds: bounce 5% REVIEW, 10% AT RISK; complaint 0.1% REVIEW, 0.5% AT RISK. Sends to suppressed addresses are not bounces here.',
  );
  lines.push('Callers mailing suppressed addresses:');
  if (mailingSuppressed.length === 0) lines.push('  none');
  else
    lines.push(
      ...table(
        ['region', 'sender', 'caller', 'source IP', 'config set', 'sends to suppressed', 'of sends'],
        mailingSuppressed.map((r) => [
          r.region,
          r.sender,
          dash(r.callerIdentity),
          dash(r.sourceIp),
          dash(r.configurationSet),
          String(r.sendsToSuppressed),
          String(r.sends),
        ]),
      ),
    );
  return lines;
}
