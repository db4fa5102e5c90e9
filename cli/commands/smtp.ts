import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Command } from 'commander';
import { deriveSmtpPassword, isImplicitTlsPort, SMTP_PORTS, smtpEndpoint } from '../../lambdas/domain/smtp';
import type { LayerReport } from '../../lambdas/domain/smtp-probe';
import { checkRegion } from '../context';
import { EXIT, UsageError } from '../errors';
import type { Output } from '../output';
import type { Runner } from '../runner';
import { parseSender } from '../sender-audit';
import { DERIVATION_REGIONS, runSmtpCheck, type SmtpCheckReport } from '../smtp-check';

/** An IAM access key ID: AKIA (long-term) or ASIA (temporary, which SES SMTP does not accept). */
const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{16}$/;

/** `ssg smtp`: SES SMTP credentials. */
export function registerSmtp(program: Command, runner: Runner): void {
  const smtp = program
    .command('smtp')
    .description('SES SMTP credentials: derive the password for a region, and check what a mail client or relay would meet');
  smtp
    .command('derive')
    .description(
      'Derive the SES SMTP password for a region from an IAM secret access key (read from stdin, or from the environment variable --secret-env names; never from the command line), and print the mail client settings',
    )
    .requiredOption('--region <region>', 'the SES region whose SMTP endpoint the password is for')
    .option('--secret-env <variable>', 'read the secret access key from this environment variable instead of stdin')
    .option('--access-key-id <id>', 'the access key ID that goes with the secret (the SMTP user name), to print in the settings')
    .addHelpText(
      'after',
      '\nThe password works only at the endpoint of --region; derive again for another region. Use the credentials of an\n' +
        'IAM user (access key ID AKIA...): SES SMTP does not accept temporary credentials (ASIA...).',
    )
    .action(
      runner.action<{ region: string; secretEnv?: string; accessKeyId?: string }>(async ({ out, env, stdin }, _operands, options) => {
        const region = checkRegion(options.region, '--region');
        const accessKeyId = options.accessKeyId?.trim();
        if (accessKeyId !== undefined && !ACCESS_KEY_ID.test(accessKeyId)) {
          throw new UsageError(
            `--access-key-id must be an IAM access key ID (AKIA followed by 16 characters), got ${JSON.stringify(accessKeyId.slice(0, 24))}`,
          );
        }
        if (accessKeyId?.startsWith('ASIA')) {
          throw new UsageError(
            '--access-key-id is a temporary key (ASIA...): SES SMTP accepts only the long-term keys of an IAM user (AKIA...)',
          );
        }
        const secret = options.secretEnv !== undefined ? secretFromEnv(env, options.secretEnv) : await secretFromStdin(stdin);
        if (!/^[A-Za-z0-9/+=]{40}$/.test(secret)) {
          // Never echoed: it is a secret.
          throw new UsageError(
            `the secret access key must be 40 characters of A-Z, a-z, 0-9, / and +, got ${secret.length} characters that are not one`,
          );
        }
        const password = deriveSmtpPassword(secret, region);
        const server = smtpEndpoint(region);
        if (out.json) {
          out.printJson({ region, server, username: accessKeyId ?? null, password, ports: SMTP_PORTS });
          return EXIT.OK;
        }
        out.line(`SES SMTP credentials for ${region}:`);
        out.line(`  SMTP server  ${server}`);
        out.line(`  user name    ${accessKeyId ?? '<the access key ID of this secret (AKIA...)>'}`);
        out.line(`  password     ${password}`);
        out.line(`  ports        ${SMTP_PORTS.map((p) => `${p.port} (${p.tls})`).join(', ')}`);
        out.line('Gmail "Send mail as": SMTP server as above, port 587, "Secured connection using TLS".');
        out.line(`The password is refused by every other region's endpoint, and after the key is rotated.`);
        return EXIT.OK;
      }),
    );
  smtp
    .command('check')
    .description(
      'Walk the layers between a mail client and the SES SMTP endpoint of a region (DNS, TCP, TLS, AUTH, then the sender) and stop at the first that fails, with its evidence and the likely cause',
    )
    .requiredOption('--region <region>', 'the SES region whose SMTP endpoint the client uses')
    .requiredOption('--username <accessKeyId>', 'the SMTP user name: the IAM access key ID (AKIA...)')
    .option('--password-stdin', 'read the SMTP password from the first line of stdin')
    .option('--password-env <variable>', 'read the SMTP password from this environment variable', 'SSG_SMTP_PASSWORD')
    .option(
      '--secret-access-key-stdin',
      'also read the IAM secret access key from stdin (the line after the password, if that is on stdin too), to tell exactly why a password is refused',
    )
    .option('--secret-env <variable>', 'read the IAM secret access key from this environment variable')
    .option('--from <address>', 'check that SES accepts this sender in the region (asked of the SES API: no mail is sent)')
    .option('--send-test', `with --from: send one message to the SES mailbox simulator through the endpoint`)
    .option('--port <port>', 'the SES port: 587, 2587 or 25 (STARTTLS), 465 or 2465 (implicit TLS)', '587')
    .option('--endpoint <host:port>', 'connect here instead of the regional endpoint (TLS still checks the regional name)')
    .option('--ca-file <path>', "trust this certificate authority (PEM) too, e.g. a local emulator's")
    .option('--insecure-tls', 'go on when the certificate does not verify (reported as such)')
    .option('--timeout-seconds <n>', 'per network step', '10')
    .addHelpText(
      'after',
      '\nExit status: 0 every layer passed; 1 a layer failed for a configuration reason (the cause is printed);\n' +
        '3 a layer could not be checked (network, timeout, temporary answer); 2 bad arguments.\n' +
        'Secrets are read from stdin or the environment only, and never printed.',
    )
    .action(
      runner.action<SmtpCheckFlags>(async (commandEnv, _operands, options) => {
        const { out, env, stdin } = commandEnv;
        const region = checkRegion(options.region, '--region');
        const username = options.username.trim();
        if (username === '') throw new UsageError('--username must be the SMTP user name (the access key ID), got ""');
        const port = parsePort(options.port, '--port');
        if (!SMTP_PORTS.some((p) => p.port === port)) {
          throw new UsageError(`--port must be one of SES's SMTP ports (${SMTP_PORTS.map((p) => p.port).join(', ')}), got ${port}`);
        }
        let endpoint = options.endpoint !== undefined ? parseEndpoint(options.endpoint) : undefined;
        const timeoutSeconds = Number(options.timeoutSeconds);
        if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 120) {
          throw new UsageError(
            `--timeout-seconds must be a number of seconds from 1 to 120, got ${JSON.stringify(options.timeoutSeconds)}`,
          );
        }
        if (options.sendTest && options.from === undefined) throw new UsageError('--send-test needs --from (the sender to test)');
        const sender = options.from !== undefined ? parseSender(options.from) : undefined;
        if (sender !== undefined && !sender.sender.includes('@')) {
          throw new UsageError(`--from must be a sender address (the relay's From), got ${JSON.stringify(options.from?.slice(0, 80))}`);
        }
        const stdinLines = options.passwordStdin || options.secretAccessKeyStdin ? await readStdinLines(stdin) : [];
        const password = options.passwordStdin ? stdinLines.shift() : env[options.passwordEnv]?.trim();
        if (password === undefined || password === '') {
          throw new UsageError(
            options.passwordStdin
              ? 'no SMTP password on stdin'
              : `give the SMTP password on stdin (--password-stdin) or in the variable ${options.passwordEnv} (--password-env)`,
          );
        }
        let secretAccessKey: string | undefined;
        if (options.secretAccessKeyStdin) {
          secretAccessKey = stdinLines.shift();
          if (secretAccessKey === undefined || secretAccessKey === '') {
            throw new UsageError(
              options.passwordStdin
                ? 'no secret access key on stdin: put it on the line after the password'
                : 'no secret access key on stdin',
            );
          }
        } else if (options.secretEnv !== undefined) secretAccessKey = secretFromEnv(env, options.secretEnv);
        let ca = options.caFile !== undefined ? await readCa(options.caFile) : undefined;
        if (options.local && endpoint === undefined) {
          // The local environment's emulated SMTP interface: the region's port for this TLS mode, and its CA.
          const local = (await commandEnv.target()).smtp;
          const ports = local?.endpoints.find((e) => e.region === region);
          if (local === undefined || ports === undefined) {
            throw new UsageError(
              `the local environment has no SMTP interface for ${region}${local ? ` (it has ${local.endpoints.map((e) => e.region).join(', ')})` : ''}`,
            );
          }
          endpoint = { host: ports.host, port: isImplicitTlsPort(port) ? ports.tlsPort : ports.starttlsPort };
          ca ??= await readCa(local.caFile);
        }
        let ses: ((r: string) => SESv2Client) | undefined;
        let sesUnavailable: string | undefined;
        let otherRegions: readonly string[] = [];
        if (sender !== undefined) {
          try {
            const target = await commandEnv.target();
            ses = (r) => target.ses(r);
            otherRegions = await target.regions();
          } catch (error) {
            sesUnavailable = (error as Error).message;
          }
        }
        const report = await runSmtpCheck({
          region,
          port,
          endpoint,
          username,
          password,
          secretAccessKey,
          regions: DERIVATION_REGIONS,
          insecureTls: options.insecureTls === true,
          ca,
          timeoutMs: timeoutSeconds * 1000,
          sender,
          sendTest: options.sendTest === true,
          ses,
          sesUnavailable,
          otherRegions,
        });
        if (out.json) out.printJson(report);
        else printCheck(out, report);
        return report.outcome === 'pass' ? EXIT.OK : report.outcome === 'fail' ? EXIT.PROBLEMS : EXIT.UNAVAILABLE;
      }),
    );
}

interface SmtpCheckFlags {
  region: string;
  username: string;
  passwordStdin?: boolean;
  passwordEnv: string;
  secretAccessKeyStdin?: boolean;
  secretEnv?: string;
  from?: string;
  sendTest?: boolean;
  port: string;
  endpoint?: string;
  caFile?: string;
  insecureTls?: boolean;
  timeoutSeconds: string;
}

function parsePort(raw: string, option: string): number {
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw.trim()) || port < 1 || port > 65535)
    throw new UsageError(`${option} must be a TCP port, got ${JSON.stringify(raw.slice(0, 40))}`);
  return port;
}

function parseEndpoint(raw: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.trim());
  if (!match) throw new UsageError(`--endpoint must be host:port, got ${JSON.stringify(raw.slice(0, 80))}`);
  const [, host = '', port = ''] = match;
  return { host: host.replace(/^\[|\]$/g, ''), port: parsePort(port, '--endpoint port') };
}

async function readCa(path: string): Promise<string> {
  try {
    const pem = await readFile(path, 'utf8');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca-file ${path} holds no PEM certificate`);
    return pem;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--ca-file ${path} cannot be read: ${(error as Error).message}`);
  }
}

const MARK: Record<LayerReport['outcome'], string> = { pass: 'PASS', fail: 'FAIL', unchecked: 'UNCHECKED' };

function printCheck(out: Output, report: SmtpCheckReport): void {
  out.line(
    `SES SMTP check: ${report.server} port ${report.port} (${report.tls})${report.endpoint ? ` via ${report.endpoint}` : ''}, user ${report.username}`,
  );
  for (const layer of report.layers) {
    out.line(`  ${MARK[layer.outcome].padEnd(9)} ${layer.layer.padEnd(9)} ${layer.evidence[0] ?? ''}`);
    for (const line of layer.evidence.slice(1)) out.line(`  ${' '.repeat(19)} ${line}`);
    if (layer.cause !== undefined) out.line(`  ${' '.repeat(19)} cause: ${layer.cause}`);
    if (layer.diagnosis !== undefined) out.line(`  ${' '.repeat(19)} ${layer.diagnosis}`);
  }
  for (const layer of report.notReached) out.line(`  ${'-'.padEnd(9)} ${layer.padEnd(9)} not checked (an earlier layer did not pass)`);
  out.line(
    report.outcome === 'pass'
      ? 'Every layer passed.'
      : report.outcome === 'fail'
        ? 'A layer failed: fix the cause above, then run the check again.'
        : 'A layer could not be checked: nothing is known about the layers after it.',
  );
}

function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new UsageError(`--secret-env ${name}: the variable is not set`);
  return value.trim();
}

/** The lines of stdin (trimmed; at most 4 KB read), refusing an interactive terminal with nothing piped. */
async function readStdinLines(stdin: Readable): Promise<string[]> {
  if ((stdin as { isTTY?: boolean }).isTTY)
    throw new UsageError('pipe the secrets on stdin (e.g. from a password manager), or use the variables');
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.length > 4096) break;
  }
  return text
    .slice(0, 4096)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** The first line of stdin (the secret). */
async function secretFromStdin(stdin: Readable): Promise<string> {
  const line = (await readStdinLines(stdin))[0];
  if (line === undefined) throw new UsageError('no secret access key on stdin; pipe it in, or name a variable with --secret-env');
  return line;
}
