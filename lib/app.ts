import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SES_EVENT_BUS_NAME, STACK_NAME } from '../lambdas/domain/names';
import { configFromContext } from './config';
import { RegionalStack, regionalStackName } from './regional-stack';
import { SesSuppressionGuardStack } from './stack';

export { STACK_NAME };

/** What {@link buildApp} builds. */
export interface BuiltApp {
  readonly app: App;
  /** The home stack: tables, functions, schedules, alarms. */
  readonly stack: SesSuppressionGuardStack;
  /** One stack per configured SES region, in the order of `regions`. */
  readonly regionalStacks: RegionalStack[];
}

/**
 * Builds the CDK app with the cdk-nag AwsSolutions checks; used by `bin/app.ts`, the tests and the local runner.
 * Every stack names its region and no account: synth needs no credentials and no lookups, and `cdk deploy --all`
 * puts each stack in its region of the account the credentials belong to.
 */
export function buildApp(app: App = new App()): BuiltApp {
  const config = configFromContext(app.node.getAllContext());
  const stack = new SesSuppressionGuardStack(app, STACK_NAME, {
    config,
    env: { region: config.homeRegion },
    description: 'Cross-region SES suppression sync and pre-send guard',
  });
  const regionalStacks = config.regions.map(
    (region) =>
      new RegionalStack(app, regionalStackName(region), {
        region,
        description: `SES suppression guard: what the service needs in ${region} (propagation import bucket, SES event forwarding)`,
        ...(config.alarmTopicArn ? { alarmTopicArn: config.alarmTopicArn } : {}),
        ...(config.events === 'on'
          ? {
              events: {
                homeRegion: config.homeRegion,
                homeEventBusName: SES_EVENT_BUS_NAME,
                configurationSetName: config.eventConfigurationSet,
                existingConfigurationSets: config.eventConfigurationSets,
                bounceRateAlarm: config.bounceRateAlarm,
                complaintRateAlarm: config.complaintRateAlarm,
              },
            }
          : {}),
      }),
  );
  // The home stack's event bus receives the regions' events: deploy it first.
  for (const regional of regionalStacks) regional.addStackDependency(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, regionalStacks };
}
