import { z } from 'zod';
import { SES_REGIONS } from '../lambdas/domain/ses-regions';
import { PROPAGATION_MODES } from '../lambdas/sync/settings';
import { checkSchedule } from './schedule';

/** Context key in cdk.json that holds the service's configuration. */
export const CONFIG_CONTEXT_KEY = 'ses-suppression-guard';

export { SES_REGIONS } from '../lambdas/domain/ses-regions';

/** A value as error messages show it: JSON, cut to a short prefix with the full length when it is long. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 80 ? text : `${text.slice(0, 60)}… (${text.length} characters)`;
}

/** The defaults, documented in the README's configuration reference. */
export const DEFAULT_CONFIG = {
  regions: ['us-east-1', 'us-west-2', 'eu-west-1'],
  syncSchedule: 'rate(15 minutes)',
  fullSyncSchedule: 'cron(17 3 * * ? *)',
  requestsPerSecond: 1,
  overlapMinutes: 10,
  staleAfterMinutes: 60,
  syncErrorAlarmThreshold: 1,
  guardStaleAfterMinutes: 60,
  guardStaleMode: 'block',
  guardCacheTtlSeconds: 60,
  guardFunctionUrl: false,
  propagation: 'enforce',
  propagationSchedule: 'rate(15 minutes)',
  propagationBulkThreshold: 500,
  driftAlarmMinutes: 60,
  events: 'on',
  eventConfigurationSet: 'ses-suppression-guard',
  bounceRateAlarm: 0.05,
  complaintRateAlarm: 0.001,
  attributionRetentionDays: 35,
  smtpCanarySchedule: 'rate(1 hour)',
} as const;

/** The SES SMTP port the canaries probe (STARTTLS), the one relays such as Gmail's "Send mail as" use. */
export const SMTP_CANARY_PORT = 587;

/** The most SMTP canaries one deployment probes (one function probes them all, a few at a time). */
export const MAX_SMTP_CANARIES = 20;

/**
 * Minutes an SMTP canary's alarm window reaches beyond the longest gap of `smtpCanarySchedule`: the schedule's
 * one-minute precision and the run itself.
 */
export const SMTP_CANARY_MARGIN_MINUTES = 5;

/** The longest alarm window of a canary (a CloudWatch alarm evaluates at most a day). */
export const SMTP_CANARY_MAX_WINDOW_MINUTES = 1440;

const SCHEDULE_SHAPE = 'must be an EventBridge Scheduler expression like "rate(15 minutes)" or "cron(0 3 * * ? *)"';

const scheduleExpression = z.string({ error: (issue) => `${SCHEDULE_SHAPE}, got ${shown(issue.input)}` }).superRefine((expression, ctx) => {
  try {
    checkSchedule(expression);
  } catch (error) {
    const why = (error as Error).message;
    ctx.addIssue({
      code: 'custom',
      message: why === SCHEDULE_SHAPE ? `${why}, got ${shown(expression)}` : `${shown(expression)} ${why}`,
    });
  }
});

const sesRegion = z
  .string({ error: (issue) => `must be an SES region (${SES_REGIONS.join(', ')}), got ${shown(issue.input)}` })
  .refine((region) => (SES_REGIONS as readonly string[]).includes(region), {
    error: (issue) => `must be an SES region (${SES_REGIONS.join(', ')}), got ${shown(issue.input)}`,
  });

const regionList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean)
      : value,
  z
    .array(sesRegion)
    .min(1, { error: 'must name at least one region' })
    .refine((regions) => new Set(regions).size === regions.length, {
      error: (issue) => `must not repeat a region, got ${shown(issue.input)}`,
    }),
);

/** An SES configuration set name: letters, digits, hyphens and underscores, at most 64 characters. */
const CONFIGURATION_SET_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const configurationSetName = z
  .string({ error: (issue) => `must be a configuration set name, got ${shown(issue.input)}` })
  .regex(CONFIGURATION_SET_NAME, {
    error: (issue) => `must be an SES configuration set name (letters, digits, - and _, at most 64 characters), got ${shown(issue.input)}`,
  });
const configurationSetList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : value,
  z.array(configurationSetName).refine((names) => new Set(names).size === names.length, {
    error: (issue) => `must not repeat a configuration set, got ${shown(issue.input)}`,
  }),
);

/**
 * A Secrets Manager secret ARN: complete (the name and the hyphen and six characters Secrets Manager appends) or
 * partial (the name alone). Names are 1-512 of letters, digits and /_+=.@-.
 */
export const SECRET_ARN_PATTERN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;

/** A KMS key ARN (not an alias: a grant on an alias does not cover decrypting with the key). */
export const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;

/** A canary name: letters, digits, hyphens and underscores, at most 64 characters (a metric dimension value). */
const CANARY_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const smtpCanary = z
  .object(
    {
      name: z.string({ error: (issue) => `must be a canary name, got ${shown(issue.input)}` }).regex(CANARY_NAME, {
        error: (issue) => `must be letters, digits, - and _ (at most 64 characters), got ${shown(issue.input)}`,
      }),
      region: sesRegion,
      secretArn: z
        .string({ error: (issue) => `must be a Secrets Manager secret ARN, got ${shown(issue.input)}` })
        .regex(SECRET_ARN_PATTERN, {
          error: (issue) =>
            `must be a Secrets Manager secret ARN such as "arn:aws:secretsmanager:us-east-1:123456789012:secret:smtp/relay-AbCdEf" (complete, or partial without the 6-character suffix), got ${shown(issue.input)}`,
        }),
      kmsKeyArn: z
        .string({ error: (issue) => `must be a KMS key ARN, got ${shown(issue.input)}` })
        .regex(KMS_KEY_ARN_PATTERN, {
          error: (issue) =>
            `must be the ARN of the KMS key that encrypts the secret, such as "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" (not an alias), got ${shown(issue.input)}`,
        })
        .optional(),
    },
    { error: (issue) => `must be an object {"name", "region", "secretArn"}, got ${shown(issue.input)}` },
  )
  .strict();

const smtpCanaryList = z
  .array(smtpCanary, { error: (issue) => `must be a list of {"name", "region", "secretArn"}, got ${shown(issue.input)}` })
  .max(MAX_SMTP_CANARIES, { error: (issue) => `must name at most ${MAX_SMTP_CANARIES} canaries, got ${(issue.input as unknown[]).length}` })
  .superRefine((canaries, ctx) => {
    const seen = new Set<string>();
    canaries.forEach((canary, index) => {
      if (seen.has(canary.name)) {
        ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `must be unique, got ${shown(canary.name)} twice` });
      }
      seen.add(canary.name);
    });
  });

const positive = (example: string) =>
  z.number({ error: (issue) => `must be a positive number such as ${example}, got ${shown(issue.input)}` }).positive({
    error: (issue) => `must be a positive number such as ${example}, got ${shown(issue.input)}`,
    abort: true,
  });

/** A positive number within the range that makes sense for the setting. */
const between = (example: string, min: number, max: number, unit = '') =>
  positive(example).refine((n) => n >= min && n <= max, {
    error: (issue) => `must be between ${min} and ${max}${unit}, got ${shown(issue.input)}`,
  });

/**
 * Minutes a sync's watermark may age beyond the schedule's interval before the data counts as stale: the schedule's
 * one-minute precision, the pass itself, and a throttled or retried invocation.
 */
export const SYNC_FRESHNESS_MARGIN_MINUTES = 5;

const configSchema = z
  .object({
    regions: regionList.default([...DEFAULT_CONFIG.regions]),
    syncSchedule: scheduleExpression.default(DEFAULT_CONFIG.syncSchedule),
    fullSyncSchedule: scheduleExpression.default(DEFAULT_CONFIG.fullSyncSchedule),
    requestsPerSecond: between('1', 0.1, 50).default(DEFAULT_CONFIG.requestsPerSecond),
    overlapMinutes: between('10', 1, 1440, ' minutes').default(DEFAULT_CONFIG.overlapMinutes),
    staleAfterMinutes: between('60', 1, 10080, ' minutes').default(DEFAULT_CONFIG.staleAfterMinutes),
    syncErrorAlarmThreshold: between('1', 1, 1000)
      .refine(Number.isInteger, { error: (i) => `must be a whole number, got ${shown(i.input)}` })
      .default(DEFAULT_CONFIG.syncErrorAlarmThreshold),
    guardStaleAfterMinutes: between('60', 1, 10080, ' minutes').default(DEFAULT_CONFIG.guardStaleAfterMinutes),
    guardStaleMode: z
      .enum(['block', 'warn'], { error: (issue) => `must be "block" or "warn", got ${shown(issue.input)}` })
      .default(DEFAULT_CONFIG.guardStaleMode),
    guardCacheTtlSeconds: between('60', 1, 3600, ' seconds').default(DEFAULT_CONFIG.guardCacheTtlSeconds),
    guardFunctionUrl: z
      .boolean({ error: (issue) => `must be true or false, got ${shown(issue.input)}` })
      .default(DEFAULT_CONFIG.guardFunctionUrl),
    alarmTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, {
        error: (issue) => `must be an SNS topic ARN, got ${shown(issue.input)}`,
      })
      .optional(),
    homeRegion: sesRegion.optional(),
    propagation: z
      .enum(PROPAGATION_MODES, {
        error: (issue) =>
          `must be ${PROPAGATION_MODES.map((m) => `"${m}"`)
            .join(', ')
            .replace(/, ([^,]*)$/, ' or $1')}, got ${shown(issue.input)}`,
      })
      .default(DEFAULT_CONFIG.propagation),
    propagateTo: regionList.optional(),
    propagationSchedule: scheduleExpression.default(DEFAULT_CONFIG.propagationSchedule),
    propagationBulkThreshold: between('500', 1, 100_000)
      .refine(Number.isInteger, { error: (i) => `must be a whole number, got ${shown(i.input)}` })
      .default(DEFAULT_CONFIG.propagationBulkThreshold),
    driftAlarmMinutes: between('60', 1, 1440, ' minutes')
      .refine(Number.isInteger, { error: (i) => `must be a whole number, got ${shown(i.input)}` })
      .default(DEFAULT_CONFIG.driftAlarmMinutes),
    events: z.enum(['on', 'off'], { error: (issue) => `must be "on" or "off", got ${shown(issue.input)}` }).default(DEFAULT_CONFIG.events),
    eventConfigurationSet: configurationSetName.default(DEFAULT_CONFIG.eventConfigurationSet),
    eventConfigurationSets: configurationSetList.default([]),
    bounceRateAlarm: between('0.05', 0.001, 1).default(DEFAULT_CONFIG.bounceRateAlarm),
    complaintRateAlarm: between('0.001', 0.0001, 1).default(DEFAULT_CONFIG.complaintRateAlarm),
    attributionRetentionDays: between('35', 1, 400, ' days')
      .refine(Number.isInteger, { error: (i) => `must be a whole number, got ${shown(i.input)}` })
      .default(DEFAULT_CONFIG.attributionRetentionDays),
    smtpCanaries: smtpCanaryList.default([]),
    smtpCanarySchedule: scheduleExpression.default(DEFAULT_CONFIG.smtpCanarySchedule),
  })
  .strict()
  .superRefine((config, ctx) => {
    // Each canary's alarms watch a window of one run plus a margin: the schedule must repeat within a day.
    if (!Array.isArray(config.smtpCanaries) || config.smtpCanaries.length === 0) return;
    let gap: number;
    try {
      gap = checkSchedule(config.smtpCanarySchedule).longestGapMinutes;
    } catch {
      return; // smtpCanarySchedule itself is reported
    }
    if (!(gap + SMTP_CANARY_MARGIN_MINUTES <= SMTP_CANARY_MAX_WINDOW_MINUTES)) {
      ctx.addIssue({
        code: 'custom',
        path: ['smtpCanarySchedule'],
        message: Number.isFinite(gap)
          ? `must run at least every ${SMTP_CANARY_MAX_WINDOW_MINUTES - SMTP_CANARY_MARGIN_MINUTES} minutes (the canary alarms evaluate at most a day), got ${shown(config.smtpCanarySchedule)} with up to ${gap} minutes between runs`
          : `must repeat (a canary that runs once cannot be watched), got ${shown(config.smtpCanarySchedule)}`,
      });
    }
  })
  .superRefine((config, ctx) => {
    // The service's own configuration set is created in every region: a user's set of the same name would collide.
    if (Array.isArray(config.eventConfigurationSets) && config.eventConfigurationSets.includes(config.eventConfigurationSet)) {
      ctx.addIssue({
        code: 'custom',
        path: ['eventConfigurationSets'],
        message: `must not name the service's own configuration set ${shown(config.eventConfigurationSet)} (eventConfigurationSet), which the service creates`,
      });
    }
  })
  .superRefine((config, ctx) => {
    // Propagation writes only into regions the service syncs: a region it cannot read back is a region it could
    // never withdraw a copy from.
    (config.propagateTo ?? []).forEach((region, index) => {
      if (Array.isArray(config.regions) && !config.regions.includes(region)) {
        ctx.addIssue({
          code: 'custom',
          path: ['propagateTo', index],
          message: `must be one of regions (${config.regions.join(', ')}), got ${shown(region)}`,
        });
      }
    });
    // The drift alarm needs at least one propagation run in its window, or it can never see drift stay up.
    if (config.propagation !== 'off' && typeof config.driftAlarmMinutes === 'number') {
      let gap: number | undefined;
      try {
        gap = checkSchedule(config.propagationSchedule).longestGapMinutes;
      } catch {
        gap = undefined; // propagationSchedule itself is reported
      }
      if (gap !== undefined && Number.isFinite(gap) && config.driftAlarmMinutes < gap + SYNC_FRESHNESS_MARGIN_MINUTES) {
        ctx.addIssue({
          code: 'custom',
          path: ['driftAlarmMinutes'],
          message: `must be at least ${Math.ceil(gap + SYNC_FRESHNESS_MARGIN_MINUTES)} (propagationSchedule ${shown(config.propagationSchedule)} leaves up to ${gap} minutes between runs, plus ${SYNC_FRESHNESS_MARGIN_MINUTES} minutes for the run itself), or a window can hold no run and the alarm never fires; got ${config.driftAlarmMinutes}`,
        });
      }
    }
  })
  .superRefine((config, ctx) => {
    // Fresh data needs a sync at least every staleness window: the longest gap between two incremental runs plus
    // the margin must fit into both windows, or they report stale data for part of every interval.
    let gap: number;
    try {
      gap = checkSchedule(config.syncSchedule).longestGapMinutes;
    } catch {
      return; // syncSchedule itself is reported
    }
    const needed = Math.ceil(gap + SYNC_FRESHNESS_MARGIN_MINUTES);
    const consequences = {
      guardStaleAfterMinutes: 'the guard reports SUPPRESSION_DATA_STALE (and blocks, by default) for part of every interval',
      staleAfterMinutes: 'the stale alarms fire between every two runs',
    } as const;
    for (const [key, consequence] of Object.entries(consequences) as [keyof typeof consequences, string][]) {
      if (typeof config[key] !== 'number' || config[key] >= needed) continue;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: Number.isFinite(gap)
          ? `must be at least ${needed} (syncSchedule ${shown(config.syncSchedule)} leaves up to ${gap} minutes between runs, plus ${SYNC_FRESHNESS_MARGIN_MINUTES} minutes for the run itself), or ${consequence}; got ${config[key]}. Raise it or sync more often`
          : `cannot be met: syncSchedule ${shown(config.syncSchedule)} runs at most once, so ${consequence}; use a rate() or cron() schedule`,
      });
    }
  });

/** The configuration as the schema validates it (optional settings without their derived defaults). */
type ParsedConfig = z.infer<typeof configSchema>;

/** Validated service configuration, with the settings whose default depends on others filled in. */
export type ServiceConfig = Omit<ParsedConfig, 'homeRegion' | 'propagateTo'> & {
  /** Region of the home stack (tables, functions, schedules, alarms); default: the first of `regions`. */
  readonly homeRegion: string;
  /** Regions whose SES lists propagation writes into; default: every region. */
  readonly propagateTo: string[];
};

/** A configuration mistake: its message is complete and is shown to the user as it is, without a stack trace. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the `ses-suppression-guard` context object, throwing an error that names the field and the value. */
export function parseConfig(raw: unknown): ServiceConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const details = result.error.issues
      .map((issue) => {
        if (issue.code === 'unrecognized_keys') {
          const keys = issue.keys.map((key) => shown(key.slice(0, 40))).join(', ');
          if (issue.path.length === 0) return `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
          return `${[CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.')} has unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
        }
        if (issue.path.length === 0) return `${CONFIG_CONTEXT_KEY} ${issue.message}`;
        return `${[CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.')} ${issue.message}`;
      })
      .join('; ');
    throw new ConfigError(`invalid configuration: ${details}`);
  }
  const config = result.data;
  // `regions` names at least one region (the schema checks it).
  const homeRegion = config.homeRegion ?? (config.regions[0] as string);
  return { ...config, homeRegion, propagateTo: config.propagateTo ?? [...config.regions] };
}

/** How a setting given on the command line (always a string with `cdk -c key=value`) becomes its value. */
const SETTING_TYPES: { readonly [K in keyof ServiceConfig]-?: 'list' | 'number' | 'boolean' | 'string' } = {
  regions: 'list',
  syncSchedule: 'string',
  fullSyncSchedule: 'string',
  requestsPerSecond: 'number',
  overlapMinutes: 'number',
  staleAfterMinutes: 'number',
  syncErrorAlarmThreshold: 'number',
  guardStaleAfterMinutes: 'number',
  guardStaleMode: 'string',
  guardCacheTtlSeconds: 'number',
  guardFunctionUrl: 'boolean',
  alarmTopicArn: 'string',
  homeRegion: 'string',
  propagation: 'string',
  propagateTo: 'list',
  propagationSchedule: 'string',
  propagationBulkThreshold: 'number',
  driftAlarmMinutes: 'number',
  events: 'string',
  eventConfigurationSet: 'string',
  eventConfigurationSets: 'list',
  bounceRateAlarm: 'number',
  complaintRateAlarm: 'number',
  attributionRetentionDays: 'number',
  smtpCanaries: 'list',
  smtpCanarySchedule: 'string',
};

/** The names of every setting. */
export const SETTING_NAMES = Object.keys(SETTING_TYPES) as (keyof ServiceConfig)[];

/** A command-line value as the setting's type; a value that does not convert is left as it is, for the schema to name. */
function fromCommandLine(setting: keyof ServiceConfig, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const text = raw.trim();
  switch (SETTING_TYPES[setting]) {
    case 'number':
      return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : raw;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : raw;
    case 'list':
      if (text.startsWith('[')) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return raw;
        }
      }
      return text;
    default:
      return text;
  }
}

/**
 * Context keys that are someone else's: the CDK's own (`aws:cdk:...`, feature flags `@aws-cdk/...`, cached lookups
 * `availability-zones:...`, `acknowledged-issue-numbers`) all contain a character a setting name never has.
 */
function isForeignContextKey(key: string): boolean {
  return !/^[A-Za-z][A-Za-z0-9]*$/.test(key) && !key.startsWith(`${CONFIG_CONTEXT_KEY}.`);
}

/**
 * The configuration from the app's whole context: the `ses-suppression-guard` object of cdk.json, overridden
 * setting by setting from the command line, as `-c regions=us-east-1,eu-west-1` or
 * `-c ses-suppression-guard.regions=us-east-1,eu-west-1` (strings, converted to each setting's type), or replaced
 * whole by `-c 'ses-suppression-guard={"regions": ["us-east-1"]}'` (JSON). A command-line key that names no setting
 * is an error, never ignored.
 */
export function configFromContext(context: Record<string, unknown>): ServiceConfig {
  let base = context[CONFIG_CONTEXT_KEY];
  if (typeof base === 'string') {
    try {
      base = JSON.parse(base) as unknown;
    } catch (error) {
      throw new ConfigError(
        `invalid configuration: -c ${CONFIG_CONTEXT_KEY}=… must be a JSON object such as '{"regions": ["us-east-1"]}' (${(error as Error).message}); to change one setting, use -c <setting>=<value>`,
      );
    }
  }
  if (base !== undefined && (typeof base !== 'object' || base === null || Array.isArray(base))) {
    throw new ConfigError(`invalid configuration: context "${CONFIG_CONTEXT_KEY}" must be an object of settings, got ${shown(base)}`);
  }
  const overrides: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, raw] of Object.entries(context)) {
    if (key === CONFIG_CONTEXT_KEY || isForeignContextKey(key)) continue;
    const setting = key.startsWith(`${CONFIG_CONTEXT_KEY}.`) ? key.slice(CONFIG_CONTEXT_KEY.length + 1) : key;
    if ((SETTING_NAMES as string[]).includes(setting)) overrides[setting] = fromCommandLine(setting as keyof ServiceConfig, raw);
    else unknown.push(key.slice(0, 80));
  }
  if (unknown.length > 0) {
    throw new ConfigError(
      `invalid configuration: ${unknown.map((key) => `-c ${key}=…`).join(', ')} names no setting; the settings are ${SETTING_NAMES.join(', ')} (e.g. -c regions=us-east-1,eu-west-1)`,
    );
  }
  return parseConfig({ ...(base as Record<string, unknown> | undefined), ...overrides });
}
