import type { Command } from 'commander';
import { checkRegion } from '../context';
import { createDnsLookups, DNS_SERVER_VARIABLE } from '../dns';
import { EXIT, UsageError } from '../errors';
import type { Runner } from '../runner';
import { auditSender, type Finding, type Level, parseSender, type RegionAudit } from '../sender-audit';

/** `ssg audit`. */
export function registerAudit(program: Command, runner: Runner): void {
  program
    .command('audit')
    .description('Check a sender in every configured region: SES identity, DKIM, MAIL FROM, and their DNS (SPF, DKIM CNAMEs, MX, DMARC)')
    .requiredOption(
      '--from <address|domain>',
      'the sender address (identities tried as SES does: address, domain, parent domains) or a domain',
    )
    .option('--region <region>', 'check only this region')
    .option('--dns-server <ip[:port]>', `DNS server to ask (default: the system's; also $${DNS_SERVER_VARIABLE})`)
    .addHelpText(
      'after',
      '\nExit code 1 when any check fails; otherwise 3 when a check could not be made (DNS or SES gave no answer: run it again).' +
        '\nWarnings do not change the exit code.',
    )
    .action(
      runner.action<{ from: string; region?: string; dnsServer?: string }>(async ({ out, target, env }, _operands, options) => {
        const sender = parseSender(options.from);
        const only = options.region !== undefined ? checkRegion(options.region, '--region') : undefined;
        const dns = createDnsLookups(options.dnsServer, env);
        const t = await target();
        const configured = await t.regions();
        if (only && !configured.includes(only))
          throw new UsageError(`--region must be one of the configured regions ${configured.join(', ')}, got ${JSON.stringify(only)}`);
        const report = await auditSender(sender, only ? [only] : configured, (region) => t.ses(region), dns);

        if (out.json) out.printJson(report);
        else {
          const all = [...report.regions.flatMap((r) => r.findings), ...report.domainFindings];
          const width = Math.max(...all.map((f) => LABEL[f.level].length));
          out.line(`Sender ${report.sender} (From domain ${report.domain})`);
          for (const region of report.regions) {
            out.line('');
            out.line(`${region.region}: ${identityLine(region)}`);
            for (const f of region.findings) out.line(formatFinding(f, width));
          }
          out.line('');
          out.line(`${report.domain} (all regions):`);
          for (const f of report.domainFindings) out.line(formatFinding(f, width));
          out.line('');
          const unchecked = report.unchecked > 0 ? `, ${report.unchecked} could not be checked` : '';
          out.line(`Result: ${report.failures} failed${unchecked}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`);
          if (report.unchecked > 0)
            out.line('DNS or SES gave no answer for the checks marked "could not check": they neither passed nor failed; run audit again.');
        }
        // A failure is a definite answer, so it decides the exit code even when other checks could not be made.
        if (report.failures > 0) return EXIT.PROBLEMS;
        return report.unchecked > 0 ? EXIT.UNAVAILABLE : EXIT.OK;
      }),
    );
}

function identityLine(region: RegionAudit): string {
  if (region.identity) return `identity ${region.identity} (${region.identityType})`;
  // Without SES's answer there is no saying whether an identity covers the sender.
  return region.findings.some((f) => f.level === 'unchecked') ? 'identity unknown' : 'no identity';
}

/** How each level is printed. */
const LABEL: Record<Level, string> = { ok: 'ok', warn: 'warn', unchecked: 'could not check', fail: 'FAIL' };

function formatFinding(f: Finding, width: number): string {
  return `  ${LABEL[f.level].padEnd(width)} ${f.check.padEnd(13)} ${f.message}`;
}
