import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { findingEnvironment } from './service-function';
import { grantOperator, type TableRefs } from './tables';

/** Props of {@link OperatorPolicy}. */
export interface OperatorPolicyProps {
  readonly tables: TableRefs;
  readonly syncFunction: lambda.IFunction;
  readonly guardFunction: lambda.IFunction;
  /** SES regions the CLI reads and changes suppression entries and identities in. */
  readonly regions: readonly string[];
}

/**
 * What the operator CLI (`ssg`) needs against this stack, as a customer-managed policy to attach to the operators'
 * role, group or permission set: the stack's outputs, the sync function's configuration, invoking both functions,
 * the tables as {@link grantOperator} allows, and the SES suppression list and identities of the configured regions.
 */
export class OperatorPolicy extends Construct {
  public readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
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
      // `audit`: the sender's identity in each region.
      new iam.PolicyStatement({
        sid: 'ReadSesIdentities',
        actions: ['ses:GetEmailIdentity'],
        resources: props.regions.map((region) =>
          stack.formatArn({ service: 'ses', region, resource: 'identity', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        ),
      }),
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

    const finding = findingEnvironment(stack);
    for (const region of props.regions) {
      Validations.of(this.policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${finding.partition}:ses:${region}:${finding.account}:identity/*]`,
        reason: `\`ssg audit\` reads whichever identity covers the sender the operator names in ${region}; the action is read-only (ses:GetEmailIdentity).`,
      });
    }
    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:GetSuppressedDestination, ses:ListSuppressedDestinations and ses:DeleteSuppressedDestination have no resource types in the Service Authorization Reference; "*" is the only valid resource. Removing an address is the operator\'s job (`ssg unsuppress`).',
    });
  }
}
