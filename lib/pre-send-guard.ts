import * as path from 'node:path';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { writeEnvironment } from '../lambdas/domain/settings';
import { CONFIGURATION_SET_NAME } from '../lambdas/guard/request';
import { GUARD_ENVIRONMENT } from '../lambdas/guard/settings';
import { DEFAULT_CONFIG } from './config';
import { findingEnvironment, ServiceFunction } from './service-function';
import { grantGuardReader } from './tables';

/** Props of {@link PreSendGuard}. */
export interface PreSendGuardProps {
  /** The canonical suppression table (read with BatchGetItem only). */
  readonly table: dynamodb.ITable;
  /** The per-region sync state table (read for freshness). */
  readonly stateTable: dynamodb.ITable;
  /** SES regions the guard may be asked about and whose sync freshness it checks. */
  readonly regions: readonly string[];
  /** A region whose sync watermark is older than this makes the data stale. @default 60 */
  readonly staleAfterMinutes?: number;
  /** Severity of SUPPRESSION_DATA_STALE. @default 'block' */
  readonly staleMode?: 'block' | 'warn';
  /** How long SES identity, account and configuration set lookups are cached in a warm function. @default 60 */
  readonly cacheTtlSeconds?: number;
  /** SES management calls per second per region the guard allows itself (shared with the sync's budget). @default 1 */
  readonly requestsPerSecond?: number;
  /**
   * Configuration sets whose mail delivers SES events to the service, the service's own set first (settings
   * `eventConfigurationSet` and `eventConfigurationSets`), or `'off'` (setting `events: "off"`); the guard warns
   * (EVENTS_NOT_DELIVERED) when a send uses any other set, or none. @default the default `eventConfigurationSet` only
   */
  readonly eventConfigurationSets?: readonly string[] | 'off';
  /** Adds a function URL with AWS_IAM auth for callers outside Lambda. @default false */
  readonly functionUrl?: boolean;
}

/**
 * The pre-send guard: a function blast senders invoke before they send, which checks the sender identity, the
 * account and the configuration set in the sending region, and every recipient against the cross-region
 * suppression table. It reads only: BatchGetItem on the tables and read-only SES calls in the configured regions.
 */
export class PreSendGuard extends Construct {
  public readonly function: ServiceFunction;
  /** The function URL, when `functionUrl` is set. */
  public readonly url?: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: PreSendGuardProps) {
    super(scope, id);
    if (props.regions.length === 0) throw new Error(`regions must not be empty, got ${JSON.stringify(props.regions)}`);
    const staleAfterMinutes = props.staleAfterMinutes ?? DEFAULT_CONFIG.guardStaleAfterMinutes;
    const cacheTtlSeconds = props.cacheTtlSeconds ?? DEFAULT_CONFIG.guardCacheTtlSeconds;
    const staleMode = props.staleMode ?? DEFAULT_CONFIG.guardStaleMode;
    if (!(staleAfterMinutes > 0)) throw new Error(`staleAfterMinutes must be a positive number, got ${staleAfterMinutes}`);
    if (!(cacheTtlSeconds > 0)) throw new Error(`cacheTtlSeconds must be a positive number, got ${cacheTtlSeconds}`);
    if (staleMode !== 'block' && staleMode !== 'warn')
      throw new Error(`staleMode must be "block" or "warn", got ${JSON.stringify(staleMode)}`);
    const eventConfigurationSets = props.eventConfigurationSets ?? [DEFAULT_CONFIG.eventConfigurationSet];
    if (
      eventConfigurationSets !== 'off' &&
      (eventConfigurationSets.length === 0 || !eventConfigurationSets.every((s) => CONFIGURATION_SET_NAME.test(s)))
    )
      throw new Error(
        `eventConfigurationSets must be "off" or a non-empty list of SES configuration set names, got ${JSON.stringify(eventConfigurationSets)}`,
      );

    this.function = new ServiceFunction(this, 'GuardFunction', {
      entry: path.join(__dirname, '..', 'lambdas', 'guard', 'handler.ts'),
      handler: 'handler',
      description: 'Pre-send guard: checks a sender, region and recipient list before a blast is sent',
      // SDK clients time out within seconds; the rest is headroom for 50,000-recipient lists.
      timeout: Duration.seconds(30),
      memorySize: 1024,
      environment: writeEnvironment(GUARD_ENVIRONMENT, {
        suppressionTable: props.table.tableName,
        stateTable: props.stateTable.tableName,
        regions: props.regions,
        staleAfterMinutes,
        staleMode,
        cacheTtlSeconds,
        requestsPerSecond: props.requestsPerSecond ?? DEFAULT_CONFIG.requestsPerSecond,
        eventConfigurationSets,
      }),
    });
    const role = this.function.executionRole;
    grantGuardReader(props, this.function);

    const stack = Stack.of(this);
    const sesArn = (region: string, resource: string) =>
      stack.formatArn({ service: 'ses', region, resource, resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSesIdentities',
        actions: ['ses:GetEmailIdentity'],
        resources: props.regions.map((region) => sesArn(region, 'identity')),
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSesConfigurationSets',
        actions: ['ses:GetConfigurationSet'],
        resources: props.regions.map((region) => sesArn(region, 'configuration-set')),
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSesAccount',
        actions: ['ses:GetAccount', 'ses:ListEmailIdentities'],
        // Neither action has a resource type in the Service Authorization Reference.
        resources: ['*'],
      }),
    );
    const finding = findingEnvironment(Stack.of(this));
    for (const region of props.regions) {
      for (const resource of ['identity', 'configuration-set']) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:${finding.partition}:ses:${region}:${finding.account}:${resource}/*]`,
          reason: `The guard reads whichever ${resource === 'identity' ? 'identity covers the sender a caller names' : 'configuration set a caller names'} in ${region}; the names are only known per request, and the action is read-only (${resource === 'identity' ? 'ses:GetEmailIdentity' : 'ses:GetConfigurationSet'}).`,
        });
      }
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:GetAccount and ses:ListEmailIdentities have no resource types in the Service Authorization Reference; "*" is the only valid resource and both are read-only.',
    });

    if (props.functionUrl) {
      this.url = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    }
  }

  /** Lets `grantee` (e.g. a blast sender's role) invoke the guard, and nothing else. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }

  /** Lets `grantee` call the guard's function URL; throws when the guard has none. */
  grantInvokeUrl(grantee: iam.IGrantable): iam.Grant {
    if (!this.url) throw new Error('the guard has no function URL; set functionUrl: true to create one');
    return this.function.grantInvokeUrl(grantee);
  }
}
