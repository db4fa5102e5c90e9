import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { regionalStackName } from './regional-stack';
import { findingEnvironment } from './service-function';
import { type EventTableRefs, grantOperator, grantOperatorReports } from './tables';

/** Props of {@link OperatorPolicy}. */
export interface OperatorPolicyProps {
  readonly tables: EventTableRefs;
  readonly syncFunction: lambda.IFunction;
  readonly guardFunction: lambda.IFunction;
  /** SES regions the CLI reads and changes suppression entries and identities in. */
  readonly regions: readonly string[];
}

/**
 * What the operator CLI (`ssg`) needs against this stack, as a customer-managed policy to attach to the operators'
 * role, group or permission set: the stack's outputs, the sync function's configuration, invoking both functions,
 * the tables as {@link grantOperator} and {@link grantOperatorReports} allow, the regional stacks' outputs, and the SES
 * suppression list, identities and configuration sets of the configured regions.
 */
export class OperatorPolicy extends Construct {
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const sesArn = (region: string, resource: string) =>
      stack.formatArn({ service: 'ses', region, resource, resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const identityArn = (region: string) => sesArn(region, 'identity');
    const configurationSetArn = (region: string) => sesArn(region, 'configuration-set');
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Operator CLI (ssg) access to the ${stack.stackName} stack`,
    });

    // Every command: the stack's outputs, and the sync function's SYNC_REGIONS (not needed with --regions).
    this.policy.addStatements(
      new iam.PolicyStatement({ sid: 'ReadStackOutputs', actions: ['cloudformation:DescribeStacks'], resources: [stack.stackId] }),
      new iam.PolicyStatement({
        sid: 'ReadSyncRegions',
        actions: ['lambda:GetFunctionConfiguration'],
        resources: [props.syncFunction.functionArn],
      }),
      // `check` invokes the guard, `sync` the sync function (unqualified: no versions or aliases).
      new iam.PolicyStatement({
        sid: 'InvokeFunctions',
        actions: ['lambda:InvokeFunction'],
        resources: [props.guardFunction.functionArn, props.syncFunction.functionArn],
      }),
      // `audit`: the sender's identity in each region; `events attach` and `events status`: its default configuration set.
      new iam.PolicyStatement({
        sid: 'ReadSesIdentities',
        actions: ['ses:GetEmailIdentity'],
        resources: props.regions.map(identityArn),
      }),
      // `events attach` and `events status`: the service's configuration set from each regional stack's outputs.
      new iam.PolicyStatement({
        sid: 'ReadRegionalStackOutputs',
        actions: ['cloudformation:DescribeStacks'],
        resources: props.regions.map((region) =>
          stack.formatArn({
            service: 'cloudformation',
            region,
            resource: 'stack',
            resourceName: `${regionalStackName(region)}/*`,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ),
      }),
      // `events attach`: an identity's default configuration set (the action names both the identity and the set).
      new iam.PolicyStatement({
        sid: 'AttachSesIdentities',
        actions: ['ses:PutEmailIdentityConfigurationSetAttributes'],
        resources: props.regions.flatMap((region) => [identityArn(region), configurationSetArn(region)]),
      }),
      // `events status`: where each configuration set sends its events.
      new iam.PolicyStatement({
        sid: 'ReadSesEventDestinations',
        actions: ['ses:GetConfigurationSetEventDestinations'],
        resources: props.regions.map(configurationSetArn),
      }),
      // `events status` lists the identities, `smtp check --from` reads the account's sandbox status; neither action
      // has a resource type.
      new iam.PolicyStatement({ sid: 'ListSesIdentities', actions: ['ses:ListEmailIdentities', 'ses:GetAccount'], resources: ['*'] }),
      // `lookup --live` reads (every spelling, so it also lists) and `unsuppress` removes an address from the regions'
      // suppression lists.
      new iam.PolicyStatement({
        sid: 'ManageSesSuppressionList',
        actions: ['ses:GetSuppressedDestination', 'ses:ListSuppressedDestinations', 'ses:DeleteSuppressedDestination'],
        // None of these actions has a resource type in the Service Authorization Reference.
        resources: ['*'],
      }),
    );
    grantOperator(props.tables, this.policy);
    grantOperatorReports(props.tables, this.policy);

    const finding = findingEnvironment(stack);
    for (const region of props.regions) {
      Validations.of(this.policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${finding.partition}:ses:${region}:${finding.account}:identity/*]`,
        reason: `\`ssg audit\` and \`ssg events\` read whichever identity the operator names in ${region}, \`ssg events attach\` sets its default configuration set (ses:PutEmailIdentityConfigurationSetAttributes).`,
      });
      Validations.of(this.policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${finding.partition}:ses:${region}:${finding.account}:configuration-set/*]`,
        reason: `\`ssg events status\` reads the event destinations of whichever configuration set an identity in ${region} uses; \`ssg events attach\` names the service's set or one the operator chooses.`,
      });
      Validations.of(this.policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${finding.partition}:cloudformation:${region}:${finding.account}:stack/${regionalStackName(region)}/*]`,
        reason: 'A stack ARN ends in a unique id that changes when the stack is re-created; the name is fixed.',
      });
    }
    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:GetSuppressedDestination, ses:ListSuppressedDestinations, ses:DeleteSuppressedDestination, ses:ListEmailIdentities and ses:GetAccount have no resource types in the Service Authorization Reference; "*" is the only valid resource. Removing an address is the operator\'s job (`ssg unsuppress`).',
    });
  }
}
