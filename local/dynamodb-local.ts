import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { trackChildProcess } from './child-processes';

/** A running DynamoDB Local process (the official jar shipped in `amplify-dynamodb-simulator`). */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Options for {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /** @default - a free port chosen by the OS */
  readonly port?: number;
  /** @default 120000 */
  readonly startTimeoutMs?: number;
}

/** Path of the DynamoDB Local jar inside the `amplify-dynamodb-simulator` package. */
export function dynamoDbLocalJar(): string {
  const pkg = dirname(require.resolve('amplify-dynamodb-simulator/package.json'));
  const jar = join(pkg, 'emulator', 'DynamoDBLocal.jar');
  if (!existsSync(jar)) {
    throw new Error(`DynamoDB Local jar not found at ${jar}; reinstall amplify-dynamodb-simulator`);
  }
  return jar;
}

/** Returns a TCP port that is free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts DynamoDB Local in memory with `-sharedDb`, so every access key and region sees the same tables
 * (the handlers, the tests and the CLI use different credentials and regions).
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const jar = dynamoDbLocalJar();
  const port = options.port ?? (await freePort());
  // Generous: a JVM starting on a loaded two-core machine can take well over half a minute to answer.
  const startTimeoutMs = options.startTimeoutMs ?? 120_000;
  const child: ChildProcess = spawn(
    process.env.JAVA ?? 'java',
    [`-Djava.library.path=${join(dirname(jar), 'DynamoDBLocal_lib')}`, '-jar', jar, '-inMemory', '-sharedDb', '-port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dirname(jar) },
  );
  trackChildProcess(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const failure = await Promise.race([
      spawnError.then((error) => `could not run java (${error.message}); install a Java runtime (JRE 17+)`),
      exited.then((code) => `DynamoDB Local exited with code ${code}: ${output.trim()}`),
      probe(endpoint).then((ok) => (ok ? 'ready' : undefined)),
    ]);
    if (failure === 'ready') break;
    if (failure !== undefined) throw new Error(failure);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${startTimeoutMs} ms: ${output.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    endpoint,
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

async function probe(endpoint: string): Promise<boolean> {
  try {
    // Any HTTP answer (DynamoDB Local returns 400 for a bare GET) means the server is up.
    await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}
