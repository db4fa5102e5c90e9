import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local AWS Secrets Manager for the local environment and the tests, speaking the service's real wire protocol
 * (awsJson1.1: `POST /` with `X-Amz-Target: secretsmanager.<Operation>` and a JSON body; errors as HTTP 400 with
 * `{"__type", "message"}`), so the real `@aws-sdk/client-secrets-manager` talks to it through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`. It keeps secrets in memory, per region (the SigV4 credential scope's), and
 * implements what the service's functions and their tests use:
 *
 * - `CreateSecret` (`Name`, `SecretString` or `SecretBinary`, `ClientRequestToken`, `KmsKeyId`, `Description`):
 *   the ARN ends in the name, a hyphen and six random characters, as Secrets Manager makes it;
 *   `ResourceExistsException` for a name taken.
 * - `PutSecretValue` (`SecretId`, `SecretString` or `SecretBinary`, `ClientRequestToken`): a new `AWSCURRENT`
 *   version; the previous one becomes `AWSPREVIOUS`.
 * - `GetSecretValue` (`SecretId`, `VersionId`, `VersionStage`): the `AWSCURRENT` version unless asked otherwise.
 * - `DeleteSecret` (`SecretId`): removed at once (as with `ForceDeleteWithoutRecovery`).
 *
 * A `SecretId` is the name, the complete ARN or the partial ARN (without the suffix). An unknown secret is
 * `ResourceNotFoundException` ("Secrets Manager can't find the specified secret."). Signatures are not verified;
 * any credentials work, as with the other local components.
 */
export interface LocalSecretsManager {
  /** Base URL, e.g. `http://127.0.0.1:45678`, for `endpoint` / `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  readonly endpoint: string;
  /** Creates (or replaces the value of) a secret in `region` without a request; returns its complete ARN. */
  putSecret(region: string, name: string, secretString: string): string;
  /** Requests answered so far, by operation. */
  readonly requests: Record<string, number>;
  stop(): Promise<void>;
}

/** Options for {@link startLocalSecretsManager}. */
export interface LocalSecretsManagerOptions {
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Region of a request whose signature names none. @default 'us-east-1' */
  readonly defaultRegion?: string;
  /** @default 0 - a free port chosen by the OS */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

interface SecretVersion {
  readonly versionId: string;
  readonly secretString?: string;
  readonly secretBinary?: string;
  readonly createdDate: number;
  stages: string[];
}

interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  readonly versions: SecretVersion[];
}

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const NOT_FOUND = () => new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

function suffix(): string {
  return [...randomBytes(6)].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}

/** The region of a SigV4-signed request (`Credential=<key>/<date>/<region>/<service>/aws4_request`). */
function signedRegion(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization;
  return typeof authorization === 'string' ? /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization)?.[1] : undefined;
}

/** Starts the local Secrets Manager on a free port of 127.0.0.1. */
export async function startLocalSecretsManager(options: LocalSecretsManagerOptions = {}): Promise<LocalSecretsManager> {
  const accountId = options.accountId ?? '000000000000';
  const defaultRegion = options.defaultRegion ?? 'us-east-1';
  const regions = new Map<string, Map<string, StoredSecret>>();
  const requests: Record<string, number> = {};
  const store = (region: string) => {
    let secrets = regions.get(region);
    if (!secrets) {
      secrets = new Map();
      regions.set(region, secrets);
    }
    return secrets;
  };

  const find = (region: string, secretId: unknown): StoredSecret => {
    if (typeof secretId !== 'string' || secretId === '') throw new ServiceError('InvalidParameterException', 'SecretId is required.');
    for (const secret of store(region).values()) {
      if (secret.name === secretId || secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
    }
    throw NOT_FOUND();
  };

  const addVersion = (secret: StoredSecret, body: Record<string, unknown>): SecretVersion => {
    const { SecretString, SecretBinary, ClientRequestToken } = body;
    if ((SecretString === undefined) === (SecretBinary === undefined)) {
      throw new ServiceError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
    }
    if (SecretString !== undefined && typeof SecretString !== 'string') {
      throw new ServiceError('InvalidParameterException', 'SecretString must be a string.');
    }
    const versionId = typeof ClientRequestToken === 'string' && ClientRequestToken !== '' ? ClientRequestToken : randomUUID();
    for (const version of secret.versions) {
      if (version.stages.includes('AWSCURRENT')) version.stages = ['AWSPREVIOUS'];
      else version.stages = version.stages.filter((stage) => stage !== 'AWSPREVIOUS');
    }
    const version: SecretVersion = {
      versionId,
      ...(typeof SecretString === 'string' ? { secretString: SecretString } : { secretBinary: String(SecretBinary) }),
      createdDate: Date.now() / 1000,
      stages: ['AWSCURRENT'],
    };
    secret.versions.push(version);
    return version;
  };

  const create = (region: string, body: Record<string, unknown>) => {
    const name = body.Name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new ServiceError(
        'InvalidParameterException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const secrets = store(region);
    if (secrets.has(name))
      throw new ServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    const secret: StoredSecret = { arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${suffix()}`, name, versions: [] };
    const version = body.SecretString === undefined && body.SecretBinary === undefined ? undefined : addVersion(secret, body);
    secrets.set(name, secret);
    return { ARN: secret.arn, Name: name, ...(version ? { VersionId: version.versionId } : {}) };
  };

  const operations: Record<string, (region: string, body: Record<string, unknown>) => unknown> = {
    CreateSecret: create,
    PutSecretValue: (region, body) => {
      const secret = find(region, body.SecretId);
      const version = addVersion(secret, body);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: version.stages };
    },
    GetSecretValue: (region, body) => {
      const secret = find(region, body.SecretId);
      const { VersionId, VersionStage } = body;
      const version = secret.versions.find((v) =>
        VersionId !== undefined
          ? v.versionId === VersionId
          : v.stages.includes(typeof VersionStage === 'string' ? VersionStage : 'AWSCURRENT'),
      );
      if (!version) {
        throw new ServiceError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for " +
            (VersionId !== undefined ? `VersionId: ${String(VersionId)}` : `staging label: ${String(VersionStage ?? 'AWSCURRENT')}`),
        );
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        ...(version.secretString !== undefined ? { SecretString: version.secretString } : { SecretBinary: version.secretBinary }),
        VersionStages: version.stages,
        CreatedDate: version.createdDate,
      };
    },
    DeleteSecret: (region, body) => {
      const secret = find(region, body.SecretId);
      store(region).delete(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 };
    },
  };

  const reply = (response: ServerResponse, status: number, body: unknown, errorType?: string) => {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
      ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
    });
    response.end(text);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        const target = String(request.headers['x-amz-target'] ?? '');
        const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
        const run = request.method === 'POST' ? operations[operation] : undefined;
        if (!run)
          throw new ServiceError('UnknownOperationException', `operation ${JSON.stringify(target.slice(0, 80))} is not supported locally`);
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          throw new ServiceError('SerializationException', 'the request body is not JSON');
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new ServiceError('SerializationException', 'the request body is not a JSON object');
        requests[operation] = (requests[operation] ?? 0) + 1;
        reply(response, 200, run(signedRegion(request) ?? defaultRegion, body as Record<string, unknown>));
      } catch (error) {
        if (error instanceof ServiceError) reply(response, 400, { __type: error.type, message: error.message }, error.type);
        else reply(response, 500, { __type: 'InternalServiceError', message: (error as Error).message }, 'InternalServiceError');
      }
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    requests,
    putSecret(region, name, secretString) {
      const existing = store(region).get(name);
      if (existing) {
        addVersion(existing, { SecretString: secretString });
        return existing.arn;
      }
      return create(region, { Name: name, SecretString: secretString }).ARN;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
