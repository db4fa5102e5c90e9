import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { importBucketName } from '../lambdas/sync/settings';
import { SES_REGIONS } from '../lib/config';
import { importBucketPattern, RegionalStack, regionalStackName } from '../lib/regional-stack';
import { synthStack, TEST_REGIONS } from './support/cdk';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown; Principal?: unknown; Effect: string };

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Every statement of the sync function's execution role policy. */
function syncStatements(template: Template): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    JSON.stringify(p).includes('ses:ListSuppressedDestinations'),
  );
  expect(policies).toHaveLength(1);
  return policies[0]!.Properties.PolicyDocument.Statement as Statement[];
}

function propagationInputs(template: Template): { region: string; mode: string }[] {
  return Object.values(template.findResources('AWS::Scheduler::Schedule'))
    .map((s) => JSON.parse(s.Properties.Target.Input) as { region: string; mode: string })
    .filter((input) => input.mode === 'propagate');
}

describe('App: home stack and regional stacks', () => {
  const { app, stack, regionalStacks } = synthStack();
  const assembly = app.synth();

  it('synthesizes the home stack in the first region and one regional stack per region, each pinned to its region', () => {
    const stacks = assembly.stacks.map((s) => ({ name: s.stackName, region: s.environment.region, account: s.environment.account }));
    expect(stacks).toEqual(
      expect.arrayContaining([
        { name: 'SesSuppressionGuard', region: TEST_REGIONS[0], account: 'unknown-account' },
        ...TEST_REGIONS.map((region) => ({ name: `SesSuppressionGuard-${region}`, region, account: 'unknown-account' })),
      ]),
    );
    expect(stacks).toHaveLength(1 + TEST_REGIONS.length);
    expect(regionalStacks.map((s) => s.sesRegion)).toEqual(TEST_REGIONS);
    // The local runner reads the home stack's template by the stack name.
    expect(assembly.getStackByName('SesSuppressionGuard').templateFile).toBe('SesSuppressionGuard.template.json');
  });

  it('pins the home stack to homeRegion when set', () => {
    const custom = synthStack({ homeRegion: 'eu-central-1' });
    expect(custom.stack.region).toBe('eu-central-1');
    expect(custom.regionalStacks.map((s) => s.region)).toEqual(TEST_REGIONS);
  });

  it('references nothing across stacks (buckets and the event bus are named by pattern); regional stacks deploy after home', () => {
    for (const s of [stack, ...regionalStacks]) {
      expect(JSON.stringify(Template.fromStack(s).toJSON())).not.toMatch(/Fn::ImportValue/);
    }
    expect(stack.dependencies).toHaveLength(0);
    // The home stack's event bus must exist before the regions forward events to it.
    for (const s of regionalStacks) expect(s.dependencies.map((d) => d.stackName)).toEqual(['SesSuppressionGuard']);
  });

  describe.each(TEST_REGIONS)('Regional stack in %s', (region) => {
    const regional = regionalStacks.find((s) => s.sesRegion === region)!;
    const template = Template.fromStack(regional);

    it('creates the import bucket: fixed name, SSE-S3, TLS only, no public access, expiring files, emptied on deletion', () => {
      template.resourceCountIs('AWS::S3::Bucket', 1);
      template.hasResource('AWS::S3::Bucket', {
        Properties: Match.objectLike({
          BucketName: { 'Fn::Join': ['', ['sessuppressionguard-imports-', { Ref: 'AWS::AccountId' }, `-${region}`]] },
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          LifecycleConfiguration: {
            Rules: [
              Match.objectLike({ Status: 'Enabled', ExpirationInDays: 7, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
            ],
          },
        }),
        DeletionPolicy: 'Delete',
        UpdateReplacePolicy: 'Delete',
      });
      template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
    });

    it('lets SES read the import files for this account only, and denies every request without TLS', () => {
      const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0]!;
      const statements = policy.Properties.PolicyDocument.Statement as Statement[];
      const ses = statements.filter((s) => JSON.stringify(s.Principal ?? '').includes('ses.amazonaws.com'));
      expect(ses).toHaveLength(1);
      expect(ses[0]).toMatchObject({
        Effect: 'Allow',
        Action: 's3:GetObject',
        Principal: { Service: 'ses.amazonaws.com' },
        Condition: { StringEquals: { 'aws:Referer': { Ref: 'AWS::AccountId' } } },
      });
      expect(JSON.stringify(ses[0]!.Resource)).toMatch(/ImportBucket.*\/\*/);
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    });

    it('outputs the bucket name', () => {
      template.hasOutput('ImportBucketName', { Value: { Ref: Match.stringLikeRegexp('^ImportBucket') } });
    });
  });

  it("names every SES region's bucket within the 63 characters S3 allows, from the home stack's name", () => {
    const pattern = importBucketPattern('123456789012');
    expect(pattern).toBe('sessuppressionguard-imports-123456789012-{region}');
    const longest = [...SES_REGIONS].sort((a, b) => b.length - a.length)[0]!;
    const name = importBucketName(pattern, longest);
    expect(name.length).toBeLessThanOrEqual(63);
    for (const region of SES_REGIONS) expect(importBucketName(pattern, region)).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    expect(regionalStackName('eu-west-1')).toBe('SesSuppressionGuard-eu-west-1');
  });
});

describe('Regional stacks: SES events', () => {
  const eventsOf = (config: Record<string, unknown>, region: string) => {
    const { regionalStacks } = synthStack(config);
    return Template.fromStack(regionalStacks.find((s) => s.sesRegion === region)!);
  };

  it("creates the service's configuration set with an event destination to the region's default bus", () => {
    const template = eventsOf({}, 'us-west-2');
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      Name: 'ses-suppression-guard',
      ReputationOptions: { ReputationMetricsEnabled: true },
      SendingOptions: { SendingEnabled: true },
    });
    const destinations = Object.values(template.findResources('AWS::SES::ConfigurationSetEventDestination'));
    expect(destinations).toHaveLength(1);
    expect(destinations[0]!.Properties).toMatchObject({
      ConfigurationSetName: { Ref: expect.stringMatching(/ConfigurationSet/) },
      EventDestination: {
        Name: 'ses-suppression-guard-eventbridge',
        Enabled: true,
        MatchingEventTypes: expect.arrayContaining(['send', 'reject', 'bounce', 'complaint', 'delivery']),
        EventBridgeDestination: {
          EventBusArn: { 'Fn::Join': ['', ['arn:aws:events:us-west-2:', { Ref: 'AWS::AccountId' }, ':event-bus/default']] },
        },
      },
    });
    expect(destinations[0]!.Properties.EventDestination.MatchingEventTypes).toHaveLength(5);
    template.hasOutput('EventConfigurationSetName', { Value: { Ref: Match.stringLikeRegexp('ConfigurationSet') } });
  });

  it("adds the same destination to the user's own configuration sets, named in eventConfigurationSets", () => {
    const template = eventsOf({ eventConfigurationSets: ['marketing', 'transactional'] }, 'eu-west-1');
    const names = Object.values(template.findResources('AWS::SES::ConfigurationSetEventDestination')).map(
      (d) => d.Properties.ConfigurationSetName,
    );
    expect(names).toEqual(expect.arrayContaining(['marketing', 'transactional']));
    expect(names).toHaveLength(3);
  });

  it('forwards SES sending events from the default bus to the home bus, with a dead-letter queue', () => {
    const template = eventsOf({ homeRegion: 'eu-west-1' }, 'us-west-2');
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    const rule = rules[0]!.Properties;
    expect(rule.EventBusName).toBe('default');
    expect(rule.EventPattern).toEqual({
      source: ['aws.ses'],
      'detail-type': ['Email Sent', 'Email Rejected', 'Email Bounced', 'Email Complaint Received', 'Email Delivered'],
    });
    expect(rule.Targets).toHaveLength(1);
    expect(JSON.stringify(rule.Targets[0].Arn)).toContain(':events:eu-west-1:');
    expect(JSON.stringify(rule.Targets[0].Arn)).toContain(':event-bus/ses-suppression-guard-events');
    expect(rule.Targets[0].RoleArn).toBeDefined();
    expect(rule.Targets[0].DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/ForwardingDeadLetterQueue/), 'Arn'] });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  it('alarms on the reputation metrics at the configured levels, to a topic in the region', () => {
    const template = eventsOf({ bounceRateAlarm: 0.04, complaintRateAlarm: 0.002 }, 'us-west-2');
    for (const [metric, threshold] of [
      ['Reputation.BounceRate', 0.04],
      ['Reputation.ComplaintRate', 0.002],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SES',
        MetricName: metric,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmTopic') }],
      });
    }
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasOutput('AlarmTopicArn', {});
  });

  it('uses the configured alarm topic in its own region, and creates one in the others (alarms notify in-region topics only)', () => {
    const topic = 'arn:aws:sns:us-west-2:123456789012:ops';
    const west = eventsOf({ alarmTopicArn: topic }, 'us-west-2');
    west.resourceCountIs('AWS::SNS::Topic', 0);
    west.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Reputation.BounceRate', AlarmActions: [topic] });
    eventsOf({ alarmTopicArn: topic }, 'eu-west-1').resourceCountIs('AWS::SNS::Topic', 1);
  });

  it('events off: no configuration set, rule, queue, topic or reputation alarm', () => {
    const template = eventsOf({ events: 'off' }, 'us-west-2');
    for (const type of [
      'AWS::SES::ConfigurationSet',
      'AWS::Events::Rule',
      'AWS::SQS::Queue',
      'AWS::SNS::Topic',
      'AWS::CloudWatch::Alarm',
    ]) {
      template.resourceCountIs(type, 0);
    }
  });
});

describe('Home stack: propagation', () => {
  it('gives the sync function the propagation settings and the bucket pattern', () => {
    const { template } = synthStack({ propagateTo: ['us-west-2'], propagationBulkThreshold: 250 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          PROPAGATION_MODE: 'enforce',
          PROPAGATE_TO_REGIONS: 'us-west-2',
          PROPAGATION_BULK_THRESHOLD: '250',
          IMPORT_BUCKET_NAME_PATTERN: { 'Fn::Join': ['', ['sessuppressionguard-imports-', { Ref: 'AWS::AccountId' }, '-{region}']] },
        }),
      },
    });
  });

  it('enforce: adds, removes and imports in the propagateTo regions, and writes only their import buckets', () => {
    const { template } = synthStack({ propagateTo: ['us-east-1', 'eu-west-1'] });
    const statements = syncStatements(template);

    const ses = statements.find((s) => s.Sid === 'PropagateSesSuppressionList')!;
    expect(actionsOf(ses).sort()).toEqual(
      [
        'ses:CreateImportJob',
        'ses:DeleteSuppressedDestination',
        'ses:GetSuppressedDestination',
        'ses:ListImportJobs',
        'ses:PutSuppressedDestination',
      ].sort(),
    );
    expect(ses.Resource).toBe('*');
    expect(ses.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } });

    const jobs = statements.find((s) => s.Sid === 'ReadImportJobs')!;
    expect(jobs.Action).toBe('ses:GetImportJob');
    expect(jobs.Resource).toHaveLength(2);
    expect(jobs.Resource).toEqual(
      expect.arrayContaining(
        ['us-east-1', 'eu-west-1'].map((region) => ({
          'Fn::Join': ['', [`arn:aws:ses:${region}:`, { Ref: 'AWS::AccountId' }, ':import-job/*']],
        })),
      ),
    );

    const files = statements.find((s) => s.Sid === 'WriteImportFiles')!;
    expect(actionsOf(files).sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    expect(files.Resource).toHaveLength(2);
    expect(files.Resource).toEqual(
      expect.arrayContaining(
        ['us-east-1', 'eu-west-1'].map((region) => ({
          'Fn::Join': ['', ['arn:aws:s3:::sessuppressionguard-imports-', { Ref: 'AWS::AccountId' }, `-${region}/*`]],
        })),
      ),
    );
    expect(JSON.stringify(statements)).not.toContain('us-west-2');
  });

  it('report: only the read-only SES actions, no writes and no bucket', () => {
    const { template } = synthStack({ propagation: 'report' });
    const actions = syncStatements(template).flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['ses:GetSuppressedDestination', 'ses:ListImportJobs', 'ses:GetImportJob']));
    for (const write of ['ses:PutSuppressedDestination', 'ses:DeleteSuppressedDestination', 'ses:CreateImportJob']) {
      expect(actions).not.toContain(write);
    }
    expect(actions.filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('off: nothing beyond the sync, no propagation schedules and no propagation alarms', () => {
    const { template } = synthStack({ propagation: 'off' });
    const actions = syncStatements(template).flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('ses:'))).toEqual(['ses:ListSuppressedDestinations']);
    expect(actions.filter((a) => a.startsWith('s3:'))).toEqual([]);
    expect(propagationInputs(template)).toEqual([]);
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toMatch(/PropagationDrift|ImportJobsFailed/);
  });

  it('schedules one propagation run per propagateTo region at propagationSchedule', () => {
    const { template } = synthStack({ propagateTo: ['us-west-2', 'eu-west-1'], propagationSchedule: 'rate(30 minutes)' });
    expect(propagationInputs(template)).toEqual([
      { region: 'us-west-2', mode: 'propagate' },
      { region: 'eu-west-1', mode: 'propagate' },
    ]);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(30 minutes)',
      Target: Match.objectLike({ Input: JSON.stringify({ region: 'eu-west-1', mode: 'propagate' }) }),
    });
    // Report still measures drift on schedule.
    expect(propagationInputs(synthStack({ propagation: 'report' }).template)).toHaveLength(TEST_REGIONS.length);
  });

  it('alarms per propagateTo region on drift that stays above zero and on failed import jobs, to the alarm topic', () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:ops';
    const { template } = synthStack({ propagateTo: ['us-east-1', 'us-west-2'], driftAlarmMinutes: 120, alarmTopicArn: topic });
    for (const region of ['us-east-1', 'us-west-2']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'PropagationDrift',
        Namespace: 'SesSuppressionGuard',
        Dimensions: Match.arrayWith([{ Name: 'Region', Value: region }]),
        Statistic: 'Minimum',
        Period: 7200,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ImportJobsFailed',
        Dimensions: Match.arrayWith([{ Name: 'Region', Value: region }]),
        Statistic: 'Sum',
        Period: 900,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topic],
      });
    }
    const alarms = JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).not.toMatch(/"Value":"eu-west-1"\}\],"EvaluationPeriods":1,"MetricName":"PropagationDrift"/);
    expect(
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.MetricName === 'PropagationDrift'),
    ).toHaveLength(2);
  });

  it('outputs the propagation function and says how to invoke it', () => {
    const { template } = synthStack();
    template.hasOutput('PropagationFunctionName', {
      Value: { Ref: Match.stringLikeRegexp('^SyncSyncFunction') },
      Description: Match.stringLikeRegexp('"mode": "propagate"'),
    });
  });
});

describe('cdk-nag: AwsSolutions on every stack', () => {
  it.each(['enforce', 'report', 'off'])('synthesizes every stack with zero unacknowledged findings (propagation %s)', (propagation) => {
    const { app } = synthStack({ propagation, homeRegion: 'us-gov-west-1', regions: ['us-gov-west-1', 'eu-west-1'] });
    expect(() => app.synth()).not.toThrow();
  });

  it('synthesizes with zero unacknowledged findings with events off and with user configuration sets', () => {
    expect(() => synthStack({ events: 'off' }).app.synth()).not.toThrow();
    expect(() =>
      synthStack({ eventConfigurationSets: ['marketing'], alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops' }).app.synth(),
    ).not.toThrow();
  });

  it('fails synthesis when a regional stack holds a resource that breaks a rule', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'ssg-nag-regional-')) });
    const regional = new RegionalStack(app, regionalStackName('eu-west-1'), { region: 'eu-west-1' });
    new s3.Bucket(regional, 'PlainBucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});
