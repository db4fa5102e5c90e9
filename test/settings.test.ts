import { readEnvironment, writeEnvironment } from '../lambdas/domain/settings';
import { EVENTS_ENVIRONMENT } from '../lambdas/events/settings';
import { GUARD_ENVIRONMENT } from '../lambdas/guard/settings';
import { SYNC_ENVIRONMENT } from '../lambdas/sync/settings';

/** Runs `act` with exactly `variables` set among the ones `names` lists, restoring the environment afterwards. */
function withEnvironment<T>(names: readonly string[], variables: Record<string, string>, act: () => T): T {
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, variables);
  try {
    return act();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const SYNC_NAMES = Object.values(SYNC_ENVIRONMENT).map((v) => v.name);
const GUARD_NAMES = Object.values(GUARD_ENVIRONMENT).map((v) => v.name);
const EVENTS_NAMES = Object.values(EVENTS_ENVIRONMENT).map((v) => v.name);

const GUARD_VALUES = {
  suppressionTable: 'suppression',
  stateTable: 'state',
  regions: ['us-east-1', 'eu-west-1'],
  staleAfterMinutes: 45,
  staleMode: 'warn',
  cacheTtlSeconds: 30,
  requestsPerSecond: 2,
  eventConfigurationSets: ['ses-suppression-guard', 'marketing'],
} as const;

describe('Function: readEnvironment', () => {
  it('reads back exactly what the construct writes', () => {
    // Prepare
    const written = writeEnvironment(SYNC_ENVIRONMENT, {
      suppressionTable: 'suppression',
      stateTable: 'state',
      regions: ['us-east-1', 'eu-west-1'],
      requestsPerSecond: 0.5,
      overlapSeconds: 600,
      propagation: 'report',
      propagateTo: ['eu-west-1'],
      importBucketPattern: 'ssg-imports-123456789012-{region}',
      bulkThreshold: 500,
    });

    // Act
    const read = withEnvironment(SYNC_NAMES, written, () => readEnvironment(SYNC_ENVIRONMENT));

    // Assess
    expect(written).toEqual({
      SUPPRESSION_TABLE_NAME: 'suppression',
      SYNC_STATE_TABLE_NAME: 'state',
      SYNC_REGIONS: 'us-east-1,eu-west-1',
      SES_REQUESTS_PER_SECOND: '0.5',
      SYNC_OVERLAP_SECONDS: '600',
      PROPAGATION_MODE: 'report',
      PROPAGATE_TO_REGIONS: 'eu-west-1',
      IMPORT_BUCKET_NAME_PATTERN: 'ssg-imports-123456789012-{region}',
      PROPAGATION_BULK_THRESHOLD: '500',
    });
    expect(read).toEqual({
      suppressionTable: 'suppression',
      stateTable: 'state',
      regions: ['us-east-1', 'eu-west-1'],
      requestsPerSecond: 0.5,
      overlapSeconds: 600,
      propagation: 'report',
      propagateTo: ['eu-west-1'],
      importBucketPattern: 'ssg-imports-123456789012-{region}',
      bulkThreshold: 500,
    });
  });

  it("writes the guard's event configuration sets as a list, or a value no set name can take when events are off", () => {
    // Prepare
    const on = writeEnvironment(GUARD_ENVIRONMENT, GUARD_VALUES);
    const off = writeEnvironment(GUARD_ENVIRONMENT, { ...GUARD_VALUES, eventConfigurationSets: 'off' });

    // Act
    const readOn = withEnvironment(GUARD_NAMES, on, () => readEnvironment(GUARD_ENVIRONMENT));
    const readOff = withEnvironment(GUARD_NAMES, off, () => readEnvironment(GUARD_ENVIRONMENT));

    // Assess
    expect(on.GUARD_EVENT_CONFIGURATION_SETS).toBe('ses-suppression-guard,marketing');
    expect(off.GUARD_EVENT_CONFIGURATION_SETS).toBe('(events off)');
    expect(readOn.eventConfigurationSets).toEqual(['ses-suppression-guard', 'marketing']);
    expect(readOff.eventConfigurationSets).toBe('off');
  });

  it.each([
    ['GUARD_EVENT_CONFIGURATION_SETS', undefined, 'GUARD_EVENT_CONFIGURATION_SETS environment variable is not set'],
    [
      'GUARD_EVENT_CONFIGURATION_SETS',
      'ses-suppression-guard,my set',
      'GUARD_EVENT_CONFIGURATION_SETS environment variable must be a comma-separated list of SES configuration set names or "(events off)", got "ses-suppression-guard,my set"',
    ],
    ['GUARD_STALE_MODE', undefined, 'GUARD_STALE_MODE environment variable is not set'],
    ['GUARD_CACHE_TTL_SECONDS', '  ', 'GUARD_CACHE_TTL_SECONDS environment variable is not set'],
    ['GUARD_STALE_AFTER_MINUTES', 'sixty', 'GUARD_STALE_AFTER_MINUTES environment variable must be a positive number, got "sixty"'],
    ['GUARD_STALE_MODE', 'maybe', 'GUARD_STALE_MODE environment variable must be "block" or "warn", got "maybe"'],
    [
      'SYNC_REGIONS',
      'us-east-1,moon',
      'SYNC_REGIONS environment variable must be a comma-separated list of AWS regions, got "us-east-1,moon"',
    ],
  ])('fails naming %s when it is %j, with no fallback default', (name, value, message) => {
    // Prepare
    const environment = { ...writeEnvironment(GUARD_ENVIRONMENT, GUARD_VALUES) };
    if (value === undefined) delete environment[name];
    else environment[name] = value;

    // Act + Assess
    expect(() => withEnvironment(GUARD_NAMES, environment, () => readEnvironment(GUARD_ENVIRONMENT))).toThrow(message);
  });
});

describe('Handler: cold start', () => {
  it.each([
    ['guard', '../lambdas/guard/handler', GUARD_NAMES, writeEnvironment(GUARD_ENVIRONMENT, GUARD_VALUES), 'GUARD_STALE_AFTER_MINUTES'],
    [
      'sync',
      '../lambdas/sync/handler',
      SYNC_NAMES,
      writeEnvironment(SYNC_ENVIRONMENT, {
        suppressionTable: 's',
        stateTable: 't',
        regions: ['us-east-1'],
        requestsPerSecond: 1,
        overlapSeconds: 600,
        propagation: 'enforce',
        propagateTo: ['us-east-1'],
        importBucketPattern: 'ssg-imports-{region}',
        bulkThreshold: 500,
      }),
      'SYNC_OVERLAP_SECONDS',
    ],
    [
      'events',
      '../lambdas/events/handler',
      EVENTS_NAMES,
      writeEnvironment(EVENTS_ENVIRONMENT, {
        suppressionTable: 's',
        attributionTable: 'a',
        dedupeTtlDays: 35,
        retentionDays: 400,
        propagationFunction: 'none',
        propagateTo: ['us-east-1'],
      }),
      'ATTRIBUTION_TABLE_NAME',
    ],
  ])('of the %s fails loudly, naming a variable the deployment lacks', (_fn, module, names, environment, missing) => {
    // Prepare
    const { [missing]: _dropped, ...incomplete } = environment;

    // Act + Assess
    withEnvironment(names, incomplete, () => {
      expect(() => jest.isolateModules(() => require(module))).toThrow(`${missing} environment variable is not set`);
    });
    withEnvironment(names, environment, () => {
      expect(() => jest.isolateModules(() => require(module))).not.toThrow();
    });
  });
});
