import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LocalLambda, MAX_REQUEST_PAYLOAD_BYTES, RequestTooLargeError } from './lambda-runtime';

/** A local server speaking the Lambda Invoke REST API, so `@aws-sdk/client-lambda` works unchanged. */
export interface LambdaApi {
  readonly endpoint: string;
  readonly port: number;
  /** Resolves when every asynchronous (`Event`) invocation accepted so far has finished, retries included. */
  asyncIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** The largest payload of an asynchronous invocation Lambda accepts (1 MB). */
export const MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024;

/** Attempts of an asynchronous invocation whose function fails: the first and Lambda's default 2 retries. */
export const ASYNC_ATTEMPTS = 3;

/** Options for {@link startLambdaApi}. */
export interface LambdaApiOptions {
  /** Functions by the name callers pass as `FunctionName` (a name or an ARN ending in it). */
  readonly functions: Record<string, LocalLambda>;
  /** @default 0 - a free port */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * Serves `POST /2015-03-31/functions/{FunctionName}/invocations` (RequestResponse, and Event: accepted with 202 and
 * run in the background, tried up to {@link ASYNC_ATTEMPTS} times) for local bundles. A handler
 * error answers 200 with `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage}`, as Lambda does; so do a
 * timeout (`Sandbox.Timedout`) and a response over 6 MB (`Function.ResponseSizeTooLarge`). A request body over
 * 6 MB is refused with 413 `RequestEntityTooLargeException` before the function runs.
 */
export async function startLambdaApi(options: LambdaApiOptions): Promise<LambdaApi> {
  const pending = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    handle(req, res, options.functions, pending).catch((error: Error) => sendError(res, 500, 'ServiceException', error.message));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    asyncIdle: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  functions: Record<string, LocalLambda>,
  pending: Set<Promise<void>>,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = INVOKE_PATH.exec(url.pathname);
  if (!match || req.method !== 'POST') {
    return sendError(res, 404, 'ResourceNotFoundException', `no such Lambda API route: ${req.method} ${url.pathname}`);
  }
  const requested = decodeURIComponent(match[1] ?? '');
  const name = requested.split(':').find((part) => functions[part]) ?? requested;
  const fn = functions[name];
  if (!fn)
    return sendError(
      res,
      404,
      'ResourceNotFoundException',
      `Function not found: ${requested} (local functions: ${Object.keys(functions).join(', ')})`,
    );
  const invocationType = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  if (invocationType === 'Event') {
    // Accepted at once (202), run in the background; a failed invocation is tried again, as Lambda does (locally
    // after a second rather than Lambda's minutes).
    const body = await readBody(req, MAX_ASYNC_PAYLOAD_BYTES);
    if (body === undefined)
      return sendError(res, 413, 'RequestEntityTooLargeException', 'the asynchronous invocation payload is over 1 MB');
    res.writeHead(202, { 'content-type': 'application/json' }).end();
    const run = (async () => {
      for (let attempt = 1; attempt <= ASYNC_ATTEMPTS; attempt++) {
        const outcome = await fn.invokeJson(body.length ? body : '{}').catch((error: Error) => ({ error }));
        if (!outcome.error) return;
        if (attempt < ASYNC_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
    return;
  }
  if (invocationType !== 'RequestResponse') {
    return sendError(
      res,
      400,
      'InvalidParameterValueException',
      `only RequestResponse and Event invocations are served locally, got ${invocationType}`,
    );
  }
  const body = await readBody(req, MAX_REQUEST_PAYLOAD_BYTES);
  if (body === undefined) return sendError(res, 413, 'RequestEntityTooLargeException', new RequestTooLargeError(0).message);
  try {
    JSON.parse(body.length ? body : '{}');
  } catch {
    return sendError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
  }
  let outcome: Awaited<ReturnType<LocalLambda['invoke']>>;
  try {
    // The body as sent: re-serializing a parsed value fails on nesting deeper than JSON.stringify recurses.
    outcome = await fn.invokeJson(body.length ? body : '{}');
  } catch (error) {
    if (error instanceof RequestTooLargeError) return sendError(res, 413, error.name, error.message);
    throw error;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' };
  if (outcome.error) headers['x-amz-function-error'] = 'Unhandled';
  res.writeHead(200, headers).end(outcome.payload);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type }).end(JSON.stringify({ Type: 'User', message }));
}

/** The body as text, or undefined when it is longer than `limit` bytes (read to the end, not kept). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining instead of destroying the socket, so the client still receives the 413.
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
