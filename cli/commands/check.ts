import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { GuardClient, type GuardResponse, GuardUnavailableError, MAX_RECIPIENTS } from '../../client';
import { excerpt } from '../../lambdas/domain/text';
import { checkRegion } from '../context';
import { EXIT, UnavailableError, UsageError } from '../errors';
import { csvFields, csvRecords, isAddressRow, textLines } from '../import-rows';
import { formatTime, table } from '../output';
import type { Runner } from '../runner';

/** `ssg check`. */
export function registerCheck(program: Command, runner: Runner): void {
  program
    .command('check')
    .description('Ask the pre-send guard whether a send may go ahead (sender, account, configuration set, every recipient)')
    .requiredOption('--from <sender>', 'sender address, or "Display Name <address>"')
    .requiredOption(
      '--recipients <file|->',
      'recipients: one address per line, or a CSV whose first column is the address; "-" reads stdin',
    )
    .option('--region <region>', "SES region the mail will be sent from (default: the guard function's region)")
    .option('--configuration-set <name>', 'configuration set the send will use')
    .option('--caller <name>', "name of the calling sender, for the guard's logs")
    .addHelpText('after', '\nExit codes: 0 proceed, 1 blocked, 2 invalid request, 3 the guard could not be reached (never send then).')
    .action(
      runner.action<{ from: string; recipients: string; region?: string; configurationSet?: string; caller?: string }>(
        async ({ out, target, stdin }, _operands, options) => {
          const region = options.region !== undefined ? checkRegion(options.region, '--region') : undefined;
          if (options.from.trim() === '') throw new UsageError('--from must name the sender, got ""');
          const recipients = await readRecipients(options.recipients === '-' ? stdin : openFile(options.recipients), options.recipients);
          if (recipients.length === 0) throw new UsageError(`--recipients ${excerpt(options.recipients)} names no recipients`);
          if (recipients.length > MAX_RECIPIENTS) {
            throw new UsageError(
              `--recipients ${excerpt(options.recipients)} has ${recipients.length} recipients; the guard checks at most ${MAX_RECIPIENTS} per call, split the list`,
            );
          }

          const t = await target();
          const client = new GuardClient({ functionName: t.output('GuardFunctionName'), lambda: t.lambda });
          let verdict: GuardResponse;
          try {
            verdict = await client.check({
              from: options.from,
              recipients,
              ...(region ? { region } : {}),
              ...(options.configurationSet !== undefined ? { configurationSetName: options.configurationSet } : {}),
              ...(options.caller !== undefined ? { caller: options.caller } : {}),
            });
          } catch (error) {
            if (error instanceof GuardUnavailableError) {
              throw new UnavailableError(
                `the guard could not be reached (${error.reason}): ${error.message}. Do not send without a verdict.`,
                { cause: error },
              );
            }
            throw error;
          }

          const invalid = verdict.problems.filter((p) => p.code === 'INVALID_REQUEST');
          if (out.json) out.printJson(verdict);
          else printVerdict(out.line, verdict);
          if (invalid.length > 0) {
            if (!out.json) out.note(`error: the guard rejected the request: ${invalid.map((p) => p.message).join('; ')}`);
            return EXIT.USAGE;
          }
          return verdict.proceed ? EXIT.OK : EXIT.PROBLEMS;
        },
      ),
    );
}

function openFile(path: string): Readable {
  return createReadStream(path);
}

/**
 * Reads recipients: one per line, or CSV with the address in the first column. A first row without an "@" is a
 * header and skipped; blank lines, and lines that start with "#" and hold no "@", are ignored (an address may start
 * with "#"). A row that cannot be read, such as a stray quote, is a usage error naming its line.
 */
export async function readRecipients(input: Readable, name: string): Promise<string[]> {
  const recipients: string[] = [];
  const shown = `--recipients ${JSON.stringify(name)}`;
  try {
    let first = true;
    for await (const record of csvRecords(textLines(input, shown), (text) => isAddressRow(text, 0))) {
      if ('error' in record) throw new UsageError(`${shown} line ${record.line} ${record.error}`);
      const parsed = csvFields(record.text);
      if (!parsed.ok) throw new UsageError(`${shown} line ${record.line} ${parsed.error}`);
      const value = (parsed.fields[0] ?? '').trim();
      const header = first && !value.includes('@');
      first = false;
      if (header || value === '' || (value.startsWith('#') && !value.includes('@'))) continue;
      recipients.push(value);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new UsageError(`${shown} cannot be read (${code})`);
    throw new UsageError(`${shown} is not a readable list: ${(error as Error).message}`);
  }
  return recipients;
}

type Line = (text?: string) => void;

/** Prints a verdict for a person. */
export function printVerdict(line: Line, v: GuardResponse): void {
  line(v.proceed ? 'PROCEED: the send may go ahead' : 'BLOCKED: do not send');
  if (v.sender) {
    const s = v.sender;
    line(
      `Sender: ${s.identity ? `identity ${s.identity} (${s.identityType})` : 'no identity covers it'}; verified for sending: ${s.verifiedForSending ? 'yes' : 'no'}; DKIM ${s.dkim ?? '-'}; MAIL FROM ${s.mailFrom ?? '-'}${
        s.verifiedInRegions.length ? `; verified in ${s.verifiedInRegions.join(', ')}` : ''
      }`,
    );
  }
  if (v.account) {
    const a = v.account;
    line(
      `Account: sending ${a.sendingEnabled ? 'enabled' : 'DISABLED'}, ${a.enforcementStatus}, ${a.productionAccess ? 'production access' : 'SANDBOX'}, quota ${a.quota.max24HourSend < 0 ? 'unlimited' : `${a.quota.sentLast24Hours}/${a.quota.max24HourSend} in 24h`}`,
    );
  }
  const r = v.recipients;
  const omitted = r.omitted ?? { suppressed: 0, invalid: 0 };
  line(
    `Recipients: ${r.total} given, ${r.allowed.length} allowed, ${r.suppressed.length + omitted.suppressed} suppressed, ${r.invalid.length + omitted.invalid} invalid, ${r.duplicates} duplicates`,
  );
  if (omitted.suppressed + omitted.invalid > 0) {
    line(
      `  (${omitted.suppressed} suppressed and ${omitted.invalid} invalid recipients are counted but not listed: the full answer is over Lambda's 6 MB response limit)`,
    );
  }
  if (v.problems.length > 0) {
    line('Problems:');
    for (const p of v.problems) line(`  ${p.severity === 'block' ? 'BLOCK' : 'warn '}  ${p.code}: ${p.message}`);
  }
  if (r.suppressed.length > 0) {
    line('Suppressed recipients:');
    for (const row of table(
      ['address', 'reason', 'by', 'since'],
      r.suppressed.map((s) => [s.address, s.reason, s.regions.join(', '), formatTime(s.since)]),
      '  ',
    ))
      line(row);
  }
  if (r.invalid.length > 0) {
    line('Invalid recipients:');
    for (const i of r.invalid) line(`  ${i.address}: ${i.error}`);
  }
}
