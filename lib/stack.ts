import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ServiceConfig } from './config';
import { SuppressionSync } from './suppression-sync';

/** Props of {@link SesSuppressionGuardStack}. */
export interface SesSuppressionGuardStackProps extends StackProps {
  readonly config: ServiceConfig;
}

/** The whole service in one stack, deployed in a home region. */
export class SesSuppressionGuardStack extends Stack {
  public readonly sync: SuppressionSync;

  constructor(scope: Construct, id: string, props: SesSuppressionGuardStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.sync = new SuppressionSync(this, 'Sync', {
      regions: config.regions,
      syncSchedule: config.syncSchedule,
      fullSyncSchedule: config.fullSyncSchedule,
      requestsPerSecond: config.requestsPerSecond,
      overlapMinutes: config.overlapMinutes,
      staleAfterMinutes: config.staleAfterMinutes,
      syncErrorAlarmThreshold: config.syncErrorAlarmThreshold,
    });

    if (config.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn);
      for (const alarm of this.sync.alarms) alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    }

    new CfnOutput(this, 'SuppressionTableName', { value: this.sync.table.tableName, description: 'Canonical suppression table' });
    new CfnOutput(this, 'SyncStateTableName', { value: this.sync.stateTable.tableName, description: 'Per-region sync state' });
    new CfnOutput(this, 'SyncFunctionName', { value: this.sync.syncFunction.functionName, description: 'Sync function; invoke with {"region": "...", "mode": "incremental" | "full"}' });
    new CfnOutput(this, 'SyncDeadLetterQueueUrl', { value: this.sync.deadLetterQueue.queueUrl, description: 'Failed sync invocations' });
  }
}
