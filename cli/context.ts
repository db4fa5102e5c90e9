import { userInfo } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { SESv2Client, SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lambdas/domain/clients';
import { STACK_NAME } from '../lambdas/domain/names';
import { SES_CALLERS, SesClients } from '../lambdas/domain/ses';
import { REGION_PATTERN } from '../lambdas/domain/settings';
import {
  ENVIRONMENT_FILE,
  LOCAL_ENV_FILE_VARIABLE,
  type LocalEnvironmentDescription,
  type LocalSmtpDescription,
  readEnvironmentFile,
} from '../local/environment-file';
import { asCliError, UnavailableError, UsageError } from './errors';

/** Stack name the CDK app deploys. */
export const DEFAULT_STACK_NAME = STACK_NAME;

export { LOCAL_ENV_FILE_VARIABLE };

/** The options every command accepts to choose what it talks to. */
export interface TargetOptions {
  readonly local?: boolean;
  readonly stack?: string;
  readonly profile?: string;
  readonly stackRegion?: string;
  /** Comma-separated SES regions, instead of the sync function's SYNC_REGIONS. */
  readonly regions?: string;
}

/** The stack outputs the CLI uses. */
export type OutputName =
  | 'SuppressionTableName'
  | 'SyncStateTableName'
  | 'SyncFunctionName'
  | 'PropagationFunctionName'
  | 'GuardFunctionName'
  | 'AttributionTableName';

/** The outputs of a region's regional stack the CLI uses. */
export type RegionalOutputName = 'EventConfigurationSetName';

/** What the sync function says about propagation (its PROPAGATION_MODE and PROPAGATE_TO_REGIONS). */
export interface PropagationSettings {
  readonly mode: string;
  /** Regions whose SES lists propagation writes into (none when the mode is `off`). */
  readonly regions: readonly string[];
}

/** A deployment (or the local environment) with SDK clients pointed at it. */
export interface Target {
  /** For messages: `stack SesSuppressionGuard (us-east-1)` or `local environment (<file>)`. */
  readonly description: string;
  readonly local: boolean;
  /** Region of the stack: the tables and functions live there. */
  readonly homeRegion: string;
  readonly doc: DynamoDBDocumentClient;
  readonly lambda: LambdaClient;
  /** An SES v2 client for one region. */
  ses(region: string): SESv2Client;
  /** A stack output; throws (exit 3) naming the output when the stack has none. */
  output(name: OutputName): string;
  /** A stack output, or undefined when the stack has none. */
  optionalOutput(name: OutputName): string | undefined;
  /**
   * An output of the regional stack in `region` (`<stack>-<region>`), or undefined when it cannot be known: that
   * stack or output does not exist, or the target is the local environment (which runs no regional stacks).
   */
  regionalOutput(region: string, name: RegionalOutputName): Promise<string | undefined>;
  /**
   * The propagation settings of the sync function, or undefined where they cannot be read (the local environment:
   * its function then answers for itself, refusing a region it does not propagate into).
   */
  propagation(): Promise<PropagationSettings | undefined>;
  /** The SES regions the service syncs. */
  regions(): Promise<string[]>;
  /** Who is making changes, for the audit trail. */
  callerIdentity(): Promise<string>;
  /** The local environment's SES SMTP interface (its ports and CA); undefined for a deployed stack. */
  readonly smtp?: LocalSmtpDescription;
  destroy(): void;
}

/** Parses `--regions`: a comma-separated list of region names. */
export function parseRegionList(raw: string, option = '--regions'): string[] {
  const regions = raw
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const bad = regions.filter((r) => !REGION_PATTERN.test(r));
  if (regions.length === 0 || bad.length > 0) {
    throw new UsageError(`${option} must be a comma-separated list of AWS regions like us-east-1,eu-west-1, got ${JSON.stringify(raw)}`);
  }
  return [...new Set(regions)];
}

/** Checks a single region option such as `--region` or `--stack-region`. */
export function checkRegion(raw: string, option: string): string {
  const region = raw.trim();
  if (!REGION_PATTERN.test(region)) throw new UsageError(`${option} must be an AWS region like us-east-1, got ${JSON.stringify(raw)}`);
  return region;
}

/**
 * Resolves what the CLI talks to. `--local`: the environment `npm start` describes in `.local/environment.json`
 * (or `$SSG_LOCAL_ENV_FILE`), with an explicit endpoint per client. Otherwise the deployed stack (`--stack`,
 * default SesSuppressionGuard) found through CloudFormation with the SDK's usual credential and region resolution
 * (`--profile`, `--stack-region`, AWS_PROFILE, AWS_REGION, the profile's region).
 */
export async function resolveTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const regionsOverride = options.regions !== undefined ? parseRegionList(options.regions) : undefined;
  if (options.local) {
    if (options.profile !== undefined || options.stack !== undefined || options.stackRegion !== undefined) {
      throw new UsageError('--local cannot be combined with --profile, --stack or --stack-region (the local environment has one stack)');
    }
    return connect(localTarget(env[LOCAL_ENV_FILE_VARIABLE] || join(process.cwd(), ENVIRONMENT_FILE)), regionsOverride);
  }
  const stackRegion = options.stackRegion !== undefined ? checkRegion(options.stackRegion, '--stack-region') : undefined;
  return connect(await deployedTarget(options.stack ?? DEFAULT_STACK_NAME, stackRegion, options.profile), regionsOverride);
}

/**
 * What distinguishes one target from another: where it is, its outputs, how its clients are made, and how it
 * answers the two questions that need the target itself. {@link connect} turns it into a {@link Target}.
 */
interface TargetSpec {
  readonly description: string;
  readonly local: boolean;
  readonly homeRegion: string;
  readonly outputs: Record<string, string>;
  /** How messages about a missing output name the target. */
  readonly where: string;
  dynamoDb(): DynamoDBClient;
  lambda(): LambdaClient;
  /** How this target's SES clients are configured (all but the region; the CLI's retry policy included). */
  readonly sesConfig: Omit<SESv2ClientConfig, 'region'>;
  /** The SES regions the service syncs, when `--regions` does not say. */
  syncRegions(lambda: LambdaClient, output: (name: OutputName) => string): Promise<string[]>;
  /** The propagation settings of the sync function, when they can be read. */
  propagation(lambda: LambdaClient, output: (name: OutputName) => string): Promise<PropagationSettings | undefined>;
  callerIdentity(): Promise<string>;
  /** The outputs of the regional stack in `region`; undefined when there is none. */
  regionalOutputs(region: string): Promise<Record<string, string> | undefined>;
  readonly smtp?: LocalSmtpDescription;
}

/** One target from its spec: clients made once (SES per region), outputs checked by name, everything destroyed together. */
function connect(spec: TargetSpec, regionsOverride: string[] | undefined): Target {
  const ddb = spec.dynamoDb();
  const lambda = spec.lambda();
  const sesClients = new SesClients(spec.sesConfig);
  const output = (name: OutputName) => requireOutput(spec.outputs, name, spec.where);
  let regions: Promise<string[]> | undefined;
  let propagation: Promise<PropagationSettings | undefined> | undefined;
  const regional = new Map<string, Promise<Record<string, string> | undefined>>();
  return {
    description: spec.description,
    local: spec.local,
    homeRegion: spec.homeRegion,
    doc: documentClient(ddb),
    lambda,
    ses: (region) => sesClients.forRegion(region),
    output,
    optionalOutput: (name) => spec.outputs[name] || undefined,
    async regionalOutput(region, name) {
      let outputs = regional.get(region);
      if (!outputs) {
        outputs = spec.regionalOutputs(region);
        regional.set(region, outputs);
      }
      return (await outputs)?.[name] || undefined;
    },
    propagation() {
      propagation ??= spec.propagation(lambda, output);
      return propagation;
    },
    regions() {
      regions ??= regionsOverride ? Promise.resolve(regionsOverride) : spec.syncRegions(lambda, output);
      return regions;
    },
    callerIdentity: () => spec.callerIdentity(),
    ...(spec.smtp !== undefined ? { smtp: spec.smtp } : {}),
    destroy() {
      ddb.destroy();
      lambda.destroy();
      sesClients.destroy();
    },
  };
}

function readLocalDescription(file: string): LocalEnvironmentDescription {
  const found = readEnvironmentFile(file);
  switch (found.state) {
    case 'running':
      return found.description;
    case 'missing':
      throw new UnavailableError(
        `the local environment is not described at ${file} (${found.reason}); start it with \`npm start\`, or set ${LOCAL_ENV_FILE_VARIABLE}`,
      );
    case 'stale':
      throw new UnavailableError(
        `the local environment described at ${file} is not running (its process ${found.pid} has exited); start it again with \`npm start\``,
      );
    case 'starting':
      throw new UnavailableError(
        `the local environment is still starting (process ${found.pid}); wait until \`npm start\` prints its endpoints, then try again`,
      );
    case 'invalid':
      throw new UnavailableError(
        found.reason === 'not valid JSON'
          ? `${file} is not valid JSON; restart the local environment with \`npm start\``
          : `${file} ${found.reason}; restart the local environment with \`npm start\``,
      );
  }
}

function localTarget(file: string): TargetSpec {
  const description = readLocalDescription(file);
  // A fresh credentials object per client: the SDK writes its bookkeeping into the object it is given.
  const base = () => ({ region: description.region, credentials: { ...description.credentials }, maxAttempts: 2 });
  return {
    description: `local environment (${file})`,
    local: true,
    homeRegion: description.region,
    outputs: description.outputs,
    where: `the local environment (${file})`,
    dynamoDb: () => new DynamoDBClient({ ...base(), endpoint: description.endpoints.dynamodb }),
    lambda: () => new LambdaClient({ ...base(), endpoint: description.endpoints.lambda }),
    // One emulator serves every region; it tells them apart by the region in the request signature.
    sesConfig: { ...base(), ...SES_CALLERS.cli.client, endpoint: description.endpoints.sesv2 },
    syncRegions: async () => [...description.regions],
    propagation: async () => undefined,
    callerIdentity: async () => `local:${localUser()}`,
    // `npm start` runs the home stack only.
    regionalOutputs: async () => undefined,
    ...(description.smtp !== undefined ? { smtp: description.smtp } : {}),
  };
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

async function deployedTarget(stackName: string, stackRegion: string | undefined, profile: string | undefined): Promise<TargetSpec> {
  const base = { region: stackRegion, profile };
  const cfn = new CloudFormationClient(base);
  let homeRegion: string;
  let outputs: Record<string, string>;
  try {
    homeRegion = await cfn.config.region();
    outputs = await stackOutputs(cfn, stackName);
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) {
      throw new UnavailableError(
        `stack ${stackName} does not exist in ${await cfn.config.region().catch(() => 'the selected region')}; pass --stack <name> and --stack-region <region>`,
      );
    }
    throw asCliError(error, `reading the outputs of stack ${stackName}`);
  } finally {
    cfn.destroy();
  }
  const where = `stack ${stackName} (${homeRegion})`;
  const clientConfig = { region: homeRegion, profile };
  // One read of the sync function's environment serves both the regions and the propagation settings.
  let variables: Promise<Record<string, string>> | undefined;
  const functionVariables = (lambda: LambdaClient, output: (name: OutputName) => string) =>
    (variables ??= lambda
      .send(new GetFunctionConfigurationCommand({ FunctionName: output('SyncFunctionName') }))
      .then((config) => config.Environment?.Variables ?? {}));
  return {
    description: where,
    local: false,
    homeRegion,
    outputs,
    where,
    dynamoDb: () => new DynamoDBClient({ ...clientConfig, maxAttempts: 5 }),
    lambda: () => new LambdaClient(clientConfig),
    sesConfig: { ...SES_CALLERS.cli.client, profile },
    syncRegions: (lambda, output) =>
      // The sync function's SYNC_REGIONS is the one list every schedule and the guard agree on.
      functionVariables(lambda, output)
        .then((vars) => {
          const raw = vars.SYNC_REGIONS;
          if (!raw) throw new UnavailableError(`the sync function of ${where} has no SYNC_REGIONS variable; pass --regions`);
          return parseRegionList(raw, 'SYNC_REGIONS');
        })
        .catch((error: unknown) => {
          throw asCliError(error, `reading SYNC_REGIONS from the sync function (or pass --regions)`);
        }),
    propagation: (lambda, output) =>
      functionVariables(lambda, output)
        .then((vars): PropagationSettings | undefined => {
          const mode = vars.PROPAGATION_MODE;
          // A function deployed before propagation has neither variable: nothing to say, let the function answer.
          if (!mode) return undefined;
          const raw = vars.PROPAGATE_TO_REGIONS;
          return { mode, regions: mode === 'off' || !raw ? [] : parseRegionList(raw, 'PROPAGATE_TO_REGIONS') };
        })
        .catch((error: unknown) => {
          throw asCliError(error, 'reading the propagation settings (PROPAGATION_MODE, PROPAGATE_TO_REGIONS) of the sync function');
        }),
    async regionalOutputs(region) {
      // The regional stacks are named after the home stack (lib/regional-stack.ts: regionalStackName).
      const regionalName = `${stackName}-${region}`;
      const regionalCfn = new CloudFormationClient({ region, profile });
      try {
        return await stackOutputs(regionalCfn, regionalName);
      } catch (error) {
        if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) return undefined;
        throw asCliError(error, `reading the outputs of stack ${regionalName} (${region})`);
      } finally {
        regionalCfn.destroy();
      }
    },
    async callerIdentity() {
      const sts = new STSClient(clientConfig);
      try {
        const out = await sts.send(new GetCallerIdentityCommand({}));
        if (!out.Arn) throw new UnavailableError('STS GetCallerIdentity returned no ARN');
        return out.Arn;
      } catch (error) {
        throw asCliError(error, 'finding who you are (STS GetCallerIdentity) for the audit trail');
      } finally {
        sts.destroy();
      }
    },
  };
}

/** A stack's outputs by key (DescribeStacks). */
async function stackOutputs(cfn: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  return Object.fromEntries(
    (out.Stacks?.[0]?.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])),
  );
}

function requireOutput(outputs: Record<string, string>, name: OutputName, where: string): string {
  const value = outputs[name];
  if (!value) throw new UnavailableError(`${where} has no output ${name}; deploy the current version of the stack`);
  return value;
}
