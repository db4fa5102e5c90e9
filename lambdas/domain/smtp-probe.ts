import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, connect as netConnect } from 'node:net';
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { diagnoseSmtpAuthFailure, isImplicitTlsPort, type SmtpAuthCause, smtpEndpoint } from './smtp';

/**
 * Walks the layers between a mail client and an SES SMTP endpoint, the way an operator would by hand, and stops at the
 * first that fails: DNS of the endpoint, TCP to the port, TLS (STARTTLS or implicit, with the certificate checked
 * against the regional host name), then AUTH. The protocol is spoken by nodemailer's SMTP client; this module only
 * decides what each outcome means. `ssg smtp check` and the SMTP canary both use it.
 */

/** The layers, in the order they are checked. `sender` and `send-test` are added by `ssg smtp check`. */
export type SmtpLayer = 'dns' | 'tcp' | 'tls' | 'auth' | 'sender' | 'send-test';

/**
 * A layer's outcome: `pass`; `fail` for a configuration reason a person can act on (exit 1); `unchecked` when it
 * could not be checked (the network, a timeout, a temporary answer: exit 3).
 */
export type LayerOutcome = 'pass' | 'fail' | 'unchecked';

/** Machine-readable causes of a failed or unchecked layer. */
export type SmtpProbeCause =
  | SmtpAuthCause
  | 'no-such-host'
  | 'dns-unavailable'
  | 'port-blocked'
  | 'unreachable'
  | 'tls-mode-mismatch'
  | 'no-starttls'
  | 'certificate-invalid'
  | 'tls-failed'
  | 'auth-unavailable'
  | 'auth-refused'
  | 'sender-not-verified'
  | 'sender-unchecked'
  | 'send-rejected'
  | 'send-unavailable';

export interface LayerReport {
  readonly layer: SmtpLayer;
  readonly outcome: LayerOutcome;
  /** What was observed (no secret ever appears here). */
  readonly evidence: readonly string[];
  readonly cause?: SmtpProbeCause;
  /** What it means and what to do, for a failed or unchecked layer. */
  readonly diagnosis?: string;
  readonly durationMs: number;
}

/** A host name lookup, as `dns.promises.lookup(host, { all: true })` does it (replaceable in tests). */
export type Lookup = (host: string) => Promise<readonly { address: string; family: number }[]>;

export interface SmtpProbeOptions {
  readonly region: string;
  /** The SES port the client uses; it decides the TLS mode (465 and 2465 implicit, the rest STARTTLS). */
  readonly port: number;
  /** Connect here instead of the regional endpoint (a VPC endpoint, a local emulator); TLS still names the regional host. */
  readonly endpoint?: { readonly host: string; readonly port: number };
  readonly username: string;
  readonly password: string;
  /** The secret access key the password should derive from: lets a 535 name its cause exactly. */
  readonly secretAccessKey?: string;
  /** Regions to try when looking for the one a password was derived for. */
  readonly regions: readonly string[];
  /** Accept a certificate that does not verify (reported, never silently). */
  readonly insecureTls?: boolean;
  /** Extra trusted certificate authorities (PEM), e.g. a local emulator's. */
  readonly ca?: string;
  /** Per network step (default 10 s). */
  readonly timeoutMs?: number;
  readonly lookup?: Lookup;
  /** Opens and closes a TCP connection, resolving its error code or undefined (replaceable in tests). */
  readonly tcpConnect?: TcpConnect;
}

/** A TCP connection attempt: undefined when it connected, else the error code (`ETIMEDOUT` after `timeoutMs`). */
export type TcpConnect = (host: string, port: number, timeoutMs: number) => Promise<string | undefined>;

/** The reports of the layers checked, and an open authenticated connection when every layer passed and one was asked for. */
export interface SmtpProbeResult {
  readonly layers: readonly LayerReport[];
  readonly passed: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** The port tried when another port times out, to tell a blocked port from an unreachable host. */
const CONTROL_PORT = 587;
const CLIENT_NAME = 'ssg-smtp-check';

const defaultLookup: Lookup = (host) => dnsLookup(host, { all: true });

/** The error codes of a lookup that says the name does not exist, as opposed to a resolver that did not answer. */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME']);

/** Runs the DNS, TCP, TLS and AUTH layers, stopping at the first that does not pass. */
export async function probeSmtp(options: SmtpProbeOptions): Promise<SmtpProbeResult> {
  const layers: LayerReport[] = [];
  const add = (report: LayerReport): boolean => {
    layers.push(report);
    return report.outcome === 'pass';
  };
  const target = connectTarget(options);
  if (!add(await checkDns(options, target.host))) return { layers, passed: false };
  if (!add(await checkTcp(options, target))) return { layers, passed: false };
  const session = await openSession(options, target);
  if (!add(session.report) || session.connection === undefined) return { layers, passed: false };
  const auth = await checkAuth(options, session.connection);
  session.connection.close();
  add(auth);
  return { layers, passed: auth.outcome === 'pass' };
}

/** Where the probe connects: the explicit endpoint, or the region's SMTP host at the port. */
export function connectTarget(options: Pick<SmtpProbeOptions, 'region' | 'port' | 'endpoint'>): { host: string; port: number } {
  return options.endpoint ?? { host: smtpEndpoint(options.region), port: options.port };
}

/** What a layer's check decides; the layer and its duration are added by {@link layerReporter}. */
export type LayerOutcomeReport = Omit<LayerReport, 'layer' | 'durationMs'>;

/** Starts timing a layer: the function it returns completes the layer's report, with the time since. */
export function layerReporter(layer: SmtpLayer): (report: LayerOutcomeReport) => LayerReport {
  const started = Date.now();
  return (report) => ({ layer, ...report, durationMs: Date.now() - started });
}

async function timed(layer: SmtpLayer, run: () => Promise<LayerOutcomeReport>): Promise<LayerReport> {
  const report = layerReporter(layer);
  return report(await run());
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An error's message on one line (OpenSSL's carry file names and line breaks), bounded. */
function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

async function checkDns(options: SmtpProbeOptions, host: string): Promise<LayerReport> {
  const lookup = options.lookup ?? defaultLookup;
  return timed('dns', async () => {
    if (isIP(host) !== 0) return { outcome: 'pass', evidence: [`${host} is an IP address (no lookup)`] };
    try {
      const addresses = await lookup(host);
      return { outcome: 'pass', evidence: [`${host} resolves to ${addresses.map((a) => a.address).join(', ')}`] };
    } catch (error) {
      const code = errorCode(error) ?? 'error';
      const evidence = [`${host}: ${code}`];
      if (!NO_SUCH_NAME.has(code)) {
        return {
          outcome: 'unchecked',
          evidence,
          cause: 'dns-unavailable',
          diagnosis: `the resolver did not answer for ${host} (${code}): check the network and DNS of this machine, then run again.`,
        };
      }
      if (options.endpoint !== undefined) {
        return { outcome: 'fail', evidence, cause: 'no-such-host', diagnosis: `${host} does not exist: check the --endpoint host name.` };
      }
      // The name does not exist. Either the region is wrong, or this resolver answers "no such name" for everything
      // outside (a filtered network): a region whose endpoint surely exists tells the two apart.
      const control = smtpEndpoint(options.region === 'us-east-1' ? 'us-west-2' : 'us-east-1');
      try {
        await lookup(control);
      } catch (controlError) {
        return {
          outcome: 'unchecked',
          evidence: [...evidence, `${control}: ${errorCode(controlError) ?? 'error'} (a control: this endpoint exists)`],
          cause: 'dns-unavailable',
          diagnosis: `this machine's resolver does not resolve SES's endpoints at all (not even ${control}): the network filters DNS or has no route out. Run the check from where the relay runs.`,
        };
      }
      const known = options.regions.includes(options.region);
      return {
        outcome: 'fail',
        evidence: [...evidence, `${control} resolves (a control)`],
        cause: 'no-such-host',
        diagnosis: known
          ? `SES has no SMTP endpoint named ${host}: the region ${options.region} may not offer SES SMTP; use the endpoint of a region where your identities are verified.`
          : `${options.region} is not an SES region (a typo?): SES SMTP endpoints are email-smtp.<region>.amazonaws.com for ${options.regions.join(', ')}.`,
      };
    }
  });
}

/** Opens and closes a TCP connection, resolving the error code or undefined. */
const tcpConnect: TcpConnect = (host, port, timeoutMs) => {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (code: string | undefined): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(code);
    };
    socket.setTimeout(timeoutMs, () => done('ETIMEDOUT'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error) => done(errorCode(error) ?? 'error'));
  });
};

async function checkTcp(options: SmtpProbeOptions, target: { host: string; port: number }): Promise<LayerReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connect = options.tcpConnect ?? tcpConnect;
  return timed('tcp', async () => {
    const code = await connect(target.host, target.port, timeoutMs);
    if (code === undefined) return { outcome: 'pass', evidence: [`connected to ${target.host}:${target.port}`] };
    const evidence = [`${target.host}:${target.port}: ${code}${code === 'ETIMEDOUT' ? ` after ${timeoutMs} ms` : ''}`];
    if (options.endpoint === undefined && target.port !== CONTROL_PORT) {
      // A port that times out while another port of the same host answers is blocked on the way out (EC2 and
      // Lightsail block outbound port 25 by default).
      const control = await connect(target.host, CONTROL_PORT, timeoutMs);
      if (control === undefined) {
        return {
          outcome: 'fail',
          evidence: [...evidence, `${target.host}:${CONTROL_PORT}: connected (a control)`],
          cause: 'port-blocked',
          diagnosis: `port ${target.port} is blocked between here and SES while ${CONTROL_PORT} is open${target.port === 25 ? ' (EC2 and Lightsail block outbound port 25 by default)' : ''}: use port 587 or 2587 with STARTTLS.`,
        };
      }
      evidence.push(`${target.host}:${CONTROL_PORT}: ${control} (a control)`);
    }
    return {
      outcome: 'unchecked',
      evidence,
      cause: 'unreachable',
      diagnosis:
        code === 'ECONNREFUSED'
          ? `nothing accepts connections at ${target.host}:${target.port}: check the host and port, and any firewall that rejects outbound SMTP.`
          : `${target.host}:${target.port} cannot be reached from here (${code}): check outbound firewall rules and proxies, or try port 587 or 2587.`,
    };
  });
}

interface Session {
  readonly report: LayerReport;
  readonly connection?: SMTPConnection;
}

/** A certificate's subject, alternative names, issuer and expiry, as evidence. */
function describeCertificate(cert: PeerCertificate): string {
  const subject = cert.subject?.CN ?? '(no common name)';
  const issuer = cert.issuer?.O ?? cert.issuer?.CN ?? '(unknown issuer)';
  return `certificate ${subject}${cert.subjectaltname ? ` (${cert.subjectaltname})` : ''}, issued by ${issuer}, valid until ${cert.valid_to}`;
}

const CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/;

/** Connects and completes the SMTP greeting, EHLO and TLS (implicit or STARTTLS): the TLS layer. */
async function openSession(options: SmtpProbeOptions, target: { host: string; port: number }): Promise<Session> {
  const implicit = isImplicitTlsPort(options.port);
  const servername = smtpEndpoint(options.region);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let certificate: PeerCertificate | undefined;
  const connection = new SMTPConnection({
    host: target.host,
    port: target.port,
    secure: implicit,
    requireTLS: !implicit,
    name: CLIENT_NAME,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    socketCloseTimeout: 0,
    tls: {
      servername,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: options.insecureTls !== true,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      checkServerIdentity: (host, cert) => {
        certificate = cert;
        return checkServerIdentity(host, cert);
      },
    },
  });
  const started = Date.now();
  const error = await new Promise<unknown>((resolve) => {
    connection.once('error', resolve);
    connection.connect((err) => resolve(err ?? undefined));
  });
  const durationMs = Date.now() - started;
  const mode = implicit ? 'implicit TLS' : 'STARTTLS';
  if (error === undefined) {
    const socket = connection._socket as TLSSocket;
    const peer = certificate ?? socket.getPeerCertificate();
    const evidence = [
      `${mode}: ${socket.getProtocol?.() ?? 'TLS'} ${socket.getCipher?.()?.name ?? ''}`.trim(),
      peer !== undefined && Object.keys(peer).length > 0 ? describeCertificate(peer) : 'no certificate seen',
    ];
    if (options.insecureTls === true) {
      const verifyError = socket.authorizationError;
      evidence.push(
        verifyError ? `certificate NOT verified (--insecure-tls): ${String(verifyError)}` : `certificate verified for ${servername}`,
      );
    } else evidence.push(`certificate verified for ${servername}`);
    return { report: { layer: 'tls', outcome: 'pass', evidence, durationMs }, connection };
  }
  connection.close();
  const code = errorCode(error) ?? 'error';
  const text = errorText(error);
  const evidence = [`${mode} to ${target.host}:${target.port}: ${code}: ${text}`];
  if (certificate !== undefined) evidence.push(describeCertificate(certificate));
  const fail = (cause: SmtpProbeCause, diagnosis: string): Session => ({
    report: { layer: 'tls', outcome: 'fail', evidence, cause, diagnosis, durationMs },
  });
  if (CERTIFICATE_ERRORS.test(code) || CERTIFICATE_ERRORS.test(text) || /certificate/i.test(text)) {
    return fail(
      'certificate-invalid',
      `the server's certificate does not verify for ${servername}: something between here and SES intercepts TLS (a proxy or antivirus), or this is not SES. Fix the trust store or the route; --insecure-tls only skips this check.`,
    );
  }
  if (code === 'ETLS' && /STARTTLS/i.test(text)) {
    return fail(
      'no-starttls',
      `the server on ${target.host}:${target.port} did not offer STARTTLS: it is not an SES endpoint, or a middlebox strips STARTTLS. SES requires TLS before AUTH.`,
    );
  }
  if (implicit && /wrong version number|packet length too long|ERR_SSL|EPROTO/i.test(`${code} ${text}`)) {
    return fail(
      'tls-mode-mismatch',
      `port ${target.port} answered in plain text to a TLS handshake: it expects STARTTLS. Use implicit TLS ("SSL") only on 465 or 2465, STARTTLS ("TLS") on 587, 2587 or 25.`,
    );
  }
  if (!implicit && (code === 'ETIMEDOUT' || /greeting/i.test(text))) {
    return fail(
      'tls-mode-mismatch',
      `no SMTP greeting from ${target.host}:${target.port} within ${timeoutMs} ms: the port expects implicit TLS (465 or 2465) and waits for a handshake. Use STARTTLS on 587, 2587 or 25, implicit TLS ("SSL") on 465 or 2465.`,
    );
  }
  return {
    report: {
      layer: 'tls',
      outcome: 'unchecked',
      evidence,
      cause: 'tls-failed',
      diagnosis: `the TLS session could not be set up (${code}); run again, and if it persists check proxies between here and SES.`,
      durationMs,
    },
  };
}

async function checkAuth(options: SmtpProbeOptions, connection: SMTPConnection): Promise<LayerReport> {
  return timed('auth', async () => {
    const error = await new Promise<unknown>((resolve) => {
      connection.login({ user: options.username, pass: options.password }, (err) => resolve(err ?? undefined));
    });
    if (error === undefined) return { outcome: 'pass', evidence: [`AUTH accepted for ${options.username}`] };
    const responseCode = (error as { responseCode?: unknown }).responseCode;
    const response = errorText((error as { response?: unknown }).response ?? error);
    const evidence = [`AUTH as ${options.username}: ${response}`];
    if (responseCode === 535) {
      const diagnosis = diagnoseSmtpAuthFailure({
        region: options.region,
        username: options.username,
        password: options.password,
        secretAccessKey: options.secretAccessKey,
        regions: options.regions,
      });
      return { outcome: 'fail', evidence, cause: diagnosis.cause, diagnosis: diagnosis.explanation };
    }
    if (typeof responseCode === 'number' && responseCode >= 500) {
      return {
        outcome: 'fail',
        evidence,
        cause: 'auth-refused',
        diagnosis: `SES refused the authentication (${responseCode}); the reply above says why.`,
      };
    }
    return {
      outcome: 'unchecked',
      evidence,
      cause: 'auth-unavailable',
      diagnosis: 'the authentication could not be completed (a temporary failure or a dropped connection): run again.',
    };
  });
}

/** Opens an authenticated session (every layer passing) for a caller that goes on to send. */
export async function openAuthenticatedSession(
  options: SmtpProbeOptions,
): Promise<{ layers: readonly LayerReport[]; connection?: SMTPConnection }> {
  const target = connectTarget(options);
  const session = await openSession(options, target);
  if (session.connection === undefined) return { layers: [session.report] };
  const auth = await checkAuth(options, session.connection);
  if (auth.outcome !== 'pass') {
    session.connection.close();
    return { layers: [session.report, auth] };
  }
  return { layers: [session.report, auth], connection: session.connection };
}
