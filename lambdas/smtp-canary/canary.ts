import { SES_REGIONS } from '../domain/ses-regions';
import { deriveSmtpPassword } from '../domain/smtp';
import type { LayerOutcome, SmtpLayer, SmtpProbeOptions, SmtpProbeResult } from '../domain/smtp-probe';
import { redactAddresses } from '../domain/text';
import type { SmtpCanaryTarget } from './settings';

/**
 * One canary run: read the credentials from the canary's secret, then walk DNS, TCP, TLS and AUTH against the
 * region's SES SMTP endpoint with `probeSmtp`. Never sends mail. Nothing returned here holds the password, the secret
 * or an address.
 */

/** The SMTP credentials of a canary, as the relay has them, and the secret key they should derive from when known. */
export interface CanaryCredentials {
  readonly username: string;
  readonly password: string;
  readonly secretAccessKey?: string;
  /** Which form the secret has. */
  readonly form: 'smtp-credentials' | 'access-key';
}

/** A secret the canary cannot use; the message names the fields, never a value. */
export class SecretFormatError extends Error {
  override readonly name = 'SecretFormatError';
}

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * The credentials in a secret's `SecretString`: `{"username", "password"}` (the SMTP credentials as the relay has
 * them, optionally with the IAM `secretAccessKey` they should come from, which lets a refusal name its cause), or
 * `{"accessKeyId", "secretAccessKey"}` (the IAM key itself: the password is derived for `region`).
 */
export function credentialsFromSecret(secretString: string | undefined, region: string): CanaryCredentials {
  if (secretString === undefined) {
    throw new SecretFormatError('the secret has no SecretString (binary secrets are not read): store a JSON object');
  }
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new SecretFormatError(
      `the SecretString is not JSON (${secretString.length} characters): store {"username", "password"} or {"accessKeyId", "secretAccessKey"}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SecretFormatError(
      `the SecretString is JSON but not an object (${Array.isArray(value) ? 'a list' : typeof value}): store {"username", "password"} or {"accessKeyId", "secretAccessKey"}`,
    );
  }
  const fields = value as Record<string, unknown>;
  const invalid = (names: readonly string[]) => names.filter((name) => !nonEmptyString(fields[name]));
  if ('username' in fields || 'password' in fields) {
    const bad = invalid(['username', 'password']);
    if (bad.length > 0) throw new SecretFormatError(`the secret's ${bad.join(' and ')} must be a non-empty string`);
    if ('secretAccessKey' in fields && !nonEmptyString(fields.secretAccessKey)) {
      throw new SecretFormatError("the secret's secretAccessKey must be a non-empty string when present");
    }
    return {
      username: String(fields.username).trim(),
      password: String(fields.password),
      ...(nonEmptyString(fields.secretAccessKey) ? { secretAccessKey: fields.secretAccessKey } : {}),
      form: 'smtp-credentials',
    };
  }
  if ('accessKeyId' in fields || 'secretAccessKey' in fields) {
    const bad = invalid(['accessKeyId', 'secretAccessKey']);
    if (bad.length > 0) throw new SecretFormatError(`the secret's ${bad.join(' and ')} must be a non-empty string`);
    const secretAccessKey = String(fields.secretAccessKey);
    return {
      username: String(fields.accessKeyId).trim(),
      password: deriveSmtpPassword(secretAccessKey, region),
      secretAccessKey,
      form: 'access-key',
    };
  }
  const keys = Object.keys(fields)
    .slice(0, 10)
    .map((key) => JSON.stringify(key.slice(0, 40)));
  throw new SecretFormatError(
    `the secret has neither {"username", "password"} nor {"accessKeyId", "secretAccessKey"} (its keys: ${keys.length > 0 ? keys.join(', ') : 'none'})`,
  );
}

/** A canary's result as the function returns and logs it. */
export interface CanaryReport {
  readonly canary: string;
  readonly region: string;
  /** `pass`: SES accepted the credentials. `fail`: it refused them. `unchecked`: AUTH got no answer. */
  readonly outcome: LayerOutcome;
  /** The layer that decided: `secret` when the secret could not be read or used, else the last layer probed. */
  readonly layer: SmtpLayer | 'secret';
  /** The layer's outcome, when it differs from the canary's (a TLS failure leaves AUTH unchecked). */
  readonly layerOutcome: LayerOutcome;
  readonly cause?: string;
  readonly diagnosis?: string;
  /** What was observed, with the user name masked. */
  readonly evidence: readonly string[];
  readonly secretForm?: CanaryCredentials['form'];
  readonly durationMs: number;
}

/** What one canary run needs from outside. */
export interface CanaryDeps {
  /** The `SecretString` of a secret (the SDK's GetSecretValue); throws the SDK's error. */
  readonly getSecretString: (secretArn: string) => Promise<string | undefined>;
  readonly probe: (options: SmtpProbeOptions) => Promise<SmtpProbeResult>;
  readonly port: number;
  readonly timeoutMs: number;
  /** Where to connect instead of a region's endpoint (local only). */
  readonly endpoints?: Readonly<Record<string, { host: string; port: number }>>;
  readonly now?: () => number;
}

/** An access key ID as logs may show it: its kind and last four characters; anything else not at all. */
export function maskUsername(username: string): string {
  if (/^(AKIA|ASIA)[A-Z0-9]{16}$/.test(username)) return `${username.slice(0, 4)}…${username.slice(-4)}`;
  return '<user name>';
}

/** Secrets Manager errors that a person must fix (the others are transient: the canary could not check). */
const SECRET_CONFIGURATION_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidRequestException',
  'InvalidParameterException',
]);

/** Runs one canary. Never throws: every failure becomes the report's outcome and cause. */
export async function runCanary(target: SmtpCanaryTarget, deps: CanaryDeps): Promise<CanaryReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const base = { canary: target.name, region: target.region };
  const secretProblem = (cause: string, diagnosis: string, evidence: string[]): CanaryReport => ({
    ...base,
    outcome: 'unchecked',
    layer: 'secret',
    layerOutcome: 'fail',
    cause,
    diagnosis,
    evidence,
    durationMs: now() - started,
  });
  let secretString: string | undefined;
  try {
    secretString = await deps.getSecretString(target.secretArn);
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    const code = typeof name === 'string' ? name : 'Error';
    const configuration = SECRET_CONFIGURATION_ERRORS.has(code);
    return {
      ...secretProblem(
        configuration ? 'secret-unavailable' : 'secret-unreachable',
        configuration
          ? `Secrets Manager refused GetSecretValue on ${target.secretArn} (${code}): check that the secret exists under that ARN, and for a customer managed KMS key that the canary's kmsKeyArn names it.`
          : `Secrets Manager did not answer GetSecretValue (${code}); the next run tries again.`,
        [`GetSecretValue ${target.secretArn}: ${code}`],
      ),
      layerOutcome: configuration ? 'fail' : 'unchecked',
    };
  }
  let credentials: CanaryCredentials;
  try {
    credentials = credentialsFromSecret(secretString, target.region);
  } catch (error) {
    if (!(error instanceof SecretFormatError)) throw error;
    return secretProblem('secret-malformed', `${error.message}.`, [`secret ${target.secretArn}: not usable`]);
  }
  const result = await deps.probe({
    region: target.region,
    port: deps.port,
    ...(deps.endpoints?.[target.region] ? { endpoint: deps.endpoints[target.region] } : {}),
    username: credentials.username,
    password: credentials.password,
    ...(credentials.secretAccessKey !== undefined ? { secretAccessKey: credentials.secretAccessKey } : {}),
    regions: SES_REGIONS,
    timeoutMs: deps.timeoutMs,
  });
  const last = result.layers.at(-1);
  const masked = maskUsername(credentials.username);
  const evidence = result.layers.flatMap((layer) =>
    layer.evidence.map((line) => redactAddresses(`${layer.layer}: ${line.split(credentials.username).join(masked)}`)),
  );
  const reachedAuth = last?.layer === 'auth' && last.outcome !== 'unchecked';
  return {
    ...base,
    outcome: reachedAuth ? last.outcome : 'unchecked',
    layer: last?.layer ?? 'dns',
    layerOutcome: last?.outcome ?? 'unchecked',
    ...(last?.cause !== undefined ? { cause: last.cause } : {}),
    ...(last?.diagnosis !== undefined ? { diagnosis: last.diagnosis } : {}),
    evidence,
    secretForm: credentials.form,
    durationMs: now() - started,
  };
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of `items` in the results. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
