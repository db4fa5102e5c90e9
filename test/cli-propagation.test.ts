import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lambdas/domain/clients';
import { regionStateKey } from '../lambdas/domain/records';
import { StateTable } from '../lambdas/domain/state-table';
import type { LocalEnvironment } from '../local/environment';
import { runCli } from './support/cli';
import { startTestEnvironment } from './support/local-aws';

const HOUR = 3600_000;

/**
 * `ssg propagate`, and the propagation fields of `ssg status` and `ssg lookup`, against the local environment: the
 * real tables in DynamoDB Local, the SES emulator, the sync function run by the local Lambda API. The canonical items
 * are written the way the sync writes them, so that nothing but `ssg propagate` propagates. Fewer addresses than the
 * bulk threshold: every change is one SES call, no import job.
 */
describe('CLI: propagation through ssg against the local environment', () => {
  let env: LocalEnvironment;
  let dir: string;
  let envFile: string;
  let ddb: DynamoDBClient;
  const doc = () => documentClient(ddb);
  const ssg = (args: readonly string[]) => runCli(['--local', ...args], { env: { SSG_LOCAL_ENV_FILE: envFile } });
  /** An address SES listed in us-east-1 only, an hour ago, as the sync recorded it. */
  const listedAt = new Date(Date.now() - HOUR);
  const origin = {
    address: 'only.east@example.com',
    firstSeen: listedAt.toISOString(),
    lastUpdated: listedAt.toISOString(),
    origin: 'ses:us-east-1',
    'region:us-east-1': {
      address: 'Only.East@Example.com',
      reason: 'BOUNCE',
      lastUpdateTime: listedAt.toISOString(),
      status: 'LISTED',
      syncedAt: listedAt.toISOString(),
    },
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-propagate-'));
    envFile = join(dir, 'environment.json');
    env = await startTestEnvironment('cli-propagate', envFile);
    ddb = new DynamoDBClient({ endpoint: env.endpoints.dynamodb, region: env.region, credentials: env.credentials });
    env.ses.region('us-east-1').putSuppressed({ emailAddress: 'Only.East@Example.com', reason: 'BOUNCE', lastUpdateTime: listedAt });
    await doc().send(new PutCommand({ TableName: env.outputs.SuppressionTableName!, Item: origin }));
  });
  afterAll(async () => {
    ddb?.destroy();
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says in status that propagation never ran, and in lookup that a copy is to be added where SES does not list it', async () => {
    // Act
    const [status, lookup, json] = await Promise.all([
      ssg(['status', '--no-totals']),
      ssg(['lookup', 'ONLY.east@example.com']),
      ssg(['lookup', '--json', 'only.east@example.com']),
    ]);

    // Assess
    expect(status.stdout).toContain('Propagation: no run yet in any region');
    expect(lookup.code).toBe(0);
    expect(lookup.stdout).toContain("Origins: ses:us-east-1 (BOUNCE); every region's list should hold it as BOUNCE");
    expect(lookup.stdout).toMatch(/us-east-1\s+on its own \(origin\) as Only\.East@Example\.com\s+nothing: SES lists it there on its own/);
    expect(lookup.stdout).toMatch(/us-west-2\s+not listed\s+add Only\.East@Example\.com \(BOUNCE\)/);
    const report = JSON.parse(json.stdout) as { origins: unknown; regions: Array<{ region: string; listedBy: unknown; next: unknown }> };
    expect(report.origins).toEqual([{ source: 'ses:us-east-1', reason: 'BOUNCE' }]);
    expect(report.regions.map((r) => [r.region, r.listedBy, (r.next as { action: string }).action])).toEqual([
      ['us-east-1', 'ses', 'nothing'],
      ['us-west-2', null, 'add'],
      ['eu-west-1', null, 'add'],
    ]);
  });

  it('with --dry-run, reports the drift, writes nothing and exits 1', async () => {
    // Act
    const dry = await ssg(['propagate', '--dry-run', '--region', 'us-west-2', '--json']);

    // Assess
    expect(dry.code).toBe(1);
    const { dryRun, results } = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      results: Array<{ region: string; summary: Record<string, unknown> }>;
    };
    expect(dryRun).toBe(true);
    expect(results).toEqual([
      {
        region: 'us-west-2',
        summary: expect.objectContaining({ propagation: 'report', complete: true, added: 0, drift: { missing: 1, extra: 0 } }),
      },
    ]);
    expect(env.ses.region('us-west-2').getSuppressed('Only.East@Example.com')).toBeUndefined();
  });

  it('adds the copies one call each in every region, then status and lookup show them', async () => {
    // Act
    const run = await ssg(['propagate']);
    const [status, json, lookup] = await Promise.all([
      ssg(['status', '--no-totals']),
      ssg(['status', '--no-totals', '--json']),
      ssg(['lookup', '--json', 'only.east@example.com']),
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Propagation into us-east-1, us-west-2, eu-west-1:');
    expect(run.stdout).toMatch(/us-east-1\s+complete\s+0\s+0\s+1\s+0\s+0\s+0\s+0\s+0\s/);
    expect(run.stdout).toMatch(/us-west-2\s+complete\s+1\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s/);
    expect(run.stdout).toMatch(/eu-west-1\s+complete\s+1\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s/);
    expect(env.ses.region('us-west-2').getSuppressed('Only.East@Example.com')).toEqual(expect.objectContaining({ reason: 'BOUNCE' }));
    expect(env.ses.region('eu-west-1').getSuppressed('Only.East@Example.com')).toEqual(expect.objectContaining({ reason: 'BOUNCE' }));
    expect(status.stdout).toMatch(/us-west-2\s+\S+ \(\d+s ago\)\s+\S+ \(\d+s ago\)\s+0 missing, 0 extra\s+none\s+-/);
    const regions = (JSON.parse(json.stdout) as { regions: Array<{ region: string; propagation: Record<string, unknown> }> }).regions;
    expect(regions.map((r) => [r.region, r.propagation])).toEqual(
      ['us-east-1', 'us-west-2', 'eu-west-1'].map((region) => [
        region,
        expect.objectContaining({
          lastCompleteAt: expect.any(String),
          lastMode: 'enforce',
          drift: { missing: 0, extra: 0 },
          importJobsInFlight: [],
          checkpointed: false,
        }),
      ]),
    );
    const report = JSON.parse(lookup.stdout) as { regions: Array<{ region: string; listedBy: unknown; propagated: unknown }> };
    expect(report.regions.map((r) => [r.region, r.listedBy, r.propagated])).toEqual([
      ['us-east-1', 'ses', null],
      ...['us-west-2', 'eu-west-1'].map((region) => [
        region,
        'propagation',
        expect.objectContaining({
          address: 'Only.East@Example.com',
          reason: 'BOUNCE',
          status: 'ADDED',
          via: 'put',
          addedAt: expect.any(String),
        }),
      ]),
    ]);
  });

  it('withdraws the copies once the origin is gone, and lookup says so before and after', async () => {
    // Prepare: the sync found the address gone from us-east-1's list.
    env.ses.region('us-east-1').deleteSuppressed('Only.East@Example.com');
    const removedAt = new Date().toISOString();
    await doc().send(
      new UpdateCommand({
        TableName: env.outputs.SuppressionTableName!,
        Key: { address: 'only.east@example.com' },
        UpdateExpression: 'SET #r.#s = :removed, #r.removedAt = :at',
        ExpressionAttributeNames: { '#r': 'region:us-east-1', '#s': 'status' },
        ExpressionAttributeValues: { ':removed': 'REMOVED', ':at': removedAt },
      }),
    );

    // Act
    const before = await ssg(['lookup', 'only.east@example.com']);
    const run = await ssg(['propagate', '--region', 'us-west-2', '--region', 'eu-west-1']);
    const after = await ssg(['lookup', 'only.east@example.com']);

    // Assess
    expect(before.stdout).toContain('Origins: none (no region lists it on its own and no manual suppression is in force)');
    expect(before.stdout).toMatch(
      /us-west-2\s+propagated by us: ADDED as Only\.East@Example\.com \(BOUNCE\) by a call, added \S+\s+withdraw our copy Only\.East@Example\.com: no origin is left/,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Propagation into us-west-2, eu-west-1:');
    expect(run.stdout).toMatch(/us-west-2\s+complete\s+0\s+1\s/);
    expect(run.stdout).not.toContain('us-east-1');
    expect(env.ses.region('us-west-2').getSuppressed('Only.East@Example.com')).toBeUndefined();
    expect(env.ses.region('eu-west-1').getSuppressed('Only.East@Example.com')).toBeUndefined();
    expect(after.stdout).toMatch(
      /us-west-2\s+not listed; our copy WITHDRAWN as Only\.East@Example\.com \(BOUNCE\) by a call, withdrawn \S+\s+nothing: nothing asks for it to be suppressed/,
    );
  });

  it('shows a region as skipped with the reason while another run holds its lease, and exits 1', async () => {
    // Prepare
    await doc().send(
      new UpdateCommand({
        TableName: env.outputs.SyncStateTableName!,
        Key: regionStateKey('eu-west-1'),
        UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
        ExpressionAttributeValues: { ':owner': 'another-run', ':until': Date.now() + 10 * 60_000 },
      }),
    );

    // Act
    const run = await ssg(['propagate', '--region', 'eu-west-1']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/eu-west-1\s+skipped\s+(-\s+){9}skipped: another sync or propagation of eu-west-1 holds the lease/);
  });

  it('lists the import jobs SES is processing in status', async () => {
    // Prepare: a job record as propagation leaves it once SES has the job.
    await new StateTable(doc(), env.outputs.SyncStateTableName!).putJob({
      key: 'p1-001',
      region: 'us-west-2',
      action: 'PUT',
      status: 'SUBMITTED',
      count: 600,
      s3Url: 's3://imports/propagation/us-west-2/p1-001.csv',
      createdAt: new Date().toISOString(),
      sesJobId: 'job-1',
      submittedAt: new Date().toISOString(),
    });

    // Act
    const [text, json] = await Promise.all([ssg(['status', '--no-totals']), ssg(['status', '--no-totals', '--json'])]);

    // Assess
    expect(text.stdout).toMatch(/us-west-2\s+.*\s+PUT 600 \(submitted\)\s+-/);
    const regions = (JSON.parse(json.stdout) as { regions: Array<{ region: string; propagation: Record<string, unknown> }> }).regions;
    expect(regions.find((r) => r.region === 'us-west-2')?.propagation).toEqual(
      expect.objectContaining({
        importJobsInFlight: [expect.objectContaining({ key: 'p1-001', action: 'PUT', status: 'SUBMITTED', count: 600 })],
        addressesInFlight: 600,
      }),
    );
  });

  it('refuses a region that is not configured with exit 2, invoking nothing', async () => {
    // Act
    const run = await ssg(['propagate', '--region', 'ap-south-1']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: --region must be one of the configured regions us-east-1, us-west-2, eu-west-1, got "ap-south-1"');
  });
});
