import { type CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Props of {@link ServiceFunction}: a NodejsFunction's props less the ones the service fixes. */
export interface ServiceFunctionProps extends Omit<NodejsFunctionProps, 'runtime' | 'architecture' | 'logGroup' | 'role' | 'bundling'> {
  /** Retention of the function's log group. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The service's function defaults in one place: Node.js 22 on ARM, 512 MB unless a function needs more, minified
 * bundle with source maps, an explicit log group with retention, and a role that holds only what grants add (no
 * managed policies) with the cdk-nag acknowledgements every such function needs.
 */
export class ServiceFunction extends NodejsFunction {
  public readonly logGroupResource: logs.LogGroup;
  /** The execution role, which holds only what grants add. */
  public readonly executionRole: iam.Role;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    super(scope, id, {
      memorySize: 512,
      timeout: Duration.seconds(30),
      ...props,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      logGroup,
      role,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: OutputFormat.CJS,
        logLevel: LogLevel.WARNING,
        // Only the SDK clients come from the runtime. Everything else is bundled at the version the tests ran,
        // including @smithy/core (the SDK's retry classifier), which the sdkV3ExcludeSmithyPackages feature flag
        // would otherwise leave to whatever version the runtime happens to ship.
        externalModules: ['@aws-sdk/*'],
      },
    });
    logGroup.grantWrite(role);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime this service is built, bundled and tested for (esbuild target node22); moving to a newer runtime is a deliberate, tested change.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(logGroup.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: "Writing log events needs the log streams of the function's own log group, which are only addressable with a wildcard.",
    });
    this.logGroupResource = logGroup;
    this.executionRole = role;
  }
}

/** The logical ID CloudFormation will see, as cdk-nag names it in finding IDs. */
export function logicalId(element: CfnElement): string {
  return Stack.of(element).resolve(element.logicalId) as string;
}

/**
 * The partition and account of `stack` as cdk-nag writes them in finding IDs: a pseudo parameter as `<AWS::...>`, a
 * value the stack knows at synth time (the partition of a stack pinned to a region) as it is.
 */
export function findingEnvironment(stack: Stack): { partition: string; account: string } {
  return {
    partition: Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition,
    account: Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account,
  };
}
