import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_CONTEXT_KEY, ConfigError, configFromContext, DEFAULT_CONFIG, parseConfig } from '../lib/config';
import { checkSchedule } from '../lib/schedule';

describe('Function: parseConfig', () => {
  it('applies the documented defaults', () => {
    expect(parseConfig(undefined)).toMatchObject({ ...DEFAULT_CONFIG, regions: [...DEFAULT_CONFIG.regions] });
  });

  it('accepts regions as a comma-separated string (handy with cdk -c)', () => {
    expect(parseConfig({ regions: 'us-east-1, eu-west-1' }).regions).toEqual(['us-east-1', 'eu-west-1']);
  });

  it.each([
    [{ regions: [] }, /ses-suppression-guard\.regions must name at least one region/],
    [{ regions: ['us-east-1', 'moon-1'] }, /ses-suppression-guard\.regions\.1 must be an SES region .* got "moon-1"/],
    [{ regions: ['us-east-1', 'us-east-1'] }, /must not repeat a region/],
    [
      { syncSchedule: 'every 5 minutes' },
      /ses-suppression-guard\.syncSchedule must be an EventBridge Scheduler expression .* got "every 5 minutes"/,
    ],
    [{ requestsPerSecond: 0 }, /requestsPerSecond must be a positive number such as 1, got 0/],
    [{ requestsPerSecond: '1' }, /requestsPerSecond must be a positive number such as 1, got "1"/],
    [{ staleAfterMinutes: -5 }, /staleAfterMinutes must be a positive number/],
    [{ alarmTopicArn: 'my-topic' }, /alarmTopicArn must be an SNS topic ARN, got "my-topic"/],
    [{ region: 'us-east-1' }, /unknown setting region/],
  ])('rejects %j with a message naming the field and value', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });
});

describe('Function: checkSchedule', () => {
  const NOW = new Date('2026-06-01T12:00:00Z');

  it.each([
    ['rate(1 minute)', 1],
    ['rate(2 hours)', 120],
    ['rate(1 day)', 1440],
    ['cron(17 3 * * ? *)', 1440],
    ['cron(0/5 * * * ? *)', 5],
    ['cron(0 8 ? * MON-FRI *)', 3 * 1440],
    ['cron(0 8 ? * 2#1 *)', 35 * 1440],
    ['cron(0 12 L * ? *)', 31 * 1440],
    ['cron(0 9 15W * ? *)', 33 * 1440],
  ])('accepts %s, which runs at least every %d minutes', (expression, minutes) => {
    expect(checkSchedule(expression, NOW).longestGapMinutes).toBeLessThanOrEqual(minutes);
    expect(checkSchedule(expression, NOW).longestGapMinutes).toBeGreaterThan(minutes / 2);
  });

  it.each([
    ['rate(0 minutes)', /at least 1/],
    ['rate(15 minute)', /plural unit with 15: "rate\(15 minutes\)"/],
    ['rate(1 minutes)', /singular unit with 1: "rate\(1 minute\)"/],
    ['rate(1.5 hours)', /whole number/],
    ['rate(5 weeks)', /minute\(s\) \| hour\(s\) \| day\(s\)/],
    ['cron(bad)', /six fields, got 1/],
    ['cron(17 3 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(17 3 ? * ? *)', /exactly one of day-of-month and day-of-week/],
    ['cron(60 3 * * ? *)', /minutes field "60".*outside 0-59/],
    ['cron(0 24 * * ? *)', /hours field "24".*outside 0-23/],
    ['cron(0 3 * 13 ? *)', /month field "13"/],
    ['cron(0 3 ? * 8 *)', /day-of-week field "8"/],
    ['cron(0 3 ? * 3#1,6#3 *)', /"#" takes one day/],
    ['cron(0 3 ? * MON *)x', /must be an EventBridge Scheduler expression/],
    ['cron(0 3 * * ? 1969)', /year field "1969".*outside 1970-2199/],
    ['cron(0 3 * * ? 2020)', /./],
    ['at(2026-05-31T12:00:00)', /must lie in the future/],
    ['at(2026-02-30T12:00:00)', /real date and time/],
    ['at(tomorrow)', /at\(yyyy-mm-ddThh:mm:ss\)/],
  ])('refuses %s as EventBridge Scheduler would', (expression, message) => {
    expect(() => {
      const check = checkSchedule(expression, NOW);
      // A cron that can never run again (only past years) is no schedule either.
      if (!Number.isFinite(check.longestGapMinutes) && check.kind === 'cron') throw new Error('never runs');
    }).toThrow(message);
  });
});

describe('Function: parseConfig (schedules, ranges and cross-setting checks)', () => {
  it.each([
    [{ syncSchedule: 'rate(0 minutes)' }, /syncSchedule "rate\(0 minutes\)" must run at a rate of at least 1/],
    [{ syncSchedule: 'rate(15 minute)' }, /syncSchedule "rate\(15 minute\)" must use the plural unit/],
    [{ syncSchedule: 'rate(1 minutes)' }, /syncSchedule "rate\(1 minutes\)" must use the singular unit/],
    [{ fullSyncSchedule: 'cron(bad)' }, /fullSyncSchedule "cron\(bad\)" must be cron\(minutes hours/],
    [{ fullSyncSchedule: 'cron(17 3 * * * *)' }, /fullSyncSchedule "cron\(17 3 \* \* \* \*\)" must set exactly one of day-of-month/],
    [{ fullSyncSchedule: 'at(2001-01-01T00:00:00)' }, /fullSyncSchedule "at\(2001-01-01T00:00:00\)" must lie in the future/],
    [{ requestsPerSecond: 0.001 }, /requestsPerSecond must be between 0.1 and 50, got 0.001/],
    [{ overlapMinutes: 100000 }, /overlapMinutes must be between 1 and 1440 minutes, got 100000/],
    [{ staleAfterMinutes: 10_000_000 }, /staleAfterMinutes must be between 1 and 10080 minutes/],
    [{ guardCacheTtlSeconds: 0.01 }, /guardCacheTtlSeconds must be between 1 and 3600 seconds, got 0.01/],
    [{ syncErrorAlarmThreshold: 1.5 }, /syncErrorAlarmThreshold must be a whole number, got 1.5/],
    [
      { syncSchedule: 'rate(15 minutes)', guardStaleAfterMinutes: 10 },
      /guardStaleAfterMinutes must be at least 20 \(syncSchedule "rate\(15 minutes\)" leaves up to 15 minutes between runs, plus 5 minutes .*\), or the guard reports SUPPRESSION_DATA_STALE .*; got 10/,
    ],
    [{ syncSchedule: 'rate(1 hour)' }, /guardStaleAfterMinutes must be at least 65 .*; got 60.*staleAfterMinutes must be at least 65/],
    [
      { syncSchedule: 'at(2100-01-01T00:00:00)' },
      /guardStaleAfterMinutes cannot be met: syncSchedule "at\(2100-01-01T00:00:00\)" runs at most once/,
    ],
  ])('refuses %j with the valid form or range', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('accepts settings that keep the data fresh', () => {
    expect(
      parseConfig({ syncSchedule: 'cron(0/10 * * * ? *)', guardStaleAfterMinutes: 15, staleAfterMinutes: 15, requestsPerSecond: 0.1 }),
    ).toMatchObject({ syncSchedule: 'cron(0/10 * * * ? *)', guardStaleAfterMinutes: 15 });
  });
});

describe('Function: parseConfig (propagation settings)', () => {
  it('defaults: enforce into every region, from a home stack in the first region', () => {
    expect(parseConfig({ regions: ['eu-west-1', 'us-east-1'] })).toMatchObject({
      propagation: 'enforce',
      propagateTo: ['eu-west-1', 'us-east-1'],
      homeRegion: 'eu-west-1',
      propagationSchedule: 'rate(15 minutes)',
      propagationBulkThreshold: 500,
      driftAlarmMinutes: 60,
    });
  });

  it('accepts each mode, a subset of the regions, another home region and the bounds of the numbers', () => {
    for (const propagation of ['enforce', 'report', 'off']) expect(parseConfig({ propagation }).propagation).toBe(propagation);
    expect(parseConfig({ regions: 'us-east-1,eu-west-1', propagateTo: 'eu-west-1' }).propagateTo).toEqual(['eu-west-1']);
    expect(parseConfig({ homeRegion: 'eu-central-1' }).homeRegion).toBe('eu-central-1');
    expect(parseConfig({ propagationBulkThreshold: 1 }).propagationBulkThreshold).toBe(1);
    expect(parseConfig({ propagationBulkThreshold: 100_000 }).propagationBulkThreshold).toBe(100_000);
    expect(parseConfig({ propagationSchedule: 'rate(1 hour)', driftAlarmMinutes: 65 }).driftAlarmMinutes).toBe(65);
    // Off: the drift alarm does not exist, so its window is not checked against the schedule.
    expect(parseConfig({ propagation: 'off', propagationSchedule: 'rate(1 day)' }).propagation).toBe('off');
  });

  it.each([
    [{ propagation: 'on' }, /ses-suppression-guard\.propagation must be "enforce", "report" or "off", got "on"/],
    [{ propagation: true }, /ses-suppression-guard\.propagation must be "enforce", "report" or "off", got true/],
    [
      { regions: ['us-east-1', 'us-west-2'], propagateTo: ['us-west-2', 'eu-west-1'] },
      /ses-suppression-guard\.propagateTo\.1 must be one of regions \(us-east-1, us-west-2\), got "eu-west-1"/,
    ],
    [{ propagateTo: ['moon-1'] }, /ses-suppression-guard\.propagateTo\.0 must be an SES region .* got "moon-1"/],
    [{ propagateTo: [] }, /ses-suppression-guard\.propagateTo must name at least one region/],
    [{ homeRegion: 'moon-1' }, /ses-suppression-guard\.homeRegion must be an SES region .* got "moon-1"/],
    [{ homeRegion: ['us-east-1'] }, /ses-suppression-guard\.homeRegion must be an SES region .* got \["us-east-1"\]/],
    [
      { propagationSchedule: 'hourly' },
      /ses-suppression-guard\.propagationSchedule must be an EventBridge Scheduler expression .* got "hourly"/,
    ],
    [{ propagationSchedule: 'rate(5 minute)' }, /ses-suppression-guard\.propagationSchedule "rate\(5 minute\)" must use the plural unit/],
    [{ propagationBulkThreshold: 0 }, /ses-suppression-guard\.propagationBulkThreshold must be a positive number such as 500, got 0/],
    [{ propagationBulkThreshold: 100_001 }, /ses-suppression-guard\.propagationBulkThreshold must be between 1 and 100000, got 100001/],
    [{ propagationBulkThreshold: 2.5 }, /ses-suppression-guard\.propagationBulkThreshold must be a whole number, got 2\.5/],
    [{ driftAlarmMinutes: 0 }, /ses-suppression-guard\.driftAlarmMinutes must be a positive number such as 60, got 0/],
    [{ driftAlarmMinutes: 2000 }, /ses-suppression-guard\.driftAlarmMinutes must be between 1 and 1440 minutes, got 2000/],
    [{ driftAlarmMinutes: 30.5 }, /ses-suppression-guard\.driftAlarmMinutes must be a whole number, got 30\.5/],
    [
      { propagationSchedule: 'rate(1 hour)' },
      /ses-suppression-guard\.driftAlarmMinutes must be at least 65 \(propagationSchedule "rate\(1 hour\)" leaves up to 60 minutes between runs.*; got 60/,
    ],
  ])('refuses %j, naming the field and the value', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('takes each propagation setting from the command line as its type', () => {
    expect(
      configFromContext({
        regions: 'us-east-1,eu-west-1',
        propagation: 'report',
        propagateTo: 'eu-west-1',
        homeRegion: 'eu-west-1',
        propagationSchedule: 'rate(30 minutes)',
        propagationBulkThreshold: '1000',
        driftAlarmMinutes: '120',
      }),
    ).toMatchObject({
      propagation: 'report',
      propagateTo: ['eu-west-1'],
      homeRegion: 'eu-west-1',
      propagationSchedule: 'rate(30 minutes)',
      propagationBulkThreshold: 1000,
      driftAlarmMinutes: 120,
    });
  });
});

describe('Function: parseConfig (bounded echo)', () => {
  it.each([
    [{ syncSchedule: `rate(${'9'.repeat(100_000)} minutes)` }, 'syncSchedule'],
    [{ regions: ['x'.repeat(100_000)] }, 'regions.0'],
    [{ alarmTopicArn: 'a'.repeat(100_000) }, 'alarmTopicArn'],
    [{ requestsPerSecond: 'f'.repeat(100_000) }, 'requestsPerSecond'],
  ])('names the field and shows a short prefix of a huge value (%#)', (raw, field) => {
    // Act
    let message = '';
    try {
      parseConfig(raw);
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toContain(`ses-suppression-guard.${field} `);
    expect(message).toMatch(/… \(100,?\d{3} characters\)/);
    expect(message.length).toBeLessThan(600);
  });
});

describe('Function: configFromContext', () => {
  const CDK_OWN = {
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:bundling-stacks': ['**'],
    '@aws-cdk/core:failSynthOnValidationErrors': false,
    '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
    'acknowledged-issue-numbers': [32775],
    'availability-zones:account=123456789012:region=us-east-1': ['us-east-1a'],
  };

  it('overrides settings from -c key=value strings, converted to each setting type', () => {
    // Act
    const config = configFromContext({
      ...CDK_OWN,
      [CONFIG_CONTEXT_KEY]: { regions: ['us-east-1'], staleAfterMinutes: 90 },
      regions: 'us-east-1,eu-west-1',
      requestsPerSecond: '2',
      guardFunctionUrl: 'true',
      'ses-suppression-guard.guardStaleMode': 'warn',
      'ses-suppression-guard.overlapMinutes': '5',
    });

    // Assess
    expect(config).toMatchObject({
      regions: ['us-east-1', 'eu-west-1'],
      requestsPerSecond: 2,
      guardFunctionUrl: true,
      guardStaleMode: 'warn',
      overlapMinutes: 5,
      staleAfterMinutes: 90,
    });
  });

  it('accepts a list as JSON and the whole configuration as one JSON object', () => {
    expect(configFromContext({ regions: '["eu-west-1"]' }).regions).toEqual(['eu-west-1']);
    expect(configFromContext({ [CONFIG_CONTEXT_KEY]: '{"regions": ["ap-south-1"], "requestsPerSecond": 3}' })).toMatchObject({
      regions: ['ap-south-1'],
      requestsPerSecond: 3,
    });
  });

  it.each([
    [{ region: 'us-east-1' }, /-c region=… names no setting; the settings are regions, syncSchedule/],
    [{ 'ses-suppression-guard.region': 'us-east-1' }, /-c ses-suppression-guard.region=… names no setting/],
    [{ requestsPerSecond: 'fast' }, /requestsPerSecond must be a positive number such as 1, got "fast"/],
    [{ guardFunctionUrl: 'yes' }, /guardFunctionUrl must be true or false, got "yes"/],
    [{ [CONFIG_CONTEXT_KEY]: '{"regions": [' }, /-c ses-suppression-guard=… must be a JSON object/],
    [{ [CONFIG_CONTEXT_KEY]: '[1]' }, /must be an object of settings, got \[1\]/],
  ])('refuses %j with a message, never ignoring it', (context, message) => {
    expect(() => configFromContext({ ...CDK_OWN, ...context })).toThrow(ConfigError);
    expect(() => configFromContext({ ...CDK_OWN, ...context })).toThrow(message);
  });
});

describe('Command: cdk synth with a configuration mistake', () => {
  it.each([
    [['-c', 'region=us-east-1'], /^invalid configuration: -c region=… names no setting/m],
    [
      ['-c', 'requestsPerSecond=0.001'],
      /^invalid configuration: ses-suppression-guard\.requestsPerSecond must be between 0\.1 and 50, got 0\.001$/m,
    ],
    [['-c', 'ses-suppression-guard={"regions":'], /^invalid configuration: -c ses-suppression-guard=… must be a JSON object/m],
  ])('%j prints one clean message, no stack trace, and fails', (args, message) => {
    // Act
    const run = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', mkdtempSync(join(tmpdir(), 'ssg-cli-')), ...args], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      timeout: 120_000,
    });

    // Assess
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
