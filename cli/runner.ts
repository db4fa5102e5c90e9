import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { resolveTarget, type Target, type TargetOptions } from './context';
import { asCliError, EXIT } from './errors';
import { type Output, processOutput } from './output';

/** The options every command accepts (declared on the program, recognised before or after the command name). */
export interface GlobalOptions extends TargetOptions {
  readonly json?: boolean;
}

/** What a command handler gets: its output, the target (resolved on first use), the environment and stdin. */
export interface CommandEnv {
  readonly out: Output;
  target(): Promise<Target>;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable;
}

/** A command's work; resolves with the exit code. */
export type Handler<O> = (env: CommandEnv, operands: string[], options: O & GlobalOptions) => Promise<number>;

/** Runs command handlers: resolves the target once, turns failures into messages and exit codes. */
export class Runner {
  /** Exit code of the command that ran. */
  exitCode: number = EXIT.OK;
  private target: Promise<Target> | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** A commander action that runs `handler`. */
  action<O>(handler: Handler<O>): (...args: unknown[]) => Promise<void> {
    return async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const operands = args.slice(0, -2).filter((a): a is string => typeof a === 'string');
      const options = command.optsWithGlobals() as O & GlobalOptions;
      const out = processOutput(Boolean(options.json));
      const commandEnv: CommandEnv = {
        out,
        env: this.env,
        stdin: process.stdin,
        target: () => (this.target ??= resolveTarget(options, this.env)),
      };
      try {
        this.exitCode = await handler(commandEnv, operands, options);
      } catch (error) {
        const failure = asCliError(error);
        out.note(`error: ${failure.message}`);
        if (this.env.SSG_DEBUG && failure.cause instanceof Error && failure.cause.stack) out.note(failure.cause.stack);
        this.exitCode = failure.exitCode;
      }
    };
  }

  /** Releases the SDK clients so the process can exit. */
  async close(): Promise<void> {
    const target = await this.target?.catch(() => undefined);
    target?.destroy();
  }
}
