import { Match } from 'aws-cdk-lib/assertions';
import { synthStack } from './support/cdk';

describe('Home stack: SES events, attribution and the dashboard', () => {
  const { template } = synthStack();

  it('creates the bus the regions forward to, and a rule from it into an encrypted queue with a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'ses-suppression-guard-events' });
    const rules = Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventBusName: Match.anyValue() } }));
    const toQueue = rules.find((r) => JSON.stringify(r.Properties.Targets).includes('EventsQueue'))!;
    expect(toQueue.Properties.EventPattern).toEqual({
      source: ['aws.ses'],
      'detail-type': ['Email Sent', 'Email Rejected', 'Email Bounced', 'Email Complaint Received', 'Email Delivered'],
    });
    expect(toQueue.Properties.Targets[0].DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(/EventsDeadLetterQueue/);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 180,
      RedrivePolicy: {
        maxReceiveCount: 5,
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsDeadLetterQueue'), 'Arn'] },
      },
    });
    // EventBridge may send to the queue only for this rule.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: Match.anyValue() }),
        ]),
      },
    });
  });

  it('consumes the queue with the ingestion function, reporting partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('^EventsFunction') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventsQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 25,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          ATTRIBUTION_TABLE_NAME: { Ref: Match.stringLikeRegexp('AttributionTable') },
          PROPAGATION_FUNCTION_NAME: { Ref: Match.stringLikeRegexp('^SyncSyncFunction') },
          PROPAGATE_TO_REGIONS: 'us-east-1,us-west-2,eu-west-1',
        }),
      },
    });
    template.hasOutput('EventIngestionFunctionName', { Value: { Ref: Match.stringLikeRegexp('^EventsFunction') } });
    template.hasOutput('AttributionTableName', { Value: { Ref: Match.stringLikeRegexp('AttributionTable') } });
  });

  it('starts no targeted propagation unless propagation enforces', () => {
    const report = synthStack({ propagation: 'report' }).template;
    report.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PROPAGATION_FUNCTION_NAME: 'none' }) },
    });
  });

  it('alarms on dead-lettered events and on a backlog', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsDeadLetterQueue'), 'QueueName'] } }],
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 300 });
  });

  it("has a dashboard with every region's sync, drift and reputation, the events and the guard's verdicts", () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) expect(body).toContain(region);
    for (const name of [
      'SyncLagSeconds',
      'ItemsWritten',
      'PropagationDrift',
      'Reputation.BounceRate',
      'Reputation.ComplaintRate',
      'EventsIngested',
      'IngestionAge',
      'GuardChecks',
      'GuardProblems',
    ]) {
      expect(body).toContain(name);
    }
  });

  it('events off: no bus, queue, ingestion function or event widgets', () => {
    const off = synthStack({ events: 'off' }).template;
    off.resourceCountIs('AWS::Events::EventBus', 0);
    off.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(JSON.stringify(off.findResources('AWS::CloudWatch::Dashboard'))).not.toContain('EventsIngested');
    expect(Object.keys(off.toJSON().Outputs)).not.toContain('EventIngestionFunctionName');
  });
});
