import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SesEventSink } from './events';
import type { FaultConfig, ForcedFailureKind } from './faults';
import { ImportJobRunner } from './import-jobs';
import { deriveRandom } from './random';
import { DEFAULT_CALLER_IDENTITY, SendingEngine } from './sending';
import { createRequestListener } from './server';
import { SMTP_MAX_MESSAGE_BYTES, type SmtpEndpoint, SmtpListeners } from './smtp';
import { type DateFilterBounds, EmulatedRegion, type RegionContext } from './state';
import { applyStateFile } from './state-document';
import { type EmulatorStats, TrafficController } from './traffic';

/** Options for {@link SesEmulator.start}. */
export interface SesEmulatorOptions {
  /** @default 0 - a free port chosen by the OS */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Seed for shuffles and fault draws. @default 1 */
  seed?: number;
  /** SES request rate per region and operation; 0 or Infinity = unlimited. @default 1 (SES's limit for these APIs) */
  requestsPerSecond?: number;
  /** Lifetime of a ListSuppressedDestinations NextToken. @default 300000 (5 minutes) */
  nextTokenTtlMs?: number;
  /** Initial fault injection. @default none */
  faults?: FaultConfig;
  /**
   * Boundary semantics of StartDate/EndDate. The SES docs say "added ... after" / "before" a date,
   * so the default excludes entries exactly on a bound. @default 'exclusive'
   */
  dateFilterBounds?: DateFilterBounds;
  /** Clock in epoch ms, injectable for tests. @default Date.now */
  clock?: () => number;
  /**
   * S3 endpoint import jobs read their data from (path-style, any credentials), e.g. the local S3. The emulator runs
   * apart from the functions, so it is configured here rather than read from their environment.
   * @default process.env.AWS_ENDPOINT_URL_S3 (none: CreateImportJob is refused)
   */
  s3Endpoint?: string;
  /** Records an import job applies per second. @default 2000 */
  importRowsPerSecond?: number;
  /** Account id in ARNs and events. @default '123456789012' */
  accountId?: string;
  /** Delay between accepting a SendEmail message and deciding its outcome / publishing its events. @default 50 */
  eventDelayMs?: number;
  /**
   * Regions that get SES's SMTP interface: per region a STARTTLS and an implicit-TLS listener on ephemeral ports of
   * `host`, with certificates for `email-smtp.<region>.amazonaws.com` from a CA made at start ({@link
   * SesEmulator.smtpCaPem}). @default [] (no SMTP)
   */
  smtpRegions?: readonly string[];
  /** Largest message the SMTP listeners accept, in bytes. @default 41943040 (40 MB, SES's limit) */
  smtpMaxMessageBytes?: number;
}

/** A running SES v2 emulator: one HTTP server, independent state per region (from the SigV4 credential scope). */
export class SesEmulator {
  private readonly regionMap = new Map<string, EmulatedRegion>();
  private readonly ctx: RegionContext;
  private readonly seed: number;
  private ttlMs: number;
  private bounds: DateFilterBounds;
  /** @internal rate limiting, faults and stats; used by the HTTP layer. */
  readonly traffic: TrafficController;
  /** @internal runs import jobs; used by the HTTP layer. */
  readonly imports: ImportJobRunner;
  /** Where SES events are published (the stand-in for the EventBridge default bus). */
  readonly events: SesEventSink;
  /** @internal accepts SendEmail messages; used by the HTTP layer. */
  readonly sending: SendingEngine;
  private readonly callers = new Map<string, string>();
  private readonly secrets = new Map<string, string>();
  private smtp: SmtpListeners | undefined;
  private eventDelay: number;
  private readonly account: string;
  private s3: string | undefined;
  private importRps: number;
  private server: Server | undefined;
  private boundPort = 0;
  private boundHost: string;

  private constructor(options: SesEmulatorOptions) {
    const now = options.clock ?? Date.now;
    this.seed = options.seed ?? 1;
    this.ttlMs = options.nextTokenTtlMs ?? 5 * 60_000;
    this.bounds = options.dateFilterBounds ?? 'exclusive';
    this.boundHost = options.host ?? '127.0.0.1';
    this.ctx = { now, nextTokenTtlMs: () => this.ttlMs, dateFilterBounds: () => this.bounds };
    this.traffic = new TrafficController(this.seed, now, options.requestsPerSecond ?? 1, options.faults ?? {});
    this.s3 = options.s3Endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || undefined);
    this.importRps = checkImportRate(options.importRowsPerSecond ?? 2000);
    this.imports = new ImportJobRunner({ s3Endpoint: () => this.s3, rowsPerSecond: () => this.importRps, now });
    this.account = options.accountId ?? '123456789012';
    if (!/^\d{12}$/.test(this.account)) throw new Error('accountId must be 12 digits');
    this.eventDelay = checkEventDelay(options.eventDelayMs ?? 50);
    this.events = new SesEventSink();
    this.sending = new SendingEngine(
      {
        now,
        accountId: () => this.account,
        eventDelayMs: () => this.eventDelay,
        callerIdentity: (accessKeyId) => (accessKeyId !== undefined ? this.callers.get(accessKeyId) : undefined) ?? DEFAULT_CALLER_IDENTITY,
      },
      this.events,
    );
  }

  /** Creates the emulator and starts listening. */
  static async start(options: SesEmulatorOptions = {}): Promise<SesEmulator> {
    const emu = new SesEmulator(options);
    await emu.listen(options.port ?? 0);
    const smtpRegions = options.smtpRegions ?? [];
    if (smtpRegions.length > 0) {
      for (const region of smtpRegions) checkRegion(region);
      try {
        emu.smtp = await SmtpListeners.start(
          smtpRegions,
          {
            secretFor: (accessKeyId) => emu.secrets.get(accessKeyId),
            region: (name) => emu.region(name),
            sending: emu.sending,
            traffic: emu.traffic,
          },
          { host: emu.boundHost, maxMessageBytes: options.smtpMaxMessageBytes ?? SMTP_MAX_MESSAGE_BYTES },
        );
      } catch (err) {
        await emu.stop();
        throw err;
      }
    }
    return emu;
  }

  /** Base URL for `endpoint` / `AWS_ENDPOINT_URL_SESV2`, e.g. `http://127.0.0.1:45678`. */
  get endpoint(): string {
    const host = this.boundHost.includes(':') ? `[${this.boundHost}]` : this.boundHost;
    return `http://${host}:${this.boundPort}`;
  }

  /** The port actually bound. */
  get port(): number {
    return this.boundPort;
  }

  /** State of one region, created on first use. */
  region(name: string): EmulatedRegion {
    let r = this.regionMap.get(name);
    if (!r) {
      r = new EmulatedRegion(name, this.ctx, deriveRandom(this.seed, `shuffle:${name}`));
      this.regionMap.set(name, r);
    }
    return r;
  }

  /** Names of the regions that exist so far. */
  regions(): string[] {
    return [...this.regionMap.keys()].sort();
  }

  /** Replaces the fault-injection configuration. */
  setFaults(faults: FaultConfig): void {
    this.traffic.setFaults(faults);
  }

  /** Changes the per-region request rate (0 or Infinity = unlimited). */
  setRequestsPerSecond(rps: number): void {
    this.traffic.setRequestsPerSecond(rps);
  }

  /** Forces the next `count` SES requests in `region` to fail (`throttle` → 429, `serverError` → 500). */
  failNextRequests(region: string, count: number, kind: ForcedFailureKind): void {
    this.traffic.failNext(region, count, kind);
  }

  /** Changes the NextToken lifetime; applies to tokens already issued too. */
  setNextTokenTtlMs(ttlMs: number): void {
    if (!(ttlMs >= 0)) throw new Error('nextTokenTtlMs must be >= 0');
    this.ttlMs = ttlMs;
  }

  /** Changes the S3 endpoint import jobs read from. */
  setS3Endpoint(endpoint: string | undefined): void {
    this.s3 = endpoint;
  }

  /** The S3 endpoint import jobs read from, if any. */
  get s3Endpoint(): string | undefined {
    return this.s3;
  }

  /** Changes how many records an import job applies per second (jobs in progress too). */
  setImportRowsPerSecond(rowsPerSecond: number): void {
    this.importRps = checkImportRate(rowsPerSecond);
  }

  /** Records an import job applies per second. */
  get importRowsPerSecond(): number {
    return this.importRps;
  }

  /** Account id used in ARNs and events. */
  get accountId(): string {
    return this.account;
  }

  /** Names the IAM user an access key id belongs to (reported as the caller identity of the messages it sends). */
  setCallerIdentity(accessKeyId: string, userName: string): void {
    if (typeof accessKeyId !== 'string' || accessKeyId.length === 0) throw new Error('accessKeyId must be a non-empty string');
    if (typeof userName !== 'string' || userName.length === 0) throw new Error('userName must be a non-empty string');
    this.callers.set(accessKeyId, userName);
  }

  /**
   * Registers an IAM access key the account owns: its SMTP password for a region (`deriveSmtpPassword(secret,
   * region)`) then works on that region's SMTP listeners, with the key id as the user name. With `userName`, also
   * names the key's IAM user (the caller identity of what it sends, as {@link setCallerIdentity}).
   */
  setCredential(accessKeyId: string, secretAccessKey: string, userName?: string): void {
    if (typeof accessKeyId !== 'string' || accessKeyId.length === 0) throw new Error('accessKeyId must be a non-empty string');
    if (typeof secretAccessKey !== 'string' || secretAccessKey.length === 0) throw new Error('secretAccessKey must be a non-empty string');
    if (userName !== undefined) this.setCallerIdentity(accessKeyId, userName);
    this.secrets.set(accessKeyId, secretAccessKey);
  }

  /** Access key ids registered with {@link setCredential} (the secrets are not given back). */
  credentials(): string[] {
    return [...this.secrets.keys()].sort();
  }

  /** Every SMTP-enabled region's listeners: `{region, host, serverName, starttlsPort, tlsPort}`. */
  smtpEndpoints(): SmtpEndpoint[] {
    return this.smtp?.endpoints() ?? [];
  }

  /** Port of the STARTTLS listener of `region` (SES's 587); throws if the region has no SMTP listeners. */
  smtpPort(region: string): number {
    return this.smtpEndpointOf(region).starttlsPort;
  }

  /** Port of the implicit-TLS listener of `region` (SES's 465); throws if the region has no SMTP listeners. */
  smtpsPort(region: string): number {
    return this.smtpEndpointOf(region).tlsPort;
  }

  /** The CA certificate (PEM) of the SMTP listeners' certificates; throws when no region has SMTP. */
  smtpCaPem(): string {
    if (!this.smtp) throw new Error('the SES emulator was started without SMTP (smtpRegions)');
    return this.smtp.caPem;
  }

  private smtpEndpointOf(region: string): SmtpEndpoint {
    const endpoint = this.smtp?.endpoint(region);
    if (!endpoint)
      throw new Error(
        `no SMTP listeners for region ${region} (smtpRegions: ${
          this.smtpEndpoints()
            .map((e) => e.region)
            .join(', ') || 'none'
        })`,
      );
    return endpoint;
  }

  /** Registered access key ids and their user names; unregistered keys are reported as {@link DEFAULT_CALLER_IDENTITY}. */
  callerIdentities(): Record<string, string> {
    return Object.fromEntries([...this.callers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Changes the delay before a sent message's outcome is decided and its events are published (0 = next tick). */
  setEventDelayMs(ms: number): void {
    this.eventDelay = checkEventDelay(ms);
  }

  /** Delay before a sent message's events are published. */
  get eventDelayMs(): number {
    return this.eventDelay;
  }

  /** Changes StartDate/EndDate boundary semantics. */
  setDateFilterBounds(bounds: DateFilterBounds): void {
    if (bounds !== 'inclusive' && bounds !== 'exclusive') throw new Error('bounds must be "inclusive" or "exclusive"');
    this.bounds = bounds;
  }

  /** Request counters per region per operation. */
  stats(): EmulatorStats {
    return this.traffic.stats();
  }

  /** Zeroes the request counters. */
  resetStats(): void {
    this.traffic.resetStats();
  }

  /** Drops every region, fault stream, counter, pending message and retained event (settings are kept). */
  reset(): void {
    this.sending.stop();
    this.events.clear();
    this.regionMap.clear();
    this.traffic.reset();
  }

  /** Applies a JSON state document (same format as `main.ts --state`); throws on invalid input. */
  loadState(state: unknown): void {
    applyStateFile(this, state);
  }

  /** Stops the server, closing idle keep-alive connections so the process can exit. */
  async stop(): Promise<void> {
    this.imports.stop();
    this.sending.stop();
    const smtp = this.smtp;
    this.smtp = undefined;
    await smtp?.stop();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }

  private async listen(port: number): Promise<void> {
    const server = createServer(createRequestListener(this));
    // SDK clients keep connections alive; keep our timeout above the SDK's idle reuse window.
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.boundHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }
}

function checkRegion(region: string): void {
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    throw new Error(`smtpRegions: "${region}" is not a region name`);
}

function checkEventDelay(ms: number): number {
  if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) throw new Error('eventDelayMs must be a finite number >= 0');
  return ms;
}

function checkImportRate(rowsPerSecond: number): number {
  if (typeof rowsPerSecond !== 'number' || !(rowsPerSecond > 0)) throw new Error('importRowsPerSecond must be a number > 0');
  return rowsPerSecond;
}
