/** Names the CDK app, the handlers and the CLI agree on, defined once. */

/** Name of the CloudFormation stack the CDK app deploys and the CLI reads its outputs from. */
export const STACK_NAME = 'SesSuppressionGuard';

/** CloudWatch namespace of the service's custom metrics. */
export const METRICS_NAMESPACE = 'SesSuppressionGuard';

/** Name of the home region's event bus that receives every region's SES sending events. */
export const SES_EVENT_BUS_NAME = 'ses-suppression-guard-events';

/** Name of the service's event destination in each configuration set it adds one to (SES events to EventBridge). */
export const EVENT_DESTINATION_NAME = 'ses-suppression-guard-eventbridge';
