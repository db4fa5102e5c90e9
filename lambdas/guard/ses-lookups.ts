import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { VerificationState } from '../../client/contract';
import type { SuppressionReason } from '../domain/records';
import { sleep } from '../domain/retry';
import type { SharedSesLookup } from '../domain/state-table';
import type { LookupCache } from './cache';
import { callDependency } from './dependency';

/**
 * Where guard environments share SES answers (the state table in production): each execution environment has its
 * own in-memory cache, so without it a burst of concurrent checks after a deployment asks SES the same questions once
 * per environment, beyond SES's rate of about one call a second per operation.
 */
export interface SharedLookupStore {
  get(key: string): Promise<SharedSesLookup | undefined>;
  put(key: string, value: unknown, fetchedAt: number): Promise<void>;
  /** How long a shared answer is used, in ms (the handler uses half the in-memory cache's TTL). */
  readonly ttlMs: number;
  readonly now: () => number;
  /**
   * After SES refused a lookup, how long to wait before each re-read of the store (another environment may have
   * stored the answer meanwhile). @default [250, 500, 1000, 2000]
   */
  readonly rereadDelaysMs?: readonly number[];
}

/** An identity as ListEmailIdentities reports it. */
export interface IdentitySummary {
  readonly name: string;
  readonly type: 'EMAIL_ADDRESS' | 'DOMAIN' | 'MANAGED_DOMAIN';
  readonly verificationStatus: VerificationState;
  readonly sendingEnabled: boolean;
}

/** What GetEmailIdentity says about one identity. */
export interface IdentityDetails {
  readonly name: string;
  readonly type: IdentitySummary['type'];
  readonly verifiedForSending: boolean;
  readonly verificationStatus: VerificationState;
  readonly dkimStatus: VerificationState;
  readonly dkimSigningEnabled: boolean;
  readonly mailFromDomain?: string;
  readonly mailFromStatus?: 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE';
  readonly behaviorOnMxFailure: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE';
  /** The identity's default configuration set (`ConfigurationSetName`), used by sends that name none. */
  readonly defaultConfigurationSet?: string;
}

/** What GetAccount says about the account in one region. */
export interface AccountDetails {
  readonly sendingEnabled: boolean;
  readonly enforcementStatus: string;
  readonly productionAccess: boolean;
  readonly max24HourSend: number;
  readonly sentLast24Hours: number;
  readonly suppressedReasons: readonly SuppressionReason[];
}

/** What GetConfigurationSet says about one configuration set. */
export interface ConfigurationSetDetails {
  readonly name: string;
  readonly sendingEnabled: boolean;
  /** Absent when the set inherits the account's reasons; empty when suppression is off for the set. */
  readonly suppressedReasons?: readonly SuppressionReason[];
}

/** Pages of ListEmailIdentities read at most (1,000 identities a page); SES allows 10,000 identities a region. */
const MAX_IDENTITY_PAGES = 20;

/**
 * Read-only SES lookups, cached for a short TTL across warm invocations (SES allows about one management call a
 * second). Not-found answers are results and are cached; any other failure is a `DependencyError` and is not.
 */
export class SesLookups {
  constructor(
    private readonly ses: (region: string) => SESv2Client,
    private readonly cache: LookupCache,
    /**
     * Resolves when the next call of `operation` in `region` may start. SES limits its management APIs per operation
     * ("no more than once per second"), so different lookups do not wait for each other. @default none
     */
    private readonly pace: (region: string, operation: string) => Promise<void> = async () => {},
    private readonly shared?: SharedLookupStore,
  ) {}

  /**
   * The in-memory cache, then the shared store, then SES. An answer from SES is stored for the other environments;
   * when SES fails (throttled, most often, by the other environments of the same burst), the store is read again a
   * few times before the failure stands. The store's own failures only cost the sharing, never the lookup.
   */
  private lookup<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.cache.get(key, async () => {
      const store = this.shared;
      if (!store) return load();
      const fresh = async (): Promise<T | undefined> => {
        const hit = await store.get(key).catch(() => undefined);
        return hit && store.now() - hit.fetchedAt < store.ttlMs ? (hit.value as T) : undefined;
      };
      const stored = await fresh();
      if (stored !== undefined) return stored;
      try {
        const value = await load();
        // A failed put (the store unreachable, or an answer over DynamoDB's 400 KB item limit, such as the identity
        // list of an account near SES's 10,000 identities) only costs the sharing.
        await store.put(key, value, store.now()).catch(() => undefined);
        return value;
      } catch (error) {
        for (const delay of store.rereadDelaysMs ?? [250, 500, 1000, 2000]) {
          await sleep(delay);
          const again = await fresh();
          if (again !== undefined) return again;
        }
        throw error;
      }
    });
  }

  private async send<T>(region: string, operation: string, call: (client: SESv2Client) => Promise<T>): Promise<T> {
    await this.pace(region, operation);
    return call(this.ses(region));
  }

  /** Every identity of the account in `region`, verified or not. */
  identities(region: string): Promise<readonly IdentitySummary[]> {
    return this.lookup(`${region}|identities`, () =>
      callDependency('ses', 'ListEmailIdentities', region, async () => {
        const identities: IdentitySummary[] = [];
        let nextToken: string | undefined;
        for (let page = 0; page < MAX_IDENTITY_PAGES; page++) {
          const out = await this.send(region, 'ListEmailIdentities', (c) =>
            c.send(new ListEmailIdentitiesCommand({ PageSize: 1000, NextToken: nextToken })),
          );
          for (const identity of out.EmailIdentities ?? []) {
            if (!identity.IdentityName) continue;
            identities.push({
              name: identity.IdentityName,
              type: (identity.IdentityType ?? 'DOMAIN') as IdentitySummary['type'],
              verificationStatus: (identity.VerificationStatus ?? 'NOT_STARTED') as VerificationState,
              sendingEnabled: identity.SendingEnabled ?? false,
            });
          }
          nextToken = out.NextToken || undefined;
          if (!nextToken) return identities;
        }
        throw new Error(`ListEmailIdentities returned more than ${MAX_IDENTITY_PAGES} pages`);
      }),
    );
  }

  /** GetEmailIdentity for `name` in `region`; null when SES does not know the identity. */
  identity(region: string, name: string): Promise<IdentityDetails | null> {
    return this.lookup(`${region}|identity|${name.toLowerCase()}`, () =>
      callDependency('ses', 'GetEmailIdentity', region, async () => {
        const out = await notFoundAsNull(() =>
          this.send(region, 'GetEmailIdentity', (c) => c.send(new GetEmailIdentityCommand({ EmailIdentity: name }))),
        );
        if (!out) return null;
        const mailFrom = out.MailFromAttributes;
        return {
          name,
          type: (out.IdentityType ?? 'DOMAIN') as IdentityDetails['type'],
          verifiedForSending: out.VerifiedForSendingStatus ?? false,
          verificationStatus: (out.VerificationStatus ?? 'NOT_STARTED') as VerificationState,
          dkimStatus: (out.DkimAttributes?.Status ?? 'NOT_STARTED') as VerificationState,
          dkimSigningEnabled: out.DkimAttributes?.SigningEnabled ?? false,
          ...(mailFrom?.MailFromDomain
            ? {
                mailFromDomain: mailFrom.MailFromDomain,
                mailFromStatus: (mailFrom.MailFromDomainStatus ?? 'PENDING') as IdentityDetails['mailFromStatus'],
              }
            : {}),
          behaviorOnMxFailure: mailFrom?.BehaviorOnMxFailure === 'REJECT_MESSAGE' ? 'REJECT_MESSAGE' : 'USE_DEFAULT_VALUE',
          ...(out.ConfigurationSetName ? { defaultConfigurationSet: out.ConfigurationSetName } : {}),
        };
      }),
    );
  }

  /** GetAccount in `region`. */
  account(region: string): Promise<AccountDetails> {
    return this.lookup(`${region}|account`, () =>
      callDependency('ses', 'GetAccount', region, async () => {
        const out = await this.send(region, 'GetAccount', (c) => c.send(new GetAccountCommand({})));
        return {
          sendingEnabled: out.SendingEnabled ?? false,
          enforcementStatus: out.EnforcementStatus ?? 'UNKNOWN',
          productionAccess: out.ProductionAccessEnabled ?? false,
          max24HourSend: out.SendQuota?.Max24HourSend ?? 0,
          sentLast24Hours: out.SendQuota?.SentLast24Hours ?? 0,
          suppressedReasons: reasons(out.SuppressionAttributes?.SuppressedReasons) ?? [],
        };
      }),
    );
  }

  /** GetConfigurationSet `name` in `region`; null when it does not exist there. */
  configurationSet(region: string, name: string): Promise<ConfigurationSetDetails | null> {
    return this.lookup(`${region}|configuration-set|${name}`, () =>
      callDependency('ses', 'GetConfigurationSet', region, async () => {
        const out = await notFoundAsNull(() =>
          this.send(region, 'GetConfigurationSet', (c) => c.send(new GetConfigurationSetCommand({ ConfigurationSetName: name }))),
        );
        if (!out) return null;
        const suppressedReasons = reasons(out.SuppressionOptions?.SuppressedReasons);
        return {
          name,
          // SES treats a set without SendingOptions as enabled.
          sendingEnabled: out.SendingOptions?.SendingEnabled ?? true,
          ...(suppressedReasons !== undefined ? { suppressedReasons } : {}),
        };
      }),
    );
  }
}

async function notFoundAsNull<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') return null;
    throw error;
  }
}

function reasons(values: readonly string[] | undefined): SuppressionReason[] | undefined {
  if (values === undefined) return undefined;
  return values.filter((value): value is SuppressionReason => value === 'BOUNCE' || value === 'COMPLAINT');
}
