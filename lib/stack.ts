import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { type ServiceConfig, SMTP_CANARY_MARGIN_MINUTES, SMTP_CANARY_PORT } from './config';
import { ServiceDashboard } from './dashboard';
import { EventIngestion } from './event-ingestion';
import { OperatorPolicy } from './operator-policy';
import { PreSendGuard } from './pre-send-guard';
import { importBucketPattern } from './regional-stack';
import { SmtpCanary } from './smtp-canary';
import { SuppressionSync } from './suppression-sync';
import { SuppressionTables } from './tables';

/** Props of {@link SesSuppressionGuardStack}. */
export interface SesSuppressionGuardStackProps extends StackProps {
  readonly config: ServiceConfig;
}

/**
 * The service's home stack, in its home region: the tables, the sync and guard functions, the schedules and the
 * alarms. Each SES region also has a regional stack (`lib/regional-stack.ts`) with what must live in that region.
 */
export class SesSuppressionGuardStack extends Stack {
  public readonly tables: SuppressionTables;
  public readonly sync: SuppressionSync;
  public readonly guard: PreSendGuard;
  public readonly operatorPolicy: OperatorPolicy;
  /** The home end of the SES event plumbing, unless events are off. */
  public readonly events?: EventIngestion;
  public readonly dashboard: ServiceDashboard;
  /** The SMTP canary, when smtpCanaries names any. */
  public readonly smtpCanary?: SmtpCanary;

  constructor(scope: Construct, id: string, props: SesSuppressionGuardStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.tables = new SuppressionTables(this, 'Tables');
    this.sync = new SuppressionSync(this, 'Sync', {
      tables: this.tables,
      regions: config.regions,
      syncSchedule: config.syncSchedule,
      fullSyncSchedule: config.fullSyncSchedule,
      requestsPerSecond: config.requestsPerSecond,
      overlapMinutes: config.overlapMinutes,
      staleAfterMinutes: config.staleAfterMinutes,
      syncErrorAlarmThreshold: config.syncErrorAlarmThreshold,
      propagation: config.propagation,
      propagateTo: config.propagateTo,
      // The regional stacks name their buckets by the same pattern, so no reference between stacks is needed.
      importBucketPattern: importBucketPattern(),
      bulkThreshold: config.propagationBulkThreshold,
      propagationSchedule: config.propagationSchedule,
      driftAlarmMinutes: config.driftAlarmMinutes,
    });

    this.guard = new PreSendGuard(this, 'Guard', {
      table: this.tables.table,
      stateTable: this.tables.stateTable,
      regions: config.regions,
      staleAfterMinutes: config.guardStaleAfterMinutes,
      staleMode: config.guardStaleMode,
      cacheTtlSeconds: config.guardCacheTtlSeconds,
      requestsPerSecond: config.requestsPerSecond,
      eventConfigurationSets: config.events === 'on' ? [config.eventConfigurationSet, ...config.eventConfigurationSets] : 'off',
      functionUrl: config.guardFunctionUrl,
    });

    this.operatorPolicy = new OperatorPolicy(this, 'Operator', {
      tables: this.tables,
      syncFunction: this.sync.syncFunction,
      guardFunction: this.guard.function,
      regions: config.regions,
    });

    if (config.events === 'on') {
      this.events = new EventIngestion(this, 'Events', {
        table: this.tables.table,
        attributionTable: this.tables.attributionTable,
        retentionDays: config.attributionRetentionDays,
        ...(config.propagation === 'enforce' ? { propagation: { function: this.sync.syncFunction, regions: config.propagateTo } } : {}),
      });
    }

    if (config.smtpCanaries.length > 0) {
      this.smtpCanary = new SmtpCanary(this, 'SmtpCanary', {
        canaries: config.smtpCanaries,
        schedule: config.smtpCanarySchedule,
        port: SMTP_CANARY_PORT,
        marginMinutes: SMTP_CANARY_MARGIN_MINUTES,
      });
    }

    this.dashboard = new ServiceDashboard(this, 'Dashboard', {
      regions: config.regions,
      propagateTo: config.propagation === 'off' ? [] : config.propagateTo,
      ...(this.events ? { eventQueue: this.events.queue } : {}),
      smtpCanaries: config.smtpCanaries,
    });

    if (config.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn);
      for (const alarm of [...this.sync.alarms, ...(this.events?.alarms ?? []), ...(this.smtpCanary?.alarms ?? [])])
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    }

    new CfnOutput(this, 'SuppressionTableName', { value: this.tables.table.tableName, description: 'Canonical suppression table' });
    new CfnOutput(this, 'SyncStateTableName', { value: this.tables.stateTable.tableName, description: 'Per-region sync state' });
    new CfnOutput(this, 'SyncFunctionName', {
      value: this.sync.syncFunction.functionName,
      description: 'Sync function; invoke with {"region": "...", "mode": "incremental" | "full"}',
    });
    new CfnOutput(this, 'PropagationFunctionName', {
      value: this.sync.syncFunction.functionName,
      description: `Propagation (${config.propagation}; it runs in the sync function); invoke with {"region": "...", "mode": "propagate"}`,
    });
    new CfnOutput(this, 'GuardFunctionName', {
      value: this.guard.function.functionName,
      description: 'Pre-send guard; invoke with {"from": "...", "region": "...", "recipients": [...]}',
    });
    if (this.guard.url)
      new CfnOutput(this, 'GuardFunctionUrl', {
        value: this.guard.url.url,
        description: 'Pre-send guard function URL (AWS_IAM auth; POST the request as JSON)',
      });
    new CfnOutput(this, 'OperatorPolicyArn', {
      value: this.operatorPolicy.policy.managedPolicyArn,
      description:
        "Customer-managed policy with what the operator CLI (ssg) needs; attach it to the operators' role, group or permission set",
    });
    if (this.events) {
      new CfnOutput(this, 'EventIngestionFunctionName', {
        value: this.events.function.functionName,
        description: "Ingests SES events from the queue the regions' forwarding rules fill (SQS event source)",
      });
      new CfnOutput(this, 'EventBusArn', { value: this.events.bus.eventBusArn, description: "Receives every region's SES events" });
      new CfnOutput(this, 'EventDeadLetterQueueUrl', {
        value: this.events.deadLetterQueue.queueUrl,
        description: 'SES events that could not be ingested',
      });
      new CfnOutput(this, 'AttributionTableName', {
        value: this.tables.attributionTable.tableName,
        description: 'Daily send counters per sender',
      });
    }
    if (this.smtpCanary) {
      new CfnOutput(this, 'SmtpCanaryFunctionName', {
        value: this.smtpCanary.function.functionName,
        description: 'SMTP canary; invoke with {} to probe every configured credential now (returns each verdict, sends no mail)',
      });
    }
    new CfnOutput(this, 'DashboardName', {
      value: this.dashboard.dashboard.dashboardName,
      description: 'CloudWatch dashboard (home region)',
    });
    new CfnOutput(this, 'SyncDeadLetterQueueUrl', { value: this.sync.deadLetterQueue.queueUrl, description: 'Failed sync invocations' });
  }
}
