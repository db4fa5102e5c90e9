import { type ChildProcess, fork } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FunctionBundle } from './template-resources';

/** The outcome of one local invocation. */
export interface InvokeResult<T = unknown> {
  readonly result?: T;
  readonly error?: { name: string; message: string; stack?: string };
  readonly durationMs: number;
}

// Runs inside the child: loads the bundle like the Lambda runtime does and answers invocations over IPC.
const BOOTSTRAP = `
'use strict';
const started = Date.now();
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
process.on('message', async (msg) => {
  const deadline = Date.now() + msg.timeoutMs;
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST', awsRequestId: msg.id,
    invokedFunctionArn: 'arn:aws:lambda:' + process.env.AWS_REGION + ':000000000000:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, logGroupName: '/aws/lambda/local', logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const t0 = Date.now();
  try {
    const result = await handler(msg.event, context);
    process.send({ type: 'result', id: msg.id, result, durationMs: Date.now() - t0 });
  } catch (error) {
    process.send({ type: 'result', id: msg.id, error: { name: error && error.name, message: error && error.message, stack: error && error.stack }, durationMs: Date.now() - t0 });
  }
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

/**
 * A synthesized Lambda bundle running in its own Node.js process, the way the Lambda runtime runs it: the bundle
 * is copied out of the project, and the only packages it can resolve besides its own code are `@aws-sdk/*`
 * (which `NodejsFunction` leaves out because the runtime provides them). A bundling mistake therefore fails here.
 */
export class LocalLambda {
  private seq = 0;
  private readonly pending = new Map<string, (result: InvokeResult) => void>();
  output = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly root: string,
    private readonly timeoutMs: number,
    public readonly initMs: number,
  ) {
    child.on('message', (msg: { type: string; id: string; result?: unknown; error?: InvokeResult['error']; durationMs: number }) => {
      if (msg.type !== 'result') return;
      const resolve = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      resolve?.({ result: msg.result, error: msg.error, durationMs: msg.durationMs });
    });
    child.on('exit', (code, signal) => {
      for (const [id, resolve] of this.pending) {
        resolve({
          error: {
            name: 'Runtime.ExitError',
            message: `process exited (${code ?? signal}) during invocation ${id}: ${this.output.slice(-2000)}`,
          },
          durationMs: 0,
        });
      }
      this.pending.clear();
    });
  }

  /** Copies the bundle into a runtime-like directory and starts it; rejects with the init error if it cannot load. */
  static async start(bundle: FunctionBundle, options: LocalLambdaOptions = {}): Promise<LocalLambda> {
    const root = mkdtempSync(join(tmpdir(), 'ssg-lambda-'));
    const task = join(root, 'task');
    cpSync(dirname(bundle.file), task, { recursive: true });
    // Like /var/runtime/node_modules: the AWS SDK for JavaScript v3 and nothing else.
    const runtimeModules = join(root, 'node_modules');
    mkdirSync(runtimeModules);
    symlinkSync(join(dirname(require.resolve('@aws-sdk/client-sesv2/package.json')), '..'), join(runtimeModules, '@aws-sdk'), 'dir');
    const bootstrap = join(root, 'bootstrap.js');
    writeFileSync(bootstrap, BOOTSTRAP);

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...bundle.environment,
      AWS_LAMBDA_FUNCTION_NAME: bundle.logicalId,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      LAMBDA_TASK_ROOT: task,
      SSG_BUNDLE_FILE: join(task, bundle.file.slice(dirname(bundle.file).length + 1)),
      SSG_HANDLER_EXPORT: bundle.exportName,
      ...options.env,
    };
    const child = fork(bootstrap, [], {
      cwd: task,
      env,
      execArgv: (env.NODE_OPTIONS ?? '').split(' ').filter(Boolean),
      stdio: options.inheritOutput ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const initMs = await new Promise<number>((resolve, reject) => {
      child.once('message', (msg: { type: string; initMs?: number; error?: { message: string } }) => {
        if (msg.type === 'ready') resolve(msg.initMs ?? 0);
        else reject(new Error(`bundle ${bundle.logicalId} failed to initialize: ${msg.error?.message}\n${output}`));
      });
      child.once('exit', (code) => reject(new Error(`bundle ${bundle.logicalId} exited with ${code} before it was ready:\n${output}`)));
    });
    const lambda = new LocalLambda(child, root, options.timeoutMs ?? bundle.timeoutSeconds * 1000, initMs);
    child.stdout?.on('data', (chunk: Buffer) => (lambda.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (lambda.output += chunk.toString()));
    return lambda;
  }

  /** Invokes the handler once with `event`, as a warm invocation of this process. */
  invoke<T = unknown>(event: unknown, timeoutMs = this.timeoutMs): Promise<InvokeResult<T>> {
    const id = `local-${++this.seq}`;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (result: InvokeResult) => void);
      this.child.send({ id, event, timeoutMs });
    });
  }

  /** Ends the process and removes its directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
