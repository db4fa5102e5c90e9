import * as path from 'node:path';
import { Aws, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { writeEnvironment } from '../lambdas/domain/settings';
import { importBucketName, type PropagationMode, SYNC_ENVIRONMENT, SYNC_METRICS } from '../lambdas/sync/settings';
import { DEFAULT_CONFIG } from './config';
import { deadLetterAlarm, deadLetterQueue } from './dead-letter-queue';
import { findingEnvironment, logicalId, ServiceFunction } from './service-function';
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
  /** Regions propagation writes into (each one of `regions`). @default every region */
  readonly propagateTo?: readonly string[];
  /**
   * Name of each region's import bucket with `{region}` for the region (the regional stacks create the buckets);
   * required unless propagation is `off`.
   */
  readonly importBucketPattern?: string;
  /** Delta size from which propagation uses import jobs. @default 500 */
  readonly bulkThreshold?: number;
  /** Schedule of the propagation run of each `propagateTo` region. @default 'rate(15 minutes)' */
  readonly propagationSchedule?: string;
  /** A region whose drift stays above zero this long raises its drift alarm. @default 60 */
  readonly driftAlarmMinutes?: number;
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
  /** What propagation may do, and where. */
  public readonly propagation: PropagationMode;
  public readonly propagateTo: readonly string[];

  constructor(scope: Construct, id: string, props: SuppressionSyncProps) {
    super(scope, id);
    if (props.regions.length === 0) {
      throw new Error(`regions must not be empty, got ${JSON.stringify(props.regions)}`);
    }
    this.regions = props.regions;
    const propagation = props.propagation ?? DEFAULT_CONFIG.propagation;
    const propagateTo = props.propagateTo ?? props.regions;
    const outside = propagateTo.filter((region) => !props.regions.includes(region));
    if (outside.length > 0) {
      throw new Error(`propagateTo must name only synced regions (${props.regions.join(', ')}), got ${JSON.stringify(outside)}`);
    }
    if (propagation !== 'off' && !props.importBucketPattern?.includes('{region}')) {
      throw new Error(
        `importBucketPattern must contain {region} when propagation is ${propagation}, got ${JSON.stringify(props.importBucketPattern)}`,
      );
    }
    this.propagation = propagation;
    this.propagateTo = propagateTo;
    const staleAfterMinutes = props.staleAfterMinutes ?? DEFAULT_CONFIG.staleAfterMinutes;

    this.deadLetterQueue = deadLetterQueue(
      this,
      'SyncDeadLetterQueue',
      'This queue is itself the dead-letter destination of the sync function and its schedules.',
    );

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
        propagation,
        propagateTo,
        // Off: nothing reads it, and no bucket is granted.
        importBucketPattern: props.importBucketPattern ?? 'none-{region}',
        bulkThreshold: props.bulkThreshold ?? DEFAULT_CONFIG.propagationBulkThreshold,
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
    const starActions = this.grantPropagation(props.importBucketPattern ?? '');
    Validations.of(this.syncFunction.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `${['ses:ListSuppressedDestinations', ...starActions].join(', ')}: no required resource type in the Service Authorization Reference, so "*" is the only valid resource for the account's list${starActions.length > 0 ? '; the propagation actions are limited to the propagateTo regions by aws:RequestedRegion' : ' (read-only)'}.`,
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
      const suffix = regionSuffix(region);
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

    if (propagation !== 'off') {
      for (const region of propagateTo) {
        const suffix = regionSuffix(region);
        this.schedules.push(
          this.schedule(`Propagate${suffix}`, props.propagationSchedule ?? DEFAULT_CONFIG.propagationSchedule, {
            region,
            mode: 'propagate',
          }),
        );
      }
    }
    if (propagation === 'enforce') {
      const driftAlarmMinutes = props.driftAlarmMinutes ?? DEFAULT_CONFIG.driftAlarmMinutes;
      for (const region of propagateTo) {
        const suffix = regionSuffix(region);
        this.alarms.push(
          new cloudwatch.Alarm(this, `DriftAlarm${suffix}`, {
            alarmDescription: `The SES suppression list of ${region} has differed from the union of every region's suppressions for ${driftAlarmMinutes} minutes: propagation adds or withdraws addresses there without success (see the sync function's logs).`,
            metric: new cloudwatch.Metric({
              namespace: SYNC_METRICS.namespace,
              metricName: SYNC_METRICS.names.drift,
              dimensionsMap: SYNC_METRICS.dimensions(region),
              statistic: cloudwatch.Stats.MINIMUM,
              period: Duration.minutes(driftAlarmMinutes),
            }),
            threshold: 0,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 1,
            // No drift data means no propagation run finished: a failing run raises the error and dead-letter alarms,
            // and a region that is merely quiet is not drifting.
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
          new cloudwatch.Alarm(this, `ImportJobsFailedAlarm${suffix}`, {
            alarmDescription: `SES import jobs of propagation into ${region} failed (see the sync function's logs and ListImportJobs in ${region}).`,
            metric: new cloudwatch.Metric({
              namespace: SYNC_METRICS.namespace,
              metricName: SYNC_METRICS.names.importJobsFailed,
              dimensionsMap: SYNC_METRICS.dimensions(region),
              statistic: cloudwatch.Stats.SUM,
              period: Duration.minutes(15),
            }),
            threshold: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
        );
      }
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
      deadLetterAlarm(
        this,
        'DeadLetterAlarm',
        this.deadLetterQueue,
        'Sync invocations exhausted their retries and landed in the dead-letter queue.',
      ),
    );
  }

  /**
   * What propagation needs beyond reading the SES lists, by mode: `off` nothing; `report` the read-only SES actions;
   * `enforce` also adding and removing entries, import jobs, and the files of each `propagateTo` region's import bucket.
   */
  private grantPropagation(bucketPattern: string): string[] {
    if (this.propagation === 'off') return [];
    const stack = Stack.of(this);
    const inPropagateTo = { StringEquals: { 'aws:RequestedRegion': [...this.propagateTo] } };
    const enforce = this.propagation === 'enforce';
    const anyResource = enforce
      ? [
          'ses:GetSuppressedDestination',
          'ses:PutSuppressedDestination',
          'ses:DeleteSuppressedDestination',
          'ses:CreateImportJob',
          'ses:ListImportJobs',
        ]
      : ['ses:GetSuppressedDestination', 'ses:ListImportJobs'];
    this.syncFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: enforce ? 'PropagateSesSuppressionList' : 'ReadSesSuppressionEntries',
        actions: anyResource,
        // None of these has a required resource type in the Service Authorization Reference (the suppressed-
        // destination actions take a tenant only for tenant lists); the region condition keeps them to propagateTo.
        resources: ['*'],
        conditions: inPropagateTo,
      }),
    );
    this.syncFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadImportJobs',
        actions: ['ses:GetImportJob'],
        resources: this.propagateTo.map((region) => stack.formatArn({ service: 'ses', region, resource: 'import-job', resourceName: '*' })),
      }),
    );
    const { partition, account } = findingEnvironment(stack);
    for (const region of this.propagateTo) {
      Validations.of(this.syncFunction.executionRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${partition}:ses:${region}:${account}:import-job/*]`,
        reason: `Propagation follows the import jobs it creates in ${region}, whose IDs SES assigns; ses:GetImportJob is read-only.`,
      });
    }
    if (!enforce) return anyResource;

    this.syncFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteImportFiles',
        actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
        resources: this.propagateTo.map((region) => `arn:${stack.partition}:s3:::${importBucketName(bucketPattern, region)}/*`),
      }),
    );
    for (const region of this.propagateTo) {
      Validations.of(this.syncFunction.executionRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${partition}:s3:::${importBucketName(bucketPattern.replace(Aws.ACCOUNT_ID, account), region)}/*]`,
        reason: `The import files of ${region} are named by the run that writes them; the bucket holds nothing else.`,
      });
    }
    return anyResource;
  }

  private schedule(id: string, expression: string, input: { region: string; mode: string }): scheduler.Schedule {
    const schedule = new scheduler.Schedule(this, id, {
      description:
        input.mode === 'propagate'
          ? `propagation of every region's suppressions into the SES suppression list in ${input.region}`
          : `${input.mode} sync of the SES suppression list in ${input.region}`,
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

/** `us-east-1` as `UsEast1`, for construct IDs. */
function regionSuffix(region: string): string {
  return region.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}
