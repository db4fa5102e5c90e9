import { type LocalSchedule, nextRun, schedulesFromTemplate, startSchedules } from '../local/schedules';
import { testTemplate } from './support/local-aws';

describe('Function: schedulesFromTemplate', () => {
  it("reads every region's incremental and full sync schedule from the synthesized template, with its input", () => {
    // Act
    const schedules = schedulesFromTemplate(testTemplate().template);

    // Assess
    const regions = ['us-east-1', 'us-west-2', 'eu-west-1'];
    expect(schedules.map((s) => [s.expression, s.input]).sort()).toEqual(
      [
        ...regions.map((region) => ['cron(17 3 * * ? *)', { region, mode: 'full' }]),
        ...regions.map((region) => ['rate(15 minutes)', { region, mode: 'incremental' }]),
        ...regions.map((region) => ['rate(15 minutes)', { region, mode: 'propagate' }]),
      ].sort(),
    );
    expect(new Set(schedules.map((s) => s.functionLogicalId)).size).toBe(1);
    expect(schedules[0]?.functionLogicalId).toMatch(/^SyncSyncFunction/);
  });
});

describe('Function: nextRun', () => {
  const at = (iso: string) => new Date(iso);

  it.each([
    ['rate(15 minutes)', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:15:00Z'],
    ['rate(15 minutes)', '2026-01-01T00:15:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:30:00Z'],
    ['rate(1 hour)', '2026-01-01T00:59:59Z', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z'],
    ['rate(2 days)', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z'],
    ['cron(17 3 * * ? *)', '2026-01-01T03:17:00Z', '2026-01-01T00:00:00Z', '2026-01-02T03:17:00Z'],
    ['cron(17 3 * * ? *)', '2026-01-01T01:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T03:17:00Z'],
    ['cron(0/20 * * * ? *)', '2026-01-01T00:05:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:20:00Z'],
    ['cron(0 12 ? * MON-FRI *)', '2026-01-02T13:00:00Z', '2026-01-01T00:00:00Z', '2026-01-05T12:00:00Z'],
    ['cron(0 0 1 JAN ? 2027)', '2026-06-01T00:00:00Z', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
  ])('%s after %s (started %s) fires at %s', (expression, after, start, expected) => {
    // Act
    const next = nextRun(expression, 'Etc/UTC', at(after), at(start));

    // Assess
    expect(next?.toISOString()).toBe(at(expected).toISOString());
  });

  it.each([
    ['cron(0 12 L * ? *)', 'Etc/UTC'],
    ['cron(0 12 ? * 2#1 *)', 'Etc/UTC'],
    ['at(2026-01-01T00:00:00)', 'Etc/UTC'],
    ['cron(0 12 * * ? *)', 'Europe/Berlin'],
  ])('does not evaluate %s in %s (the runner reports it as not run locally)', (expression, timezone) => {
    // Act / Assess
    expect(nextRun(expression, timezone, new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('Function: startSchedules', () => {
  afterEach(() => jest.useRealTimers());

  it('invokes each schedule with its input whenever its expression fires, until stopped', async () => {
    // Prepare
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const schedule = (logicalId: string, expression: string): LocalSchedule => ({
      logicalId,
      description: logicalId,
      expression,
      timezone: 'Etc/UTC',
      functionLogicalId: 'Fn',
      input: { from: logicalId },
    });
    const invoked: string[] = [];
    const runner = startSchedules(
      [schedule('every15', 'rate(15 minutes)'), schedule('daily', 'cron(17 3 * * ? *)'), schedule('never', 'cron(0 0 L * ? *)')],
      async (s) => {
        invoked.push(`${new Date().toISOString().slice(11, 16)} ${JSON.stringify(s.input)}`);
      },
    );

    // Act
    await jest.advanceTimersByTimeAsync(3 * 3600_000 + 20 * 60_000);
    runner.stop();
    await jest.advanceTimersByTimeAsync(3600_000);

    // Assess
    expect(runner.notRun.map((s) => s.logicalId)).toEqual(['never']);
    expect(invoked.filter((line) => line.includes('every15'))).toHaveLength(13);
    expect(invoked).toContain('03:15 {"from":"every15"}');
    expect(invoked).toContain('03:17 {"from":"daily"}');
    expect(invoked).toHaveLength(14);
  });
});
