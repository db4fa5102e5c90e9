import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lambdas/domain/clients';
import { STACK_NAME } from '../lambdas/domain/names';
import { SES_CALLERS, SesClients } from '../lambdas/domain/ses';
import { REGION_PATTERN } from '../lambdas/domain/settings';
import { asCliError, UnavailableError, UsageError } from './errors';

/** Stack name the CDK app deploys. */
export const DEFAULT_STACK_NAME = STACK_NAME;

/** Environment variable that overrides where `--local` finds the local environment's description. */
export const LOCAL_ENV_FILE_VARIABLE = 'SSG_LOCAL_ENV_FILE';

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
export type OutputName = 'SuppressionTableName' | 'SyncStateTableName' | 'SyncFunctionName' | 'GuardFunctionName';

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
  /** The SES regions the service syncs. */
  regions(): Promise<string[]>;
  /** Who is making changes, for the audit trail. */
  callerIdentity(): Promise<string>;
  destroy(): void;
}

/** What `.local/environment.json` holds (see `local/environment.ts`). */
interface LocalDescription {
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly endpoints: { dynamodb: string; sesv2: string; lambda: string };
  readonly outputs: Record<string, string>;
  readonly regions: string[];
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
    return localTarget(env[LOCAL_ENV_FILE_VARIABLE] || join(process.cwd(), '.local', 'environment.json'), regionsOverride);
  }
  const stackRegion = options.stackRegion !== undefined ? checkRegion(options.stackRegion, '--stack-region') : undefined;
  return deployedTarget(options.stack ?? DEFAULT_STACK_NAME, stackRegion, options.profile, regionsOverride);
}

function readLocalDescription(file: string): LocalDescription {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UnavailableError(
      `the local environment is not described at ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); start it with \`npm start\`, or set ${LOCAL_ENV_FILE_VARIABLE}`,
    );
  }
  let parsed: Partial<LocalDescription>;
  try {
    parsed = JSON.parse(text) as Partial<LocalDescription>;
  } catch {
    throw new UnavailableError(`${file} is not valid JSON; restart the local environment with \`npm start\``);
  }
  const missing = ['region', 'credentials', 'endpoints', 'outputs', 'regions'].filter(
    (key) => parsed[key as keyof LocalDescription] === undefined,
  );
  if (missing.length > 0)
    throw new UnavailableError(`${file} lacks ${missing.join(', ')}; restart the local environment with \`npm start\``);
  return parsed as LocalDescription;
}

function localTarget(file: string, regionsOverride: string[] | undefined): Target {
  const description = readLocalDescription(file);
  const base = { region: description.region, credentials: description.credentials, maxAttempts: 2 };
  const ddb = new DynamoDBClient({ ...base, endpoint: description.endpoints.dynamodb });
  const lambda = new LambdaClient({ ...base, endpoint: description.endpoints.lambda });
  // One emulator serves every region; it tells them apart by the region in the request signature.
  const sesClients = new SesClients({ ...base, ...SES_CALLERS.cli.client, endpoint: description.endpoints.sesv2 });
  return {
    description: `local environment (${file})`,
    local: true,
    homeRegion: description.region,
    doc: documentClient(ddb),
    lambda,
    ses: (region) => sesClients.forRegion(region),
    output: (name) => requireOutput(description.outputs, name, `the local environment (${file})`),
    regions: async () => regionsOverride ?? description.regions,
    callerIdentity: async () => `local:${localUser()}`,
    destroy() {
      ddb.destroy();
      lambda.destroy();
      sesClients.destroy();
    },
  };
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

async function deployedTarget(
  stackName: string,
  stackRegion: string | undefined,
  profile: string | undefined,
  regionsOverride: string[] | undefined,
): Promise<Target> {
  const base = { region: stackRegion, profile };
  const cfn = new CloudFormationClient(base);
  let homeRegion: string;
  let outputs: Record<string, string>;
  try {
    homeRegion = await cfn.config.region();
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = out.Stacks?.[0];
    outputs = Object.fromEntries(
      (stack?.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])),
    );
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
  const ddb = new DynamoDBClient({ ...clientConfig, maxAttempts: 5 });
  const lambda = new LambdaClient(clientConfig);
  const sesClients = new SesClients({ ...SES_CALLERS.cli.client, profile });
  let regions: Promise<string[]> | undefined;
  return {
    description: where,
    local: false,
    homeRegion,
    doc: documentClient(ddb),
    lambda,
    ses: (region) => sesClients.forRegion(region),
    output: (name) => requireOutput(outputs, name, where),
    regions() {
      // The sync function's SYNC_REGIONS is the one list every schedule and the guard agree on.
      regions ??= regionsOverride
        ? Promise.resolve(regionsOverride)
        : lambda
            .send(new GetFunctionConfigurationCommand({ FunctionName: requireOutput(outputs, 'SyncFunctionName', where) }))
            .then((config) => {
              const raw = config.Environment?.Variables?.SYNC_REGIONS;
              if (!raw) throw new UnavailableError(`the sync function of ${where} has no SYNC_REGIONS variable; pass --regions`);
              return parseRegionList(raw, 'SYNC_REGIONS');
            })
            .catch((error: unknown) => {
              throw asCliError(error, `reading SYNC_REGIONS from the sync function (or pass --regions)`);
            });
      return regions;
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
    destroy() {
      ddb.destroy();
      lambda.destroy();
      sesClients.destroy();
    },
  };
}

function requireOutput(outputs: Record<string, string>, name: OutputName, where: string): string {
  const value = outputs[name];
  if (!value) throw new UnavailableError(`${where} has no output ${name}; deploy the current version of the stack`);
  return value;
}
