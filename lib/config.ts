import { z } from 'zod';

/** Context key in cdk.json that holds the service's configuration. */
export const CONFIG_CONTEXT_KEY = 'ses-suppression-guard';

/**
 * Regions where Amazon SES offers the v2 API, per the SES endpoints page. A region outside this list is almost
 * always a typo, so it fails synthesis rather than deploying a schedule that can never succeed.
 */
export const SES_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'ca-west-1',
  'sa-east-1',
  'mx-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-central-2',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'ap-south-1',
  'ap-south-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-5',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'af-south-1',
  'us-gov-west-1',
  'us-gov-east-1',
] as const;

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
} as const;

const scheduleExpression = z.string().regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\)|at\([^)]+\))$/, {
  error: (issue) =>
    `must be an EventBridge Scheduler expression like "rate(15 minutes)" or "cron(0 3 * * ? *)", got ${JSON.stringify(issue.input)}`,
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
    .array(
      z.string().refine((region) => (SES_REGIONS as readonly string[]).includes(region), {
        error: (issue) => `must be an SES region (${SES_REGIONS.join(', ')}), got ${JSON.stringify(issue.input)}`,
      }),
    )
    .min(1, { error: 'must name at least one region' })
    .refine((regions) => new Set(regions).size === regions.length, {
      error: (issue) => `must not repeat a region, got ${JSON.stringify(issue.input)}`,
    }),
);

const positive = (example: string) =>
  z.number({ error: (issue) => `must be a positive number such as ${example}, got ${JSON.stringify(issue.input)}` }).positive({
    error: (issue) => `must be a positive number such as ${example}, got ${JSON.stringify(issue.input)}`,
  });

const configSchema = z
  .object({
    regions: regionList.default([...DEFAULT_CONFIG.regions]),
    syncSchedule: scheduleExpression.default(DEFAULT_CONFIG.syncSchedule),
    fullSyncSchedule: scheduleExpression.default(DEFAULT_CONFIG.fullSyncSchedule),
    requestsPerSecond: positive('1')
      .max(50, { error: (i) => `must be at most 50, got ${JSON.stringify(i.input)}` })
      .default(DEFAULT_CONFIG.requestsPerSecond),
    overlapMinutes: positive('10').default(DEFAULT_CONFIG.overlapMinutes),
    staleAfterMinutes: positive('60').default(DEFAULT_CONFIG.staleAfterMinutes),
    syncErrorAlarmThreshold: positive('1').int().default(DEFAULT_CONFIG.syncErrorAlarmThreshold),
    guardStaleAfterMinutes: positive('60').default(DEFAULT_CONFIG.guardStaleAfterMinutes),
    guardStaleMode: z
      .enum(['block', 'warn'], { error: (issue) => `must be "block" or "warn", got ${JSON.stringify(issue.input)}` })
      .default(DEFAULT_CONFIG.guardStaleMode),
    guardCacheTtlSeconds: positive('60')
      .max(3600, { error: (i) => `must be at most 3600, got ${JSON.stringify(i.input)}` })
      .default(DEFAULT_CONFIG.guardCacheTtlSeconds),
    guardFunctionUrl: z
      .boolean({ error: (issue) => `must be true or false, got ${JSON.stringify(issue.input)}` })
      .default(DEFAULT_CONFIG.guardFunctionUrl),
    alarmTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, {
        error: (issue) => `must be an SNS topic ARN, got ${JSON.stringify(issue.input)}`,
      })
      .optional(),
  })
  .strict();

/** Validated service configuration. */
export type ServiceConfig = z.infer<typeof configSchema>;

/** Validates the `ses-suppression-guard` context object, throwing an error that names the field and the value. */
export function parseConfig(raw: unknown): ServiceConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const details = result.error.issues
      .map((issue) => {
        if (issue.code === 'unrecognized_keys') return `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
        return `${[CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.')} ${issue.message}`;
      })
      .join('; ');
    throw new Error(`invalid configuration in cdk.json context "${CONFIG_CONTEXT_KEY}": ${details}`);
  }
  return result.data;
}
