import { accessSync, constants, rmSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { UsageError } from './errors';

const code = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

/**
 * Checks that `path` can be created or replaced as a file, before any work: its directory exists and is writable,
 * and it is not itself a directory. Throws a {@link UsageError} naming `option` and the path.
 */
export function checkOutputPath(path: string, option: string): void {
  if (path.trim() === '') throw new UsageError(`${option} must name a file, got ""`);
  const shown = `${option} ${JSON.stringify(path)}`;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`${shown} is a directory; name a file in it`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (code(error) !== 'ENOENT') throw new UsageError(`${shown} cannot be written (${code(error)})`);
  }
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${option} ${JSON.stringify(path)}: ${JSON.stringify(dir)} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (code(error) === 'ENOENT') throw new UsageError(`${shown}: the directory ${JSON.stringify(dir)} does not exist`);
    throw new UsageError(`${shown}: the directory ${JSON.stringify(dir)} is not writable (${code(error)})`);
  }
}

/**
 * Writes `path` all or nothing: `write` fills `<path>.partial`, which is renamed to `path` once `write` resolves and
 * the data is on disk. When `write` fails, the file cannot be written, or the process is interrupted (SIGINT,
 * SIGTERM), the partial file is removed and `path` is left as it was. File errors are {@link UsageError}s naming
 * `option`; errors of `write` itself pass through.
 */
export async function writeAtomically<T>(path: string, option: string, write: (sink: Writable) => Promise<T>): Promise<T> {
  const partial = `${path}.partial`;
  const fileError = (error: unknown) => new UsageError(`${option} ${JSON.stringify(path)} cannot be written (${code(error)})`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(partial, 'w');
  } catch (error) {
    throw fileError(error);
  }
  const sink = handle.createWriteStream();
  let sinkError: unknown;
  sink.on('error', (error) => {
    sinkError = error;
  });
  const interrupted = (signal: NodeJS.Signals) => {
    rmSync(partial, { force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let result: T;
  try {
    result = await write(sink);
    sink.end();
    await finished(sink);
  } catch (error) {
    sink.destroy();
    rmSync(partial, { force: true });
    throw sinkError !== undefined ? fileError(sinkError) : error;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
  try {
    await rename(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    throw fileError(error);
  }
  return result;
}
