import { type ChildProcess, fork } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { trackChildProcess } from './child-processes';
import { sdkQuietEnvironment } from './sdk-warnings';
import type { FunctionBundle } from './template-resources';

/** Lambda's quota for a synchronous (RequestResponse) request payload: 6 MB. */
export const MAX_REQUEST_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** The response payload size Lambda accepts from a synchronous invocation (the figure its error message names). */
export const MAX_RESPONSE_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100;

/** The outcome of one local invocation. */
export interface InvokeResult<T = unknown> {
  readonly result?: T;
  /** A function error, as Lambda reports it (`errorType`/`errorMessage` become `name`/`message`). */
  readonly error?: { name: string; message: string; stack?: string };
  readonly durationMs: number;
  /**
   * The handler's own time: from the call with the parsed event to its result, without the runtime's parsing of the
   * request payload and serializing of the response (included in `durationMs`). Absent when the handler never ran.
   */
  readonly handlerMs?: number;
  /** The response payload as Lambda would return it (JSON). */
  readonly payload: string;
}

/** An invocation Lambda's Invoke API refuses before running the function: the request payload is over the quota. */
export class RequestTooLargeError extends Error {
  override readonly name = 'RequestEntityTooLargeException';
  constructor(readonly bytes: number) {
    super(`Request must be smaller than ${MAX_REQUEST_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
  }
}

// Runs inside each worker: loads the bundle like the Lambda runtime does and answers one invocation at a time over
// IPC. The result is serialized here, as the runtime does before posting it, so its size is the payload's size.
const BOOTSTRAP = `
'use strict';
const started = Date.now();
process.on('disconnect', () => process.exit(0)); // the parent is gone: never outlive it
let handler;
try {
  const mod = require(process.env.SSG_BUNDLE_FILE);
  handler = mod[process.env.SSG_HANDLER_EXPORT];
  if (typeof handler !== 'function') throw new Error('Runtime.HandlerNotFound: ' + process.env.SSG_HANDLER_EXPORT + ' is not a function exported by the bundle');
} catch (error) {
  process.send({ type: 'init-error', error: { name: error.name, message: error.message, stack: error.stack } }, () => process.exit(1));
  return;
}
process.send({ type: 'ready', initMs: Date.now() - started });
const failure = (error) => ({ name: (error && error.name) || 'Error', message: error && error.message, stack: error && error.stack });
process.on('message', async (msg) => {
  const deadline = Date.now() + msg.timeoutMs;
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST', awsRequestId: msg.id,
    invokedFunctionArn: 'arn:aws:lambda:' + process.env.AWS_REGION + ':000000000000:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, logGroupName: '/aws/lambda/local', logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const t0 = Date.now();
  let reply;
  let handlerMs;
  try {
    const event = JSON.parse(msg.event);
    const h0 = performance.now();
    const result = await handler(event, context);
    handlerMs = performance.now() - h0;
    try {
      reply = { payload: JSON.stringify(result === undefined ? null : result) };
    } catch (error) {
      reply = { error: failure(error) };
    }
  } catch (error) {
    reply = { error: failure(error) };
  }
  process.send({ type: 'result', id: msg.id, durationMs: Date.now() - t0, handlerMs, ...reply });
});
`;

/** Options for {@link LocalLambda.start}. */
export interface LocalLambdaOptions {
  /** Variables added to the template's environment: endpoints, region, credentials. */
  readonly env?: Record<string, string>;
  /** Overrides the template's timeout for each invocation. */
  readonly timeoutMs?: number;
  /** Pipe the function's stdout/stderr to this process. @default false (captured) */
  readonly inheritOutput?: boolean;
}

interface WorkerMessage {
  type: string;
  id?: string;
  initMs?: number;
  payload?: string;
  error?: { name: string; message: string; stack?: string };
  durationMs?: number;
  handlerMs?: number;
}

/** One execution environment: a Node.js process that has loaded the bundle and runs one invocation at a time. */
class Worker {
  private current: { id: string; settle: (outcome: WorkerOutcome) => void } | undefined;
  private exitStatus: string | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly initMs: number,
  ) {
    child.on('message', (msg: WorkerMessage) => {
      const current = this.current;
      if (msg.type !== 'result' || !current || msg.id !== current.id) return;
      this.current = undefined;
      current.settle({ payload: msg.payload, error: msg.error, durationMs: msg.durationMs ?? 0, handlerMs: msg.handlerMs });
    });
    child.on('exit', (code, signal) => {
      this.exitStatus = signal ? `signal: ${signal}` : `exit status ${code}`;
      this.current?.settle({ exited: this.exitStatus, durationMs: 0 });
      this.current = undefined;
    });
    // Sending to a worker that just died reports here; the exit handler above settles the invocation.
    child.on('error', () => undefined);
  }

  get alive(): boolean {
    return this.exitStatus === undefined && this.child.connected;
  }

  run(id: string, event: string, timeoutMs: number): Promise<WorkerOutcome> {
    return new Promise((settle) => {
      this.current = { id, settle };
      this.child.send({ id, event, timeoutMs }, (error) => {
        if (error && this.current?.id === id) {
          this.current = undefined;
          settle({ exited: this.exitStatus ?? 'the worker is gone', durationMs: 0 });
        }
      });
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await exited;
  }
}

interface WorkerOutcome {
  payload?: string;
  error?: { name: string; message: string; stack?: string };
  exited?: string;
  durationMs: number;
  handlerMs?: number;
}

/**
 * A synthesized Lambda bundle run the way the Lambda service runs it: each concurrent invocation gets its own
 * execution environment (a Node.js process), an idle warm one is reused, a dead one is replaced by a new one on the
 * next invocation, the configured timeout ends the invocation (and its environment), and the 6 MB request and
 * response payload quotas of synchronous invocations are enforced with the errors Lambda reports.
 *
 * The bundle is copied out of the project, and the only packages it can resolve besides its own code are `@aws-sdk/*`
 * (which `NodejsFunction` leaves out because the runtime provides them). A bundling mistake therefore fails here.
 */
export class LocalLambda {
  private seq = 0;
  private readonly idle: Worker[] = [];
  private readonly busy = new Set<Worker>();
  private stopped = false;
  /** Execution environments started so far (cold starts), including the first. */
  environmentsStarted = 1;
  /** Everything the function's environments printed (when not inherited). */
  output = '';

  private constructor(
    /** The bundle this function runs. */
    readonly bundle: FunctionBundle,
    private readonly options: LocalLambdaOptions,
    private readonly root: string,
    private readonly env: Record<string, string>,
    first: Worker,
    /** Initialization time of the first environment. */
    readonly initMs: number,
  ) {
    this.idle.push(first);
  }

  /** Copies the bundle into a runtime-like directory and starts one environment; rejects with the init error if it cannot load. */
  static async start(bundle: FunctionBundle, options: LocalLambdaOptions = {}): Promise<LocalLambda> {
    const root = mkdtempSync(join(tmpdir(), 'ssg-lambda-'));
    try {
      const task = join(root, 'task');
      cpSync(dirname(bundle.file), task, { recursive: true });
      // Like /var/runtime/node_modules: the AWS SDK for JavaScript v3 and nothing else.
      const runtimeModules = join(root, 'node_modules');
      mkdirSync(runtimeModules);
      symlinkSync(join(dirname(require.resolve('@aws-sdk/client-sesv2/package.json')), '..'), join(runtimeModules, '@aws-sdk'), 'dir');
      writeFileSync(join(root, 'bootstrap.js'), BOOTSTRAP);
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...sdkQuietEnvironment(),
        ...bundle.environment,
        AWS_LAMBDA_FUNCTION_NAME: bundle.logicalId,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(bundle.memorySize ?? 128),
        LAMBDA_TASK_ROOT: task,
        SSG_BUNDLE_FILE: join(task, bundle.file.slice(dirname(bundle.file).length + 1)),
        SSG_HANDLER_EXPORT: bundle.exportName,
        ...options.env,
      };
      let output = '';
      const first = await startWorker(root, env, bundle, options, (chunk) => (output += chunk));
      const lambda = new LocalLambda(bundle, options, root, env, first, first.initMs);
      lambda.output = output;
      lambda.capture(first);
      return lambda;
    } catch (error) {
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  /** Execution environments alive now (idle or busy). */
  get environments(): number {
    return this.idle.length + this.busy.size;
  }

  /**
   * Invokes the handler once with `event` (RequestResponse), in an idle warm environment or a new one. Rejects with
   * {@link RequestTooLargeError} when the serialized event is over the request quota; every function-side failure
   * (error, timeout, crash, oversized response) resolves with `error` set, as Lambda reports a function error.
   */
  invoke<T = unknown>(event: unknown, timeoutMs?: number): Promise<InvokeResult<T>> {
    return this.invokeJson<T>(JSON.stringify(event === undefined ? null : event), timeoutMs);
  }

  /**
   * {@link invoke} with the request payload as JSON text, passed to the function as it came (as Lambda does): the
   * runtime parses it in the function's process, so a payload the caller could not re-serialize (nesting deeper than
   * `JSON.stringify` recurses) still reaches the handler.
   */
  async invokeJson<T = unknown>(
    serialized: string,
    timeoutMs = this.options.timeoutMs ?? this.bundle.timeoutSeconds * 1000,
  ): Promise<InvokeResult<T>> {
    if (this.stopped) throw new Error(`function ${this.bundle.logicalId} has been stopped`);
    const bytes = Buffer.byteLength(serialized);
    if (bytes > MAX_REQUEST_PAYLOAD_BYTES) throw new RequestTooLargeError(bytes);
    const id = `local-${++this.seq}`;
    let worker: Worker;
    try {
      worker = await this.acquire();
    } catch (error) {
      return functionError({ name: 'Runtime.InitError', message: (error as Error).message }, 0);
    }
    this.busy.add(worker);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([worker.run(id, serialized, timeoutMs), timedOut]);
      if (outcome === 'timeout') {
        // Lambda stops the environment of a timed-out invocation; the next invocation starts a new one.
        await worker.stop('SIGKILL');
        return functionError(
          { name: 'Sandbox.Timedout', message: `RequestId: ${id} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` },
          timeoutMs,
        );
      }
      if (outcome.exited !== undefined) {
        return functionError(
          {
            name: 'Runtime.ExitError',
            message: `RequestId: ${id} Error: Runtime exited with error: ${outcome.exited}: ${this.output.slice(-2000)}`,
          },
          outcome.durationMs,
        );
      }
      if (outcome.error) return functionError(outcome.error, outcome.durationMs);
      const payload = outcome.payload ?? 'null';
      if (Buffer.byteLength(payload) > MAX_RESPONSE_PAYLOAD_BYTES) {
        return functionError(
          {
            name: 'Function.ResponseSizeTooLarge',
            message: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_PAYLOAD_BYTES} bytes).`,
          },
          outcome.durationMs,
        );
      }
      return {
        result: JSON.parse(payload) as T,
        durationMs: outcome.durationMs,
        ...(outcome.handlerMs !== undefined ? { handlerMs: outcome.handlerMs } : {}),
        payload,
      };
    } finally {
      clearTimeout(timer);
      this.busy.delete(worker);
      if (worker.alive && !this.stopped) this.idle.push(worker);
    }
  }

  /** Ends every environment and removes the bundle's copy. */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.idle, ...this.busy];
    this.idle.length = 0;
    await Promise.all(all.map((worker) => worker.stop()));
    rmSync(this.root, { recursive: true, force: true });
  }

  private async acquire(): Promise<Worker> {
    for (let worker = this.idle.pop(); worker; worker = this.idle.pop()) {
      if (worker.alive) return worker;
    }
    const worker = await startWorker(this.root, this.env, this.bundle, this.options, (chunk) => (this.output += chunk));
    this.environmentsStarted++;
    this.capture(worker);
    if (this.stopped) {
      await worker.stop();
      throw new Error(`function ${this.bundle.logicalId} has been stopped`);
    }
    return worker;
  }

  private capture(worker: Worker): void {
    worker.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    worker.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    // An idle environment that dies (killed, crashed in a timer) leaves the pool; the next invocation starts another.
    worker.child.once('exit', () => {
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
    });
  }
}

function functionError(error: { name: string; message: string; stack?: string }, durationMs: number): InvokeResult<never> {
  return { error, durationMs, payload: JSON.stringify({ errorType: error.name, errorMessage: error.message }) };
}

async function startWorker(
  root: string,
  env: Record<string, string>,
  bundle: FunctionBundle,
  options: LocalLambdaOptions,
  onInitOutput: (chunk: string) => void,
): Promise<Worker> {
  const child = fork(join(root, 'bootstrap.js'), [], {
    cwd: env.LAMBDA_TASK_ROOT,
    env,
    execArgv: (env.NODE_OPTIONS ?? '').split(' ').filter(Boolean),
    stdio: options.inheritOutput ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  trackChildProcess(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    onInitOutput(chunk.toString());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  try {
    const initMs = await new Promise<number>((resolve, reject) => {
      child.once('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') resolve(msg.initMs ?? 0);
        else reject(new Error(`bundle ${bundle.logicalId} failed to initialize: ${msg.error?.message}\n${output}`));
      });
      child.once('exit', (code) => reject(new Error(`bundle ${bundle.logicalId} exited with ${code} before it was ready:\n${output}`)));
      child.once('error', reject);
    });
    return new Worker(child, initMs);
  } finally {
    child.stdout?.off('data', collect);
    child.stderr?.off('data', collect);
  }
}
