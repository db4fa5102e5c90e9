import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A local S3 for the local environment and the tests: `@20minutes/s3rver` (an in-process S3 server storing objects
 * in a temporary directory) with a thin layer in front that makes it behave like S3 where the service depends on it:
 *
 * - **Any credentials work.** s3rver only knows its own access key; the layer accepts every access key (signatures
 *   are not verified), as the other local components do.
 * - **Buckets have a region.** s3rver ignores CreateBucket's `LocationConstraint` and answers GetBucketLocation with
 *   the default region. The layer records each bucket's region, answers GetBucketLocation with it (empty for
 *   us-east-1, as S3 does), adds `x-amz-bucket-region` to HeadBucket, and refuses a request signed for another region
 *   with S3's `AuthorizationHeaderMalformed` ("the region 'x' is wrong; expecting 'y'"), as S3 does. A CreateBucket
 *   whose constraint differs from the signing region gets `IllegalLocationConstraintException`.
 *
 * Reach it with path-style addressing: `new S3Client({ region, endpoint, forcePathStyle: true })`, or set
 * `AWS_ENDPOINT_URL_S3` and `forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined`. Unsigned GETs (a plain
 * `fetch` of `<endpoint>/<bucket>/<key>`) are allowed, as for a public or pre-signed object.
 */
export interface LocalS3 {
  /** Base URL, e.g. `http://127.0.0.1:45678`, for `endpoint` / `AWS_ENDPOINT_URL_S3`. */
  readonly endpoint: string;
  readonly port: number;
  /** The region a bucket was created in, or undefined when there is no such bucket. */
  bucketRegion(bucket: string): string | undefined;
  stop(): Promise<void>;
}

/** Options for {@link startLocalS3}. */
export interface LocalS3Options {
  /** @default 0 - a free port chosen by the OS */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

// Koa's context, as far as this layer reads and writes it.
interface KoaContext {
  method: string;
  path: string;
  querystring: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  req: NodeJS.ReadableStream;
  status: number;
  body: unknown;
  type: string;
  set(name: string, value: string): void;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface S3rverInstance {
  middleware: Middleware[];
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}

const DEFAULT_REGION = 'us-east-1';

/** Starts the local S3 on a free port (or `options.port`), storing objects in a fresh temporary directory. */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  // biome-ignore lint/suspicious/noExplicitAny: s3rver ships no type declarations.
  const S3rver = require('@20minutes/s3rver') as new (options: Record<string, unknown>) => any;
  const account = require('@20minutes/s3rver/lib/models/account') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
    registry: Map<string, unknown>;
  };
  const directory = mkdtempSync(join(tmpdir(), 'ssg-s3-'));
  const host = options.host ?? '127.0.0.1';
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
  }) as S3rverInstance;
  const regions = new Map<string, string>();
  server.middleware.unshift(
    regionLayer(regions, (accessKeyId) => {
      if (!account.registry.has(accessKeyId)) account.DUMMY_ACCOUNT.createKeyPair(accessKeyId, 'unverified');
    }),
  );
  const address = await server.run();
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return {
    endpoint,
    port: address.port,
    bucketRegion: (bucket) => regions.get(bucket),
    stop: async () => {
      const http = server.httpServer;
      if (!http?.listening) return;
      http.closeAllConnections();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The layer in front of s3rver: accepts any access key, keeps bucket regions, refuses wrong-region requests. */
function regionLayer(regions: Map<string, string>, acceptKey: (accessKeyId: string) => void): Middleware {
  return async (ctx, next) => {
    const scope = signingScope(ctx);
    if (scope) acceptKey(scope.accessKeyId);
    const segments = ctx.path.split('/').filter((s) => s.length > 0);
    const bucket = segments[0] !== undefined ? decodeURIComponent(segments[0]) : undefined;
    if (bucket === undefined) return next();
    const isBucketRequest = segments.length === 1;
    const query = ctx.query;

    if (isBucketRequest && ctx.method === 'PUT' && ctx.querystring === '') {
      // CreateBucket: the body (if any) is <CreateBucketConfiguration><LocationConstraint>region</...>.
      if (regions.has(bucket)) {
        return s3Error(
          ctx,
          409,
          'BucketAlreadyOwnedByYou',
          'Your previous request to create the named bucket succeeded and you already own it.',
        );
      }
      const body = await readText(ctx.req);
      const constraint = /<LocationConstraint>\s*([^<\s]*)\s*<\/LocationConstraint>/.exec(body)?.[1] || DEFAULT_REGION;
      if (scope && scope.region !== constraint) {
        return s3Error(
          ctx,
          400,
          'IllegalLocationConstraintException',
          `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
        );
      }
      await next();
      if (ctx.status === 200) regions.set(bucket, constraint);
      return;
    }

    const region = regions.get(bucket);
    if (isBucketRequest && ctx.method === 'GET' && 'location' in query) {
      // GetBucketLocation is answered whatever the signing region, as S3 does.
      await next();
      if (ctx.status === 200 && region !== undefined) {
        ctx.type = 'application/xml';
        ctx.body =
          '<?xml version="1.0" encoding="UTF-8"?>\n' +
          `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region === DEFAULT_REGION ? '' : region}</LocationConstraint>`;
      }
      return;
    }
    if (region !== undefined && scope && scope.region !== region) {
      if (ctx.method === 'HEAD') {
        ctx.set('x-amz-bucket-region', region);
        ctx.status = 400;
        ctx.body = '';
        return;
      }
      return s3Error(
        ctx,
        400,
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${scope.region}' is wrong; expecting '${region}'`,
        region,
      );
    }
    if (region !== undefined) ctx.set('x-amz-bucket-region', region);
    await next();
    if (isBucketRequest && ctx.method === 'DELETE' && ctx.querystring === '' && ctx.status === 204) regions.delete(bucket);
  };
}

/** Access key and region of a SigV4 request (header or pre-signed query), or undefined when unsigned. */
function signingScope(ctx: KoaContext): { accessKeyId: string; region: string } | undefined {
  const header = ctx.headers.authorization;
  const credential =
    typeof header === 'string'
      ? /Credential=([^,\s]+)/.exec(header)?.[1]
      : typeof ctx.query['X-Amz-Credential'] === 'string'
        ? ctx.query['X-Amz-Credential']
        : undefined;
  const m = credential ? /^([^/]+)\/\d{8}\/([^/]+)\/[^/]+\/aws4_request$/.exec(credential) : null;
  return m ? { accessKeyId: m[1] as string, region: m[2] as string } : undefined;
}

function s3Error(ctx: KoaContext, status: number, code: string, message: string, region?: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
    `${region !== undefined ? `<Region>${region}</Region>` : ''}<RequestId>${randomUUID()}</RequestId></Error>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
}

function readText(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}
