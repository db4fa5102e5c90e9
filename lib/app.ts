import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONFIG_CONTEXT_KEY, parseConfig } from './config';
import { SesSuppressionGuardStack } from './stack';

/** Stack name, which the CLI and tools rely on to find the outputs. */
export const STACK_NAME = 'SesSuppressionGuard';

/** Builds the CDK app with the cdk-nag AwsSolutions checks; used by `bin/app.ts`, the tests and the local runner. */
export function buildApp(app: App = new App()): { app: App; stack: SesSuppressionGuardStack } {
  const config = parseConfig(app.node.tryGetContext(CONFIG_CONTEXT_KEY));
  const stack = new SesSuppressionGuardStack(app, STACK_NAME, {
    config,
    // Environment-agnostic on purpose: synth needs no credentials and no lookups.
    description: 'Cross-region SES suppression sync and pre-send guard',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
