import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type LambdaApi, startLambdaApi } from '../local/lambda-api';
import { LocalLambda, MAX_REQUEST_PAYLOAD_BYTES, MAX_RESPONSE_PAYLOAD_BYTES, RequestTooLargeError } from '../local/lambda-runtime';
import type { FunctionBundle } from '../local/template-resources';
import { TEST_CREDENTIALS } from './support/local-aws';

/** The fixture function, configured as a template would configure it. */
function fixture(timeoutSeconds = 3): FunctionBundle {
  return {
    logicalId: 'Fixture',
    file: join(__dirname, 'fixtures', 'lambda', 'index.js'),
    exportName: 'handler',
    environment: {},
    timeoutSeconds,
    memorySize: 256,
  };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** An HTTP server that answers no request until `count` requests are waiting, then answers them all. */
async function barrier(count: number): Promise<{ url: string; close: () => Promise<void> }> {
  const waiting: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    waiting.push(res);
    if (waiting.length >= count) for (const r of waiting.splice(0)) r.end('go');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('Class: LocalLambda', () => {
  describe('execution environments', () => {
    let fn: LocalLambda;
    beforeEach(async () => {
      fn = await LocalLambda.start(fixture());
    });
    afterEach(async () => {
      await fn?.stop();
    });

    it('runs each concurrent invocation in its own environment and reuses an idle warm one', async () => {
      // Prepare: three invocations that can only finish once all three are running at the same time.
      const gate = await barrier(3);

      // Act
      const concurrent = await Promise.all([1, 2, 3].map(() => fn.invoke<{ pid: number }>({ action: 'wait-for', url: gate.url })));
      const later = await fn.invoke<{ pid: number }>({ action: 'echo' });
      await gate.close();

      // Assess
      const pids = concurrent.map((outcome) => outcome.result?.pid);
      expect(new Set(pids).size).toBe(3);
      expect(fn.environmentsStarted).toBe(3);
      expect(pids).toContain(later.result?.pid);
      expect(fn.environments).toBe(3);
    });

    it('gives the handler the context Lambda gives it, with the memory size the template configures', async () => {
      // Act
      const outcome = await fn.invoke<{ requestId: string; memory: string; event: unknown }>({ action: 'echo', n: 1 });

      // Assess
      expect(outcome.result).toMatchObject({ requestId: expect.stringMatching(/^local-\d+$/), memory: '256', event: { n: 1 } });
      expect(outcome.payload).toBe(JSON.stringify(outcome.result));
    });

    it('replaces an environment whose process died during an invocation with a new one', async () => {
      // Act
      const crashed = await fn.invoke({ action: 'exit' });
      const next = await fn.invoke<{ pid: number }>({ action: 'echo' });

      // Assess
      expect(crashed.error).toMatchObject({
        name: 'Runtime.ExitError',
        message: expect.stringContaining('Runtime exited with error: exit status 3'),
      });
      expect(next.error).toBeUndefined();
      expect(fn.environmentsStarted).toBe(2);
    });

    it('replaces an idle environment that was killed', async () => {
      // Prepare
      const first = await fn.invoke<{ pid: number }>({ action: 'echo' });
      const pid = first.result!.pid;
      const exited = new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (!isRunning(pid)) {
            clearInterval(poll);
            resolve();
          }
        }, 10);
      });
      process.kill(pid, 'SIGKILL');
      await exited;

      // Act
      const next = await fn.invoke<{ pid: number }>({ action: 'echo' });

      // Assess
      expect(next.error).toBeUndefined();
      expect(next.result?.pid).not.toBe(pid);
    });

    it('answers null for a handler that returns nothing, as Lambda does', async () => {
      // Act
      const outcome = await fn.invoke({ action: 'nothing' });

      // Assess: the handler ran, so its own time is reported apart from the whole invocation's.
      expect(outcome).toMatchObject({ result: null, payload: 'null', handlerMs: expect.any(Number) });
    });

    it('leaves no process behind when stopped', async () => {
      // Prepare
      const gate = await barrier(2);
      const pids = (await Promise.all([1, 2].map(() => fn.invoke<{ pid: number }>({ action: 'wait-for', url: gate.url })))).map(
        (outcome) => outcome.result!.pid,
      );
      await gate.close();

      // Act
      await fn.stop();

      // Assess
      expect(pids.filter(isRunning)).toEqual([]);
      await expect(fn.invoke({ action: 'echo' })).rejects.toThrow(/has been stopped/);
    });
  });

  describe('timeout', () => {
    it("ends an invocation at the template's timeout as Lambda reports it, and the next one runs in a new environment", async () => {
      // Prepare: the template's Timeout is 1 second.
      const fn = await LocalLambda.start(fixture(1));
      try {
        // Act
        const hung = await fn.invoke({ action: 'hang' });
        const next = await fn.invoke<{ pid: number }>({ action: 'echo' });

        // Assess
        expect(hung.error).toEqual({
          name: 'Sandbox.Timedout',
          message: expect.stringMatching(/^RequestId: local-1 Error: Task timed out after 1\.00 seconds$/),
        });
        expect(JSON.parse(hung.payload)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: hung.error?.message });
        expect(hung).not.toHaveProperty('handlerMs');
        expect(next.error).toBeUndefined();
        expect(fn.environmentsStarted).toBe(2);
      } finally {
        await fn.stop();
      }
    }, 15_000);
  });

  describe('payload quotas', () => {
    let fn: LocalLambda;
    let api: LambdaApi;
    let lambda: LambdaClient;
    beforeAll(async () => {
      fn = await LocalLambda.start(fixture(30));
      api = await startLambdaApi({ functions: { Fixture: fn } });
      lambda = new LambdaClient({ region: 'us-east-1', endpoint: api.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    });
    afterAll(async () => {
      lambda?.destroy();
      await api?.stop();
      await fn?.stop();
    });

    const invoke = (payload: string) => lambda.send(new InvokeCommand({ FunctionName: 'Fixture', Payload: Buffer.from(payload) }));
    // An event of exactly `bytes` bytes of JSON: {"action":"echo","pad":"xxx..."}
    const eventOfSize = (bytes: number) => {
      const empty = JSON.stringify({ action: 'echo', pad: '' });
      return JSON.stringify({ action: 'echo', pad: 'x'.repeat(bytes - empty.length) });
    };

    it('accepts a request payload of exactly 6 MB and refuses one byte more with 413 RequestEntityTooLargeException', async () => {
      // Act
      const atLimit = await invoke(eventOfSize(MAX_REQUEST_PAYLOAD_BYTES));
      const over = await invoke(eventOfSize(MAX_REQUEST_PAYLOAD_BYTES + 1)).catch((error: Error) => error);

      // Assess
      expect(atLimit.FunctionError).toBeUndefined();
      expect(over).toMatchObject({
        name: 'RequestEntityTooLargeException',
        message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
        $metadata: { httpStatusCode: 413 },
      });
    });

    it('passes the request payload to the function as sent, even nested deeper than JSON.stringify can re-serialize', async () => {
      // Prepare: arrays nested 100,000 deep (Lambda hands such a payload to the handler; a re-serialization overflows).
      const payload = `{"action":"depth","nested":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;

      // Act
      const out = await invoke(payload);

      // Assess
      expect(out.FunctionError).toBeUndefined();
      expect(JSON.parse(Buffer.from(out.Payload!).toString())).toBe(100_000);
    });

    it('refuses an oversized event passed to invoke directly, before any environment runs it', async () => {
      // Prepare
      const started = fn.environmentsStarted;

      // Act
      const outcome = fn.invoke({ action: 'echo', pad: 'x'.repeat(MAX_REQUEST_PAYLOAD_BYTES) });

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(RequestTooLargeError);
      expect(fn.environmentsStarted).toBe(started);
    });

    it('returns a response of exactly the limit and reports a larger one as the function error Lambda reports', async () => {
      // Act: a JSON string response is its length plus two quotes.
      const atLimit = await invoke(JSON.stringify({ action: 'respond', length: MAX_RESPONSE_PAYLOAD_BYTES - 2 }));
      const over = await invoke(JSON.stringify({ action: 'respond', length: MAX_RESPONSE_PAYLOAD_BYTES - 1 }));

      // Assess
      expect(atLimit.FunctionError).toBeUndefined();
      expect(atLimit.Payload?.length).toBe(MAX_RESPONSE_PAYLOAD_BYTES);
      expect(over.FunctionError).toBe('Unhandled');
      expect(JSON.parse(Buffer.from(over.Payload!).toString())).toEqual({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      });
    });

    it('reports a timeout through the Invoke API as an Unhandled function error', async () => {
      // Prepare
      const short = await LocalLambda.start(fixture(1));
      const shortApi = await startLambdaApi({ functions: { Short: short } });
      const client = new LambdaClient({ region: 'us-east-1', endpoint: shortApi.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      try {
        // Act
        const out = await client.send(new InvokeCommand({ FunctionName: 'Short', Payload: Buffer.from('{"action":"hang"}') }));

        // Assess
        expect(out.FunctionError).toBe('Unhandled');
        expect(JSON.parse(Buffer.from(out.Payload!).toString())).toMatchObject({ errorType: 'Sandbox.Timedout' });
      } finally {
        client.destroy();
        await shortApi.stop();
        await short.stop();
      }
    }, 15_000);
  });
});
