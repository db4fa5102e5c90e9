import { Match } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../lib/config';
import { isCompleteSecretArn, secretPolicyResource, smtpCanaryTimeout } from '../lib/smtp-canary';
import { synthStack } from './support/cdk';

const COMPLETE = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:smtp/gmail-relay-AbCdEf';
const PARTIAL = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:smtp/eu-relay';
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CANARIES = [
  { name: 'gmail-relay', region: 'us-east-1', secretArn: COMPLETE },
  { name: 'eu_relay', region: 'eu-west-1', secretArn: PARTIAL, kmsKeyArn: KEY },
];

// biome-ignore lint/suspicious/noExplicitAny: IAM statements are free-form JSON.
type Statement = Record<string, any>;

describe('SMTP canary: template', () => {
  const { app, template } = synthStack({ smtpCanaries: CANARIES });
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: Statement }> };
  const statements = (): Statement[] =>
    Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
  const actions = (s: Statement): string[] => [s.Action].flat();

  it('deploys nothing of the canary without canaries', () => {
    const none = synthStack().template;
    expect(JSON.stringify(none.toJSON())).not.toMatch(/SmtpCanary|secretsmanager/);
  });

  it('runs one Node.js 22 function, timed for its canaries, on the schedule (default hourly)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Timeout: smtpCanaryTimeout(2).toSeconds(),
      Environment: {
        Variables: Match.objectLike({
          SMTP_CANARIES: JSON.stringify(CANARIES.map(({ name, region, secretArn }) => ({ name, region, secretArn }))),
          SMTP_CANARY_PORT: '587',
          SMTP_CANARY_CONCURRENCY: '4',
        }),
      },
    });
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ SMTP_CANARY_PORT: Match.anyValue() }) } },
    });
    const [canaryId] = Object.keys(functions);
    expect(Object.keys(functions)).toHaveLength(1);
    for (const [name, value] of Object.entries(functions[canaryId!]!.Properties.Environment.Variables as Record<string, string>)) {
      // The local overrides are never deployed.
      expect(name).not.toMatch(/SSG_SMTP_ENDPOINTS|NODE_EXTRA_CA_CERTS|AWS_ENDPOINT_URL/);
      expect(JSON.stringify(value)).not.toContain('kms');
    }
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 hour)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [canaryId, 'Arn'] } }),
    });
    template.hasOutput('SmtpCanaryFunctionName', { Value: { Ref: canaryId } });
    // Timeout grows with the canaries, a few at a time, and stays within Lambda's 15 minutes.
    expect(smtpCanaryTimeout(4).toSeconds()).toBe(smtpCanaryTimeout(1).toSeconds());
    expect(smtpCanaryTimeout(20).toSeconds()).toBeGreaterThan(smtpCanaryTimeout(4).toSeconds());
    expect(smtpCanaryTimeout(20).toSeconds()).toBeLessThanOrEqual(900);
  });

  it('grants GetSecretValue on exactly the configured secrets, and nothing broader', () => {
    const secretStatements = statements().filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements).toHaveLength(1);
    expect(secretStatements[0]).toMatchObject({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue' });
    expect([secretStatements[0]!.Resource].flat().sort()).toEqual([COMPLETE, `${PARTIAL}-??????`].sort());
    for (const s of statements()) {
      expect(actions(s).filter((a) => /secretsmanager:(\*|Describe|List|Put|Create|Delete|Update)/.test(a))).toEqual([]);
      expect(actions(s)).not.toContain('*');
    }
  });

  it("grants kms:Decrypt on a canary's key only through Secrets Manager in the secret's region", () => {
    const decrypt = statements().filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    expect(decrypt).toEqual([
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Resource: KEY,
        Condition: { StringEquals: { 'kms:ViaService': ['secretsmanager.eu-west-1.amazonaws.com'] } },
      }),
    ]);
  });

  it('alarms per canary: refused credentials (missing data keeps the verdict), and not checking (missing data breaches)', () => {
    for (const canary of CANARIES) {
      const dimensions = [
        { Name: 'Canary', Value: canary.name },
        { Name: 'Region', Value: canary.region },
        { Name: 'service', Value: 'ses-suppression-smtp-canary' },
      ];
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'SesSuppressionGuard',
        MetricName: 'SmtpCanaryAuth',
        Dimensions: dimensions,
        Statistic: 'Minimum',
        Period: 65 * 60,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'ignore',
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'SmtpCanaryUnchecked',
        Dimensions: dimensions,
        Period: 65 * 60,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 2,
        TreatMissingData: 'breaching',
      });
    }
    const dashboard = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    expect(dashboard).toContain('SmtpCanaryAuth');
    expect(dashboard).toContain('gmail-relay');
  });

  it('sends the canary alarms to the alarm topic, and sizes their window from the schedule', () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:ops';
    const withTopic = synthStack({
      smtpCanaries: CANARIES.slice(0, 1),
      alarmTopicArn: topic,
      smtpCanarySchedule: 'cron(0 */6 * * ? *)',
    }).template;
    withTopic.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SmtpCanaryAuth', AlarmActions: [topic], Period: 365 * 60 });
    withTopic.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SmtpCanaryUnchecked', AlarmActions: [topic] });
  });

  it('synthesizes with zero unacknowledged cdk-nag findings', () => {
    expect(() => app.synth()).not.toThrow();
  });
});

describe('SMTP canary: ARNs', () => {
  it('reads a name ending in a hyphen and 6 characters as a complete ARN, as Secrets Manager does', () => {
    expect(isCompleteSecretArn(COMPLETE)).toBe(true);
    expect(isCompleteSecretArn(PARTIAL)).toBe(false);
    expect(secretPolicyResource(PARTIAL)).toBe(`${PARTIAL}-??????`);
    expect(secretPolicyResource(COMPLETE)).toBe(COMPLETE);
  });
});

describe('SMTP canary: configuration', () => {
  const canary = { name: 'relay', region: 'us-east-1', secretArn: COMPLETE };
  const error = (config: Record<string, unknown>): string => {
    try {
      parseConfig(config);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected a configuration error');
  };

  it('defaults to no canaries, hourly', () => {
    expect(parseConfig({})).toMatchObject({ smtpCanaries: [], smtpCanarySchedule: 'rate(1 hour)' });
    expect(parseConfig({ smtpCanaries: [canary, { ...canary, name: 'b', secretArn: PARTIAL, kmsKeyArn: KEY }] }).smtpCanaries).toHaveLength(
      2,
    );
  });

  it('names the field and the value of each mistake', () => {
    expect(error({ smtpCanaries: [{ ...canary, name: 'gmail relay' }] })).toMatch(
      /ses-suppression-guard\.smtpCanaries\.0\.name must be letters, digits, - and _ .*got "gmail relay"/,
    );
    expect(error({ smtpCanaries: [{ ...canary, name: 'x'.repeat(65) }] })).toMatch(
      /smtpCanaries\.0\.name must be .*at most 64 characters\), got "x{65}"/,
    );
    expect(error({ smtpCanaries: [canary, canary] })).toMatch(/smtpCanaries\.1\.name must be unique, got "relay" twice/);
    expect(error({ smtpCanaries: [{ ...canary, region: 'us-east-9' }] })).toMatch(
      /smtpCanaries\.0\.region must be an SES region .*got "us-east-9"/,
    );
    expect(error({ smtpCanaries: [{ ...canary, secretArn: 'arn:aws:ssm:us-east-1:123456789012:parameter/x' }] })).toMatch(
      /smtpCanaries\.0\.secretArn must be a Secrets Manager secret ARN .*got "arn:aws:ssm/,
    );
    expect(error({ smtpCanaries: [{ ...canary, kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/smtp' }] })).toMatch(
      /smtpCanaries\.0\.kmsKeyArn must be the ARN of the KMS key .*\(not an alias\), got/,
    );
    expect(error({ smtpCanaries: [{ ...canary, password: 'x' }] })).toMatch(/smtpCanaries\.0 has unknown key "password"/);
    expect(error({ smtpCanaries: 'relay' })).toMatch(/smtpCanaries must be a list of/);
    expect(error({ smtpCanaries: [canary], smtpCanarySchedule: 'rate(1 hours)' })).toMatch(
      /smtpCanarySchedule "rate\(1 hours\)" must use the singular unit/,
    );
    expect(error({ smtpCanaries: [canary], smtpCanarySchedule: 'rate(2 days)' })).toMatch(
      /smtpCanarySchedule must run at least every 1435 minutes/,
    );
  });

  it('bounds the list at 20 canaries and the excerpt of a long value', () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ ...canary, name: `c${i}` }));
    expect(error({ smtpCanaries: many })).toMatch(/smtpCanaries must name at most 20 canaries, got 21/);
    const long = error({ smtpCanaries: [{ ...canary, secretArn: `arn:${'x'.repeat(5000)}` }] });
    expect(long).toMatch(/\(5006 characters\)/);
    expect(long.length).toBeLessThan(600);
  });
});
