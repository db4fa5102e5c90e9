import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STACK_NAME } from '../lib/app';
import { SuppressionTables } from '../lib/tables';
import { synthStack, TEST_REGIONS } from './support/cdk';

const REGIONS = TEST_REGIONS;

describe('Stack: SesSuppressionGuard', () => {
  const { template } = synthStack();

  it('creates the canonical table on demand, encrypted, with point-in-time recovery, deletion protection and RETAIN', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'address', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        TableName: Match.absent(),
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('creates the sync state table with a TTL for abandoned pass data', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      }),
      DeletionPolicy: 'Retain',
    });
  });

  it('creates the attribution table with a TTL, encrypted, with point-in-time recovery, deletion protection and RETAIN', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        TableName: Match.absent(),
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('schedules one incremental sync, one full sync and one propagation per region with the region in the input', () => {
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    const inputs = Object.values(schedules).map((s) => JSON.parse(s.Properties.Target.Input));
    expect(inputs).toHaveLength(REGIONS.length * 3);
    for (const region of REGIONS) {
      expect(inputs).toContainEqual({ region, mode: 'incremental' });
      expect(inputs).toContainEqual({ region, mode: 'full' });
      expect(inputs).toContainEqual({ region, mode: 'propagate' });
    }
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      Target: Match.objectLike({ RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 3 }), DeadLetterConfig: { Arn: Match.anyValue() } }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(17 3 * * ? *)' });
  });

  it('retries failed asynchronous invocations and sends them to the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
  });

  it('configures the sync function on Node.js 22, ARM, with the tables and regions in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          SYNC_REGIONS: REGIONS.join(','),
          SES_REQUESTS_PER_SECOND: '1',
          SUPPRESSION_TABLE_NAME: { Ref: Match.stringLikeRegexp('^SyncSuppressionTable') },
          SYNC_STATE_TABLE_NAME: { Ref: Match.stringLikeRegexp('^SyncSyncStateTable') },
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  it('grants the sync only what it uses: SES list reads, propagation, item-level table access and its dead-letter queue', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      String(JSON.stringify(p)).includes('ses:ListSuppressedDestinations'),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
    expect(actions).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PartiQLInsert',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:UpdateItem',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ses:ListSuppressedDestinations',
        // Propagation (enforce, the default): see test/regional-stack.cdk.test.ts.
        'ses:GetSuppressedDestination',
        'ses:PutSuppressedDestination',
        'ses:DeleteSuppressedDestination',
        'ses:CreateImportJob',
        'ses:ListImportJobs',
        'ses:GetImportJob',
        's3:PutObject',
        's3:GetObject',
        's3:DeleteObject',
        // The on-failure destination: failed invocations go to the dead-letter queue.
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(actions.some((a) => a.endsWith('*'))).toBe(false);
    expect(template.findResources('AWS::IAM::Role', { Properties: { ManagedPolicyArns: Match.anyValue() } })).toEqual({});
  });

  it('alarms on sync errors, dead letters and each stale region', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' });
    for (const region of REGIONS) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'SyncLagSeconds',
        Namespace: 'SesSuppressionGuard',
        Dimensions: Match.arrayWith([{ Name: 'Region', Value: region }]),
        Threshold: 3600,
        TreatMissingData: 'breaching',
      });
    }
  });

  it('outputs the names users and tools rely on', () => {
    template.hasOutput('SuppressionTableName', { Value: { Ref: Match.stringLikeRegexp('^SyncSuppressionTable') } });
    template.hasOutput('SyncFunctionName', { Value: { Ref: Match.stringLikeRegexp('^SyncSyncFunction') } });
    template.hasOutput('PropagationFunctionName', { Value: { Ref: Match.stringLikeRegexp('^SyncSyncFunction') } });
  });

  it('keeps the logical IDs of its stateful resources, so an update never replaces a table, queue or log group', () => {
    const ids = (type: string) => Object.keys(template.findResources(type)).sort();
    expect(ids('AWS::DynamoDB::Table')).toEqual([
      'SyncSuppressionTable8E544157',
      'SyncSyncStateTableD47212A1',
      'TablesAttributionTable871DC88D',
    ]);
    expect(ids('AWS::SQS::Queue')).toEqual(['EventsDeadLetterQueueC3DB07E1', 'EventsQueue7396B467', 'SyncSyncDeadLetterQueueE6FCB0F4']);
    expect(ids('AWS::Logs::LogGroup')).toEqual([
      'EventsFunctionLogsE5D1B2FA',
      'GuardGuardFunctionLogs38E7291B',
      'SyncSyncFunctionLogs52FBEBE8',
    ]);
  });

  it("gives operators a managed policy with exactly the CLI's actions, each on this stack's resources", () => {
    // Prepare
    const policies = template.findResources('AWS::IAM::ManagedPolicy');
    expect(Object.keys(policies)).toHaveLength(1);
    const [id, policy] = Object.entries(policies)[0]!;
    const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
    const actionsOf = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
    const resourcesOf = (action: string) => JSON.stringify(statements.filter((s) => actionsOf(s).includes(action)).map((s) => s.Resource));

    // Assess: the IAM table of cli/README.md names every action the policy grants, and no other
    const documented = readFileSync(join(__dirname, '..', 'cli', 'README.md'), 'utf8').split('## IAM permissions')[1] ?? '';
    const documentedActions = [...documented.matchAll(/`([a-z0-9]+:[A-Za-z]+)`/g)]
      .map((m) => m[1]!)
      .filter((a) => a !== 'sts:GetCallerIdentity');
    expect([...new Set(statements.flatMap(actionsOf))].sort()).toEqual([...new Set(documentedActions)].sort());
    expect(resourcesOf('dynamodb:Scan')).toMatch(/SyncSuppressionTable8E544157/);
    expect(resourcesOf('dynamodb:Scan')).not.toMatch(/SyncSyncStateTable/);
    expect(resourcesOf('dynamodb:PutItem')).toMatch(/SyncSyncStateTableD47212A1/);
    expect(resourcesOf('dynamodb:PutItem')).not.toMatch(/SyncSuppressionTable/);
    expect(resourcesOf('lambda:GetFunctionConfiguration')).toMatch(/SyncSyncFunction/);
    expect(resourcesOf('lambda:GetFunctionConfiguration')).not.toMatch(/GuardGuardFunction/);
    expect(resourcesOf('cloudformation:DescribeStacks')).toContain(JSON.stringify({ Ref: 'AWS::StackId' }));
    expect(resourcesOf('dynamodb:Query')).toMatch(/TablesAttributionTable871DC88D/);
    expect(resourcesOf('dynamodb:Scan')).not.toMatch(/TablesAttributionTable/);
    expect(resourcesOf('dynamodb:PutItem')).not.toMatch(/TablesAttributionTable/);
    expect(resourcesOf('ses:ListEmailIdentities')).toBe(JSON.stringify(['*']));
    for (const region of REGIONS) {
      expect(resourcesOf('ses:GetEmailIdentity')).toContain(`:ses:${region}:`);
      expect(resourcesOf('cloudformation:DescribeStacks')).toContain(`:cloudformation:${region}:`);
      expect(resourcesOf('cloudformation:DescribeStacks')).toContain(`:stack/SesSuppressionGuard-${region}/*`);
      expect(resourcesOf('ses:PutEmailIdentityConfigurationSetAttributes')).toContain(`:ses:${region}:`);
      expect(resourcesOf('ses:PutEmailIdentityConfigurationSetAttributes')).toContain(':identity/*');
      expect(resourcesOf('ses:GetConfigurationSetEventDestinations')).toContain(`:ses:${region}:`);
      expect(resourcesOf('ses:GetConfigurationSetEventDestinations')).toContain(':configuration-set/*');
      expect(resourcesOf('ses:GetConfigurationSetEventDestinations')).not.toContain(':identity/*');
    }
    template.hasOutput('OperatorPolicyArn', { Value: { Ref: id } });
  });

  it('follows the configuration: regions, schedules, pacing and alarm thresholds', () => {
    const custom = synthStack({
      regions: ['eu-central-1'],
      syncSchedule: 'rate(5 minutes)',
      requestsPerSecond: 2,
      staleAfterMinutes: 30,
    }).template;
    custom.resourceCountIs('AWS::Scheduler::Schedule', 3);
    custom.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(5 minutes)' });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SYNC_REGIONS: 'eu-central-1', SES_REQUESTS_PER_SECOND: '2' }) },
    });
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SyncLagSeconds', Threshold: 1800 });
  });
});

describe('Project: cdk.json', () => {
  it("sets every feature flag whose recommended value differs from the CDK's unconfigured behaviour, as cdk init does", () => {
    // Prepare
    const { app } = synthStack();

    // Act
    const assembly = app.synth();

    // Assess: the report the CDK CLI reads to print "N feature flags are not configured"
    const report = assembly.manifest.artifacts?.['aws-cdk-lib/feature-flag-report']?.properties as {
      flags: Record<string, { userValue?: unknown; recommendedValue?: unknown; unconfiguredBehavesLike?: { v2?: unknown } }>;
    };
    const unconfigured = Object.entries(report.flags)
      .filter(([, flag]) => !('userValue' in flag) && flag.recommendedValue !== (flag.unconfiguredBehavesLike?.v2 ?? false))
      .map(([name]) => name);
    expect(Object.keys(report.flags).length).toBeGreaterThan(50);
    expect(unconfigured).toEqual([]);
  });
});

describe('cdk-nag: AwsSolutions', () => {
  it('synthesizes with zero unacknowledged findings', () => {
    const { app } = synthStack();
    expect(() => app.synth()).not.toThrow();
  });

  it('fails synthesis when a resource breaks a rule, so the check above can fail', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'ssg-nag-')) });
    const stack = new Stack(app, STACK_NAME);
    new sqs.Queue(stack, 'PlainQueue');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });
});

describe('Method: SuppressionTables.grantEventIngester', () => {
  it('grants reads and updates of canonical items and the two writes of counting, nothing else', () => {
    // Prepare
    const stack = new Stack(new App(), 'Grants');
    const tables = new SuppressionTables(stack, 'Tables');
    const role = new iam.Role(stack, 'Ingester', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // Act
    tables.grantEventIngester(role);

    // Assess
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    const ref = (logicalIdPrefix: string) => (s: { Resource: unknown }) => JSON.stringify(s.Resource).includes(logicalIdPrefix);
    expect(statements.filter(ref('SuppressionTable')).flatMap((s) => s.Action)).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(statements.filter(ref('AttributionTable')).flatMap((s) => s.Action)).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(statements.filter(ref('StateTable'))).toEqual([]);
  });
});
