import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as ses from 'aws-cdk-lib/aws-ses';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_DESTINATION_NAME } from '../lambdas/domain/names';
import { deadLetterAlarm, deadLetterQueue } from './dead-letter-queue';

/** The SES event types the service consumes, as configuration-set event destinations name them. */
export const FORWARDED_EVENT_TYPES = [
  ses.EmailSendingEvent.SEND,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.DELIVERY,
] as const;

/** The same events as SES names them on EventBridge (`detail-type`), per the EventBridge events reference. */
export const FORWARDED_DETAIL_TYPES = ['Email Sent', 'Email Rejected', 'Email Bounced', 'Email Complaint Received', 'Email Delivered'];

/** Name of the service's event destination in each configuration set it adds one to (defined with the CLI's names). */
export { EVENT_DESTINATION_NAME };

/** The event pattern of SES's sending events: the forwarding rule's in each region and the home queue rule's. */
export function sesEventPattern(): events.EventPattern {
  return { source: ['aws.ses'], detailType: FORWARDED_DETAIL_TYPES };
}

/** Props of {@link SesEventForwarding}. */
export interface SesEventForwardingProps {
  /** The service's own configuration set, created in this region; identities are attached to it (`ssg events attach`). */
  readonly configurationSetName: string;
  /** Configuration sets the user already has in this region, to which the service adds its event destination. */
  readonly existingConfigurationSets: readonly string[];
  /** ARN of the home region's event bus that receives every region's SES events. */
  readonly homeEventBusArn: string;
  /** `Reputation.BounceRate` (a fraction) at which the alarm fires. */
  readonly bounceRateAlarm: number;
  /** `Reputation.ComplaintRate` (a fraction) at which the alarm fires. */
  readonly complaintRateAlarm: number;
}

/**
 * One region's SES event plumbing: a configuration set with an event destination to the region's default EventBridge
 * bus (the only bus SES delivers to), the same destination on the user's own sets, a rule that forwards SES's sending
 * events to the home region's bus (with a dead-letter queue for what it cannot deliver), and alarms on the account's
 * reputation metrics in the region.
 */
export class SesEventForwarding extends Construct {
  public readonly configurationSet: ses.ConfigurationSet;
  public readonly rule: events.Rule;
  /** Events the rule could not deliver to the home region. */
  public readonly deadLetterQueue: sqs.Queue;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: SesEventForwardingProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const defaultBus = events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const destination = ses.EventDestination.eventBus(defaultBus);

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: props.configurationSetName,
      reputationMetrics: true,
      sendingEnabled: true,
    });
    this.configurationSet.addEventDestination('EventBridge', {
      configurationSetEventDestinationName: EVENT_DESTINATION_NAME,
      destination,
      events: [...FORWARDED_EVENT_TYPES],
    });
    for (const name of props.existingConfigurationSets) {
      new ses.ConfigurationSetEventDestination(this, `EventBridge-${name}`, {
        configurationSet: ses.ConfigurationSet.fromConfigurationSetName(this, `Existing-${name}`, name),
        configurationSetEventDestinationName: EVENT_DESTINATION_NAME,
        destination,
        events: [...FORWARDED_EVENT_TYPES],
      });
    }

    this.deadLetterQueue = deadLetterQueue(
      this,
      'ForwardingDeadLetterQueue',
      'This queue is the dead-letter queue of the forwarding rule; an alarm watches it.',
    );
    const homeBus = events.EventBus.fromEventBusArn(this, 'HomeBus', props.homeEventBusArn);
    this.rule = new events.Rule(this, 'ForwardToHome', {
      description: `Forwards SES sending events of ${region} to the service's event bus in the home region`,
      eventBus: defaultBus,
      eventPattern: sesEventPattern(),
      targets: [new targets.EventBus(homeBus, { deadLetterQueue: this.deadLetterQueue })],
    });

    this.alarms.push(
      deadLetterAlarm(
        this,
        'ForwardingFailedAlarm',
        this.deadLetterQueue,
        `SES events of ${region} could not be forwarded to the home region and wait in the dead-letter queue (bounces and complaints not ingested).`,
      ),
    );
    const reputation = (metricName: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/SES', metricName, region, period: Duration.minutes(15), statistic: 'Maximum' });
    for (const [name, metricName, threshold, level] of [
      ['BounceRateAlarm', 'Reputation.BounceRate', props.bounceRateAlarm, 'SES reviews an account from 5% and may pause it from 10%'],
      [
        'ComplaintRateAlarm',
        'Reputation.ComplaintRate',
        props.complaintRateAlarm,
        'SES reviews an account from 0.1% and may pause it from 0.5%',
      ],
    ] as const) {
      this.alarms.push(
        new cloudwatch.Alarm(this, name, {
          alarmDescription: `The SES account's ${metricName} in ${region} reached ${threshold * 100}% (${level}). ssg senders names the callers behind it.`,
          metric: reputation(metricName),
          threshold,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          // The metric exists only once the account has sent enough mail in the region.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
  }
}

/** The ARN of the home region's SES event bus, from its name: the regional stacks need no cross-stack reference. */
export function homeEventBusArn(homeRegion: string, busName: string): string {
  return `arn:${Aws.PARTITION}:events:${homeRegion}:${Aws.ACCOUNT_ID}:event-bus/${busName}`;
}
