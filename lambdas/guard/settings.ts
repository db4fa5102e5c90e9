import { METRICS_NAMESPACE } from '../domain/names';
import { choiceVariable, type EnvVariable, positiveNumberVariable, regionListVariable, stringVariable } from '../domain/settings';
import { CONFIGURATION_SET_NAME } from './request';

/**
 * The guard function's runtime contract: the construct (`lib/pre-send-guard.ts`) writes this environment and the
 * handler reads it.
 */

/** Service name in the function's logs. */
export const GUARD_SERVICE_NAME = 'ses-suppression-guard';

/**
 * `GUARD_EVENT_CONFIGURATION_SETS` when events are off (setting `events: "off"`): no configuration set delivers SES
 * events to the service. The space and parentheses cannot occur in a configuration set name.
 */
export const EVENTS_OFF = '(events off)';

/**
 * The configuration sets whose mail delivers SES events to the service, the service's own set first (comma-separated),
 * or {@link EVENTS_OFF} (`'off'`).
 */
export function eventConfigurationSetsVariable(name: string): EnvVariable<readonly string[] | 'off'> {
  return {
    name,
    format: (value) => (value === 'off' ? EVENTS_OFF : value.join(',')),
    parse: (raw) => {
      if (raw === EVENTS_OFF) return 'off';
      const sets = raw
        .split(',')
        .map((set) => set.trim())
        .filter((set) => set !== '');
      if (sets.length === 0 || sets.some((set) => !CONFIGURATION_SET_NAME.test(set))) {
        throw new Error(
          `${name} environment variable must be a comma-separated list of SES configuration set names or ${JSON.stringify(EVENTS_OFF)}, got ${JSON.stringify(raw.slice(0, 200))}`,
        );
      }
      return sets;
    },
  };
}

/** The function's environment variables. */
export const GUARD_ENVIRONMENT = {
  suppressionTable: stringVariable('SUPPRESSION_TABLE_NAME'),
  stateTable: stringVariable('SYNC_STATE_TABLE_NAME'),
  /** Regions the guard may be asked about and whose sync freshness it checks. */
  regions: regionListVariable('SYNC_REGIONS'),
  /** A region whose sync watermark is older than this makes the data stale. */
  staleAfterMinutes: positiveNumberVariable('GUARD_STALE_AFTER_MINUTES'),
  /** Severity of SUPPRESSION_DATA_STALE. */
  staleMode: choiceVariable('GUARD_STALE_MODE', ['block', 'warn']),
  /** How long SES lookups are cached in a warm function. */
  cacheTtlSeconds: positiveNumberVariable('GUARD_CACHE_TTL_SECONDS'),
  /** SES management calls per second per region (shared with the sync's budget). */
  requestsPerSecond: positiveNumberVariable('SES_REQUESTS_PER_SECOND'),
  /** Configuration sets whose mail delivers SES events to the service (EVENTS_NOT_DELIVERED), or `'off'`. */
  eventConfigurationSets: eventConfigurationSetsVariable('GUARD_EVENT_CONFIGURATION_SETS'),
} as const;

/**
 * The guard's metrics, one data point per check and one per problem raised, without addresses: the dashboard shows
 * verdicts by problem code. `Region` is the sending region asked about (`other` for one the service does not know).
 */
export const GUARD_METRICS = {
  namespace: METRICS_NAMESPACE,
  serviceName: GUARD_SERVICE_NAME,
  names: {
    /** One per check, dimensions Region and Verdict (`proceed` or `stop`). */
    checks: 'GuardChecks',
    /** One per problem of a check, dimensions Region and ProblemCode. */
    problems: 'GuardProblems',
  },
  regionDimension: 'Region',
  verdictDimension: 'Verdict',
  problemDimension: 'ProblemCode',
} as const;
