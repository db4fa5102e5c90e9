import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENTS_METRICS } from '../lambdas/events/settings';
import { GUARD_METRICS } from '../lambdas/guard/settings';
import { SMTP_CANARY_METRICS } from '../lambdas/smtp-canary/settings';
import { SYNC_METRICS } from '../lambdas/sync/settings';

/** Props of {@link ServiceDashboard}. */
export interface ServiceDashboardProps {
  readonly regions: readonly string[];
  /** Regions propagation writes into (their drift is shown); empty when propagation is off. */
  readonly propagateTo: readonly string[];
  /** The SES event queue, when events are on. */
  readonly eventQueue?: sqs.IQueue;
  /** The SMTP canaries, if any (their AUTH verdicts are shown). */
  readonly smtpCanaries?: readonly { readonly name: string; readonly region: string }[];
}

const PERIOD = Duration.minutes(5);

/**
 * The home region's dashboard: per region the sync's lag and writes, propagation drift and the SES account's
 * reputation (read from each region: a dashboard may show metrics of any region); the events ingested, their age and
 * the queue; the guard's verdicts by problem code. The same numbers `ssg status` prints.
 */
export class ServiceDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: 'ses-suppression-guard',
      defaultInterval: Duration.hours(24),
    });
    const sync = (name: string, region: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: SYNC_METRICS.namespace,
        metricName: name,
        dimensionsMap: SYNC_METRICS.dimensions(region),
        statistic,
        period: PERIOD,
        label: region,
      });
    const reputation = (name: string, region: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SES',
        metricName: name,
        region,
        statistic: 'Maximum',
        period: Duration.minutes(15),
        label: region,
      });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          "# SES suppression guard\nSync, propagation and events per region; the guard's verdicts. `ssg status` and `ssg senders` show the same in a terminal.",
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sync lag (seconds since synced through)',
        left: props.regions.map((r) => sync(SYNC_METRICS.names.syncLag, r, 'Maximum')),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Canonical items written by the sync',
        left: props.regions.map((r) => sync(SYNC_METRICS.names.itemsWritten, r, 'Sum')),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Propagation drift (wanted but not listed + ours no longer wanted)',
        left: props.propagateTo.map((r) => sync(SYNC_METRICS.names.drift, r, 'Minimum')),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'SES Reputation.BounceRate (review 5%, at risk 10%)',
        left: props.regions.map((r) => reputation('Reputation.BounceRate', r)),
        leftAnnotations: [
          { value: 0.05, label: 'review', color: '#ff7f0e' },
          { value: 0.1, label: 'at risk', color: '#d62728' },
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'SES Reputation.ComplaintRate (review 0.1%, at risk 0.5%)',
        left: props.regions.map((r) => reputation('Reputation.ComplaintRate', r)),
        leftAnnotations: [
          { value: 0.001, label: 'review', color: '#ff7f0e' },
          { value: 0.005, label: 'at risk', color: '#d62728' },
        ],
        width: 12,
      }),
    );
    if (props.eventQueue) {
      const events = (name: string, statistic: string, label: string) =>
        new cloudwatch.Metric({
          namespace: EVENTS_METRICS.namespace,
          metricName: name,
          dimensionsMap: { service: EVENTS_METRICS.serviceName },
          statistic,
          period: PERIOD,
          label,
        });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'SES events ingested, by type',
          left: [
            new cloudwatch.MathExpression({
              expression: `SEARCH('{${EVENTS_METRICS.namespace},service,${EVENTS_METRICS.typeDimension}} MetricName="${EVENTS_METRICS.names.ingested}"', 'Sum', 300)`,
              label: '',
              period: PERIOD,
            }),
          ],
          right: [
            events(EVENTS_METRICS.names.originsRecorded, 'Sum', 'origins recorded'),
            events(EVENTS_METRICS.names.malformed, 'Sum', 'malformed'),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Ingestion age (ms from the SES event)',
          left: [events(EVENTS_METRICS.names.ingestionAge, 'p95', 'p95'), events(EVENTS_METRICS.names.ingestionAge, 'Maximum', 'max')],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Event queue',
          left: [props.eventQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: 'waiting' })],
          right: [props.eventQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, label: 'oldest (s)' })],
          width: 8,
        }),
      );
    }
    if (props.smtpCanaries && props.smtpCanaries.length > 0) {
      const canary = (name: string, c: { readonly name: string; readonly region: string }) =>
        new cloudwatch.Metric({
          namespace: SMTP_CANARY_METRICS.namespace,
          metricName: name,
          dimensionsMap: SMTP_CANARY_METRICS.dimensions(c),
          statistic: 'Minimum',
          period: Duration.hours(1),
          label: `${c.name} (${c.region})`,
        });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'SMTP canaries: AUTH accepted (1) or refused (0)',
          left: props.smtpCanaries.map((c) => canary(SMTP_CANARY_METRICS.names.auth, c)),
          leftYAxis: { min: 0, max: 1 },
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'SMTP canaries: not checked (1: no answer to AUTH)',
          left: props.smtpCanaries.map((c) => canary(SMTP_CANARY_METRICS.names.unchecked, c)),
          leftYAxis: { min: 0, max: 1 },
          width: 12,
        }),
      );
    }
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Guard verdicts',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${GUARD_METRICS.namespace},service,${GUARD_METRICS.regionDimension},${GUARD_METRICS.verdictDimension}} MetricName="${GUARD_METRICS.names.checks}"', 'Sum', 300)`,
            label: '',
            period: PERIOD,
          }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Guard problems, by code',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${GUARD_METRICS.namespace},service,${GUARD_METRICS.regionDimension},${GUARD_METRICS.problemDimension}} MetricName="${GUARD_METRICS.names.problems}"', 'Sum', 300)`,
            label: '',
            period: PERIOD,
          }),
        ],
        width: 12,
      }),
    );
  }
}
