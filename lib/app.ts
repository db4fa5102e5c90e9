import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STACK_NAME } from '../lambdas/domain/names';
import { configFromContext } from './config';
import { SesSuppressionGuardStack } from './stack';

export { STACK_NAME };

/** Builds the CDK app with the cdk-nag AwsSolutions checks; used by `bin/app.ts`, the tests and the local runner. */
export function buildApp(app: App = new App()): { app: App; stack: SesSuppressionGuardStack } {
  const config = configFromContext(app.node.getAllContext());
  const stack = new SesSuppressionGuardStack(app, STACK_NAME, {
    config,
    // Environment-agnostic on purpose: synth needs no credentials and no lookups.
    description: 'Cross-region SES suppression sync and pre-send guard',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
