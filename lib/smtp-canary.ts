import * as path from 'node:path';
import { type CfnElement, Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { writeEnvironment } from '../lambdas/domain/settings';
import { SMTP_CANARY_ENVIRONMENT, SMTP_CANARY_METRICS } from '../lambdas/smtp-canary/settings';
import { checkSchedule } from './schedule';
import { logicalId, ServiceFunction } from './service-function';

/** One canary as configured (`smtpCanaries` in the configuration). */
export interface SmtpCanaryConfig {
  readonly name: string;
  readonly region: string;
  /** Complete (with the 6-character suffix) or partial secret ARN. */
  readonly secretArn: string;
  /** The customer managed KMS key that encrypts the secret, if it is not the AWS managed `aws/secretsmanager` key. */
  readonly kmsKeyArn?: string;
}

/** Props of {@link SmtpCanary}. */
export interface SmtpCanaryProps {
  readonly canaries: readonly SmtpCanaryConfig[];
  /** EventBridge Scheduler expression of the runs. */
  readonly schedule: string;
  /** The SES SMTP port probed. */
  readonly port: number;
  /** Minutes an alarm window reaches beyond the schedule's longest gap. */
  readonly marginMinutes: number;
}

/** Canaries probed at once by one run. */
export const SMTP_CANARY_CONCURRENCY = 4;
/** The time each network step of a probe may take (DNS, TCP, greeting, STARTTLS, AUTH). */
export const SMTP_PROBE_TIMEOUT_MS = 10_000;
/**
 * The longest one canary takes: reading its secret (with the SDK's retries) and the probe's network steps, each
 * bounded by {@link SMTP_PROBE_TIMEOUT_MS} (connect, greeting and STARTTLS, AUTH, and a lookup or two).
 */
export const SMTP_CANARY_BUDGET_SECONDS = 60;

/**
 * The function's timeout for `count` canaries probed {@link SMTP_CANARY_CONCURRENCY} at a time: a budget per round
 * and 30 seconds for the start, within Lambda's 15 minutes.
 */
export function smtpCanaryTimeout(count: number): Duration {
  const rounds = Math.ceil(count / SMTP_CANARY_CONCURRENCY);
  return Duration.seconds(Math.min(900, rounds * SMTP_CANARY_BUDGET_SECONDS + 30));
}

/** A secret ARN whose name ends in a hyphen and 6 characters is complete (Secrets Manager's own reading). */
export function isCompleteSecretArn(arn: string): boolean {
  return /-[A-Za-z0-9]{6}$/.test(arn.split(':').slice(6).join(':'));
}

/** The resource of a secret in a policy: a complete ARN as it is, a partial one with any 6-character suffix. */
export function secretPolicyResource(arn: string): string {
  return isCompleteSecretArn(arn) ? arn : `${arn}-??????`;
}

/**
 * The SMTP canary: one function that, on a schedule, reads each configured secret and authenticates with it at the
 * region's SES SMTP endpoint (never sending mail), publishing `SmtpCanaryAuth` and `SmtpCanaryUnchecked` per canary;
 * per canary an alarm on refused credentials and one on a canary that has not checked (or not run) for two windows.
 */
export class SmtpCanary extends Construct {
  public readonly function: ServiceFunction;
  public readonly schedule: scheduler.Schedule;
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The alarm window: the schedule's longest gap plus the margin. */
  public readonly window: Duration;

  constructor(scope: Construct, id: string, props: SmtpCanaryProps) {
    super(scope, id);
    if (props.canaries.length === 0) throw new Error('SmtpCanary needs at least one canary');
    const gap = checkSchedule(props.schedule).longestGapMinutes;
    if (!Number.isFinite(gap)) throw new Error(`the canary schedule must repeat, got ${JSON.stringify(props.schedule)}`);
    this.window = Duration.minutes(Math.ceil(gap + props.marginMinutes));

    this.function = new ServiceFunction(this, 'Function', {
      entry: path.join(__dirname, '..', 'lambdas', 'smtp-canary', 'handler.ts'),
      handler: 'handler',
      description: 'Authenticates at the SES SMTP endpoints with the configured credentials (never sends mail)',
      memorySize: 256,
      timeout: smtpCanaryTimeout(props.canaries.length),
      // A failed run is not retried: the next scheduled run is the retry, and a canary that stops reporting alarms.
      retryAttempts: 0,
      environment: writeEnvironment(SMTP_CANARY_ENVIRONMENT, {
        canaries: props.canaries,
        port: props.port,
        concurrency: SMTP_CANARY_CONCURRENCY,
        probeTimeoutMs: SMTP_PROBE_TIMEOUT_MS,
      }),
    });

    // GetSecretValue only (grantRead would add DescribeSecret, which the canary never calls), on exactly the
    // configured secrets; a partial ARN matches its secret's 6-character suffix and nothing else.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadCanarySecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [...new Set(props.canaries.map((canary) => secretPolicyResource(canary.secretArn)))],
      }),
    );
    // A secret encrypted with a customer managed key: Decrypt on that key, only through Secrets Manager in the
    // secret's region.
    const keys = new Map<string, Set<string>>();
    for (const canary of props.canaries) {
      if (canary.kmsKeyArn === undefined) continue;
      const secretRegion = canary.secretArn.split(':')[3] as string;
      keys.set(canary.kmsKeyArn, (keys.get(canary.kmsKeyArn) ?? new Set()).add(secretRegion));
    }
    [...keys].forEach(([keyArn, regions], index) => {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: `DecryptCanarySecrets${index}`,
          actions: ['kms:Decrypt'],
          resources: [keyArn],
          conditions: { StringEquals: { 'kms:ViaService': [...regions].map((region) => `secretsmanager.${region}.amazonaws.com`) } },
        }),
      );
    });

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: 'Lets the SMTP canary schedule invoke the canary function',
    });
    this.function.grantInvoke(scheduleRole);
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(this.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'grantInvoke also covers versions and aliases of the canary function (its ARN with ":*"); no other function is reachable.',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `SMTP canary: AUTH with ${props.canaries.length} configured SES SMTP credential${props.canaries.length === 1 ? '' : 's'}`,
      schedule: scheduler.ScheduleExpression.expression(props.schedule),
      target: new targets.LambdaInvoke(this.function, {
        input: scheduler.ScheduleTargetInput.fromObject({}),
        role: scheduleRole,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(Math.min(gap, 1440)),
      }),
    });

    const windowText = `${this.window.toMinutes()} minutes`;
    for (const canary of props.canaries) {
      const metric = (metricName: string) =>
        new cloudwatch.Metric({
          namespace: SMTP_CANARY_METRICS.namespace,
          metricName,
          dimensionsMap: SMTP_CANARY_METRICS.dimensions(canary),
          statistic: cloudwatch.Stats.MINIMUM,
          period: this.window,
        });
      this.alarms.push(
        new cloudwatch.Alarm(this, `AuthAlarm-${canary.name}`, {
          alarmDescription: `SES SMTP in ${canary.region} refused the credentials of canary ${canary.name} (535 or another permanent AUTH reply): relays using them fail too. The canary function's log names the cause (a rotated key, a password derived for another region...) and what to do.`,
          metric: metric(SMTP_CANARY_METRICS.names.auth),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          // No AUTH verdict in a window (the canary could not check, or did not run) says nothing about the
          // credentials: the last verdict stands. The not-checking alarm below is the one for missing data.
          treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        }),
        new cloudwatch.Alarm(this, `NotCheckingAlarm-${canary.name}`, {
          alarmDescription: `Canary ${canary.name} (${canary.region}) has not got an answer to AUTH for two windows of ${windowText}: its secret is unreadable or malformed, DNS, the network or TLS failed, or the canary is not running. See the canary function's log.`,
          metric: metric(SMTP_CANARY_METRICS.names.unchecked),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          // Every run publishes SmtpCanaryUnchecked (0 when AUTH answered), so no data at all means the canary did not
          // run, or ran without getting to publish: that must be noticed, so it counts as not checking.
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
    }
  }
}
