import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { formatDuration } from '../cli/output';
import { documentClient } from '../lambdas/domain/clients';
import { auditPartitionKey, regionAttribute } from '../lambdas/domain/records';
import type { LocalEnvironment } from '../local/environment';
import { type DnsFailure, type FixtureDnsServer, startFixtureDnsServer } from './fixtures/cli/dns-server';
import { type CliRun, runCli } from './support/cli';
import { scanAll, startTestEnvironment, testSesClient } from './support/local-aws';
import { closedPort } from './support/net';

const FIXTURES = join(__dirname, 'fixtures', 'cli');
const HOUR = 3600_000;

/**
 * The ages `ssg` can print for `since` ("2h 00m") when it ran between `before` and `after`: how long ago depends on
 * when the command looked at the clock, so a slow machine changes the age, never whether it is right.
 */
function agesBetween(since: string, before: number, after: number): string[] {
  const ages = new Set<string>();
  for (let now = before; now < after + 1000; now += 1000) ages.add(formatDuration(Math.min(now, after) - Date.parse(since)));
  return [...ages];
}

describe('CLI: ssg against the local environment', () => {
  let env: LocalEnvironment;
  let dir: string;
  let envFile: string;
  let ddb: DynamoDBClient;
  const doc = () => documentClient(ddb);
  const ssg = (args: readonly string[], options: { stdin?: string; env?: Record<string, string> } = {}) =>
    runCli(['--local', ...args], { ...options, env: { SSG_LOCAL_ENV_FILE: envFile, ...options.env } });
  const canonical = async (address: string) =>
    (await doc().send(new GetCommand({ TableName: env.outputs.SuppressionTableName!, Key: { address } }))).Item;
  /** When SES in us-east-1 and eu-west-1 suppressed jane.doe@example.org (seeded 72 and 2 hours ago). */
  const seeded = { usEast: new Date(0), euWest: new Date(0) };
  const auditCount = async (address: string) =>
    (
      await doc().send(
        new QueryCommand({
          TableName: env.outputs.SyncStateTableName!,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': auditPartitionKey(address) },
        }),
      )
    ).Items?.length ?? 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-cli-'));
    envFile = join(dir, 'environment.json');
    env = await startTestEnvironment('cli', envFile);
    ddb = new DynamoDBClient({ endpoint: env.endpoints.dynamodb, region: env.region, credentials: env.credentials });
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR);
    seeded.usEast = at(72);
    seeded.euWest = at(2);
    env.ses.region('us-east-1').putSuppressedMany([
      { emailAddress: 'Jane.Doe@Example.org', reason: 'BOUNCE', lastUpdateTime: seeded.usEast },
      { emailAddress: 'bounced.once@example.net', reason: 'BOUNCE', lastUpdateTime: at(30) },
    ]);
    env.ses.region('us-west-2').putSuppressed({ emailAddress: 'jane.doe@example.org', reason: 'BOUNCE', lastUpdateTime: at(48) });
    env.ses.region('eu-west-1').putSuppressedMany([
      { emailAddress: 'JANE.DOE@EXAMPLE.ORG', reason: 'COMPLAINT', lastUpdateTime: seeded.euWest },
      { emailAddress: 'europe.only@example.eu', reason: 'COMPLAINT', lastUpdateTime: at(20) },
    ]);
    env.ses.region('us-east-1').putIdentity({ name: 'example.com', type: 'DOMAIN', mailFromDomain: 'mail.example.com' });
  });
  afterAll(async () => {
    ddb?.destroy();
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('Commands: sync and status', () => {
    it('reports every region stale before the first sync', async () => {
      // Act
      const run = await ssg(['status']);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/us-east-1\s+STALE\s+never/);
      expect(run.stdout).toContain('Needs attention: us-east-1 (stale), us-west-2 (stale), eu-west-1 (stale)');
    });

    it('syncs one region with --region, then every region with --full, and shows each summary', async () => {
      // Act
      const one = await ssg(['sync', '--region', 'us-west-2']);
      const full = await ssg(['sync', '--full', '--json']);

      // Assess
      expect(one.code).toBe(0);
      expect(one.stdout).toContain('Incremental sync of us-west-2:');
      expect(one.stdout).toMatch(/us-west-2\s+complete\s+1\s+1\s+1\s+0/);
      expect(one.stdout).not.toContain('us-east-1');
      expect(full.code).toBe(0);
      const { mode, results } = JSON.parse(full.stdout) as {
        mode: string;
        results: Array<{ region: string; summary: Record<string, unknown> }>;
      };
      expect(mode).toBe('full');
      expect(results.map((r) => [r.region, r.summary])).toEqual([
        ['us-east-1', expect.objectContaining({ mode: 'full', complete: true, entriesRead: 2, itemsWritten: 2 })],
        ['us-west-2', expect.objectContaining({ mode: 'full', complete: true, entriesRead: 1, itemsWritten: 0 })],
        ['eu-west-1', expect.objectContaining({ mode: 'full', complete: true, entriesRead: 2, itemsWritten: 2 })],
      ]);
    });

    it('shows each region in sync with its entries and the canonical totals after a sync', async () => {
      // Act
      const before = Date.now();
      const [text, json, strict] = await Promise.all([
        ssg(['status']),
        ssg(['status', '--json']),
        ssg(['status', '--stale-after', '0.0001']),
      ]);
      const after = Date.now();

      // Assess
      expect(text.code).toBe(0);
      const usEast = /us-east-1\s+ok\s+(\S+) \(([^)]+) ago\)\s+(?:\d+[sm])\s+2\s+full complete, read 2, wrote 2, removed 0\s+-/.exec(
        text.stdout,
      );
      expect(usEast).not.toBeNull();
      expect(agesBetween(usEast![1]!, before, after)).toContain(usEast![2]);
      expect(text.stdout).toMatch(/eu-west-1\s+ok\s+.*\s+2\s+full complete/);
      expect(text.stdout).toContain('Canonical table: 3 addresses, 3 suppressed, 1 in more than one region, 0 suppressed manually');
      expect(text.stdout).toContain('All regions are in sync.');
      const report = JSON.parse(json.stdout) as { regions: Array<Record<string, unknown>>; totals: Record<string, number> };
      expect(report.regions).toEqual([
        expect.objectContaining({ region: 'us-east-1', health: 'ok', listedAtLastFull: 2, lastError: null }),
        expect.objectContaining({ region: 'us-west-2', health: 'ok', listedAtLastFull: 1 }),
        expect.objectContaining({ region: 'eu-west-1', health: 'ok', listedAtLastFull: 2 }),
      ]);
      expect(report.totals).toEqual({ addresses: 3, suppressed: 3, multiRegion: 1, manual: 0 });
      // A threshold shorter than the lag marks every region stale.
      expect(strict.code).toBe(1);
      expect(strict.stdout).toMatch(/us-east-1\s+STALE/);
    });
  });

  describe('Command: lookup', () => {
    it('explains a suppression region by region, with the case each region holds', async () => {
      // Act
      const before = Date.now();
      const [found, missing] = await Promise.all([ssg(['lookup', 'JANE.doe@example.ORG']), ssg(['lookup', 'nobody@example.com'])]);
      const after = Date.now();

      // Assess
      expect(found.code).toBe(0);
      expect(found.stdout).toContain('jane.doe@example.org: SUPPRESSED (COMPLAINT) by eu-west-1, us-east-1, us-west-2');
      // Each region's own time (seeded 2 hours and 3 days ago), with how long ago it was when ssg ran.
      const euWest = /eu-west-1\s+LISTED\s+COMPLAINT\s+(\S+) \(([^)]+) ago\)\s+JANE\.DOE@EXAMPLE\.ORG/.exec(found.stdout);
      const usEast = /us-east-1\s+LISTED\s+BOUNCE\s+(\S+) \(([^)]+) ago\)\s+Jane\.Doe@Example\.org/.exec(found.stdout);
      expect([euWest?.[1], usEast?.[1]]).toEqual([seeded.euWest.toISOString(), seeded.usEast.toISOString()]);
      expect(agesBetween(euWest![1]!, before, after)).toContain(euWest![2]);
      expect(agesBetween(usEast![1]!, before, after)).toContain(usEast![2]);
      expect(found.stdout).toMatch(/us-west-2\s+LISTED\s+BOUNCE\s+.*jane\.doe@example\.org/);
      expect(found.stdout).toContain('manual: none');
      expect(found.stdout).toContain('Audit trail: no manual changes');
      expect(missing.code).toBe(0);
      expect(missing.stdout).toContain('nobody@example.com: not suppressed (no canonical record)');
    });

    it('with --live, confirms agreement and reports where SES changed since the sync', async () => {
      // Prepare: SES drops one address after the sync.
      env.ses.region('us-east-1').deleteSuppressed('bounced.once@example.net');

      // Act
      const [agrees, disagrees] = await Promise.all([
        ssg(['lookup', 'jane.doe@example.org', '--live']),
        ssg(['lookup', 'Bounced.Once@example.net', '--live', '--json']),
      ]);

      // Assess
      expect(agrees.code).toBe(0);
      expect(agrees.stdout).toMatch(/us-east-1\s+LISTED\s+BOUNCE since \S+ as Jane\.Doe@Example\.org/);
      expect(agrees.stdout).toContain('Live SES agrees with the canonical record.');
      expect(disagrees.code).toBe(1);
      const report = JSON.parse(disagrees.stdout) as { live: Array<Record<string, unknown>>; disagreements: string[] };
      // The recorded exact case, then the given case, then lower case were tried.
      expect(report.live[0]).toEqual(
        expect.objectContaining({ region: 'us-east-1', listed: false, tried: ['bounced.once@example.net', 'Bounced.Once@example.net'] }),
      );
      expect(report.disagreements).toEqual([
        expect.stringContaining(
          'us-east-1: the canonical record lists it (BOUNCE, as bounced.once@example.net) but SES does not hold it now',
        ),
      ]);
      env.ses
        .region('us-east-1')
        .putSuppressed({ emailAddress: 'bounced.once@example.net', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 30 * HOUR) });
    });

    it('with --live, finds a spelling SES holds in another letter case than the one given or recorded', async () => {
      // Prepare: SES lists the address in a case nobody asked for, and no sync has run since.
      env.ses.region('us-east-1').putSuppressed({ emailAddress: 'Mixed.Case@Example.org', reason: 'BOUNCE', lastUpdateTime: new Date() });

      // Act
      const [text, json] = await Promise.all([
        ssg(['lookup', 'mixed.case@example.org', '--live']),
        ssg(['lookup', 'MIXED.case@example.org', '--live', '--json']),
      ]);
      env.ses.region('us-east-1').deleteSuppressed('Mixed.Case@Example.org');

      // Assess
      expect(text.code).toBe(1);
      expect(text.stdout).not.toContain('agrees');
      expect(text.stdout).toMatch(/us-east-1\s+LISTED\s+BOUNCE since \S+ as Mixed\.Case@Example\.org/);
      expect(text.stdout).toContain(
        'us-east-1: SES lists it now (BOUNCE, as Mixed.Case@Example.org) but the canonical record has no entry (not synced yet?)',
      );
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as { live: Array<Record<string, unknown>> };
      expect(report.live.find((l) => l.region === 'us-east-1')).toMatchObject({
        listed: true,
        complete: true,
        spellings: [expect.objectContaining({ address: 'Mixed.Case@Example.org', reason: 'BOUNCE' })],
      });
    });

    it('with --live, says it could not be sure instead of claiming agreement when a region lists more than it may page', async () => {
      // Act
      const run = await ssg(['lookup', 'europe.only@example.eu', '--live', '--list-limit', '1']);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).not.toContain('Live SES agrees');
      expect(run.stdout).toMatch(/eu-west-1\s+LISTED\s+COMPLAINT since \S+ as europe\.only@example\.eu; other spellings not ruled out/);
      expect(run.stdout).toMatch(/us-east-1\s+UNSURE\s+tried europe\.only@example\.eu; read 1 entries; other spellings not ruled out/);
      // Every region's list holds more than one entry now that syncs propagate (us-west-2 holds our copies too).
      expect(run.stdout).toContain('Could not be sure in us-east-1, us-west-2, eu-west-1:');
    });
  });

  describe('Command: export', () => {
    it('writes the suppressed addresses as SES import CSV, with an optional header, and as NDJSON to a file', async () => {
      // Prepare
      const ndjsonFile = join(dir, 'export.ndjson');

      // Act
      const [csv, header, ndjson] = await Promise.all([
        ssg(['export']),
        ssg(['export', '--header']),
        ssg(['export', '--format', 'ndjson', '--output', ndjsonFile]),
      ]);

      // Assess
      expect(csv.code).toBe(0);
      expect(csv.stdout.trim().split('\n').sort()).toEqual([
        'bounced.once@example.net,BOUNCE',
        'europe.only@example.eu,COMPLAINT',
        'jane.doe@example.org,COMPLAINT',
      ]);
      expect(csv.stderr).toBe('');
      expect(header.stdout.split('\n')[0]).toBe('emailAddress,reason');
      expect(ndjson.code).toBe(0);
      expect(ndjson.stdout).toContain(`Exported 3 suppressed addresses (of 3 in the canonical table) to ${ndjsonFile} (ndjson).`);
      const lines = readFileSync(ndjsonFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
      expect(lines).toEqual(
        expect.arrayContaining([
          { emailAddress: 'jane.doe@example.org', reason: 'COMPLAINT' },
          { emailAddress: 'bounced.once@example.net', reason: 'BOUNCE' },
          { emailAddress: 'europe.only@example.eu', reason: 'COMPLAINT' },
        ]),
      );
      expect(lines).toHaveLength(3);
      expect(existsSync(`${ndjsonFile}.partial`)).toBe(false);
    });

    it('prints one JSON document with --json', async () => {
      // Act
      const run = await ssg(['export', '--json']);

      // Assess
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as { addresses: unknown[]; scanned: number; exported: number };
      expect(report.addresses).toEqual(expect.arrayContaining([{ emailAddress: 'jane.doe@example.org', reason: 'COMPLAINT' }]));
      expect(report).toMatchObject({ scanned: 3, exported: 3 });
      expect(report.addresses).toHaveLength(3);
    });

    it('refuses an --output it cannot write with exit 2 before reading anything, and leaves no file behind', async () => {
      // Prepare: a target that does not exist, so only a check before the scan can answer with exit 2.
      const outDir = mkdtempSync(join(dir, 'out-'));
      const nowhere = { env: { SSG_LOCAL_ENV_FILE: join(dir, 'no-such-environment.json') } };

      // Act
      const runs = await Promise.all([
        ssg(['export', '--output', '/nonexistent/dir/x.csv'], nowhere),
        ssg(['export', '--output', outDir], nowhere),
        ssg(['export', '--output', join(outDir, 'x.csv'), '--format', 'csv', '--json']),
      ]);

      // Assess
      expect(runs.map((r) => r.code)).toEqual([2, 2, 0]);
      expect(runs[0]?.stderr.trim()).toBe('error: --output "/nonexistent/dir/x.csv": the directory "/nonexistent/dir" does not exist');
      expect(runs[1]?.stderr.trim()).toBe(`error: --output ${JSON.stringify(outDir)} is a directory; name a file in it`);
      expect(JSON.parse(runs[2]?.stdout ?? '')).toMatchObject({ file: join(outDir, 'x.csv'), format: 'csv', exported: 3 });
      expect(readdirSync(outDir)).toEqual(['x.csv']);
    });
  });

  describe('Command: check', () => {
    it('exits 0 when the guard says proceed, listing the recipients it dropped', async () => {
      // Prepare
      const file = join(dir, 'recipients.csv');
      writeFileSync(file, 'email,name\nfriend@example.com,Friend\nJane.Doe@example.org,Jane\n');

      // Act
      const [text, json] = await Promise.all([
        ssg([
          'check',
          '--from',
          'Campaigns <campaigns@example.com>',
          '--region',
          'us-east-1',
          '--recipients',
          file,
          '--caller',
          'cli-test',
        ]),
        ssg(['check', '--from', 'campaigns@example.com', '--region', 'us-east-1', '--recipients', '-', '--json'], {
          stdin: 'friend@example.com\nother@example.com\n',
        }),
      ]);

      // Assess
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('PROCEED: the send may go ahead');
      expect(text.stdout).toContain('Recipients: 2 given, 1 allowed, 1 suppressed, 0 invalid, 0 duplicates');
      expect(text.stdout).toMatch(/Jane\.Doe@example\.org\s+COMPLAINT\s+eu-west-1, us-east-1, us-west-2/);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        proceed: true,
        recipients: { allowed: ['friend@example.com', 'other@example.com'] },
      });
    });

    it('exits 1 when the guard blocks the send', async () => {
      // Act
      const run = await ssg(['check', '--from', 'campaigns@example.com', '--region', 'us-west-2', '--recipients', '-'], {
        stdin: 'friend@example.com\n',
      });

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('BLOCKED: do not send');
      expect(run.stdout).toMatch(/BLOCK\s+IDENTITY_NOT_VERIFIED_IN_REGION: No SES identity in us-west-2 covers campaigns@example\.com/);
    });

    it('exits 3 when the guard cannot be reached', async () => {
      // Prepare: the same environment, with the Lambda endpoint on a port nothing listens on.
      const description = JSON.parse(readFileSync(envFile, 'utf8')) as { endpoints: Record<string, string> };
      description.endpoints.lambda = `http://127.0.0.1:${await closedPort()}`;
      const broken = join(dir, 'unreachable.json');
      writeFileSync(broken, JSON.stringify(description));

      // Act
      const run = await runCli(['check', '--local', '--from', 'campaigns@example.com', '--recipients', '-'], {
        stdin: 'friend@example.com\n',
        env: { SSG_LOCAL_ENV_FILE: broken },
      });

      // Assess
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/error: the guard could not be reached \(INVOKE_FAILED\).*ECONNREFUSED.*Do not send without a verdict/);
    });
  });

  describe('Commands: suppress and unsuppress', () => {
    it('suppresses an address manually, records who and why, and the guard blocks it', async () => {
      // Act
      const suppress = await ssg(['suppress', 'Manual.Person@Example.com', '--reason', 'complaint', '--note', 'ticket 7']);
      const [lookup, again, check] = await Promise.all([
        ssg(['lookup', 'manual.person@example.com']),
        ssg(['suppress', 'manual.person@example.com', '--reason', 'COMPLAINT', '--note', 'ticket 7']),
        ssg(['check', '--from', 'campaigns@example.com', '--region', 'us-east-1', '--recipients', '-'], {
          stdin: 'manual.person@example.com\n',
        }),
      ]);

      // Assess
      expect(suppress.code).toBe(0);
      expect(suppress.stdout).toMatch(
        /^Suppressed manual\.person@example\.com manually \(COMPLAINT\) at \S+ by local:\S+, note: ticket 7\./,
      );
      expect(lookup.stdout).toContain('manual.person@example.com: SUPPRESSED (COMPLAINT) by manual');
      expect(lookup.stdout).toMatch(/manual: LISTED COMPLAINT at \S+ by local:\S+ \(note: ticket 7\)/);
      expect(lookup.stdout).toMatch(/Audit trail:\n {2}\S+ {2}suppress +by local:\S+ {2}why: COMPLAINT {2}note: ticket 7/);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('is already suppressed manually');
      expect(await auditCount('manual.person@example.com')).toBe(1);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(/manual\.person@example\.com\s+COMPLAINT\s+manual/);
      expect(await canonical('manual.person@example.com')).toMatchObject({
        origin: 'manual',
        manual: { reason: 'COMPLAINT', status: 'LISTED', note: 'ticket 7', by: expect.stringMatching(/^local:/) },
      });
    });

    it('removes the address from every region, and reports the region whose SES refuses with how to remove it there', async () => {
      // Prepare
      env.ses.region('eu-west-1').refuseDelete('JANE.DOE@EXAMPLE.ORG');

      // Act
      const run = await ssg(['unsuppress', 'jane.doe@example.org', '--reason', 'mailbox confirmed working (ticket 9)']);
      const lookup = await ssg(['lookup', 'jane.doe@example.org']);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/us-east-1\s+removed Jane\.Doe@Example\.org\s+marked REMOVED/);
      expect(run.stdout).toMatch(/us-west-2\s+removed jane\.doe@example\.org\s+marked REMOVED/);
      expect(run.stdout).toMatch(/eu-west-1\s+REFUSED \(JANE\.DOE@EXAMPLE\.ORG\)\s+still LISTED/);
      expect(run.stdout).toContain("aws sesv2 delete-suppressed-destination --email-address 'JANE.DOE@EXAMPLE.ORG' --region eu-west-1");
      expect(run.stdout).toContain('AWS Support');
      expect(run.stdout).toContain('ssg sync --full --region eu-west-1');
      expect(env.ses.region('us-east-1').getSuppressed('Jane.Doe@Example.org')).toBeUndefined();
      expect(env.ses.region('us-west-2').getSuppressed('jane.doe@example.org')).toBeUndefined();
      expect(env.ses.region('eu-west-1').getSuppressed('JANE.DOE@EXAMPLE.ORG')).toBeDefined();
      const item = await canonical('jane.doe@example.org');
      expect(item?.[regionAttribute('us-east-1')]).toMatchObject({ status: 'REMOVED', removedAt: expect.any(String) });
      expect(item?.[regionAttribute('us-west-2')]).toMatchObject({ status: 'REMOVED' });
      expect(item?.[regionAttribute('eu-west-1')]).toMatchObject({ status: 'LISTED' });
      expect(lookup.stdout).toContain('jane.doe@example.org: SUPPRESSED (COMPLAINT) by eu-west-1');
      expect(lookup.stdout).toMatch(
        /unsuppress by local:\S+ {2}why: mailbox confirmed working \(ticket 9\) {2}\(removed from us-east-1, us-west-2; SES refused in eu-west-1\)/,
      );
    });

    it('tells to try again with exit 3 when SES fails transiently in a region, never calling it a refusal', async () => {
      // Prepare
      for (const region of ['us-east-1', 'us-west-2'])
        env.ses.region(region).putSuppressed({ emailAddress: 'flaky.region@example.com', reason: 'BOUNCE', lastUpdateTime: new Date() });
      await ssg(['sync']);
      env.ses.setFaults({ serverErrorRate: { 'us-west-2': 1 } });

      // Act
      let run: CliRun;
      try {
        run = await ssg(['unsuppress', 'flaky.region@example.com', '--reason', 'ticket 11']);
      } finally {
        env.ses.setFaults({});
      }
      const item = await canonical('flaky.region@example.com');
      const again = await ssg(['unsuppress', 'flaky.region@example.com', '--reason', 'ticket 11']);

      // Assess
      expect(run.code).toBe(3);
      expect(run.stdout).toMatch(/us-east-1\s+removed flaky\.region@example\.com\s+marked REMOVED/);
      expect(run.stdout).toMatch(/us-west-2\s+NO ANSWER \(flaky\.region@example\.com\)\s+still LISTED/);
      expect(run.stdout).toContain('a transient failure, not a refusal');
      expect(run.stdout).toContain('Try again in a moment');
      expect(run.stdout).not.toContain('REFUSED');
      expect(run.stdout).not.toContain('AWS Support');
      expect(item?.[regionAttribute('us-west-2')]).toMatchObject({ status: 'LISTED' });
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/us-west-2\s+removed flaky\.region@example\.com\s+marked REMOVED/);
      expect(env.ses.region('us-west-2').getSuppressed('flaky.region@example.com')).toBeUndefined();
    });

    it('says what a second suppress changes, keeps when the suppression began, and never downgrades a complaint without --force', async () => {
      // Prepare
      await ssg(['suppress', 'twice@example.com', '--reason', 'BOUNCE', '--note', 'ticket 1']);
      const first = (await canonical('twice@example.com'))?.manual as { at: string; by: string };

      // Act
      const upgrade = await ssg(['suppress', 'twice@example.com', '--reason', 'COMPLAINT']);
      const downgrade = await ssg(['suppress', 'twice@example.com', '--reason', 'BOUNCE']);
      const afterRefusal = await canonical('twice@example.com');
      const forced = await ssg(['suppress', 'twice@example.com', '--reason', 'BOUNCE', '--force', '--json']);

      // Assess
      expect(upgrade.code).toBe(0);
      expect(upgrade.stdout).toContain('Updated the manual suppression of twice@example.com: reason BOUNCE -> COMPLAINT.');
      expect(upgrade.stdout).toContain(`Unchanged: suppressed manually since ${first.at} (by ${first.by}), note "ticket 1".`);
      expect(downgrade.code).toBe(1);
      expect(downgrade.stdout).toContain(`twice@example.com is suppressed manually as a COMPLAINT (since ${first.at}`);
      expect(downgrade.stdout).toContain('pass --force to downgrade it anyway');
      expect(afterRefusal?.manual).toEqual({ reason: 'COMPLAINT', status: 'LISTED', at: first.at, by: first.by, note: 'ticket 1' });
      expect(forced.code).toBe(0);
      expect(JSON.parse(forced.stdout)).toMatchObject({
        changed: true,
        outcome: 'updated',
        changes: [{ field: 'reason', from: 'COMPLAINT', to: 'BOUNCE' }],
        manual: { reason: 'BOUNCE', at: first.at },
      });
      expect(await auditCount('twice@example.com')).toBe(3);
    });
  });

  describe('Target: a deployed stack', () => {
    let fakeAws: Server;
    let awsEnv: Record<string, string>;

    beforeAll(async () => {
      // CloudFormation and STS speak the query protocol; this answers DescribeStacks with the local outputs.
      fakeAws = createHttpServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          const params = new URLSearchParams(body);
          res.setHeader('content-type', 'text/xml');
          if (params.get('Action') === 'GetCallerIdentity') {
            res.end(
              '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/Operator/alice</Arn><UserId>AROAEXAMPLE:alice</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>',
            );
          } else if (params.get('StackName') === 'SesSuppressionGuard') {
            const outputs = Object.entries(env.outputs)
              .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
              .join('');
            res.end(
              `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>SesSuppressionGuard</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2024-01-01T00:00:00Z</CreationTime><Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`,
            );
          } else {
            res.statusCode = 400;
            res.end(
              `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${params.get('StackName')} does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
            );
          }
        });
      });
      await new Promise<void>((resolve) => fakeAws.listen(0, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${(fakeAws.address() as { port: number }).port}`;
      awsEnv = {
        AWS_ACCESS_KEY_ID: env.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: env.credentials.secretAccessKey,
        AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
        AWS_ENDPOINT_URL_STS: endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: env.endpoints.dynamodb,
      };
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => fakeAws?.close(() => resolve()));
    });

    it('finds the tables through the stack outputs and records the caller ARN in the audit trail', async () => {
      // Act
      const [status, missing] = await Promise.all([
        runCli(['status', '--stack-region', 'us-east-1', '--regions', 'us-east-1,eu-west-1', '--json'], { env: awsEnv }),
        runCli(['status', '--stack', 'Missing', '--stack-region', 'us-east-1'], { env: awsEnv }),
      ]);
      const suppress = await runCli(['suppress', 'deployed.person@example.com', '--reason', 'BOUNCE', '--stack-region', 'us-east-1'], {
        env: awsEnv,
      });

      // Assess
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({
        target: 'stack SesSuppressionGuard (us-east-1)',
        regions: [{ region: 'us-east-1' }, { region: 'eu-west-1' }],
      });
      expect(missing.code).toBe(3);
      expect(missing.stderr).toContain('error: stack Missing does not exist in us-east-1; pass --stack <name> and --stack-region <region>');
      expect(suppress.code).toBe(0);
      expect(await canonical('deployed.person@example.com')).toMatchObject({
        manual: { by: 'arn:aws:sts::123456789012:assumed-role/Operator/alice', status: 'LISTED' },
      });
    });
  });

  describe('Command: import', () => {
    it('imports the good rows of a provider export, reports bad rows by line, and writes nothing on a second run', async () => {
      // Prepare
      const file = join(FIXTURES, 'provider-export.csv');

      // Act
      const first = await ssg(['import', file, '--source', 'oldesp']);
      const audits = await auditCount('first.bounce@import.example');
      const second = await ssg(['import', file, '--source', 'oldesp', '--json']);

      // Assess
      expect(first.code).toBe(1);
      expect(first.stdout).toMatch(/rows\s+imported\s+unchanged\s+rejected\n\s+8\s+3\s+1\s+4/);
      expect(first.stdout).toContain('line 3: "not-an-address" is not a valid email address: it has no "@"');
      expect(first.stdout).toContain('line 5: "soft.one@import.example": reason "soft bounce" is a soft (transient) bounce');
      expect(first.stdout).toContain('line 7: "unsubscriber@import.example": reason "unsubscribed" is an unsubscribe');
      expect(first.stdout).toContain('line 8: "no.reason@import.example" has no reason');
      expect(await canonical('spam.reporter@import.example')).toMatchObject({
        origin: 'import:oldesp',
        manual: { reason: 'COMPLAINT', status: 'LISTED', note: 'import:oldesp' },
      });
      expect(await canonical('first.bounce@import.example')).toMatchObject({ manual: { reason: 'BOUNCE', status: 'LISTED' } });
      expect(await canonical('soft.one@import.example')).toBeUndefined();
      expect(audits).toBe(1);
      expect(second.code).toBe(1);
      expect(JSON.parse(second.stdout)).toMatchObject({ rows: 8, imported: 0, unchanged: 4, rejected: 4, source: 'import:oldesp' });
      expect(await auditCount('first.bounce@import.example')).toBe(1);
    });

    it('reads NDJSON with field-name variants and reports unparsable lines by number', async () => {
      // Act
      const run = await ssg(['import', join(FIXTURES, 'ses-format.ndjson'), '--json']);

      // Assess
      expect(run.code).toBe(1);
      const summary = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(summary).toMatchObject({ rows: 6, imported: 3, unchanged: 0, rejected: 3, source: 'import:ses-format' });
      expect(summary.rejectedRows).toEqual([
        { line: 3, error: expect.stringContaining('is not valid JSON') },
        { line: 4, error: expect.stringContaining('reason "MAYBE" is not a bounce or a complaint') },
        { line: 7, error: expect.stringContaining('is not a JSON object') },
      ]);
      expect(await canonical('nd.two@import.example')).toMatchObject({ manual: { reason: 'COMPLAINT' } });
      expect(await canonical('nd.four@import.example')).toMatchObject({ manual: { reason: 'BOUNCE' } });
    });

    it('leaves a manual complaint as it is and keeps when a suppression began when an import brings an address again', async () => {
      // Prepare
      await ssg(['suppress', 'again.complaint@example.com', '--reason', 'COMPLAINT']);
      await ssg(['suppress', 'again.bounce@example.com', '--reason', 'BOUNCE', '--note', 'ticket 3']);
      const complaint = (await canonical('again.complaint@example.com'))?.manual;
      const bounce = (await canonical('again.bounce@example.com'))?.manual as { at: string; by: string };

      // Act
      const run = await ssg(['import', '-', '--source', 'again', '--json'], {
        stdin: 'again.complaint@example.com,BOUNCE\nagain.bounce@example.com,COMPLAINT\n',
      });

      // Assess
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ rows: 2, imported: 1, unchanged: 1, rejected: 0 });
      expect((await canonical('again.complaint@example.com'))?.manual).toEqual(complaint);
      expect((await canonical('again.bounce@example.com'))?.manual).toEqual({
        reason: 'COMPLAINT',
        status: 'LISTED',
        at: bounce.at,
        by: bounce.by,
        note: 'ticket 3',
      });
    });

    it('reads back every row of an export, addresses with "#" included, so export then import round-trips exactly', async () => {
      // Prepare
      for (const [address, reason] of [
        ['hash#tag@import.example', 'COMPLAINT'],
        ['#leading@import.example', 'BOUNCE'],
        ["o'brien+news/2024@import.example", 'BOUNCE'],
      ])
        expect((await ssg(['suppress', address as string, '--reason', reason as string])).code).toBe(0);
      const file = join(dir, 'round-trip.csv');
      expect((await ssg(['export', '--output', file])).code).toBe(0);
      const exported = readFileSync(file, 'utf8');
      const lines = exported.split('\n').filter((l) => l !== '');

      // Act
      const run = await ssg(['import', file, '--json']);
      const again = await ssg(['export']);
      const fromDocument = await ssg(['import', '-', '--json'], { stdin: (await ssg(['export', '--json'])).stdout });

      // Assess
      expect(lines).toEqual(expect.arrayContaining(['hash#tag@import.example,COMPLAINT', '#leading@import.example,BOUNCE']));
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ rows: lines.length, rejected: 0, rejectedRows: [] });
      expect(again.stdout.split('\n').sort()).toEqual(exported.split('\n').sort());
      expect(JSON.parse(fromDocument.stdout)).toMatchObject({ rows: lines.length, imported: 0, rejected: 0 });
    });

    it('reports a row with a stray quote by its line number and still imports the rows after it', async () => {
      // Prepare
      const csv = 'a1@q.example,BOUNCE\na2@q.example,"BOUNCE\na3@q.example,BOUNCE\na4@q.example,COMPLAINT\na5@q.example,BOUNCE\n';

      // Act
      const run = await ssg(['import', '-', '--json'], { stdin: csv });

      // Assess
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({
        rows: 5,
        imported: 4,
        rejected: 1,
        rejectedRows: [{ line: 2, error: expect.stringContaining('quote') }],
      });
      expect(await canonical('a4@q.example')).toMatchObject({ manual: { reason: 'COMPLAINT' } });
    });

    it('numbers lines right after a quoted multi-line field in a CRLF file', async () => {
      // Prepare
      const file = join(dir, 'crlf.csv');
      writeFileSync(file, 'email,reason,notes\r\nml.one@import.example,BOUNCE,"first\r\nsecond"\r\nnot-an-address,BOUNCE,x\r\n');

      // Act
      const run = await ssg(['import', file, '--json']);

      // Assess
      expect(JSON.parse(run.stdout)).toMatchObject({ rows: 2, imported: 1, rejectedRows: [{ line: 4, error: expect.any(String) }] });
    });

    it('recognises NDJSON on stdin without --format', async () => {
      // Act
      const run = await ssg(['import', '-'], { stdin: '{"emailAddress":"nd.piped@import.example","reason":"BOUNCE"}\n' });

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('(ndjson)');
      expect(await canonical('nd.piped@import.example')).toMatchObject({ manual: { reason: 'BOUNCE' } });
    });

    it('says so when the file is empty or not text, exits 2 and imports nothing', async () => {
      // Prepare
      const empty = join(dir, 'empty.csv');
      const headerOnly = join(dir, 'header-only.csv');
      const binary = join(dir, 'binary.csv');
      writeFileSync(empty, '');
      writeFileSync(headerOnly, 'email,reason\n');
      writeFileSync(binary, Buffer.concat([Buffer.from('PK\x03\x04\x00\x00'), randomBytes(4096), Buffer.from('\nx@y.example,BOUNCE\n')]));

      // Act
      const runs = await Promise.all([ssg(['import', empty]), ssg(['import', headerOnly]), ssg(['import', binary]), ssg(['import', '-'])]);

      // Assess
      expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
      expect(runs.map((r) => r.stderr.trim())).toEqual([
        `error: <file> ${JSON.stringify(empty)} is empty: there is nothing to import`,
        `error: <file> ${JSON.stringify(headerOnly)} holds a header line and no rows: there is nothing to import`,
        `error: <file> ${JSON.stringify(binary)} is not a text file (expected CSV or NDJSON)`,
        'error: stdin is empty: there is nothing to import',
      ]);
      expect(runs.every((r) => r.stdout === '')).toBe(true);
    });
  });

  describe('Command: audit', () => {
    let dns: FixtureDnsServer;
    const domains = ['good.example', 'nodmarc.example', 'nospf.example', 'forensic.example', 'dnsfail.example', 'mixed.example'];
    let dnsfailTokens: string[] = [];

    beforeAll(async () => {
      // Each domain is verified in us-east-1 with a custom MAIL FROM; its DNS differs per scenario.
      const ses = testSesClient(env.endpoints.sesv2, 'us-east-1');
      const cname: Record<string, string> = {};
      const txt: Record<string, string[]> = {};
      const mx: Record<string, string[]> = {};
      for (const domain of domains) {
        env.ses.region('us-east-1').putIdentity({ name: domain, type: 'DOMAIN', mailFromDomain: `bounce.${domain}` });
        const identity = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
        if (domain === 'dnsfail.example') dnsfailTokens = identity.DkimAttributes?.Tokens ?? [];
        for (const token of identity.DkimAttributes?.Tokens ?? []) cname[`${token}._domainkey.${domain}`] = `${token}.dkim.amazonses.com`;
        txt[`bounce.${domain}`] = ['v=spf1 include:amazonses.com ~all'];
        txt[`_dmarc.${domain}`] = [`v=DMARC1; p=reject; rua=mailto:dmarc@${domain}`];
        mx[`bounce.${domain}`] = ['feedback-smtp.us-east-1.amazonses.com'];
      }
      ses.destroy();
      delete txt['_dmarc.nodmarc.example'];
      txt['bounce.nospf.example'] = ['v=spf1 include:_spf.google.com ~all'];
      txt['_dmarc.forensic.example'] = [
        'v=DMARC1; p=quarantine; rua=mailto:a@forensic.example; ruf=mailto:forensic@forensic.example; fo=1',
      ];
      // dnsfail.example has every record, but the server gives no answer for some of them; mixed.example has no
      // DMARC record (a definite failure) and an SPF lookup that gives no answer.
      delete txt['_dmarc.mixed.example'];
      const failures: Record<string, DnsFailure> = {
        '_dmarc.dnsfail.example': 'SERVFAIL',
        'bounce.dnsfail.example': 'REFUSED',
        [`${dnsfailTokens[0]}._domainkey.dnsfail.example`]: 'SERVFAIL',
        'bounce.mixed.example': 'SERVFAIL',
      };
      dns = await startFixtureDnsServer({ txt, cname, mx, failures });
    });
    afterAll(async () => {
      await dns?.close();
    });

    it('passes a sender whose identity, DKIM, MAIL FROM, SPF, MX and DMARC are all set up', async () => {
      // Act
      const [text, json] = await Promise.all([
        ssg(['audit', '--from', 'news@good.example', '--region', 'us-east-1', '--dns-server', dns.address]),
        ssg(['audit', '--from', 'good.example', '--json'], { env: { SSG_DNS_SERVER: dns.address } }),
      ]);

      // Assess
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('us-east-1: identity good.example (DOMAIN)');
      expect(text.stdout).toMatch(/ok +identity +good\.example \(DOMAIN\) is verified for sending/);
      expect(text.stdout).toMatch(/ok +DKIM DNS +3 of 3 CNAMEs <token>\._domainkey\.good\.example point at SES/);
      expect(text.stdout).toMatch(/ok +MAIL FROM MX +bounce\.good\.example MX feedback-smtp\.us-east-1\.amazonses\.com/);
      expect(text.stdout).toMatch(/ok +SPF +bounce\.good\.example: "v=spf1 include:amazonses\.com ~all" includes amazonses\.com/);
      expect(text.stdout).toMatch(/ok +DMARC +policy p=reject at _dmarc\.good\.example/);
      expect(text.stdout).toContain('Result: 0 failed, 0 warnings');
      // Every configured region is audited by default; the domain is verified only in us-east-1.
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as { regions: Array<{ region: string; identity: string | null }>; failures: number };
      expect(report.regions.map((r) => [r.region, r.identity])).toEqual([
        ['us-east-1', 'good.example'],
        ['us-west-2', null],
        ['eu-west-1', null],
      ]);
      expect(report.failures).toBe(2);
    });

    it('fails a sender without DMARC, and one whose SPF does not include SES', async () => {
      // Act
      const [noDmarc, noSpf] = await Promise.all([
        ssg(['audit', '--from', 'news@nodmarc.example', '--region', 'us-east-1', '--dns-server', dns.address]),
        ssg(['audit', '--from', 'news@nospf.example', '--region', 'us-east-1', '--dns-server', dns.address]),
      ]);

      // Assess
      expect(noDmarc.code).toBe(1);
      expect(noDmarc.stdout).toMatch(/FAIL +DMARC +no DMARC record at _dmarc\.nodmarc\.example/);
      expect(noDmarc.stdout).toMatch(/ok +SPF/);
      expect(noSpf.code).toBe(1);
      expect(noSpf.stdout).toMatch(
        /FAIL +SPF +bounce\.nospf\.example: "v=spf1 include:_spf\.google\.com ~all" does not include amazonses\.com/,
      );
      expect(noSpf.stdout).toMatch(/ok +DMARC/);
    });

    it('warns about DMARC forensic reporting (ruf= and fo=1) without failing', async () => {
      // Act
      const run = await ssg(['audit', '--from', 'news@forensic.example', '--region', 'us-east-1', '--dns-server', dns.address]);

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/ok +DMARC +policy p=quarantine/);
      expect(run.stdout).toMatch(/warn +DMARC ruf +forensic \(failure\) reports requested \(ruf=mailto:forensic@forensic\.example\)/);
      expect(run.stdout).toMatch(/warn +DMARC fo +fo=1 asks for a failure report whenever any mechanism fails/);
      expect(run.stdout).toContain('Result: 0 failed, 2 warnings');
    });

    it('reports DNS lookups that give no answer (SERVFAIL, REFUSED) as "could not check" with exit 3, never as failures', async () => {
      // Act
      const [text, json] = await Promise.all([
        ssg(['audit', '--from', 'news@dnsfail.example', '--region', 'us-east-1', '--dns-server', dns.address]),
        ssg(['audit', '--from', 'news@dnsfail.example', '--region', 'us-east-1', '--dns-server', dns.address, '--json']),
      ]);

      // Assess
      expect(dnsfailTokens).toHaveLength(3);
      expect(text.code).toBe(3);
      expect(text.stdout).toMatch(/ok +identity +dnsfail\.example \(DOMAIN\) is verified for sending/);
      expect(text.stdout).toMatch(
        new RegExp(
          `could not check +DKIM DNS +2 of 3 DKIM CNAMEs resolve to SES: ${dnsfailTokens[0]}\\._domainkey\\.dnsfail\\.example: DNS lookup failed \\(ESERVFAIL\\)`,
        ),
      );
      expect(text.stdout).toMatch(/could not check +MAIL FROM MX +bounce\.dnsfail\.example: MX lookup failed \(EREFUSED\)/);
      expect(text.stdout).toMatch(/could not check +SPF +bounce\.dnsfail\.example: TXT lookup failed \(EREFUSED\)/);
      expect(text.stdout).toMatch(/could not check +DMARC +_dmarc\.dnsfail\.example: DNS lookup failed \(ESERVFAIL\)/);
      expect(text.stdout).not.toContain('FAIL ');
      expect(text.stdout).toContain('Result: 0 failed, 4 could not be checked, 0 warnings');
      expect(json.code).toBe(3);
      const report = JSON.parse(json.stdout) as {
        failures: number;
        unchecked: number;
        domainFindings: Array<{ check: string; level: string }>;
      };
      expect([report.failures, report.unchecked]).toEqual([0, 4]);
      expect(report.domainFindings).toEqual([expect.objectContaining({ check: 'DMARC', level: 'unchecked' })]);
    });

    it('exits 1 when a check fails, even if another could not be made', async () => {
      // Act
      const run = await ssg(['audit', '--from', 'news@mixed.example', '--region', 'us-east-1', '--dns-server', dns.address]);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/FAIL +DMARC +no DMARC record at _dmarc\.mixed\.example/);
      expect(run.stdout).toMatch(/could not check +MAIL FROM MX +bounce\.mixed\.example: MX lookup failed \(ESERVFAIL\)/);
      expect(run.stdout).toMatch(/could not check +SPF +bounce\.mixed\.example: TXT lookup failed \(ESERVFAIL\)/);
      expect(run.stdout).toContain('Result: 1 failed, 2 could not be checked, 0 warnings');
    });

    it('reports an SES 5xx answer (after the retries) as "could not check", not as a missing identity', async () => {
      // Prepare: SES in us-west-2 answers every request with a 5xx (throttling and access denied: test/cli-unit.test.ts)
      env.ses.setFaults({ serverErrorRate: { 'us-west-2': 1 } });

      // Act
      let run: CliRun;
      try {
        run = await ssg(['audit', '--from', 'news@good.example', '--region', 'us-west-2', '--dns-server', dns.address]);
      } finally {
        env.ses.setFaults({});
      }

      // Assess
      expect(run.code).toBe(3);
      expect(run.stdout).toContain('us-west-2: identity unknown');
      expect(run.stdout).toMatch(/could not check +identity +could not ask SES in us-west-2: InternalServiceErrorException/);
      expect(run.stdout).not.toContain('no SES identity');
      expect(run.stdout).toMatch(/ok +DMARC +policy p=reject/);
      expect(run.stdout).toContain('Result: 0 failed, 1 could not be checked, 0 warnings');
    });
  });

  describe('Bad arguments', () => {
    it('name the argument and the value, exit 2 and change nothing', async () => {
      // Prepare
      const before = [await scanAll(doc(), env.outputs.SuppressionTableName!), await scanAll(doc(), env.outputs.SyncStateTableName!)];
      const sesBefore = env.regions.map((r) => env.ses.region(r).suppressedCount);

      // Act
      const runs = await Promise.all([
        ssg(['frobnicate']),
        ssg(['suppress', 'someone@example.com', '--reason', 'SPAM']),
        ssg(['check', '--recipients', '-']),
        ssg(['suppress', 'not-an-email', '--reason', 'BOUNCE']),
        ssg(['unsuppress', 'someone@example.com', '--reason', '  ']),
        ssg(['sync', '--region', 'ap-south-1']),
        ssg(['export', '--format', 'xml']),
        ssg(['audit', '--from', 'not a domain']),
        ssg(['import', join(dir, 'missing.csv')]),
      ]);

      // Assess
      expect(runs.map((r) => r.code)).toEqual(runs.map(() => 2));
      expect(runs.map((r) => r.stderr.trim().split('\n')[0])).toEqual([
        "error: unknown command 'frobnicate'",
        'error: --reason must be BOUNCE or COMPLAINT, got "SPAM"',
        "error: required option '--from <sender>' not specified",
        'error: <address> "not-an-email" is not a valid email address: it has no "@"',
        'error: --reason must say why, got "  "',
        'error: --region must be one of the configured regions us-east-1, us-west-2, eu-west-1, got "ap-south-1"',
        'error: --format must be csv or ndjson, got "xml"',
        'error: --from must be a sender address or a domain like example.com, got "not a domain"',
        `error: <file> ${JSON.stringify(join(dir, 'missing.csv'))} cannot be read (ENOENT)`,
      ]);
      expect(runs.every((r) => r.stdout === '')).toBe(true);
      expect([await scanAll(doc(), env.outputs.SuppressionTableName!), await scanAll(doc(), env.outputs.SyncStateTableName!)]).toEqual(
        before,
      );
      expect(env.regions.map((r) => env.ses.region(r).suppressedCount)).toEqual(sesBefore);
    });

    it('gives every command a --help that exits 0', async () => {
      // Act
      const commands = ['status', 'lookup', 'check', 'suppress', 'unsuppress', 'export', 'import', 'sync', 'audit'];
      const runs = await Promise.all([runCli(['--help']), ...commands.map((c) => runCli([c, '--help']))]);

      // Assess
      expect(runs.map((r) => r.code)).toEqual(runs.map(() => 0));
      expect(runs[0]?.stdout).toContain('Exit codes: 0 done');
      commands.forEach((c, i) => {
        expect(runs[i + 1]?.stdout).toContain(`Usage: ssg ${c} [options]`);
      });
    });
  });
});
