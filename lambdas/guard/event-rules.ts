import type { Problem } from '../../client/contract';
import { problem } from './problems';
import type { IdentityDetails } from './ses-lookups';

/**
 * EVENTS_NOT_DELIVERED (a warning) when the send's configuration set does not deliver SES events to the service: the
 * request's set, else the identity's default set (none: SES sends no events). Decided by name against `delivering`
 * (the service's own set first, then the sets of the setting `eventConfigurationSets`), with no SES call; nothing when
 * events are off, or when neither the request nor a known identity names the set.
 */
export function eventDeliveryProblems(
  region: string,
  requestedSet: string | undefined,
  identity: IdentityDetails | null | undefined,
  delivering: readonly string[] | 'off',
): Problem[] {
  if (delivering === 'off') return [];
  const [serviceSet] = delivering;
  const consequence = `SES sends the service no events for this mail, so its bounces and complaints reach the service only through the sync of ${region}'s suppression list, not in real time`;
  const details = { region, identity: identity?.name ?? null, eventConfigurationSets: delivering };
  if (requestedSet !== undefined) {
    if (delivering.includes(requestedSet)) return [];
    return [
      problem(
        'EVENTS_NOT_DELIVERED',
        'warn',
        `The configuration set ${requestedSet} does not deliver SES events to the service in ${region}: ${consequence}. List ${requestedSet} in the setting "eventConfigurationSets" and deploy, or send with the configuration set ${serviceSet}.`,
        { ...details, configurationSetName: requestedSet, source: 'request' },
      ),
    ];
  }
  if (!identity) return [];
  const set = identity.defaultConfigurationSet;
  if (set !== undefined && delivering.includes(set)) return [];
  const attach = `ssg events attach --identity ${identity.name} --region ${region}`;
  const message =
    set === undefined
      ? `Mail from ${identity.name} in ${region} names no configuration set and the identity has no default one: ${consequence}. Run ${attach}, or send with the configuration set ${serviceSet}.`
      : `The default configuration set ${set} of ${identity.name} does not deliver SES events to the service in ${region}: ${consequence}. List ${set} in the setting "eventConfigurationSets" and deploy, or run ${attach} --force (which replaces ${set} as the identity's default).`;
  return [problem('EVENTS_NOT_DELIVERED', 'warn', message, { ...details, configurationSetName: set ?? null, source: 'identity default' })];
}
