import { createHmac } from 'node:crypto';

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

/** The ports of SES's SMTP endpoints and how TLS starts on each (25 is blocked by default on EC2 and Lightsail). */
export const SMTP_PORTS = [
  { port: 587, tls: 'STARTTLS' },
  { port: 2587, tls: 'STARTTLS' },
  { port: 25, tls: 'STARTTLS' },
  { port: 465, tls: 'TLS Wrapper (implicit TLS)' },
  { port: 2465, tls: 'TLS Wrapper (implicit TLS)' },
] as const;
