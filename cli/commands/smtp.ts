import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { deriveSmtpPassword, SMTP_PORTS, smtpEndpoint } from '../../lambdas/domain/smtp';
import { checkRegion } from '../context';
import { EXIT, UsageError } from '../errors';
import type { Runner } from '../runner';

/** An IAM access key ID: AKIA (long-term) or ASIA (temporary, which SES SMTP does not accept). */
const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{16}$/;

/** `ssg smtp`: SES SMTP credentials. */
export function registerSmtp(program: Command, runner: Runner): void {
  const smtp = program.command('smtp').description('SES SMTP credentials: derive the password for a region');
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
}

function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new UsageError(`--secret-env ${name}: the variable is not set`);
  return value.trim();
}

/** The first line of stdin (the secret), refusing an interactive terminal with nothing piped. */
async function secretFromStdin(stdin: Readable): Promise<string> {
  if ((stdin as { isTTY?: boolean }).isTTY) {
    throw new UsageError('pipe the secret access key on stdin (e.g. from a password manager), or name a variable with --secret-env');
  }
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.length > 4096) break;
  }
  const line = text.split(/\r?\n/)[0]?.trim() ?? '';
  if (line === '') throw new UsageError('no secret access key on stdin; pipe it in, or name a variable with --secret-env');
  return line;
}
