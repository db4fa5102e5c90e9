import { judgement } from '../cli/commands/senders';
import { main } from '../cli/main';
import { aggregateSenders, callersMailingSuppressed, formatRate, lastDays, level, matchesIdentity, THRESHOLDS } from '../cli/senders';
import { COUNTER_NAMES, type CounterName, type SenderDayCounters } from '../lambdas/domain/records';

function counters(
  day: string,
  key: { region?: string; sender?: string; callerIdentity?: string; sourceIp?: string; configurationSet?: string },
  counts: Partial<Record<CounterName, number>>,
): SenderDayCounters {
  return {
    day,
    region: key.region ?? 'us-east-1',
    sender: key.sender ?? 'example.com',
    ...(key.callerIdentity !== undefined ? { callerIdentity: key.callerIdentity } : {}),
    ...(key.sourceIp !== undefined ? { sourceIp: key.sourceIp } : {}),
    ...(key.configurationSet !== undefined ? { configurationSet: key.configurationSet } : {}),
    counts: Object.fromEntries(COUNTER_NAMES.map((n) => [n, counts[n] ?? 0])) as Record<CounterName, number>,
  };
}

describe('Function: level', () => {
  it.each([
    [0.0499, THRESHOLDS.bounce, 'ok'],
    [0.05, THRESHOLDS.bounce, 'review'],
    [0.0999, THRESHOLDS.bounce, 'review'],
    [0.1, THRESHOLDS.bounce, 'at risk'],
    [0.0009, THRESHOLDS.complaint, 'ok'],
    [0.001, THRESHOLDS.complaint, 'review'],
    [0.005, THRESHOLDS.complaint, 'at risk'],
    [null, THRESHOLDS.complaint, 'no sends'],
  ] as const)('judges %p against %p as %p', (rate, thresholds, expected) => {
    // Assess
    expect(level(rate, thresholds)).toBe(expected);
  });
});

describe('Function: aggregateSenders', () => {
  it('sums each (region, sender, caller, source IP, configuration set) over the days and computes the rates of sends', () => {
    // Prepare
    const key = { callerIdentity: 'app-role', sourceIp: '192.0.2.1', configurationSet: 'tx' };
    const rows = [
      counters('2026-03-01', key, { sends: 60, deliveries: 55, permanentBounces: 3, complaints: 0 }),
      counters('2026-03-02', key, { sends: 40, deliveries: 38, permanentBounces: 1, transientBounces: 1, complaints: 1 }),
      // Another caller of the same sender is its own row.
      counters('2026-03-02', { ...key, callerIdentity: 'batch-role' }, { sends: 10, deliveries: 10 }),
    ];

    // Act
    const [first, second] = aggregateSenders(rows);

    // Assess
    expect(first).toMatchObject({
      region: 'us-east-1',
      sender: 'example.com',
      callerIdentity: 'app-role',
      sourceIp: '192.0.2.1',
      configurationSet: 'tx',
      days: ['2026-03-01', '2026-03-02'],
      sends: 100,
      deliveries: 93,
      permanentBounces: 4,
      transientBounces: 1,
      complaints: 1,
      bounceRate: 0.04,
      complaintRate: 0.01,
      bounceLevel: 'ok',
      complaintLevel: 'at risk',
    });
    expect(second).toMatchObject({ callerIdentity: 'batch-role', sends: 10, bounceRate: 0, complaintRate: 0, bounceLevel: 'ok' });
  });

  it('sorts worst first: at risk before review before ok, then by the rate relative to its threshold', () => {
    // Prepare
    const rows = [
      counters('2026-03-01', { sender: 'fine.example' }, { sends: 1000, permanentBounces: 10 }),
      counters('2026-03-01', { sender: 'review.example' }, { sends: 100, permanentBounces: 6 }),
      counters('2026-03-01', { sender: 'complaints.example' }, { sends: 1000, complaints: 6 }),
      counters('2026-03-01', { sender: 'bounces.example' }, { sends: 100, permanentBounces: 20 }),
      counters('2026-03-01', { sender: 'quiet.example' }, { transientBounces: 1 }),
    ];

    // Act
    const order = aggregateSenders(rows).map((r) => r.sender);

    // Assess
    expect(order).toEqual(['bounces.example', 'complaints.example', 'review.example', 'quiet.example', 'fine.example']);
  });

  it('keeps missing dimensions apart from present ones and reports them as null', () => {
    // Act
    const reports = aggregateSenders([
      counters('2026-03-01', {}, { sends: 1 }),
      counters('2026-03-01', { callerIdentity: 'role' }, { sends: 1 }),
    ]);

    // Assess
    expect(reports).toHaveLength(2);
    expect(reports.map((r) => r.callerIdentity).sort()).toEqual([null, 'role'].sort());
  });

  it('filters by identity (a domain also matches addresses at it) and by region', () => {
    // Prepare
    const rows = [
      counters('2026-03-01', { sender: 'example.com' }, { sends: 1 }),
      counters('2026-03-01', { sender: 'noreply@example.com' }, { sends: 1 }),
      counters('2026-03-01', { sender: 'other.example' }, { sends: 1 }),
      counters('2026-03-01', { sender: 'example.com', region: 'eu-west-1' }, { sends: 1 }),
    ];

    // Act
    const byIdentity = aggregateSenders(rows, { identity: 'Example.COM' });
    const byBoth = aggregateSenders(rows, { identity: 'example.com', region: 'eu-west-1' });

    // Assess
    expect(byIdentity.map((r) => `${r.region}/${r.sender}`).sort()).toEqual([
      'eu-west-1/example.com',
      'us-east-1/example.com',
      'us-east-1/noreply@example.com',
    ]);
    expect(byBoth.map((r) => `${r.region}/${r.sender}`)).toEqual(['eu-west-1/example.com']);
    expect(matchesIdentity('noreply@example.com', 'noreply@example.com')).toBe(true);
    expect(matchesIdentity('noreply@example.com', 'other@example.com')).toBe(false);
    expect(matchesIdentity('mail.example.com', 'example.com')).toBe(false);
  });

  it('lists the callers mailing suppressed addresses, most such sends first', () => {
    // Prepare
    const reports = aggregateSenders([
      counters('2026-03-01', { callerIdentity: 'newsletter' }, { sends: 50, sendsToSuppressed: 2 }),
      counters('2026-03-01', { callerIdentity: 'legacy-cron' }, { sends: 20, sendsToSuppressed: 12 }),
      counters('2026-03-01', { callerIdentity: 'app' }, { sends: 500 }),
    ]);

    // Act
    const callers = callersMailingSuppressed(reports).map((r) => [r.callerIdentity, r.sendsToSuppressed]);

    // Assess
    expect(callers).toEqual([
      ['legacy-cron', 12],
      ['newsletter', 2],
    ]);
  });
});

describe('Helpers of ssg senders', () => {
  it('names the last days in UTC, oldest first, today included', () => {
    // Assess
    expect(lastDays(3, Date.parse('2026-03-01T00:30:00Z'))).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
    expect(lastDays(1, Date.parse('2026-03-01T23:59:59Z'))).toEqual(['2026-03-01']);
  });

  it('shows rates as percentages precise enough for 0.1%, and says which threshold a row crosses', () => {
    // Prepare
    const [row] = aggregateSenders([counters('2026-03-01', {}, { sends: 800, permanentBounces: 48, complaints: 1 })]);

    // Assess
    expect(formatRate(null)).toBe('-');
    expect(formatRate(0)).toBe('0.00%');
    expect(formatRate(0.00125)).toBe('0.125%');
    expect(formatRate(0.06)).toBe('6.00%');
    expect(judgement(row!)).toBe('bounce REVIEW, complaint REVIEW');
  });
});

describe('Options of ssg senders and ssg events', () => {
  it.each([
    [['senders', '--days', '0'], '--days must be a whole number from 1 to 400'],
    [['senders', '--days', '2.5'], '--days must be a whole number'],
    [['senders', '--region', 'moon-1'], '--region must be an AWS region'],
    [['events', 'attach', '--identity', 'example.com', '--region', 'nowhere'], '--region must be an AWS region'],
    [
      ['events', 'attach', '--identity', 'example.com', '--region', 'us-east-1', '--configuration-set', 'bad name'],
      '--configuration-set must be',
    ],
  ])('%p is exit 2 before anything is read: %p', async (args, message) => {
    // Prepare
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);

    // Act
    const code = await main(['node', 'ssg', ...args]);

    // Assess
    expect(code).toBe(2);
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(message);
    stderr.mockRestore();
  });
});
