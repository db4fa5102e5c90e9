import type { SesEmulator, SesMatchingEventType } from './ses-emulator';
import type { StackTemplate } from './synth';

/**
 * Creates in the SES emulator what the regional stacks create in SES: each stack's configuration sets and their
 * event destinations (in the stack's region). A destination on a configuration set the stack does not create (one
 * named in `eventConfigurationSets`, which a user owns) gets its set created too, as the user would have it. Returns
 * the configuration sets the stacks create, by region.
 */
export function createSesResourcesFromTemplates(
  ses: SesEmulator,
  stacks: readonly StackTemplate[],
  accountId: string,
): Record<string, string[]> {
  const created: Record<string, string[]> = {};
  for (const { template, region } of stacks) {
    const emulated = ses.region(region);
    const names = new Map<string, string>();
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::SES::ConfigurationSet') continue;
      const name = String(resource.Properties?.Name ?? logicalId);
      names.set(logicalId, name);
      created[region] = [...(created[region] ?? []), name];
      emulated.putConfigurationSet({ name, sendingEnabled: resource.Properties?.SendingOptions?.SendingEnabled !== false });
    }
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::SES::ConfigurationSetEventDestination') continue;
      const p = resource.Properties ?? {};
      const ref = (p.ConfigurationSetName as { Ref?: string } | undefined)?.Ref;
      const setName = ref !== undefined ? names.get(ref) : typeof p.ConfigurationSetName === 'string' ? p.ConfigurationSetName : undefined;
      if (setName === undefined)
        throw new Error(`cannot resolve the configuration set of an event destination: ${JSON.stringify(p.ConfigurationSetName)}`);
      if (!emulated.getConfigurationSet(setName)) emulated.putConfigurationSet({ name: setName });
      const d = p.EventDestination ?? {};
      emulated.createEventDestination(setName, {
        name: String(d.Name),
        enabled: d.Enabled === true,
        matchingEventTypes: ((d.MatchingEventTypes ?? []) as string[]).map((t) => t.toUpperCase() as SesMatchingEventType),
        // SES delivers only to the region's default bus: the ARN the template builds from pseudo parameters.
        ...(d.EventBridgeDestination
          ? { eventBridgeDestination: { eventBusArn: `arn:aws:events:${region}:${accountId}:event-bus/default` } }
          : {}),
      });
    }
  }
  return created;
}
