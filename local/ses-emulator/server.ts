import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTROL_PREFIX, type ControlledEmulator, handleControl } from './control-api';
import { badRequest, SesError } from './errors';
import type { ImportJobRunner } from './import-jobs';
import { matchRoute } from './operations';
import type { SendingEngine } from './sending';
import type { TrafficController } from './traffic';

const SES_BODY_LIMIT = 1024 * 1024;
const CONTROL_BODY_LIMIT = 256 * 1024 * 1024;

/** What the HTTP layer needs of the emulator: its regions and traffic control, and the control API's view. */
export interface ServedEmulator extends ControlledEmulator {
  readonly traffic: TrafficController;
  /** @internal runs SES import jobs. */
  readonly imports: ImportJobRunner;
  /** @internal accepts SendEmail messages and publishes their events. */
  readonly sending: SendingEngine;
}

/** Region from a SigV4 `Authorization` header's credential scope (`Credential=AKID/date/region/service/aws4_request`). */
export function regionFromAuthorization(header: string | undefined): string | undefined {
  const m = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\/[a-z0-9-]+\/aws4_request/.exec(header ?? '');
  return m?.[1];
}

/** Access key id from a SigV4 `Authorization` header's credential scope. */
export function accessKeyFromAuthorization(header: string | undefined): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(header ?? '')?.[1];
}

/** The client's IP address as SES reports it (an IPv4-mapped IPv6 address is given as plain IPv4). */
export function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** The node:http listener: `/_emulator/...` goes to the control API, everything else is SES v2 rest-json. */
export function createRequestListener(emu: ServedEmulator): RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const handler = url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`) ? serveControl : serveSes;
    handler(emu, req, res, url).catch((err: unknown) => {
      // Last resort: a bug in the emulator must still produce a well-formed, retryable SES error.
      process.stderr.write(`ses-emulator: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
      if (!res.headersSent) sendError(res, new SesError('InternalServiceErrorException', 'Internal emulator error.'));
      else res.destroy();
    });
  };
}

async function serveSes(emu: ServedEmulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  const rawBody = await readBody(req, SES_BODY_LIMIT).catch((err: unknown) => err as Error);
  const region = regionFromAuthorization(req.headers.authorization);
  if (!region) {
    // Real AWS answers unsigned requests with 403 before routing; we check only the scope, not the signature.
    sendError(
      res,
      new SesError(
        'MissingAuthenticationTokenException',
        'Missing Authentication Token: the Authorization header must carry a SigV4 credential scope (Credential=AKID/yyyymmdd/region/ses/aws4_request).',
      ),
    );
    return;
  }
  let match: ReturnType<typeof matchRoute>;
  try {
    match = matchRoute(method, url.pathname);
  } catch (err) {
    finish(emu, region, 'UnknownOperation', res, err);
    return;
  }
  if (!match) {
    const err = new SesError('UnknownOperationException', `The SES emulator does not implement ${method} ${url.pathname}.`);
    finish(emu, region, 'UnknownOperation', res, err);
    return;
  }
  const { route, params } = match;
  const decision = emu.traffic.decide(region, route.operation);
  if (decision.delayMs > 0) await sleep(decision.delayMs);
  if (decision.failure) {
    finish(emu, region, route.operation, res, decision.failure);
    return;
  }
  try {
    if (rawBody instanceof Error) throw badRequest(rawBody.message);
    const body = parseJsonBody(rawBody);
    const result = await route.handle({
      region: emu.region(region),
      params,
      query: url.searchParams,
      body,
      imports: emu.imports,
      sending: emu.sending,
      caller: { accessKeyId: accessKeyFromAuthorization(req.headers.authorization), sourceIp: sourceIpOf(req) },
    });
    finish(emu, region, route.operation, res, undefined, result);
  } catch (err) {
    finish(emu, region, route.operation, res, err);
  }
}

async function serveControl(emu: ServedEmulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  let status: number;
  let body: unknown;
  try {
    const raw = await readBody(req, CONTROL_BODY_LIMIT);
    const parsed = raw.length === 0 ? undefined : (JSON.parse(raw.toString('utf8')) as unknown);
    ({ status, body } = handleControl(emu, req.method ?? 'GET', url.pathname, parsed));
  } catch (err) {
    status = err instanceof SyntaxError ? 400 : ((err as { status?: number }).status ?? 400);
    body = { error: err instanceof Error ? err.message : String(err) };
  }
  sendJson(res, status, body);
}

function finish(emu: ServedEmulator, region: string, operation: string, res: ServerResponse, err: unknown, result?: unknown): void {
  if (err === undefined) {
    emu.traffic.record(region, operation, 200);
    sendJson(res, 200, result ?? {});
    return;
  }
  const sesError = err instanceof SesError ? err : internal(err);
  emu.traffic.record(region, operation, sesError.status);
  sendError(res, sesError);
}

function internal(err: unknown): SesError {
  process.stderr.write(`ses-emulator: handler failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  return new SesError('InternalServiceErrorException', 'Internal emulator error.');
}

function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
}

function sendError(res: ServerResponse, err: SesError): void {
  // The SDK's rest-json error parser reads the code from x-amzn-ErrorType and the text from body.message.
  sendJson(res, err.status, { message: err.message }, { 'x-amzn-ErrorType': err.code });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  res.end(payload);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining instead of destroying the socket, so the client still receives our error response.
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(new Error(`Request body exceeds ${limit} bytes.`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}
