import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { documentClient } from '../lambdas/domain/clients';
import { originsOf } from '../lambdas/domain/origins';
import { SuppressionTable } from '../lambdas/domain/suppression-table';
import type { LocalEnvironment } from '../local/environment';
import { startTestEnvironment } from './support/local-aws';

/**
 * The SES event path as deployed, run locally from the synthesized templates: the regional stack's configuration set
 * and EventBridge destination exist in the emulator, a send through SES produces events, the home rule's pattern
 * puts them on the queue, the event source mapping batches them into the synthesized ingestion bundle, and
 * propagation then puts the bounced address on every other region's list.
 */
describe('SES events: send → event → queue → ingestion bundle → origin → propagation', () => {
  let env: LocalEnvironment;
  let dir: string;
  let ddb: DynamoDBClient;
  let ses: SESv2Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-events-'));
    env = await startTestEnvironment('events', join(dir, 'environment.json'));
    env.ses.setEventDelayMs(0);
    ddb = new DynamoDBClient({ endpoint: env.endpoints.dynamodb, region: env.region, credentials: env.credentials });
    ses = new SESv2Client({ region: 'us-east-1', endpoint: env.endpoints.sesv2, credentials: env.credentials });
    const east = env.ses.region('us-east-1');
    east.putIdentity({
      name: 'example.com',
      type: 'DOMAIN',
      verifiedForSending: true,
      verificationStatus: 'SUCCESS',
      dkimStatus: 'SUCCESS',
    });
    // What `ssg events attach` does: the service's configuration set becomes the identity's default.
    east.setIdentityConfigurationSet('example.com', 'ses-suppression-guard');
    east.seedRecipientOutcomes(['Gone.Away@Example.org'], 'bounce');
    east.seedRecipientOutcomes(['angry@example.org'], 'complaint');
  });
  afterAll(async () => {
    ses?.destroy();
    ddb?.destroy();
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the regional configuration sets with their EventBridge destination in every region', () => {
    for (const region of env.regions) {
      expect(env.ses.region(region).getConfigurationSet('ses-suppression-guard')).toBeDefined();
      expect(env.ses.region(region).listEventDestinations('ses-suppression-guard')).toEqual([
        expect.objectContaining({
          name: 'ses-suppression-guard-eventbridge',
          enabled: true,
          eventBridgeDestination: { eventBusArn: `arn:aws:events:${region}:000000000000:event-bus/default` },
        }),
      ]);
    }
  });

  it('records a hard bounce and a complaint in us-east-1 as origins, and propagation lists them in the other regions', async () => {
    // Act: a send with no configuration set named (an SMTP relay's way): the identity's default set applies.
    await ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'news@example.com',
        Destination: { ToAddresses: ['Gone.Away@Example.org', 'angry@example.org', 'fine@example.org'] },
        Content: { Simple: { Subject: { Data: 'hello' }, Body: { Text: { Data: 'hi' } } } },
      }),
    );
    await env.ses.events.idle();
    const [source] = env.eventSources;
    await source!.idle();

    // Assess: origins from the events, only for the recipients the events name
    const table = new SuppressionTable(documentClient(ddb), env.outputs.SuppressionTableName!);
    const gone = await table.get('gone.away@example.org');
    const angry = await table.get('angry@example.org');
    expect(originsOf(gone!)).toEqual([{ source: 'event:us-east-1', reason: 'BOUNCE' }]);
    expect(originsOf(angry!)).toEqual([{ source: 'event:us-east-1', reason: 'COMPLAINT' }]);
    expect(await table.get('fine@example.org')).toBeUndefined();
    expect(source!.stats).toMatchObject({ deadLettered: 0, redelivered: 0 });

    // Assess: ingestion started a targeted propagation of the two addresses into every region (asynchronous
    // invocations of the propagation function), which put them on the other regions' lists already.
    await env.lambdaApi.asyncIdle();
    for (const region of ['us-west-2', 'eu-west-1']) {
      expect(env.ses.region(region).getSuppressed('Gone.Away@Example.org')).toMatchObject({ reason: 'BOUNCE' });
      expect(env.ses.region(region).getSuppressed('angry@example.org')).toMatchObject({ reason: 'COMPLAINT' });
      expect(env.ses.region(region).getSuppressed('fine@example.org')).toBeUndefined();
    }
    const item = await table.get('gone.away@example.org');
    expect(item?.['propagated:us-west-2']).toMatchObject({ status: 'ADDED', via: 'put', address: 'Gone.Away@Example.org' });

    // Act: a full propagation run afterwards finds nothing left to do there
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    const lambda = new LambdaClient({ region: env.region, endpoint: env.endpoints.lambda, credentials: env.credentials });
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: env.outputs.PropagationFunctionName!,
        Payload: JSON.stringify({ region: 'us-west-2', mode: 'propagate' }),
      }),
    );
    lambda.destroy();

    // Assess
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toMatchObject({
      region: 'us-west-2',
      complete: true,
      added: 0,
      alreadyListed: 2,
    });
  });

  it('sends a malformed message to the dead-letter queue after the queue allows, without holding up the others', async () => {
    // Prepare
    const [source] = env.eventSources;
    const before = source!.stats;

    // Act
    source!.send('{"source":"aws.ses","detail-type":"Email Bounced","detail":{"eventType":"Bounce"}}');
    await env.ses.events.idle();
    await source!.idle();

    // Assess: received maxReceiveCount times (5), then dead-lettered
    expect(source!.config.maxReceiveCount).toBe(5);
    expect(source!.stats.deadLettered - before.deadLettered).toBe(1);
    expect(source!.stats.redelivered - before.redelivered).toBe(4);
    expect(source!.deadLetterBodies.at(-1)).toContain('Email Bounced');
  });
});
