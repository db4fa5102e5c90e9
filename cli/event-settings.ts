import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromContext, DEFAULT_CONFIG } from '../lib/config';
import { UsageError } from './errors';

/** The settings that say which configuration sets deliver SES events to the service. */
export interface EventSettings {
  /** `eventConfigurationSet`: the service's own configuration set in each region. */
  readonly configurationSet: string;
  /** `eventConfigurationSets`: the user's sets the service adds its event destination to. */
  readonly configurationSets: readonly string[];
  /** Where they were read, for messages: `in <dir>/cdk.json`, or `by default (...)`. */
  readonly source: string;
}

/**
 * The event settings as the CDK app reads them: the `ses-suppression-guard` context of `cdk.json` in `dir` (the
 * project the stacks were deployed from), else the defaults. An invalid configuration is exit 2, as `cdk synth`
 * would refuse it.
 */
export function readEventSettings(dir = process.cwd()): EventSettings {
  const file = join(dir, 'cdk.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {
      configurationSet: DEFAULT_CONFIG.eventConfigurationSet,
      configurationSets: [],
      source: 'by default (no cdk.json in the working directory)',
    };
  }
  try {
    const context = (JSON.parse(text) as { context?: Record<string, unknown> }).context ?? {};
    const config = configFromContext(context);
    return { configurationSet: config.eventConfigurationSet, configurationSets: config.eventConfigurationSets, source: `in ${file}` };
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
}
