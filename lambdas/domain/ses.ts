import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { Pacer } from './retry';

/**
 * How every sender of SES management calls (the sync, the guard, the CLI) talks to SES, in one place. SES allows
 * about one call per second per operation, account and region for its management APIs, so each caller either
 * paces itself (the functions) or lets the SDK's adaptive retry mode slow it down (the CLI).
 */

/** SDK settings for a caller someone waits on: a dependency that does not answer fails within seconds. */
export const FAIL_FAST_SDK_SETTINGS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
} as const;

/** A caller's SES policy: SDK retry settings, and the share of the allowed rate it paces itself to (unpaced when absent). */
export interface SesCallerPolicy {
  readonly client: Omit<SESv2ClientConfig, 'region'>;
  readonly pacingHeadroom?: number;
}

/** The three callers' policies. */
export const SES_CALLERS = {
  /**
   * The sync runs its own paced retry loop (`SyncRun`), so the SDK must not add a second, unpaced one. It paces a
   * little under the allowed rate: requests that land a few milliseconds early would be throttled.
   */
  sync: { client: { maxAttempts: 1 }, pacingHeadroom: 0.97 },
  /**
   * A blast sender waits on the guard: SDK retries with short timeouts. It paces well under the allowed rate: the
   * first request of a cold container leaves late (SDK set-up), so the next one would land early; what still gets
   * throttled (the sync shares the budget) is retried by the SDK.
   */
  guard: { client: FAIL_FAST_SDK_SETTINGS, pacingHeadroom: 0.8 },
  /**
   * An operator's back-to-back lookups (address, then domain) would be throttled: adaptive retries slow the client
   * down on throttling instead of failing the command.
   */
  cli: { client: { maxAttempts: 6, retryMode: 'adaptive' } },
} as const satisfies Record<string, SesCallerPolicy>;

/**
 * One SES v2 client per region, created on first use and kept for warm invocations. The endpoint comes from the
 * SDK's standard resolution, so `AWS_ENDPOINT_URL_SESV2` points every region at a local emulator.
 */
export class SesClients {
  private readonly clients = new Map<string, SESv2Client>();

  /** `config` applies to every region's client (attempts, timeouts, credentials, endpoint); the region is set per client. */
  constructor(private readonly config: Omit<SESv2ClientConfig, 'region'> = {}) {}

  /** The client for `region`. */
  forRegion(region: string): SESv2Client {
    let client = this.clients.get(region);
    if (!client) {
      client = new SESv2Client({ ...this.config, region });
      this.clients.set(region, client);
    }
    return client;
  }

  /** Closes every client's connections. */
  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }
}

/**
 * One {@link Pacer} per region and operation (SES limits each management operation separately), created on first
 * use and kept at module scope so warm invocations keep honouring the previous invocation's last call.
 */
export class SesPacers {
  private readonly pacers = new Map<string, Pacer>();
  private readonly requestsPerSecond: number;

  /** Paces to `requestsPerSecond × headroom` per region and operation; `now` and `wait` as {@link Pacer}'s. */
  constructor(
    requestsPerSecond: number,
    headroom: number,
    private readonly now?: () => number,
    private readonly wait?: (ms: number) => Promise<void>,
  ) {
    this.requestsPerSecond = requestsPerSecond * headroom;
  }

  /** The pacer of `operation` in `region`. */
  forOperation(region: string, operation: string): Pacer {
    const key = `${region}|${operation}`;
    let pacer = this.pacers.get(key);
    if (!pacer) {
      pacer = new Pacer(this.requestsPerSecond, this.now, this.wait);
      this.pacers.set(key, pacer);
    }
    return pacer;
  }

  /** Resolves when the next call of `operation` in `region` may start. */
  acquire(region: string, operation: string): Promise<void> {
    return this.forOperation(region, operation).acquire();
  }
}
