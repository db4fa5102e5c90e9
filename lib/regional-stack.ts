import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { STACK_NAME } from '../lambdas/domain/names';
import { importBucketName } from '../lambdas/sync/settings';
import { homeEventBusArn, SesEventForwarding } from './ses-event-forwarding';

/** Days an import file stays in its bucket: SES reads it within minutes; the rest is room for an investigation. */
export const IMPORT_OBJECT_EXPIRY_DAYS = 7;

/**
 * The import buckets' name, with `{region}` for the region: the home stack's name lower-cased, `imports`, the account
 * and the region, so that the home stack's grants and the sync function can name every region's bucket without a
 * cross-stack (or cross-region) reference. `account` is a token in an environment-agnostic account.
 */
export function importBucketPattern(account: string = Aws.ACCOUNT_ID): string {
  return `${STACK_NAME.toLowerCase()}-imports-${account}-{region}`;
}

/** The name of one region's regional stack. */
export function regionalStackName(region: string): string {
  return `${STACK_NAME}-${region}`;
}

/** Props of {@link RegionalStack}. */
export interface RegionalStackProps extends Omit<StackProps, 'env'> {
  /** The SES region this stack serves; the stack is deployed there. */
  readonly region: string;
  /** SES event plumbing into the home region; omitted: none (setting `events: "off"`). */
  readonly events?: {
    readonly homeRegion: string;
    readonly homeEventBusName: string;
    readonly configurationSetName: string;
    readonly existingConfigurationSets: readonly string[];
    readonly bounceRateAlarm: number;
    readonly complaintRateAlarm: number;
  };
  /**
   * The configured alarm topic. CloudWatch alarms notify topics in their own region only: a topic in this region is
   * used as it is; otherwise the stack creates one (output `AlarmTopicArn`) to subscribe to.
   */
  readonly alarmTopicArn?: string;
}

/**
 * What the service needs inside one SES region, deployed there (SES reads import files only from a bucket in its own
 * region): the bucket propagation's import jobs read from. SES event plumbing for the region belongs here too.
 */
export class RegionalStack extends Stack {
  /** The SES region of this stack. */
  public readonly sesRegion: string;
  /** The bucket whose CSV files SES import jobs read (`importBucketPattern()` with this region). */
  public readonly importBucket: s3.Bucket;
  /** The region's SES event plumbing, unless events are off. */
  public readonly events?: SesEventForwarding;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, { ...props, env: { region: props.region } });
    this.sesRegion = props.region;

    this.importBucket = this.createImportBucket();

    if (props.events) {
      const { homeRegion, homeEventBusName, ...forwarding } = props.events;
      this.events = new SesEventForwarding(this, 'SesEvents', {
        ...forwarding,
        homeEventBusArn: homeEventBusArn(homeRegion, homeEventBusName),
      });
      const topic = this.alarmTopic(props.alarmTopicArn);
      for (const alarm of this.events.alarms) alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
      new CfnOutput(this, 'EventConfigurationSetName', {
        value: this.events.configurationSet.configurationSetName,
        description: `Configuration set whose events reach the service; attach identities with ssg events attach --region ${props.region}`,
      });
    }

    new CfnOutput(this, 'ImportBucketName', {
      value: this.importBucket.bucketName,
      description: `Bucket the sync function writes import files to and SES import jobs in ${props.region} read`,
    });
  }

  /** The configured topic when it is in this region, else a topic of this stack (output `AlarmTopicArn`). */
  private alarmTopic(configured: string | undefined): sns.ITopic {
    if (configured && configured.split(':')[3] === this.sesRegion) return sns.Topic.fromTopicArn(this, 'AlarmTopic', configured);
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `SES suppression guard alarms in ${this.sesRegion}`,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: topic.topicArn,
      description: `Alarms of ${this.sesRegion} (CloudWatch notifies topics in the alarm's region only): subscribe to it`,
    });
    return topic;
  }

  private createImportBucket(): s3.Bucket {
    const bucket = new s3.Bucket(this, 'ImportBucket', {
      bucketName: importBucketName(importBucketPattern(), this.sesRegion),
      // SSE-S3: SES reads the objects with the bucket policy alone. With SSE-KMS, a customer managed key's policy
      // would also have to let ses.amazonaws.com decrypt (the AWS managed aws/s3 key cannot be shared at all).
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [
        {
          id: 'ExpireImportFiles',
          expiration: Duration.days(IMPORT_OBJECT_EXPIRY_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // The bucket only ever holds short-lived copies of data the suppression table keeps. Its name is fixed, so a
      // retained bucket would make the next deployment of this stack fail; and a non-empty bucket cannot be deleted,
      // so the stack empties it on deletion (a small custom-resource function that runs only then).
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    // As the SES Developer Guide documents for bulk suppression-list imports: SES reads the object with the
    // ses.amazonaws.com principal, on behalf of the account named in aws:Referer.
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesImportJobsToRead',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
        conditions: { StringEquals: { 'aws:Referer': Aws.ACCOUNT_ID } },
      }),
    );

    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds only import files the sync function writes and SES reads, each expiring within days; object-level auditing belongs to CloudTrail data events, not to one more (itself unlogged) log bucket per region.',
    });
    return bucket;
  }
}
