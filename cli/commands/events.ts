import {
  type EventType,
  GetConfigurationSetEventDestinationsCommand,
  type GetConfigurationSetEventDestinationsCommandOutput,
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  ListEmailIdentitiesCommand,
  PutEmailIdentityConfigurationSetAttributesCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { Command } from 'commander';
import { EVENT_DESTINATION_NAME } from '../../lambdas/domain/names';
import { checkRegion, type Target } from '../context';
import { asCliError, EXIT, UsageError } from '../errors';
import { type EventSettings, readEventSettings } from '../event-settings';
import { table } from '../output';
import type { Runner } from '../runner';

/** Why an identity's mail does or does not send events to the service. */
export type Coverage =
  /** The identity's default set is the service's own set. */
  | 'service set'
  /** One of the user's sets listed in `eventConfigurationSets` (the regional stack adds the destination). */
  | 'listed set'
  /** A set with an enabled EventBridge destination named EVENT_DESTINATION_NAME for BOUNCE and COMPLAINT. */
  | 'event destination'
  /** A set without such a destination. */
  | 'set without destination'
  /** No default configuration set. */
  | 'no default set';

/** One identity in `ssg events status`. */
export interface IdentityCoverage {
  readonly identity: string;
  readonly type: string | null;
  readonly verified: boolean | null;
  readonly defaultConfigurationSet: string | null;
  readonly covered: boolean;
  readonly coverage: Coverage;
  readonly note: string;
}

/** One region in `ssg events status`. */
export interface RegionCoverage {
  readonly region: string;
  /** The service's configuration set in the region, and where its name came from. */
  readonly serviceConfigurationSet: string;
  readonly serviceConfigurationSetSource: string;
  readonly identities: readonly IdentityCoverage[];
}

const NO_DEFAULT_SET = 'not covered: SMTP relays and senders that do not name a configuration set send no events';

/** The SES event types that must reach the service for suppression to follow them. */
const REQUIRED_EVENT_TYPES: readonly EventType[] = ['BOUNCE', 'COMPLAINT'];

/** Identities read at once per region (GetEmailIdentity). */
const CONCURRENCY = 4;

/** `ssg events attach` and `ssg events status`. */
export function registerEvents(program: Command, runner: Runner): void {
  const events = program
    .command('events')
    .description("Which identities' mail sends SES events to the service, and attaching an identity to the service's configuration set");

  events
    .command('attach')
    .description("Make the service's configuration set the identity's default configuration set in a region, so its mail sends events")
    .requiredOption('--identity <identity>', 'the SES identity (domain or address)')
    .requiredOption('--region <region>', 'the SES region of the identity')
    .option(
      '--configuration-set <name>',
      'the configuration set to attach (default: the regional stack\'s, else the setting "eventConfigurationSet")',
    )
    .option('--force', 'replace a default configuration set the identity already has')
    .addHelpText(
      'after',
      '\nExit code 1 when the identity does not exist in the region, the configuration set does not exist there, or the\n' +
        'identity already has another default configuration set and --force is not given (nothing is changed).',
    )
    .action(
      runner.action<{ identity: string; region: string; configurationSet?: string; force?: boolean }>(
        async ({ out, target }, _operands, options) => {
          const identity = options.identity.trim();
          if (!identity) throw new UsageError('--identity must name an SES identity, got ""');
          const region = checkRegion(options.region, '--region');
          if (options.configurationSet !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(options.configurationSet)) {
            throw new UsageError(
              `--configuration-set must be an SES configuration set name, got ${JSON.stringify(options.configurationSet)}`,
            );
          }
          const t = await target();
          const configured = await t.regions();
          if (!configured.includes(region)) {
            throw new UsageError(`--region must be one of the configured regions ${configured.join(', ')}, got ${JSON.stringify(region)}`);
          }
          const set = options.configurationSet
            ? { name: options.configurationSet, source: '--configuration-set' }
            : await serviceConfigurationSet(t, region, readEventSettings());
          const result = await attach(t.ses(region), region, identity, set.name, Boolean(options.force));
          if (out.json) out.printJson({ ...result, configurationSetSource: set.source });
          else out.line(result.message);
          return result.changed || result.unchanged ? EXIT.OK : EXIT.PROBLEMS;
        },
      ),
    );

  events
    .command('status')
    .description(
      'Per region, every identity with its default configuration set and whether that set delivers SES events (bounces, complaints) to the service',
    )
    .option('--region <region>', 'only this SES region (default: every configured region)')
    .addHelpText('after', '\nExit code 1 when an identity is not covered.')
    .action(
      runner.action<{ region?: string }>(async ({ out, target }, _operands, options) => {
        const region = options.region !== undefined ? checkRegion(options.region, '--region') : undefined;
        const t = await target();
        const configured = await t.regions();
        if (region !== undefined && !configured.includes(region)) {
          throw new UsageError(`--region must be one of the configured regions ${configured.join(', ')}, got ${JSON.stringify(region)}`);
        }
        const settings = readEventSettings();
        const regions = region ? [region] : configured;
        const reports = await Promise.all(regions.map((r) => regionCoverage(t, r, settings)));
        const uncovered = reports.flatMap((r) => r.identities.filter((i) => !i.covered).map((i) => `${r.region}/${i.identity}`));
        if (out.json) out.printJson({ target: t.description, settingsSource: settings.source, regions: reports, uncovered });
        else for (const line of formatCoverage(reports)) out.line(line);
        return uncovered.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
      }),
    );
}

/** The service's configuration set in `region`: the regional stack's output, else the setting. */
export async function serviceConfigurationSet(
  t: Target,
  region: string,
  settings: EventSettings,
): Promise<{ name: string; source: string }> {
  const output = await t.regionalOutput(region, 'EventConfigurationSetName');
  if (output) return { name: output, source: `output EventConfigurationSetName of the regional stack in ${region}` };
  return { name: settings.configurationSet, source: `setting "eventConfigurationSet" ${settings.source}` };
}

/** What `ssg events attach` did. */
export interface AttachResult {
  readonly region: string;
  readonly identity: string;
  readonly configurationSet: string;
  /** The identity's default configuration set before, if any. */
  readonly previous: string | null;
  readonly changed: boolean;
  /** True when the set was already the identity's default. */
  readonly unchanged: boolean;
  readonly refused: string | null;
  readonly message: string;
}

/** Sets `configurationSet` as the identity's default in `region`, refusing to replace another one without `force`. */
export async function attach(
  ses: SESv2Client,
  region: string,
  identity: string,
  configurationSet: string,
  force: boolean,
): Promise<AttachResult> {
  const base = { region, identity, configurationSet };
  let current: GetEmailIdentityCommandOutput;
  try {
    current = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') {
      const message = `refused: identity ${identity} does not exist in ${region} (create and verify it in SES there first); nothing changed`;
      return { ...base, previous: null, changed: false, unchanged: false, refused: 'identity not found', message };
    }
    throw asCliError(error, `reading identity ${identity} in ${region} (SES GetEmailIdentity)`);
  }
  const previous = current.ConfigurationSetName ?? null;
  if (previous === configurationSet) {
    const message = `${identity} in ${region} already has ${configurationSet} as its default configuration set; nothing changed`;
    return { ...base, previous, changed: false, unchanged: true, refused: null, message };
  }
  if (previous !== null && !force) {
    const message =
      `refused: ${identity} in ${region} already has the default configuration set ${previous}; attaching would replace it with ` +
      `${configurationSet} for mail that names no configuration set (its event destinations, IP pool and other options ` +
      "would no longer apply to that mail). Run again with --force to replace it, or add the service's event destination to " +
      `${previous} (setting "eventConfigurationSets"); nothing changed`;
    return { ...base, previous, changed: false, unchanged: false, refused: 'another default configuration set', message };
  }
  try {
    await ses.send(
      new PutEmailIdentityConfigurationSetAttributesCommand({ EmailIdentity: identity, ConfigurationSetName: configurationSet }),
    );
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') {
      const message = `refused by SES: ${(error as Error).message} (is the regional stack deployed in ${region}? or pass --configuration-set); nothing changed`;
      return { ...base, previous, changed: false, unchanged: false, refused: 'not found', message };
    }
    throw asCliError(error, `attaching ${configurationSet} to ${identity} in ${region} (SES PutEmailIdentityConfigurationSetAttributes)`);
  }
  const message = `${identity} in ${region}: default configuration set is now ${configurationSet}${previous !== null ? ` (replaced ${previous})` : ''}`;
  return { ...base, previous, changed: true, unchanged: false, refused: null, message };
}

/** Every identity of `region` with its default configuration set and whether that set sends events to the service. */
export async function regionCoverage(t: Target, region: string, settings: EventSettings): Promise<RegionCoverage> {
  const ses = t.ses(region);
  const service = await serviceConfigurationSet(t, region, settings);
  const names: string[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await ses.send(new ListEmailIdentitiesCommand({ NextToken: token, PageSize: 100 }));
      for (const i of page.EmailIdentities ?? []) if (i.IdentityName) names.push(i.IdentityName);
      token = page.NextToken;
    } while (token);
  } catch (error) {
    throw asCliError(error, `listing the identities of ${region} (SES ListEmailIdentities)`);
  }
  const details = await mapLimited(names, CONCURRENCY, async (name) => {
    try {
      return await ses.send(new GetEmailIdentityCommand({ EmailIdentity: name }));
    } catch (error) {
      throw asCliError(error, `reading identity ${name} in ${region} (SES GetEmailIdentity)`);
    }
  });
  const setVerdicts = new Map<string, Promise<{ coverage: Coverage; note: string }>>();
  const verdict = (set: string) => {
    let v = setVerdicts.get(set);
    if (!v) {
      v = setCoverage(ses, region, set, service.name, settings.configurationSets);
      setVerdicts.set(set, v);
    }
    return v;
  };
  const identities = await Promise.all(
    names.map(async (identity, i): Promise<IdentityCoverage> => {
      const d = details[i];
      const set = d?.ConfigurationSetName ?? null;
      const { coverage, note } = set === null ? { coverage: 'no default set' as const, note: NO_DEFAULT_SET } : await verdict(set);
      return {
        identity,
        type: d?.IdentityType ?? null,
        verified: d?.VerifiedForSendingStatus ?? null,
        defaultConfigurationSet: set,
        covered: coverage === 'service set' || coverage === 'listed set' || coverage === 'event destination',
        coverage,
        note,
      };
    }),
  );
  identities.sort((a, b) => a.identity.localeCompare(b.identity));
  return { region, serviceConfigurationSet: service.name, serviceConfigurationSetSource: service.source, identities };
}

/** Whether mail sent with configuration set `set` sends its events to the service. */
async function setCoverage(
  ses: SESv2Client,
  region: string,
  set: string,
  serviceSet: string,
  listed: readonly string[],
): Promise<{ coverage: Coverage; note: string }> {
  if (set === serviceSet) return { coverage: 'service set', note: "covered: the service's configuration set" };
  if (listed.includes(set)) return { coverage: 'listed set', note: 'covered: listed in the setting "eventConfigurationSets"' };
  let destinations: GetConfigurationSetEventDestinationsCommandOutput;
  try {
    destinations = await ses.send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: set }));
  } catch (error) {
    if ((error as Error).name === 'NotFoundException') {
      return { coverage: 'set without destination', note: `NOT COVERED: configuration set ${set} does not exist in ${region}` };
    }
    throw asCliError(error, `reading the event destinations of ${set} in ${region} (SES GetConfigurationSetEventDestinations)`);
  }
  const ours = (destinations.EventDestinations ?? []).find(
    (d) =>
      d.Name === EVENT_DESTINATION_NAME &&
      d.Enabled === true &&
      d.EventBridgeDestination !== undefined &&
      REQUIRED_EVENT_TYPES.every((type) => d.MatchingEventTypes?.includes(type)),
  );
  if (ours) return { coverage: 'event destination', note: `covered: ${set} has the service's event destination ${EVENT_DESTINATION_NAME}` };
  return {
    coverage: 'set without destination',
    note: `NOT COVERED: ${set} has no enabled EventBridge destination ${EVENT_DESTINATION_NAME} for BOUNCE and COMPLAINT (list it in "eventConfigurationSets" and deploy, or ssg events attach --force)`,
  };
}

/** The text report of `ssg events status`. */
export function formatCoverage(reports: readonly RegionCoverage[]): string[] {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.region}: the service's configuration set is ${r.serviceConfigurationSet} (${r.serviceConfigurationSetSource})`);
    if (r.identities.length === 0) {
      lines.push('  no identities');
      continue;
    }
    lines.push(
      ...table(
        ['identity', 'type', 'verified', 'default configuration set', 'events'],
        r.identities.map((i) => [
          i.identity,
          i.type ?? '-',
          i.verified === null ? '-' : i.verified ? 'yes' : 'no',
          i.defaultConfigurationSet ?? '(none)',
          i.note,
        ]),
      ),
    );
  }
  const uncovered = reports.reduce((n, r) => n + r.identities.filter((i) => !i.covered).length, 0);
  lines.push(
    uncovered === 0
      ? "Every identity's mail sends events to the service (mail that names another configuration set is not checked here)."
      : `${uncovered} identit${uncovered === 1 ? 'y is' : 'ies are'} not covered; attach one with ssg events attach --identity <identity> --region <region>`,
  );
  return lines;
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
