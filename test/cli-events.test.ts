import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetEmailIdentityCommand, SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EVENT_DESTINATION_NAME } from '../lambdas/domain/names';
import type { LocalEnvironment } from '../local/environment';
import { runCli } from './support/cli';
import { startTestEnvironment } from './support/local-aws';

const REGION = 'us-east-1';
const SERVICE_SET = 'ses-suppression-guard';

/**
 * `ssg events attach`, `ssg events status` and `ssg senders` against the local environment: identities and
 * configuration sets in the SES emulator, mail sent with the SDK by two callers (access keys the emulator names), the
 * events the emulator publishes fed to the event ingestion handler (as the home queue would), and the counters it
 * writes into the attribution table in DynamoDB Local read back by the CLI.
 */
describe('CLI: senders and SES event coverage through ssg against the local environment', () => {
  let env: LocalEnvironment;
  let dir: string;
  let envFile: string;
  let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
  const clients: SESv2Client[] = [];
  const ssg = (args: readonly string[]) => runCli(['--local', ...args], { env: { SSG_LOCAL_ENV_FILE: envFile } });
  const sesAs = (accessKeyId: string): SESv2Client => {
    const client = new SESv2Client({
      region: REGION,
      endpoint: env.ses.endpoint,
      credentials: { accessKeyId, secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  const defaultSet = async (identity: string) =>
    (await sesAs('AKIDCHECK').send(new GetEmailIdentityCommand({ EmailIdentity: identity }))).ConfigurationSetName;

  /** Sends one message per recipient from `from` (no configuration set named: the identity's default applies). */
  async function send(client: SESv2Client, from: string, recipients: readonly string[]): Promise<void> {
    for (const to of recipients) {
      await client.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [to] },
          Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Hi' } } } },
        }),
      );
    }
  }

  /** Feeds every event the emulator published since the last call to the ingestion handler, as SQS records. */
  async function ingestPublished(): Promise<void> {
    await env.ses.events.idle();
    const events = env.ses.events.drain();
    const response = await handler(
      {
        Records: events.map((event, i) => ({
          messageId: `sqs-${i}-${event.id}`,
          receiptHandle: 'handle',
          body: JSON.stringify(event),
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:ses-events`,
          awsRegion: REGION,
        })),
      },
      { functionName: 'events', awsRequestId: 'request', getRemainingTimeInMillis: () => 60_000 } as unknown as Context,
    );
    expect(response.batchItemFailures).toEqual([]);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-events-'));
    envFile = join(dir, 'environment.json');
    env = await startTestEnvironment('cli-events', envFile);
    env.ses.setEventDelayMs(0);
    const region = env.ses.region(REGION);
    // The service's configuration set and its destination come from the regional stack's template (the local
    // environment creates them); a user's set without the service's destination:
    expect(region.listEventDestinations(SERVICE_SET).map((d) => d.name)).toEqual([EVENT_DESTINATION_NAME]);
    region.putConfigurationSet({ name: 'marketing' });
    region.putIdentity({ name: 'example.com' });
    region.putIdentity({ name: 'shop.example', configurationSetName: 'marketing' });
    region.putIdentity({ name: 'relay.example' });
    // A recipient on the account's suppression list, still mailed by a forgotten job.
    region.putSuppressed({ emailAddress: 'gone@example.org', reason: 'BOUNCE', lastUpdateTime: new Date(Date.now() - 86_400_000) });
    env.ses.setCallerIdentity('AKIDAPP', 'app-role');
    env.ses.setCallerIdentity('AKIDCRON', 'legacy-cron');

    // The ingestion handler reads its settings when loaded, as in Lambda: the local environment's tables.
    Object.assign(process.env, {
      SUPPRESSION_TABLE_NAME: env.outputs.SuppressionTableName,
      ATTRIBUTION_TABLE_NAME: env.outputs.AttributionTableName,
      EVENT_DEDUPE_TTL_DAYS: '35',
      ATTRIBUTION_RETENTION_DAYS: '35',
      PROPAGATION_FUNCTION_NAME: 'none',
      PROPAGATE_TO_REGIONS: REGION,
      AWS_ENDPOINT_URL_DYNAMODB: env.endpoints.dynamodb,
      AWS_REGION: env.region,
      AWS_ACCESS_KEY_ID: env.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.credentials.secretAccessKey,
    });
    ({ handler } = await import('../lambdas/events/handler'));
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('events status: identities without a default set, or with a set that sends nothing to the service, are not covered', async () => {
    // Act
    const [text, json] = await Promise.all([ssg(['events', 'status', '--region', REGION]), ssg(['events', 'status', '--json'])]);

    // Assess
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${REGION}: the service's configuration set is ${SERVICE_SET} (setting "eventConfigurationSet"`);
    expect(text.stdout).toMatch(
      /example\.com\s+DOMAIN\s+yes\s+\(none\)\s+not covered: SMTP relays and senders that do not name a configuration set send no events/,
    );
    expect(text.stdout).toMatch(/shop\.example\s+DOMAIN\s+yes\s+marketing\s+NOT COVERED: marketing has no enabled EventBridge destination/);
    expect(text.stdout).toContain('3 identities are not covered');
    const report = JSON.parse(json.stdout) as {
      regions: Array<{ region: string; identities: Array<{ identity: string; covered: boolean; coverage: string }> }>;
      uncovered: string[];
    };
    expect(report.regions.map((r) => r.region)).toEqual(['us-east-1', 'us-west-2', 'eu-west-1']);
    expect(report.uncovered.sort()).toEqual(['us-east-1/example.com', 'us-east-1/relay.example', 'us-east-1/shop.example']);
  });

  it("events attach: sets the service's configuration set as the identity's default, and refuses an unknown identity", async () => {
    // Act
    const attached = await ssg(['events', 'attach', '--identity', 'example.com', '--region', REGION]);
    const again = await ssg(['events', 'attach', '--identity', 'example.com', '--region', REGION]);
    const unknown = await ssg(['events', 'attach', '--identity', 'nobody.example', '--region', REGION]);
    const badRegion = await ssg(['events', 'attach', '--identity', 'example.com', '--region', 'ap-south-1']);

    // Assess
    expect(attached.code).toBe(0);
    expect(attached.stdout).toBe(`example.com in ${REGION}: default configuration set is now ${SERVICE_SET}\n`);
    expect(await defaultSet('example.com')).toBe(SERVICE_SET);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already has ses-suppression-guard as its default configuration set; nothing changed');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain(`refused: identity nobody.example does not exist in ${REGION}`);
    expect(badRegion.code).toBe(2);
    expect(badRegion.stderr).toContain('--region must be one of the configured regions');
  });

  it('events attach: refuses to replace another default configuration set without --force, and says what --force replaced', async () => {
    // Act
    const refused = await ssg(['events', 'attach', '--identity', 'shop.example', '--region', REGION]);
    const setAfterRefusal = await defaultSet('shop.example');
    const forced = await ssg(['events', 'attach', '--identity', 'shop.example', '--region', REGION, '--force', '--json']);
    const missingSet = await ssg(['events', 'attach', '--identity', 'relay.example', '--region', REGION, '--configuration-set', 'nope']);

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`refused: shop.example in ${REGION} already has the default configuration set marketing`);
    expect(refused.stdout).toContain('--force');
    expect(setAfterRefusal).toBe('marketing');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({
      identity: 'shop.example',
      configurationSet: SERVICE_SET,
      previous: 'marketing',
      changed: true,
      message: `shop.example in ${REGION}: default configuration set is now ${SERVICE_SET} (replaced marketing)`,
    });
    expect(await defaultSet('shop.example')).toBe(SERVICE_SET);
    expect(missingSet.code).toBe(1);
    expect(missingSet.stdout).toContain('Configuration set nope does not exist');
    expect(await defaultSet('relay.example')).toBeUndefined();

    const status = await ssg(['events', 'status', '--region', REGION]);
    expect(status.stdout).toMatch(/example\.com\s+DOMAIN\s+yes\s+ses-suppression-guard\s+covered: the service's configuration set/);
    expect(status.stdout).toContain('1 identity is not covered');
  });

  it('senders: names the caller that mails suppressed addresses, with rates of sends judged against the thresholds', async () => {
    // Prepare: example.com now sends events through its default set. app-role: 3 delivered, 1 hard bounce;
    // legacy-cron: 1 delivered, 2 to a suppressed address. shop.example (app-role): 2 delivered.
    await send(sesAs('AKIDAPP'), 'Shop <news@example.com>', [
      'success@simulator.amazonses.com',
      'success@simulator.amazonses.com',
      'success@simulator.amazonses.com',
      'bounce@simulator.amazonses.com',
    ]);
    await send(sesAs('AKIDCRON'), 'billing@example.com', ['success@simulator.amazonses.com', 'gone@example.org', 'gone@example.org']);
    await send(sesAs('AKIDAPP'), 'orders@shop.example', ['success@simulator.amazonses.com', 'success@simulator.amazonses.com']);
    await ingestPublished();

    // Act
    const [text, json, filtered] = await Promise.all([
      ssg(['senders', '--days', '2']),
      ssg(['senders', '--json', '--days', '2']),
      ssg(['senders', '--identity', 'shop.example', '--region', REGION]),
    ]);

    // Assess
    expect(text.code).toBe(1);
    const rows = text.stdout.split('\n');
    const appRow = rows.findIndex((l) => /us-east-1\s+example\.com\s+app-role/.test(l));
    const cronRow = rows.findIndex((l) => /us-east-1\s+example\.com\s+legacy-cron/.test(l));
    const shopRow = rows.findIndex((l) => /us-east-1\s+shop\.example\s+app-role/.test(l));
    // Worst first: app-role's 25% bounce rate is at risk; legacy-cron bounced nothing (its sends to suppressed
    // addresses are not bounces) but mailed suppressed addresses; shop.example is fine.
    expect(rows[appRow]).toMatch(/127\.0\.0\.1\s+ses-suppression-guard\s+4\s+3\s+1\s+25\.00%\s+0\s+0\s+0\.00%\s+0\s+bounce AT RISK/);
    expect(rows[cronRow]).toMatch(/\s3\s+1\s+0\s+0\.00%\s+0\s+0\s+0\.00%\s+2\s+ok$/);
    expect(rows[shopRow]).toMatch(/\s2\s+2\s+0\s+0\.00%\s+0\s+0\s+0\.00%\s+0\s+ok$/);
    expect(appRow).toBeLessThan(cronRow);
    expect(cronRow).toBeLessThan(shopRow);
    expect(text.stdout).toContain('Bounce rate = permanent bounces / sends; complaint rate = complaints / sends');
    const suppressedSection = text.stdout.split('Callers mailing suppressed addresses:')[1] ?? '';
    expect(suppressedSection).toMatch(/us-east-1\s+example\.com\s+legacy-cron\s+127\.0\.0\.1\s+ses-suppression-guard\s+2\s+3/);
    expect(suppressedSection).not.toContain('app-role');

    const report = JSON.parse(json.stdout) as {
      definitions: { bounceRate: string };
      senders: Array<Record<string, unknown>>;
      callersMailingSuppressed: Array<Record<string, unknown>>;
    };
    expect(report.definitions.bounceRate).toBe('permanentBounces / sends');
    expect(report.senders[0]).toMatchObject({
      sender: 'example.com',
      callerIdentity: 'app-role',
      sends: 4,
      permanentBounces: 1,
      bounceRate: 0.25,
      bounceLevel: 'at risk',
      complaintLevel: 'ok',
    });
    expect(report.callersMailingSuppressed).toEqual([
      expect.objectContaining({ sender: 'example.com', callerIdentity: 'legacy-cron', sendsToSuppressed: 2, sends: 3 }),
    ]);

    expect(filtered.code).toBe(0);
    expect(filtered.stdout).toMatch(/shop\.example\s+app-role/);
    expect(filtered.stdout).not.toMatch(/\sexample\.com\s/);
    expect(filtered.stdout).toMatch(/Callers mailing suppressed addresses:\n {2}none/);
  });

  it("status: today's SES events per region, summed over every sender, with the rates judged", async () => {
    // Act (after the sends of the senders test)
    const [text, json] = await Promise.all([ssg(['status', '--no-totals']), ssg(['status', '--no-totals', '--json'])]);

    // Assess: 9 sends in us-east-1 (4 + 3 + 2), 6 delivered, 1 permanent bounce (11.11%: at risk), 2 to suppressed
    expect(text.stdout).toContain('SES events today (');
    expect(text.stdout).toMatch(/us-east-1\s+9\s+6\s+1 \(11\.11% AT RISK\)\s+0 \(0\.00%\)\s+2/);
    expect(text.stdout).toMatch(/us-west-2\s+0\s+0\s+0 \(-\)\s+0 \(-\)\s+0/);
    expect(JSON.parse(json.stdout).events.regions[0]).toMatchObject({
      region: 'us-east-1',
      sends: 9,
      permanentBounces: 1,
      sendsToSuppressed: 2,
      bounceLevel: 'at risk',
    });
  });
});
