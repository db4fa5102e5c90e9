import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp, STACK_NAME } from '../lib/app';
import { CONFIG_CONTEXT_KEY } from '../lib/config';

/** A synthesized CloudFormation template (the parts the local tools read). */
export interface Template {
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON that the local tools read by path.
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, any> }>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

/** The result of {@link synthesize}: where the cloud assembly is and the stack's template. */
export interface Synthesized {
  readonly outdir: string;
  readonly template: Template;
}

/** The context `cdk.json` gives the app, so local synthesis matches `npx cdk synth`. */
export function projectContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * Synthesizes the app exactly as `cdk synth` does (same app builder, same bundling, cdk-nag included) into
 * `outdir`, optionally overriding settings of the service's configuration.
 */
export function synthesize(outdir: string, overrides: Record<string, unknown> = {}): Synthesized {
  const context = projectContext();
  const config = { ...(context[CONFIG_CONTEXT_KEY] as Record<string, unknown> | undefined), ...overrides };
  const { app } = buildApp(new App({ outdir, context: { ...context, [CONFIG_CONTEXT_KEY]: config } }));
  app.synth();
  return { outdir, template: readTemplate(outdir) };
}

/** Reads the stack's template from a cloud assembly directory. */
export function readTemplate(outdir: string): Template {
  return JSON.parse(readFileSync(join(outdir, `${STACK_NAME}.template.json`), 'utf8')) as Template;
}

/** A stack of the cloud assembly: its name, template, and the region it deploys to. */
export interface StackTemplate {
  readonly stackName: string;
  readonly template: Template;
  /** From the artifact's `environment` (`aws://account/region`); `defaultRegion` when environment-agnostic. */
  readonly region: string;
  /** The account of `environment`, or undefined when environment-agnostic. */
  readonly account?: string;
}

/**
 * Every stack template of a cloud assembly, with its region from `manifest.json` (`aws://account/region`, or
 * `aws://unknown-account/unknown-region` for an environment-agnostic stack, which gets `defaultRegion`).
 */
export function readStackTemplates(outdir: string, defaultRegion: string): StackTemplate[] {
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type?: string; environment?: string; properties?: { templateFile?: string } }>;
  };
  const stacks: StackTemplate[] = [];
  for (const [name, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const m = /^aws:\/\/([^/]+)\/([^/]+)$/.exec(artifact.environment ?? '');
    const account = m && m[1] !== 'unknown-account' ? m[1] : undefined;
    const region = m && m[2] !== 'unknown-region' ? (m[2] as string) : defaultRegion;
    const template = JSON.parse(readFileSync(join(outdir, artifact.properties.templateFile), 'utf8')) as Template;
    stacks.push({ stackName: name, template, region, ...(account !== undefined ? { account } : {}) });
  }
  return stacks;
}
