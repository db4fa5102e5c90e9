import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import { CONFIG_CONTEXT_KEY } from '../../lib/config';
import { projectContext } from '../../local/synth';

/** The regions the CDK tests configure. */
export const TEST_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

/**
 * Builds the app as `cdk synth` does (cdk.json's context, cdk-nag included) with `config` over the test regions,
 * into a fresh output directory; `app.synth()` runs the nag checks.
 */
export function synthStack(config: Record<string, unknown> = {}, context: Record<string, unknown> = {}) {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'ssg-cdk-')),
    context: { ...projectContext(), [CONFIG_CONTEXT_KEY]: { regions: TEST_REGIONS, ...config }, ...context },
  });
  const { stack, regionalStacks } = buildApp(app);
  return { app, stack, regionalStacks, template: Template.fromStack(stack) };
}
