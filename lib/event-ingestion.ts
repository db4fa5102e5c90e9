import * as path from 'node:path';
import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SES_EVENT_BUS_NAME } from '../lambdas/domain/names';
import { writeEnvironment } from '../lambdas/domain/settings';
import { EVENTS_ENVIRONMENT, NO_PROPAGATION_FUNCTION } from '../lambdas/events/settings';
import { deadLetterAlarm, deadLetterQueue } from './dead-letter-queue';
import { logicalId, ServiceFunction } from './service-function';
import { sesEventPattern } from './ses-event-forwarding';
import { grantEventIngester } from './tables';

/** Props of {@link EventIngestion}. */
export interface EventIngestionProps {
  /** The canonical suppression table: bounces and complaints become origins there. */
  readonly table: dynamodb.ITable;
  /** The sender attribution counters. */
  readonly attributionTable: dynamodb.ITable;
  /** Days a day's sender counters are kept. */
  readonly retentionDays: number;
  /**
   * Where a new origin is propagated at once (propagation `enforce`): the function (invoked asynchronously with the
   * addresses) and the regions. Omitted: the scheduled runs propagate it.
   */
  readonly propagation?: { readonly function: lambda.IFunction; readonly regions: readonly string[] };
}

/**
 * Days an event stays recorded as counted: longer than the dead-letter queue keeps a message (14 days), so a
 * redriven message is not counted twice.
 */
export const EVENT_DEDUPE_TTL_DAYS = 15;

/** Receives a message this many times before it goes to the dead-letter queue. */
export const INGESTION_MAX_RECEIVES = 5;

/**
 * The home region's end of the SES event plumbing: the event bus every region's forwarding rule targets (and the
 * home region's own), a rule from that bus to an encrypted SQS queue with a dead-letter queue, and the ingestion
 * function consuming it with partial batch failure reporting.
 */
export class EventIngestion extends Construct {
  public readonly bus: events.EventBus;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: ServiceFunction;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: EventIngestionProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: SES_EVENT_BUS_NAME,
      description: "Receives every configured region's SES sending events for the suppression guard",
    });

    this.deadLetterQueue = deadLetterQueue(
      this,
      'DeadLetterQueue',
      'This queue is the dead-letter queue of the event queue and of the rule that fills it; an alarm watches it.',
    );
    const timeout = Duration.seconds(30);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // Six times the function timeout, as Lambda's SQS guidance recommends, so a retried batch is not seen twice.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: INGESTION_MAX_RECEIVES },
    });
    new events.Rule(this, 'ToQueue', {
      description: 'SES sending events of every region into the ingestion queue',
      eventBus: this.bus,
      eventPattern: sesEventPattern(),
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue })],
    });

    this.function = new ServiceFunction(this, 'Function', {
      entry: path.join(__dirname, '..', 'lambdas', 'events', 'handler.ts'),
      handler: 'handler',
      description: 'Records SES bounces and complaints as suppression origins and counts sends per sender',
      timeout,
      environment: writeEnvironment(EVENTS_ENVIRONMENT, {
        suppressionTable: props.table.tableName,
        attributionTable: props.attributionTable.tableName,
        dedupeTtlDays: EVENT_DEDUPE_TTL_DAYS,
        retentionDays: props.retentionDays,
        propagationFunction: props.propagation?.function.functionName ?? NO_PROPAGATION_FUNCTION,
        // Read only with a function to invoke; the variable is never empty.
        propagateTo: props.propagation?.regions ?? [Stack.of(this).region],
      }),
    });
    if (props.propagation) {
      const target = props.propagation.function;
      target.grantInvoke(this.function);
      Validations.of(this.function.executionRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId(target.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'grantInvoke also covers versions and aliases of the propagation function (its ARN with ":*"); no other function is reachable.',
      });
    }
    grantEventIngester(props, this.function);
    this.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 25, maxBatchingWindow: Duration.seconds(1), reportBatchItemFailures: true }),
    );

    this.alarms.push(
      deadLetterAlarm(
        this,
        'DeadLetterAlarm',
        this.deadLetterQueue,
        'SES events could not be ingested and wait in the dead-letter queue (see the ingestion function logs).',
      ),
      new cloudwatch.Alarm(this, 'BacklogAlarm', {
        alarmDescription: 'The oldest SES event waiting for ingestion is more than 5 minutes old: bounces reach the other regions late.',
        metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 300,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
