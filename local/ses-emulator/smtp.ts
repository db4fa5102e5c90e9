import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { deriveSmtpPassword, smtpEndpoint } from '../../lambdas/domain/smtp';
import { LocalCertificateAuthority } from './certificates';
import { SesError } from './errors';
import type { SendingEngine } from './sending';
import type { EmulatedRegion } from './state';
import type { TrafficController } from './traffic';

/**
 * SES's SMTP interface, per region: a STARTTLS listener (like ports 25/587/2587) and an implicit-TLS listener (like
 * 465/2465), both with a certificate for `email-smtp.<region>.amazonaws.com` from a CA made at start. AUTH PLAIN or
 * LOGIN with an access key id the emulator knows and the SMTP password derived from its secret for this listener's
 * region; accepted messages go through the same SendingEngine as SendEmail, in the listener's region, with the SMTP
 * user's access key as the caller. Replies use SES's texts (README, "SMTP interface").
 */

/** Where one region's SMTP listeners are. */
export interface SmtpEndpoint {
  readonly region: string;
  readonly host: string;
  /** The name the certificate is for (the region's real SES SMTP host): use it as the TLS servername. */
  readonly serverName: string;
  /** STARTTLS listener (SES ports 25, 587, 2587). */
  readonly starttlsPort: number;
  /** Implicit-TLS listener (SES ports 465, 2465). */
  readonly tlsPort: number;
}

/** What the listeners need from the emulator. */
export interface SmtpBackend {
  /** The secret access key of a registered access key id. */
  secretFor(accessKeyId: string): string | undefined;
  region(name: string): EmulatedRegion;
  readonly sending: SendingEngine;
  readonly traffic: TrafficController;
}

/** Options of {@link SmtpListeners.start}. */
export interface SmtpListenerOptions {
  readonly host: string;
  /** Largest message accepted (bytes of DATA). */
  readonly maxMessageBytes: number;
}

/** SES's documented limit on a message's size, headers and attachments included, after encoding. */
export const SMTP_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
/** The operation name of SMTP submissions in the traffic controller's stats and rate limiting. */
export const SMTP_OPERATION = 'SMTP';

/** SES's SMTP replies (README table). */
export const SMTP_REPLIES = {
  authRequired: [530, 'Authentication required'],
  startTlsFirst: [530, 'Must issue a STARTTLS command first'],
  credentialsInvalid: [535, 'Authentication Credentials Invalid'],
  tooLong: [552, 'Message is too long.'],
  maxSendRate: [454, 'Throttling failure: Maximum sending rate exceeded'],
  dailyQuota: [454, 'Throttling failure: Daily message quota exceeded'],
  temporaryFailure: [451, 'Temporary service failure'],
} as const satisfies Record<string, readonly [number, string]>;

type Reply = readonly [number, string];

/** An SMTP reply as smtp-server sends it from an error: `responseCode` and the text. */
export class SmtpReplyError extends Error {
  readonly responseCode: number;

  constructor([code, message]: Reply) {
    super(message);
    this.responseCode = code;
  }
}

/** The running SMTP listeners of every region. */
export class SmtpListeners {
  private constructor(
    private readonly servers: SMTPServer[],
    private readonly list: SmtpEndpoint[],
    /** The CA certificate (PEM) the listeners' certificates chain to. */
    readonly caPem: string,
  ) {}

  /** Makes the CA and the certificates, and starts two listeners per region on ephemeral ports of `host`. */
  static async start(regions: readonly string[], backend: SmtpBackend, options: SmtpListenerOptions): Promise<SmtpListeners> {
    const ca = new LocalCertificateAuthority();
    const servers: SMTPServer[] = [];
    const list: SmtpEndpoint[] = [];
    const listeners = new SmtpListeners(servers, list, ca.certPem);
    try {
      for (const region of [...new Set(regions)]) {
        const serverName = smtpEndpoint(region);
        const { key, cert } = ca.issue(serverName);
        const ports: number[] = [];
        for (const secure of [false, true]) {
          const server = new SMTPServer(serverOptions(region, secure, { key, cert }, backend, options));
          // Connection-level failures (a client that hangs up, a TLS handshake it refuses) end that connection only.
          server.on('error', () => undefined);
          servers.push(server);
          ports.push(await listen(server, options.host));
        }
        list.push({ region, host: options.host, serverName, starttlsPort: ports[0] ?? 0, tlsPort: ports[1] ?? 0 });
      }
    } catch (err) {
      await listeners.stop();
      throw err;
    }
    return listeners;
  }

  /** Every region's listeners, in region order. */
  endpoints(): SmtpEndpoint[] {
    return [...this.list].sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : 0));
  }

  /** The listeners of `region`, if it has any. */
  endpoint(region: string): SmtpEndpoint | undefined {
    return this.list.find((e) => e.region === region);
  }

  /** Stops every listener; connections still open are told `421` and closed after a second. */
  async stop(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function serverOptions(
  region: string,
  secure: boolean,
  tls: { key: string; cert: string },
  backend: SmtpBackend,
  options: SmtpListenerOptions,
): SMTPServerOptions {
  return {
    ...tls,
    minVersion: 'TLSv1.2',
    secure,
    name: smtpEndpoint(region),
    banner: 'SimpleEmailService (emulated)',
    authMethods: ['PLAIN', 'LOGIN'],
    // Checked in the handlers below, so that the replies carry SES's texts rather than the library's.
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    closeTimeout: 1000,
    onAuth(auth, session, callback) {
      if (!session.secure) return callback(smtpError(SMTP_REPLIES.startTlsFirst));
      const user = auth.username ?? '';
      if (!validCredentials(backend, region, user, auth.password ?? '')) return callback(smtpError(SMTP_REPLIES.credentialsInvalid));
      callback(null, { user });
    },
    onMailFrom(_address, session, callback) {
      callback(session.user ? null : smtpError(SMTP_REPLIES.authRequired));
    },
    onRcptTo(_address, session, callback) {
      callback(session.user ? null : smtpError(SMTP_REPLIES.authRequired));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= options.maxMessageBytes) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (size > options.maxMessageBytes) return callback(smtpError(SMTP_REPLIES.tooLong));
        submit(backend, region, Buffer.concat(chunks), session).then(
          (messageId) => callback(null, `Ok ${messageId}`),
          (err: unknown) => callback(err instanceof SmtpReplyError ? err : smtpError(SMTP_REPLIES.temporaryFailure)),
        );
      });
    },
  };
}

/** The message through the rate limiter, the daily quota and the shared send path; rejects with the SMTP reply. */
async function submit(backend: SmtpBackend, regionName: string, data: Buffer, session: SMTPServerSession): Promise<string> {
  const record = (status: number): void => backend.traffic.record(regionName, SMTP_OPERATION, status);
  const decision = backend.traffic.decide(regionName, SMTP_OPERATION);
  if (decision.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
  if (decision.failure) {
    record(decision.failure.status);
    throw new SmtpReplyError(replyFor(decision.failure));
  }
  const region = backend.region(regionName);
  const envelope = session.envelope;
  const recipients = envelope.rcptTo.map((r) => r.address);
  const account = region.getAccount();
  if (account.sentLast24Hours + recipients.length > account.max24HourSend) {
    record(429);
    throw new SmtpReplyError(SMTP_REPLIES.dailyQuota);
  }
  try {
    const { MessageId } = backend.sending.sendRaw(
      region,
      { data, mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '', recipients },
      { accessKeyId: String(session.user), sourceIp: normalizeIp(session.remoteAddress) },
    );
    record(200);
    return MessageId;
  } catch (err) {
    const sesError = err instanceof SesError ? err : undefined;
    if (!sesError) process.stderr.write(`ses-emulator: SMTP submission failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    record(sesError?.status ?? 500);
    throw new SmtpReplyError(replyFor(sesError));
  }
}

/** The SMTP reply for an error of the send path (or of the traffic controller). */
export function replyFor(err: SesError | undefined): Reply {
  if (!err) return SMTP_REPLIES.temporaryFailure;
  switch (err.code) {
    case 'MessageRejected':
      return [554, `Message rejected: ${err.message}`];
    case 'TooManyRequestsException':
      return SMTP_REPLIES.maxSendRate;
    case 'InternalServiceErrorException':
      return SMTP_REPLIES.temporaryFailure;
    default:
      return [554, `Transaction failed: ${err.message}`];
  }
}

/**
 * SES's rule: the user name is an access key id the account knows, the password the SMTP password derived from its
 * secret for this region. Temporary (ASIA...) keys never work, a raw secret, a legacy (version 2) password or a
 * password derived for another region do not match.
 */
function validCredentials(backend: SmtpBackend, region: string, accessKeyId: string, password: string): boolean {
  if (accessKeyId.startsWith('ASIA')) return false;
  const secret = backend.secretFor(accessKeyId);
  if (secret === undefined) return false;
  const expected = Buffer.from(deriveSmtpPassword(secret, region));
  const given = Buffer.from(password);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function smtpError(reply: Reply): SmtpReplyError {
  return new SmtpReplyError(reply);
}

function normalizeIp(address: string): string {
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

function listen(server: SMTPServer, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, host, () => {
      server.server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}
