import { formatProvenance } from '../cli/commands/lookup';
import { formatPropagation, propagationProblem } from '../cli/commands/propagate';
import { formatPropagationStatus, propagationReport, regionReport } from '../cli/commands/status';
import { provenance } from '../cli/provenance';
import type { PropagationSummary } from '../client/sync-contract';
import type { ImportJobRecord, RegionSyncState, SuppressionItem } from '../lambdas/domain/records';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function summary(overrides: Partial<PropagationSummary> = {}): PropagationSummary {
  return {
    region: 'us-east-1',
    mode: 'propagate',
    propagation: 'enforce',
    complete: true,
    runId: 'p1',
    scanned: 10,
    added: 2,
    withdrawn: 1,
    alreadyListed: 7,
    pending: 0,
    confirmed: 0,
    failed: 0,
    importJobs: 0,
    importJobsFailed: 0,
    jobsInFlight: 0,
    drift: { missing: 0, extra: 0 },
    durationMs: 1500,
    ...overrides,
  };
}

function job(overrides: Partial<ImportJobRecord> = {}): ImportJobRecord {
  return {
    key: 'p1-001',
    region: 'eu-west-1',
    action: 'PUT',
    status: 'SUBMITTED',
    count: 600,
    s3Url: 's3://bucket/propagation/eu-west-1/p1-001.csv',
    createdAt: iso(0),
    submittedAt: iso(1000),
    ...overrides,
  };
}

describe('Function: formatPropagation', () => {
  it('prints one row per region with every count, the skip reason and the refusal', () => {
    // Act
    const lines = formatPropagation(
      [
        { region: 'us-east-1', summary: summary({ pending: 600, importJobs: 1, jobsInFlight: 1 }) },
        {
          region: 'us-west-2',
          summary: { ...summary({ region: 'us-west-2', complete: false }), skipped: 'another sync of us-west-2 holds the lease' },
        },
        { region: 'eu-west-1', error: 'Error: eu-west-1 is not one of the regions propagation writes into', refused: true },
      ],
      false,
    );

    // Assess
    expect(lines[0]).toBe('Propagation into us-east-1, us-west-2, eu-west-1:');
    expect(lines[1]).toMatch(
      /^ {2}region\s+result\s+added\s+withdrawn\s+already\s+pending\s+jobs\s+missing\s+extra\s+failed\s+took\s+note$/,
    );
    expect(lines[2]).toMatch(/^ {2}us-east-1\s+complete\s+2\s+1\s+7\s+600\s+1\s+0\s+0\s+0\s+2s\s+1 import job in flight$/);
    expect(lines[3]).toMatch(/^ {2}us-west-2\s+skipped\s+(-\s+){9}skipped: another sync of us-west-2 holds the lease$/);
    expect(lines[4]).toMatch(/^ {2}eu-west-1\s+REFUSED\s+(-\s+){9}Error: eu-west-1 is not one of the regions propagation writes into$/);
    expect(lines[5]).toBe('Refused: eu-west-1 (propagation does not write into them; see the setting "propagateTo")');
  });

  it('says a dry run wrote nothing, and explains a run of a stack set to report', () => {
    // Act
    const dry = formatPropagation(
      [{ region: 'us-east-1', summary: summary({ propagation: 'report', drift: { missing: 3, extra: 1 } }) }],
      true,
    );
    const report = formatPropagation([{ region: 'us-east-1', summary: summary({ propagation: 'report' }) }], false);

    // Assess
    expect(dry[0]).toBe('Propagation (dry run: nothing written) into us-east-1:');
    expect(dry[2]).toMatch(/us-east-1\s+complete\s+2\s+1\s+7\s+0\s+0\s+3\s+1\s+0/);
    expect(dry).toHaveLength(3);
    expect(report[3]).toBe(
      'The stack\'s propagation setting is "report": nothing was written; missing and extra are what enforcing would change.',
    );
  });
});

describe('Function: propagationProblem', () => {
  it.each([
    ['a complete run', { summary: summary() }, false, false],
    ['a failed invocation', { error: 'Error: boom' }, false, true],
    ['a checkpointed run', { summary: summary({ complete: false }) }, false, true],
    ['a run SES refused a copy of', { summary: summary({ failed: 1, drift: { missing: 1, extra: 0 } }) }, false, true],
    ['a run that saw a failed import job', { summary: summary({ importJobsFailed: 1 }) }, false, true],
    ['a dry run that found drift', { summary: summary({ propagation: 'report', drift: { missing: 0, extra: 2 } }) }, true, true],
    ['a dry run that found none', { summary: summary({ propagation: 'report' }) }, true, false],
  ])('%s', (_name, outcome, dryRun, problem) => {
    // Act & Assess
    expect(propagationProblem({ region: 'us-east-1', ...outcome }, dryRun)).toBe(problem);
  });
});

describe('Function: propagationReport', () => {
  it('reads the last runs, the drift of the last complete run, the jobs in flight and a checkpointed run', () => {
    // Prepare
    const state: RegionSyncState = {
      region: 'eu-west-1',
      propagation: {
        lastRunAt: iso(60_000),
        lastCompleteAt: iso(0),
        lastSummary: { ...summary({ drift: { missing: 4, extra: 1 } }) },
        run: { runId: 'p2', startedAt: iso(50_000), jobs: 1 },
      },
    };
    const jobs = [
      job(),
      job({ key: 'p1-002', action: 'DELETE', status: 'SUBMITTING', count: 40 }),
      job({ key: 'p0-001', status: 'COMPLETED', count: 9 }),
    ];

    // Act
    const report = propagationReport(state, jobs);

    // Assess
    expect(report).toEqual({
      lastRunAt: iso(60_000),
      lastCompleteAt: iso(0),
      lastMode: 'enforce',
      drift: { missing: 4, extra: 1 },
      importJobsInFlight: [
        { key: 'p1-001', action: 'PUT', status: 'SUBMITTED', count: 600, createdAt: iso(0), submittedAt: iso(1000) },
        { key: 'p1-002', action: 'DELETE', status: 'SUBMITTING', count: 40, createdAt: iso(0), submittedAt: iso(1000) },
      ],
      addressesInFlight: 640,
      checkpointed: true,
      runStartedAt: iso(50_000),
    });
  });

  it('reports a region propagation never ran into with nulls', () => {
    // Act & Assess
    expect(propagationReport({ region: 'us-east-1' }, [])).toEqual({
      lastRunAt: null,
      lastCompleteAt: null,
      lastMode: null,
      drift: null,
      importJobsInFlight: [],
      addressesInFlight: 0,
      checkpointed: false,
      runStartedAt: null,
    });
  });
});

describe('Function: formatPropagationStatus', () => {
  it('prints a row per region with when, the drift, the jobs in flight and the checkpoint', () => {
    // Prepare
    const now = T0 + 120_000;
    const reports = [
      regionReport(
        {
          region: 'eu-west-1',
          propagation: {
            lastRunAt: iso(60_000),
            lastCompleteAt: iso(0),
            lastSummary: { ...summary({ propagation: 'report', drift: { missing: 4, extra: 1 } }) },
            run: { runId: 'p2', startedAt: iso(50_000), jobs: 1 },
          },
        },
        [job()],
        now,
        HOUR,
      ),
      regionReport({ region: 'us-east-1' }, [], now, HOUR),
    ];

    // Act
    const lines = formatPropagationStatus(reports, now);

    // Assess
    expect(lines).toEqual([
      'Propagation:',
      expect.stringMatching(/^ {2}region\s+last complete run\s+last run\s+drift\s+import jobs in flight\s+run$/),
      `  eu-west-1  ${iso(0)} (2m ago)  ${iso(60_000)} (1m ago)  4 missing, 1 extra (report only)  PUT 600 (submitted)    checkpointed, started ${iso(50_000)}`,
      expect.stringMatching(/^ {2}us-east-1\s+never\s+never\s+-\s+none\s+-$/),
    ]);
  });

  it('says so in one line when propagation never ran anywhere', () => {
    // Act & Assess
    expect(formatPropagationStatus([regionReport({ region: 'us-east-1' }, [], T0, HOUR)], T0)).toEqual([
      'Propagation: no run yet in any region',
    ]);
  });
});

const HOUR = 3600_000;

describe('Function: provenance', () => {
  /** Listed by SES in us-east-1 on its own; our copy in us-west-2 (put) and on its way to eu-west-1 (import job). */
  const item = {
    address: 'jane.doe@example.org',
    'region:us-east-1': {
      address: 'Jane.Doe@Example.org',
      reason: 'BOUNCE',
      lastUpdateTime: iso(-HOUR),
      status: 'LISTED',
      syncedAt: iso(-HOUR),
    },
    'region:us-west-2': {
      address: 'Jane.Doe@Example.org',
      reason: 'BOUNCE',
      lastUpdateTime: iso(500),
      status: 'LISTED',
      syncedAt: iso(60_000),
    },
    'propagated:us-west-2': {
      address: 'Jane.Doe@Example.org',
      reason: 'BOUNCE',
      status: 'ADDED',
      requestedAt: iso(0),
      addedAt: iso(1000),
      via: 'put',
    },
    'propagated:eu-west-1': {
      address: 'Jane.Doe@Example.org',
      reason: 'BOUNCE',
      status: 'PENDING',
      requestedAt: iso(0),
      via: 'import',
      job: 'p1-001',
    },
  } as unknown as SuppressionItem;
  const regions = ['us-east-1', 'us-west-2', 'eu-west-1'];

  it('tells an origin from our copies, with the job that carries one, and plans each region', () => {
    // Act
    const result = provenance(item, regions, new Map([['eu-west-1', [job()]]]), undefined);

    // Assess
    expect(result.origins).toEqual([{ source: 'ses:us-east-1', reason: 'BOUNCE' }]);
    expect(result.wantedReason).toBe('BOUNCE');
    expect(result.regions.map((r) => [r.region, r.listedBy, r.propagated?.status ?? null, r.job?.key ?? null, r.next?.action])).toEqual([
      ['us-east-1', 'ses', null, null, 'nothing'],
      ['us-west-2', 'propagation', 'ADDED', null, 'nothing'],
      ['eu-west-1', 'propagation', 'PENDING', 'p1-001', 'nothing'],
    ]);
    expect(result.regions.map((r) => r.next?.why)).toEqual(['listed-by-ses', 'ours', 'pending']);
  });

  it('plans the withdrawal of our copies once the origin is gone, and leaves regions propagation does not write into', () => {
    // Prepare
    const gone = {
      ...item,
      'region:us-east-1': { ...item['region:us-east-1'], status: 'REMOVED', removedAt: iso(HOUR) },
    } as unknown as SuppressionItem;

    // Act
    const result = provenance(gone, regions, new Map([['eu-west-1', [job({ status: 'COMPLETED', completedAt: iso(5000) })]]]), [
      'us-west-2',
      'eu-west-1',
    ]);

    // Assess
    expect(result.origins).toEqual([]);
    expect(result.wantedReason).toBeNull();
    expect(result.regions.map((r) => [r.region, r.listedBy, r.next])).toEqual([
      ['us-east-1', null, null],
      [
        'us-west-2',
        'propagation',
        { action: 'withdraw', address: 'Jane.Doe@Example.org', description: 'withdraw our copy Jane.Doe@Example.org: no origin is left' },
      ],
      [
        'eu-west-1',
        'propagation',
        { action: 'withdraw', address: 'Jane.Doe@Example.org', description: 'withdraw our copy Jane.Doe@Example.org: no origin is left' },
      ],
    ]);
  });

  it('plans an add, with the spelling the origin listed, where no copy exists yet', () => {
    // Prepare
    const origin = { address: 'jane.doe@example.org', 'region:us-east-1': item['region:us-east-1'] } as unknown as SuppressionItem;

    // Act
    const result = provenance(origin, regions, new Map(), undefined);

    // Assess
    expect(result.regions.map((r) => [r.listedBy, r.next?.description])).toEqual([
      ['ses', 'nothing: SES lists it there on its own'],
      [null, 'add Jane.Doe@Example.org (BOUNCE)'],
      [null, 'add Jane.Doe@Example.org (BOUNCE)'],
    ]);
  });
});

describe('Function: formatProvenance', () => {
  it('names the origins and, per region, who holds the address and what propagation does next', () => {
    // Prepare
    const item = {
      address: 'jane.doe@example.org',
      'region:us-east-1': {
        address: 'Jane.Doe@Example.org',
        reason: 'COMPLAINT',
        lastUpdateTime: iso(-HOUR),
        status: 'LISTED',
        syncedAt: iso(-HOUR),
      },
      'propagated:us-west-2': {
        address: 'Jane.Doe@Example.org',
        reason: 'COMPLAINT',
        status: 'ADDED',
        requestedAt: iso(0),
        addedAt: iso(1000),
        via: 'put',
      },
      'propagated:eu-west-1': {
        address: 'Jane.Doe@Example.org',
        reason: 'BOUNCE',
        status: 'WITHDRAWN',
        requestedAt: iso(0),
        addedAt: iso(1000),
        withdrawnAt: iso(2000),
        via: 'put',
      },
    } as unknown as SuppressionItem;

    // Act
    const lines = formatProvenance(provenance(item, ['us-east-1', 'us-west-2', 'eu-west-1'], new Map(), undefined), 'enforce');

    // Assess
    expect(lines).toEqual([
      "Origins: ses:us-east-1 (COMPLAINT); every region's list should hold it as COMPLAINT",
      expect.stringMatching(/^ {2}region\s+region's SES list\s+propagation next$/),
      expect.stringMatching(/^ {2}us-east-1\s+on its own \(origin\) as Jane\.Doe@Example\.org\s+nothing: SES lists it there on its own$/),
      expect.stringMatching(
        new RegExp(
          `^ {2}us-west-2\\s+propagated by us: ADDED as Jane\\.Doe@Example\\.org \\(COMPLAINT\\) by a call, added ${iso(1000)}\\s+nothing: our copy is in place$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^ {2}eu-west-1\\s+not listed; our copy WITHDRAWN as Jane\\.Doe@Example\\.org \\(BOUNCE\\) by a call, withdrawn ${iso(2000)}\\s+add Jane\\.Doe@Example\\.org \\(COMPLAINT\\)$`,
        ),
      ),
    ]);
  });
});
