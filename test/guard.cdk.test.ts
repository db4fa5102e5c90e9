import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../lib/config';
import { PreSendGuard } from '../lib/pre-send-guard';
import { synthStack, TEST_REGIONS } from './support/cdk';

const REGIONS = TEST_REGIONS;

function guardPolicy(template: Template): Array<{ Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown }> {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('GuardGuardFunctionRole'));
  expect(policies).toHaveLength(1);
  return policies[0]![1].Properties.PolicyDocument.Statement;
}

describe('Construct: PreSendGuard', () => {
  const { template } = synthStack();

  it('configures the guard function with the tables, regions, staleness and cache settings in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 30,
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          SUPPRESSION_TABLE_NAME: { Ref: Match.stringLikeRegexp('^SyncSuppressionTable') },
          SYNC_STATE_TABLE_NAME: { Ref: Match.stringLikeRegexp('^SyncSyncStateTable') },
          SYNC_REGIONS: REGIONS.join(','),
          GUARD_STALE_AFTER_MINUTES: '60',
          GUARD_STALE_MODE: 'block',
          GUARD_CACHE_TTL_SECONDS: '60',
          SES_REQUESTS_PER_SECOND: '1',
          GUARD_EVENT_CONFIGURATION_SETS: 'ses-suppression-guard',
        },
      },
    });
  });

  it("lists the service's configuration set and the user's sets that deliver events, or says events are off", () => {
    // Prepare
    const guardVariables = (template: Template) =>
      Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('GuardGuardFunction'))?.[1].Properties
        .Environment.Variables;

    // Act
    const listed = synthStack({ eventConfigurationSet: 'ssg-events', eventConfigurationSets: ['marketing', 'transactional'] }).template;
    const off = synthStack({ events: 'off', eventConfigurationSets: ['marketing'] }).template;

    // Assess
    expect(guardVariables(listed).GUARD_EVENT_CONFIGURATION_SETS).toBe('ssg-events,marketing,transactional');
    expect(guardVariables(off).GUARD_EVENT_CONFIGURATION_SETS).toBe('(events off)');
  });

  it('grants BatchGetItem only on the canonical table, reads and shared SES answers on the state table, and read-only SES actions', () => {
    const statements = guardPolicy(template);
    const byAction = (action: string) => statements.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
    expect(actions).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ses:GetAccount',
        'ses:GetConfigurationSet',
        'ses:GetEmailIdentity',
        'ses:ListEmailIdentities',
      ].sort(),
    );
    expect(
      byAction('dynamodb:BatchGetItem')
        .map((s) => JSON.stringify(s.Resource))
        .sort(),
    ).toEqual([expect.stringMatching(/SyncSuppressionTable/), expect.stringMatching(/SyncSyncStateTable/)].sort());
    const suppression = byAction('dynamodb:BatchGetItem').find((s) => JSON.stringify(s.Resource).includes('SyncSuppressionTable'));
    expect(suppression?.Action).toBe('dynamodb:BatchGetItem');
    // Its only write: the SES answers its environments share, in the state table.
    const [put] = byAction('dynamodb:PutItem');
    expect(JSON.stringify(put?.Resource)).toMatch(/SyncSyncStateTable/);
    expect(put?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ses-lookup#*'] } });
    // Identity and configuration set reads are scoped to the configured regions' ARNs.
    for (const [action, resource] of [
      ['ses:GetEmailIdentity', 'identity'],
      ['ses:GetConfigurationSet', 'configuration-set'],
    ] as const) {
      const [statement] = byAction(action);
      const arns = JSON.stringify(statement?.Resource);
      for (const region of REGIONS) expect(arns).toContain(`:ses:${region}:`);
      expect(statement?.Resource as unknown[]).toHaveLength(REGIONS.length);
      expect(arns).toContain(`:${resource}/*`);
    }
    expect(byAction('ses:GetAccount')[0]?.Resource).toBe('*');
    expect(actions.some((a) => /^ses:(Send|Put|Delete|Create|Update)/.test(a) || a.endsWith('*'))).toBe(false);
  });

  it('outputs the guard function name, and the function URL only when enabled', () => {
    template.hasOutput('GuardFunctionName', { Value: { Ref: Match.stringLikeRegexp('^GuardGuardFunction') } });
    expect(template.findOutputs('GuardFunctionUrl')).toEqual({});
    template.resourceCountIs('AWS::Lambda::Url', 0);
  });

  it('adds an AWS_IAM function URL and its output when guardFunctionUrl is set', () => {
    const { template: withUrl } = synthStack({
      guardFunctionUrl: true,
      guardStaleMode: 'warn',
      guardStaleAfterMinutes: 30,
      guardCacheTtlSeconds: 15,
    });
    withUrl.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GuardGuardFunction'), 'Arn'] },
    });
    withUrl.hasOutput('GuardFunctionUrl', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GuardGuardFunctionFunctionUrl'), 'FunctionUrl'] },
    });
    withUrl.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ GUARD_STALE_MODE: 'warn', GUARD_STALE_AFTER_MINUTES: '30', GUARD_CACHE_TTL_SECONDS: '15' }),
      },
    });
  });

  it("grants a blast sender's role invoke rights on the guard and nothing else", () => {
    // Prepare
    const stack = new Stack(new App(), 'Blast');
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'address', type: dynamodb.AttributeType.STRING } });
    const state = new dynamodb.Table(stack, 'S', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    const guard = new PreSendGuard(stack, 'Guard', { table, stateTable: state, regions: ['us-east-1'] });
    const sender = new iam.Role(stack, 'BlastSender', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // Act
    guard.grantInvoke(sender);

    // Assess
    const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('BlastSender'),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0]![1].Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown[] }>;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Action: 'lambda:InvokeFunction', Effect: 'Allow' });
    // The function and its versions/aliases (ARN and ARN:*), no other resource.
    expect(statements[0]!.Resource).toHaveLength(2);
    for (const resource of statements[0]!.Resource) expect(JSON.stringify(resource)).toMatch(/"GuardGuardFunction[0-9A-F]+","Arn"/);
    expect(() => guard.grantInvokeUrl(sender)).toThrow(/no function URL/);
  });

  it('validates its props with messages that show the value', () => {
    const stack = new Stack(new App(), 'Invalid');
    const table = new dynamodb.Table(stack, 'T', { partitionKey: { name: 'address', type: dynamodb.AttributeType.STRING } });
    expect(() => new PreSendGuard(stack, 'NoRegions', { table, stateTable: table, regions: [] })).toThrow(
      'regions must not be empty, got []',
    );
    expect(
      () => new PreSendGuard(stack, 'BadMode', { table, stateTable: table, regions: ['us-east-1'], staleMode: 'maybe' as 'warn' }),
    ).toThrow('staleMode must be "block" or "warn", got "maybe"');
    expect(
      () => new PreSendGuard(stack, 'NoSets', { table, stateTable: table, regions: ['us-east-1'], eventConfigurationSets: [] }),
    ).toThrow('eventConfigurationSets must be "off" or a non-empty list of SES configuration set names, got []');
    expect(
      () => new PreSendGuard(stack, 'BadSet', { table, stateTable: table, regions: ['us-east-1'], eventConfigurationSets: ['my set'] }),
    ).toThrow('eventConfigurationSets must be "off" or a non-empty list of SES configuration set names, got ["my set"]');
    expect(() => parseConfig({ guardStaleMode: 'maybe' })).toThrow(/guardStaleMode must be "block" or "warn", got "maybe"/);
    expect(() => parseConfig({ guardFunctionUrl: 'yes' })).toThrow(/guardFunctionUrl must be true or false, got "yes"/);
  });
});

describe('cdk-nag: AwsSolutions (with the guard)', () => {
  it.each([[{}], [{ guardFunctionUrl: true }]])('synthesizes with zero unacknowledged findings for %j', (config) => {
    const { app } = synthStack(config);
    expect(() => app.synth()).not.toThrow();
  });

  it('reports an unacknowledged wildcard on the guard role, so the check above can fail', () => {
    // Prepare
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'ssg-guard-nag-')) });
    const stack = new Stack(app, 'Nag');
    const table = new dynamodb.Table(stack, 'T', {
      partitionKey: { name: 'address', type: dynamodb.AttributeType.STRING },
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    const guard = new PreSendGuard(stack, 'Guard', { table, stateTable: table, regions: ['us-east-1'] });
    guard.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ses:GetSuppressedDestination'], resources: ['arn:aws:ses:us-east-1:123456789012:*'] }),
    );
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act + Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});
