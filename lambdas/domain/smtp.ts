import { createHmac } from 'node:crypto';
import { REGION_PATTERN } from './settings';

/**
 * SES's SMTP credentials, as the SES Developer Guide documents them ("Obtaining Amazon SES SMTP credentials"): the
 * user name is the IAM access key ID, and the password is derived from the IAM secret access key for one region with
 * a SigV4 key chain over a fixed date, then prefixed with the version byte 0x04 and base64-encoded. A password
 * derived for one region is refused by every other region's endpoint.
 */

const DATE = '11111111';
const SERVICE = 'ses';
const TERMINAL = 'aws4_request';
const MESSAGE = 'SendRawEmail';
/** The version byte of passwords derived for a region (SigV4). */
export const SMTP_PASSWORD_VERSION = 0x04;
/** The version byte of the old, region-independent passwords (a single HMAC of the message), no longer accepted. */
export const LEGACY_SMTP_PASSWORD_VERSION = 0x02;

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** The SES SMTP password for `region` derived from an IAM secret access key. */
export function deriveSmtpPassword(secretAccessKey: string, region: string): string {
  let key = hmac(`AWS4${secretAccessKey}`, DATE);
  for (const part of [region, SERVICE, TERMINAL, MESSAGE]) key = hmac(key, part);
  return Buffer.concat([Buffer.from([SMTP_PASSWORD_VERSION]), key]).toString('base64');
}

/** The old (version 2) SMTP password of a secret access key: the same for every region; SES no longer accepts it. */
export function legacySmtpPassword(secretAccessKey: string): string {
  return Buffer.concat([Buffer.from([LEGACY_SMTP_PASSWORD_VERSION]), hmac(secretAccessKey, MESSAGE)]).toString('base64');
}

/** The SES SMTP endpoint of a region. */
export function smtpEndpoint(region: string): string {
  return `email-smtp.${region}.amazonaws.com`;
}

/**
 * Local only: JSON `{"<region>": "<host>:<port>"}`, where to connect instead of `email-smtp.<region>.amazonaws.com`
 * (TLS still checks the certificate against the regional host name). Never set by the CDK.
 */
export const SMTP_ENDPOINTS_VARIABLE = 'SSG_SMTP_ENDPOINTS';

/** Parses {@link SMTP_ENDPOINTS_VARIABLE}; undefined when it is not set. */
export function parseSmtpEndpoints(raw: string | undefined): Record<string, { host: string; port: number }> | undefined {
  if (raw === undefined || raw === '') return undefined;
  const fail = (): never => {
    throw new Error(`${SMTP_ENDPOINTS_VARIABLE} environment variable must be JSON {"<region>": "<host>:<port>"}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return fail();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail();
  const endpoints: Record<string, { host: string; port: number }> = {};
  for (const [region, target] of Object.entries(value)) {
    const [, host, port] = typeof target === 'string' ? (/^(.+):(\d{1,5})$/.exec(target) ?? []) : [];
    if (host === undefined || port === undefined || !REGION_PATTERN.test(region)) return fail();
    endpoints[region] = { host: host.replace(/^\[(.*)\]$/, '$1'), port: Number(port) };
  }
  return endpoints;
}

/** The ports of SES's SMTP endpoints and how TLS starts on each (25 is blocked by default on EC2 and Lightsail). */
export const SMTP_PORTS = [
  { port: 587, tls: 'STARTTLS' },
  { port: 2587, tls: 'STARTTLS' },
  { port: 25, tls: 'STARTTLS' },
  { port: 465, tls: 'TLS Wrapper (implicit TLS)' },
  { port: 2465, tls: 'TLS Wrapper (implicit TLS)' },
] as const;

/** True when `port` is one of SES's implicit-TLS ports (the rest start in plain text and upgrade with STARTTLS). */
export function isImplicitTlsPort(port: number): boolean {
  return port === 465 || port === 2465;
}

/** What an SMTP user name looks like: a long-term IAM access key ID, a temporary one, or neither. */
export type SmtpUsernameKind = 'long-term-key' | 'temporary-key' | 'other';

export function smtpUsernameKind(username: string): SmtpUsernameKind {
  if (/^AKIA[A-Z0-9]{16}$/.test(username)) return 'long-term-key';
  if (/^ASIA[A-Z0-9]{16}$/.test(username)) return 'temporary-key';
  return 'other';
}

/**
 * What an SMTP password looks like: a version-4 derived password (33 bytes starting 0x04, so 44 base64 characters without padding), the
 * old version-2 one (0x02), a raw secret access key (40 characters of the secret key alphabet), or none of these.
 */
export type SmtpPasswordKind = 'derived-v4' | 'derived-v2' | 'raw-secret' | 'other';

export function smtpPasswordKind(password: string): SmtpPasswordKind {
  if (/^[A-Za-z0-9+/]{44}$/.test(password)) {
    const version = Buffer.from(password, 'base64')[0];
    if (version === SMTP_PASSWORD_VERSION) return 'derived-v4';
    if (version === LEGACY_SMTP_PASSWORD_VERSION) return 'derived-v2';
  }
  if (/^[A-Za-z0-9+/]{40}$/.test(password)) return 'raw-secret';
  return 'other';
}

/** Why SES answered `535 Authentication Credentials Invalid`, as far as the credentials themselves tell. */
export type SmtpAuthCause =
  | 'temporary-credentials'
  | 'not-an-access-key-id'
  | 'raw-secret-key'
  | 'legacy-password'
  | 'malformed-password'
  | 'derived-for-another-region'
  | 'derived-from-another-key'
  | 'key-not-accepted'
  | 'undetermined';

/** A diagnosis of refused SMTP credentials: the cause, and what to do about it. */
export interface SmtpAuthDiagnosis {
  readonly cause: SmtpAuthCause;
  /** The region the password was derived for, when that is the cause. */
  readonly derivedFor?: string;
  readonly explanation: string;
}

/** The facts a diagnosis is made from. The password and the secret are compared, never shown. */
export interface SmtpCredentialFacts {
  readonly region: string;
  readonly username: string;
  readonly password: string;
  /** The IAM secret access key the credentials should come from, when the operator gives it. */
  readonly secretAccessKey?: string;
  /** Regions to derive the password for when looking for the one it was made for. */
  readonly regions: readonly string[];
}

/**
 * Names the likeliest cause of an SES SMTP authentication failure from the credentials alone, checking the causes
 * in the order that decides them: a temporary key fails whatever the password, then the password's form, then (with
 * the secret) which region and key the password was derived from.
 */
export function diagnoseSmtpAuthFailure(facts: SmtpCredentialFacts): SmtpAuthDiagnosis {
  const { region, username, password, secretAccessKey } = facts;
  const usernameKind = smtpUsernameKind(username);
  if (usernameKind === 'temporary-key') {
    return {
      cause: 'temporary-credentials',
      explanation:
        'the user name is a temporary access key (ASIA...), from an assumed role or a session: SES SMTP accepts only the long-term access keys of an IAM user (AKIA...). Create an IAM user for the relay, give it ses:SendRawEmail, and derive its password with `ssg smtp derive`.',
    };
  }
  if (usernameKind === 'other') {
    return {
      cause: 'not-an-access-key-id',
      explanation:
        'the user name is not an IAM access key ID (AKIA followed by 16 letters and digits): the SMTP user name is the access key ID itself, not the IAM user name or the name the console gave the credentials.',
    };
  }
  const kind = smtpPasswordKind(password);
  if (kind === 'raw-secret' || (secretAccessKey !== undefined && password === secretAccessKey)) {
    return {
      cause: 'raw-secret-key',
      explanation:
        'the password is a raw secret access key (40 characters), not an SMTP password: SES expects a password derived from it for this region. Run `ssg smtp derive --region ' +
        `${region}\` with the secret on stdin and use its output.`,
    };
  }
  if (kind === 'derived-v2') {
    return {
      cause: 'legacy-password',
      explanation:
        'the password is an old version-2 SMTP password (first byte 0x02), derived without a region; SES accepts only version-4 passwords, derived for the region of the endpoint. Derive it again with `ssg smtp derive`.',
    };
  }
  if (kind === 'other') {
    return {
      cause: 'malformed-password',
      explanation:
        'the password is not an SES SMTP password at all (those are 44 base64 characters starting with "B"): check that the whole password was pasted, without spaces or quotes.',
    };
  }
  if (secretAccessKey === undefined) {
    return {
      cause: 'undetermined',
      explanation:
        'the password is a well-formed version-4 SMTP password, so it was derived for another region, or from another (rotated or deleted) secret access key, or the access key is inactive. Give the secret access key (--secret-access-key-stdin or --secret-env) to tell which.',
    };
  }
  if (deriveSmtpPassword(secretAccessKey, region) === password) {
    return {
      cause: 'key-not-accepted',
      explanation: `the password is the right one for this secret access key in ${region}, so SES does not accept the key itself: it is inactive or deleted, the user name is not this secret's access key ID, or the IAM user is in another account than the one SES sends for. Check the key in IAM (aws iam list-access-keys).`,
    };
  }
  const derivedFor = facts.regions.find((other) => other !== region && deriveSmtpPassword(secretAccessKey, other) === password);
  if (derivedFor !== undefined) {
    return {
      cause: 'derived-for-another-region',
      derivedFor,
      explanation: `the password was derived for ${derivedFor}, and every region's endpoint accepts only passwords derived for itself. Use the endpoint of ${derivedFor} (email-smtp.${derivedFor}.amazonaws.com), or derive the password for ${region} with \`ssg smtp derive --region ${region}\`.`,
    };
  }
  return {
    cause: 'derived-from-another-key',
    explanation: `the password is not derived from the secret access key given, for ${region} or any other SES region: it comes from another key, typically the one before a rotation. Derive it again from the current key with \`ssg smtp derive --region ${region}\` and update the relay.`,
  };
}
