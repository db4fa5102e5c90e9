import * as path from 'node:path';
import { type CfnElement, Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { writeEnvironment } from '../lambdas/domain/settings';
import { type PropagationMode, SYNC_ENVIRONMENT, SYNC_METRICS } from '../lambdas/sync/settings';
import { DEFAULT_CONFIG } from './config';
import { logicalId, ServiceFunction } from './service-function';
import { grantSyncWriter, type TableRefs } from './tables';

/** Props of {@link SuppressionSync}. */
export interface SuppressionSyncProps {
  /** The tables the sync writes. */
  readonly tables: TableRefs;
  /** SES regions whose suppression lists are synced. */
  readonly regions: readonly string[];
  /** @default 'rate(15 minutes)' */
  readonly syncSchedule?: string;
  /** @default 'cron(17 3 * * ? *)' - daily at 03:17 UTC */
  readonly fullSyncSchedule?: string;
  /** SES requests per second per region. @default 1 */
  readonly requestsPerSecond?: number;
  /** Overlap before the watermark for incremental passes. @default 10 */
  readonly overlapMinutes?: number;
  /** A region whose last successful sync is older than this raises an alarm. @default 60 */
  readonly staleAfterMinutes?: number;
  /** Failed sync invocations within 15 minutes that raise the error alarm. @default 1 */
  readonly syncErrorAlarmThreshold?: number;
  /** What propagation may do. @default 'enforce' */
  readonly propagation?: PropagationMode;
  /** Regions propagation writes into. @default every region */
  readonly propagateTo?: readonly string[];
  /** Import bucket name with `{region}` for the region. */
  readonly importBucketPattern?: string;
  /** Delta size from which propagation uses import jobs. @default 500 */
  readonly bulkThreshold?: number;
}

/**
 * The sync function and one incremental and one full schedule per region, with retries ending in a dead-letter
 * queue and alarms on errors and stale regions.
 */
export class SuppressionSync extends Construct {
  public readonly syncFunction: ServiceFunction;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly schedules: scheduler.Schedule[] = [];
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly regions: readonly string[];
  public readonly scheduleRole: iam.Role;

  constructor(scope: Construct, id: string, props: SuppressionSyncProps) {
    super(scope, id);
    if (props.regions.length === 0) {
      throw new Error(`regions must not be empty, got ${JSON.stringify(props.regions)}`);
    }
    this.regions = props.regions;
    const staleAfterMinutes = props.staleAfterMinutes ?? DEFAULT_CONFIG.staleAfterMinutes;

    this.deadLetterQueue = new sqs.Queue(this, 'SyncDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the sync function and its schedules.',
    });

    this.syncFunction = new ServiceFunction(this, 'SyncFunction', {
      entry: path.join(__dirname, '..', 'lambdas', 'sync', 'handler.ts'),
      handler: 'handler',
      description: 'Syncs one region of the SES v2 suppression list into the canonical table',
      // A pass checkpoints before the deadline, so a long timeout only means more pages per invocation.
      timeout: Duration.minutes(15),
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      environment: writeEnvironment(SYNC_ENVIRONMENT, {
        suppressionTable: props.tables.table.tableName,
        stateTable: props.tables.stateTable.tableName,
        regions: props.regions,
        requestsPerSecond: props.requestsPerSecond ?? DEFAULT_CONFIG.requestsPerSecond,
        overlapSeconds: (props.overlapMinutes ?? DEFAULT_CONFIG.overlapMinutes) * 60,
        propagation: props.propagation ?? 'enforce',
        propagateTo: props.propagateTo ?? props.regions,
        importBucketPattern: props.importBucketPattern ?? 'ssg-imports-{region}',
        bulkThreshold: props.bulkThreshold ?? 500,
      }),
    });
    grantSyncWriter(props.tables, this.syncFunction);
    this.syncFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSesSuppressionList',
        actions: ['ses:ListSuppressedDestinations'],
        // ListSuppressedDestinations supports no resource-level permissions.
        resources: ['*'],
      }),
    );
    Validations.of(this.syncFunction.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:ListSuppressedDestinations has no resource types in the Service Authorization Reference; "*" is the only valid resource and the action is read-only.',
    });

    // One role for every schedule, holding invoke rights on the sync function only.
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: 'Lets the sync schedules invoke the sync function',
    });
    this.syncFunction.grantInvoke(this.scheduleRole);
    Validations.of(this.scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(this.syncFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'grantInvoke also covers versions and aliases of the sync function (its ARN with ":*"); no other function is reachable.',
    });

    for (const region of props.regions) {
      const suffix = region.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
      this.schedules.push(
        this.schedule(`Incremental${suffix}`, props.syncSchedule ?? DEFAULT_CONFIG.syncSchedule, { region, mode: 'incremental' }),
      );
      this.schedules.push(
        this.schedule(`Full${suffix}`, props.fullSyncSchedule ?? DEFAULT_CONFIG.fullSyncSchedule, { region, mode: 'full' }),
      );
      this.alarms.push(
        new cloudwatch.Alarm(this, `StaleAlarm${suffix}`, {
          alarmDescription: `The SES suppression list of ${region} has not synced successfully for more than ${staleAfterMinutes} minutes (or the sync is not running).`,
          metric: new cloudwatch.Metric({
            namespace: SYNC_METRICS.namespace,
            metricName: SYNC_METRICS.names.syncLag,
            dimensionsMap: SYNC_METRICS.dimensions(region),
            statistic: cloudwatch.Stats.MINIMUM,
            period: Duration.hours(1),
          }),
          threshold: staleAfterMinutes * 60,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          // No lag data for an hour means the sync is failing or not scheduled: that is stale too.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
    }

    this.alarms.push(
      new cloudwatch.Alarm(this, 'SyncErrorsAlarm', {
        alarmDescription: 'Sync invocations are failing (see the function logs and the dead-letter queue).',
        metric: this.syncFunction.metricErrors({ period: Duration.minutes(15), statistic: cloudwatch.Stats.SUM }),
        threshold: props.syncErrorAlarmThreshold ?? DEFAULT_CONFIG.syncErrorAlarmThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
        alarmDescription: 'Sync invocations exhausted their retries and landed in the dead-letter queue.',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  private schedule(id: string, expression: string, input: { region: string; mode: string }): scheduler.Schedule {
    const schedule = new scheduler.Schedule(this, id, {
      description: `${input.mode} sync of the SES suppression list in ${input.region}`,
      schedule: scheduler.ScheduleExpression.expression(expression),
      target: new targets.LambdaInvoke(this.syncFunction, {
        input: scheduler.ScheduleTargetInput.fromObject(input),
        role: this.scheduleRole,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
    return schedule;
  }
}
