import type { Command } from 'commander';
import { checkRegion } from '../context';
import { createDnsLookups, DNS_SERVER_VARIABLE } from '../dns';
import { EXIT, UsageError } from '../errors';
import type { Runner } from '../runner';
import { auditSender, type Finding, parseSender } from '../sender-audit';

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
    .addHelpText('after', '\nExit code 1 when any check fails (warnings do not change the exit code).')
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
          out.line(`Sender ${report.sender} (From domain ${report.domain})`);
          for (const region of report.regions) {
            out.line('');
            out.line(`${region.region}: ${region.identity ? `identity ${region.identity} (${region.identityType})` : 'no identity'}`);
            for (const f of region.findings) out.line(formatFinding(f));
          }
          out.line('');
          out.line(`${report.domain} (all regions):`);
          for (const f of report.domainFindings) out.line(formatFinding(f));
          out.line('');
          out.line(`Result: ${report.failures} failed, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}`);
        }
        return report.failures > 0 ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

function formatFinding(f: Finding): string {
  return `  ${(f.level === 'fail' ? 'FAIL' : f.level).padEnd(5)} ${f.check.padEnd(13)} ${f.message}`;
}
