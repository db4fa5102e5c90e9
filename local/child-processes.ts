import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Registers a child process the local environment started (DynamoDB Local, a function's execution environment), so
 * that it never outlives this process: whatever way this process exits (normal end, `process.exit`, an uncaught
 * error, a signal handled by `npm start`), the exit hook kills every tracked child that is still running.
 */
export function trackChildProcess(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killTrackedChildren);
  }
}

/** Kills every tracked child still running (synchronous: safe in an `exit` handler). */
export function killTrackedChildren(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
}

/** Process IDs of the tracked children still running. */
export function trackedChildPids(): number[] {
  return [...running].flatMap((child) =>
    child.pid !== undefined && child.exitCode === null && child.signalCode === null ? [child.pid] : [],
  );
}
