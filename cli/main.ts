#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { quietSdkNodeVersionWarning } from '../local/sdk-warnings';
import { registerAudit } from './commands/audit';
import { registerCheck } from './commands/check';
import { registerEvents } from './commands/events';
import { registerExport } from './commands/export';
import { registerImport } from './commands/import';
import { registerLookup } from './commands/lookup';
import { registerManual } from './commands/manual';
import { registerPropagate } from './commands/propagate';
import { registerSenders } from './commands/senders';
import { registerSmtp } from './commands/smtp';
import { registerStatus } from './commands/status';
import { registerSync } from './commands/sync';
import { DEFAULT_STACK_NAME, LOCAL_ENV_FILE_VARIABLE } from './context';
import { EXIT } from './errors';
import { Runner } from './runner';

/** Builds the `ssg` program; each command registers itself from its own module. */
export function buildProgram(runner: Runner): Command {
  const program = new Command('ssg')
    .description(
      'Operate ses-suppression-guard: sync and propagation status, why an address is suppressed, pre-send checks, manual suppressions, import/export, sender audits, senders and SES event coverage',
    )
    .version('0.1.0')
    .option('--local', `use the local environment from \`npm start\` (.local/environment.json, or $${LOCAL_ENV_FILE_VARIABLE})`)
    .option('--stack <name>', `CloudFormation stack to read the outputs of (default ${DEFAULT_STACK_NAME})`)
    .option('--profile <name>', 'AWS profile (default: the SDK chain: AWS_PROFILE, environment, SSO, instance role)')
    .option('--stack-region <region>', "region the stack is deployed in (default: AWS_REGION or the profile's region)")
    .option('--regions <list>', 'SES regions to work on, comma-separated (default: SYNC_REGIONS of the sync function)')
    .option('--json', 'print the result as JSON, for scripts')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      '\nExit codes: 0 done (check: proceed), 1 done but problems found (check: blocked; stale region; failed audit check;\n' +
        'rejected import rows; SES refused an unsuppress; a propagation run failed, was skipped or found drift in a dry\n' +
        'run), 2 bad arguments (nothing changed), 3 the target could not be reached or used (stack, local environment,\n' +
        'guard, credentials, permissions).\n' +
        "Addresses appear only in this command's own output, never in logs.",
    );
  registerStatus(program, runner);
  registerLookup(program, runner);
  registerCheck(program, runner);
  registerManual(program, runner);
  registerExport(program, runner);
  registerImport(program, runner);
  registerSync(program, runner);
  registerPropagate(program, runner);
  registerAudit(program, runner);
  registerSenders(program, runner);
  registerEvents(program, runner);
  registerSmtp(program, runner);
  return program;
}

/** Runs `ssg` with `argv` (as `process.argv`) and resolves with the exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  // The SDK warns on every run under Node.js 20 about its releases after January 2027; an operator mid-incident
  // cannot act on that, and it buries the command's own messages. Setting the variable yourself wins.
  quietSdkNodeVersionWarning();
  const runner = new Runner();
  const program = buildProgram(runner);
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return EXIT.USAGE;
    }
    await program.parseAsync([...argv]);
    return runner.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with code 0; every parse error (commander prints it) is a usage error.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return EXIT.UNAVAILABLE;
  } finally {
    await runner.close();
  }
}

if (require.main === module) {
  // `ssg export | head` closes the pipe early: that ends the output, it is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  main().then(
    (code) => {
      // Exit once stdout and stderr are flushed, so piped output is never cut short.
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
    (error: Error) => {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(EXIT.UNAVAILABLE);
    },
  );
}
