import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SMTP_ENDPOINTS_VARIABLE } from '../lambdas/domain/smtp';
import { STACK_NAME } from '../lib/app';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local';
import {
  claimEnvironmentFile,
  ENVIRONMENT_FILE,
  LOCAL_ENV_FILE_VARIABLE,
  type LocalEnvironmentDescription,
  releaseEnvironmentFile,
  writeEnvironmentFile,
} from './environment-file';
import { type LambdaApi, startLambdaApi } from './lambda-api';
import { LocalLambda } from './lambda-runtime';
import { type LocalS3, startLocalS3 } from './s3-local';
import { type LocalSecretsManager, startLocalSecretsManager } from './secrets-manager';
import { SesEmulator } from './ses-emulator';
import { createSesResourcesFromTemplates } from './ses-resources';
import { LocalSqsEventSource, matchesPattern, sqsEventSourcesFromTemplate } from './sqs-event-source';
import { readStackTemplates, readTemplate, synthesize, type Template } from './synth';
import {
  type BucketNames,
  createBucketsFromTemplate,
  createTablesFromTemplate,
  functionBundle,
  type TableNames,
} from './template-resources';

/**
 * Credentials every local component accepts; nothing here reaches AWS. A new object on every call: the SDK writes
 * its own bookkeeping (`$source`) into the credentials object a client is given, so a shared one would carry it into
 * everything it is copied to (it once reached `.local/environment.json`).
 */
export function localCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };
}

/** The home region the local stack pretends to be deployed in. */
export const LOCAL_HOME_REGION = 'us-east-1';

/** The account the local stacks pretend to be deployed in (`AWS::AccountId` in bucket names, function ARNs). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * Default location of the file that tells other processes (the CLI's `--local`) how to reach the environment:
 * `$SSG_LOCAL_ENV_FILE` (the variable the CLI reads too), else `.local/environment.json` in the project.
 */
export const DEFAULT_ENV_FILE = process.env[LOCAL_ENV_FILE_VARIABLE] || join(__dirname, '..', ENVIRONMENT_FILE);

export type { LocalEnvironmentDescription } from './environment-file';

/** Options for {@link startLocalEnvironment}. */
export interface LocalEnvironmentOptions {
  /** Cloud assembly directory. @default .local/cdk.out */
  readonly outdir?: string;
  /** SES emulator rate per region. @default 1 (SES's own limit) */
  readonly sesRequestsPerSecond?: number;
  readonly seed?: number;
  /** Port of the local Lambda API (the guard endpoint). @default a free port */
  readonly lambdaPort?: number;
  /**
   * Where to describe the environment; false writes nothing. The file is claimed before anything starts (refused
   * while another live process holds it) and removed by `stop()`. @default .local/environment.json
   */
  readonly envFile?: string | false;
  /** Reuse a running DynamoDB Local instead of starting one. */
  readonly dynamodbEndpoint?: string;
  /** Print the functions' logs. @default false */
  readonly inheritLogs?: boolean;
  /** Use the cloud assembly already in `outdir` instead of synthesizing again (tests synthesize once). */
  readonly reuseAssembly?: boolean;
  /** Appended to every table name, so environments sharing one DynamoDB Local never collide. @default '' */
  readonly tableSuffix?: string;
}

/** A running local AWS: DynamoDB Local, the SES emulator and the synthesized functions behind a Lambda API. */
export interface LocalEnvironment extends LocalEnvironmentDescription {
  readonly ses: SesEmulator;
  /** The local S3 (path-style); holds every stack's buckets, each in its stack's region. */
  readonly s3: LocalS3;
  /**
   * The local Secrets Manager (`AWS_ENDPOINT_URL_SECRETS_MANAGER` of every function): the secrets the SMTP canaries
   * read are the operator's, not the template's, so it starts empty; seed it with CreateSecret or `putSecret`.
   */
  readonly secretsManager: LocalSecretsManager;
  /** Local bucket names by stack name, then logical ID. */
  readonly buckets: Record<string, BucketNames>;
  readonly tables: TableNames;
  readonly template: Template;
  /** Environment variables that point an AWS SDK process at this environment. */
  readonly awsEnv: Record<string, string>;
  /** Where the environment is described, if anywhere. */
  readonly envFile: string | undefined;
  /**
   * The template's SQS event sources (the SES event queue): the emulator's SES events, as the regions' forwarding
   * rules and the home bus's rule deliver them, go through these into their functions.
   */
  readonly eventSources: LocalSqsEventSource[];
  /** The configuration sets the regional stacks created in the emulator, by region (the service's own). */
  readonly configurationSets: Record<string, string[]>;
  /** The local Lambda API (`asyncIdle` waits for asynchronous invocations, such as targeted propagation). */
  readonly lambdaApi: LambdaApi;
  stop(): Promise<void>;
}

/**
 * Starts the service locally from the synthesized template: tables created from it, each function's bundle run as
 * the Lambda runtime would, reachable through the Lambda Invoke API, the SES v2 emulator for every region.
 */
export async function startLocalEnvironment(options: LocalEnvironmentOptions = {}): Promise<LocalEnvironment> {
  const envFile = options.envFile === false ? undefined : (options.envFile ?? DEFAULT_ENV_FILE);
  if (envFile !== undefined) {
    mkdirSync(dirname(envFile), { recursive: true });
    claimEnvironmentFile(envFile);
  }
  const stops: Array<() => Promise<void>> = [];
  if (envFile !== undefined) stops.push(async () => releaseEnvironmentFile(envFile));
  const stop = async () => {
    for (const fn of stops.splice(0).reverse()) await fn().catch(() => undefined);
  };
  try {
    const outdir = options.outdir ?? join(__dirname, '..', '.local', 'cdk.out');
    mkdirSync(outdir, { recursive: true });
    const template = options.reuseAssembly ? readTemplate(outdir) : synthesize(outdir).template;
    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (dynamodbEndpoint === undefined) {
      const ddb: DynamoDbLocal = await startDynamoDbLocal();
      stops.push(() => ddb.stop());
      dynamodbEndpoint = ddb.endpoint;
    }
    const s3 = await startLocalS3();
    stops.push(() => s3.stop());
    const regions = String(
      Object.values(template.Resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.SYNC_REGIONS,
      )?.Properties?.Environment?.Variables?.SYNC_REGIONS ?? LOCAL_HOME_REGION,
    ).split(',');
    const ses = await SesEmulator.start({
      requestsPerSecond: options.sesRequestsPerSecond ?? 1,
      seed: options.seed ?? 7,
      s3Endpoint: s3.endpoint,
      accountId: LOCAL_ACCOUNT_ID,
      smtpRegions: regions,
    });
    stops.push(() => ses.stop());
    // The SMTP listeners' CA, for clients in other processes: beside the environment file, else in a directory of its own.
    const caDir = envFile !== undefined ? dirname(envFile) : mkdtempSync(join(tmpdir(), 'ses-smtp-'));
    const caFile = join(caDir, 'ses-smtp-ca.pem');
    writeFileSync(caFile, ses.smtpCaPem());
    stops.push(async () => rmSync(envFile !== undefined ? caFile : caDir, { recursive: true, force: true }));
    const secretsManager = await startLocalSecretsManager({ accountId: LOCAL_ACCOUNT_ID, defaultRegion: LOCAL_HOME_REGION });
    stops.push(() => secretsManager.stop());
    const buckets = await createStackBuckets(outdir, s3.endpoint);

    const ddbClient = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: LOCAL_HOME_REGION, credentials: localCredentials() });
    const tables = await createTablesFromTemplate(ddbClient, template, options.tableSuffix);
    ddbClient.destroy();

    const credentials = localCredentials();
    const awsEnv: Record<string, string> = {
      AWS_REGION: LOCAL_HOME_REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      // The SMTP canary: there is no DNS for email-smtp.<region>.amazonaws.com here, so each region's endpoint is the
      // emulator's STARTTLS listener, and its certificates come from the emulator's CA (Node.js's own variable).
      ...localSmtpEnvironment(ses, caFile),
    };
    // Functions' environment may refer to the home stack's buckets as well as its tables.
    const refs = { ...tables, ...buckets[STACK_NAME] };
    // The API first, so that functions that invoke functions (event ingestion starts propagation) know its endpoint.
    const functions: Record<string, LocalLambda> = {};
    const lambdaApi: LambdaApi = await startLambdaApi({ functions, port: options.lambdaPort });
    stops.push(() => lambdaApi.stop());
    awsEnv.AWS_ENDPOINT_URL_LAMBDA = lambdaApi.endpoint;
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function' || typeof resource.Properties?.Code?.S3Key !== 'string') continue;
      const bundle = functionBundle(template, outdir, logicalId, refs);
      const fn = await LocalLambda.start(bundle, { env: awsEnv, inheritOutput: options.inheritLogs });
      stops.push(() => fn.stop());
      functions[logicalId] = fn;
    }

    // The regional stacks' configuration sets and event destinations, and the path of SES events into the home
    // region's queue and its function.
    const configurationSets = createSesResourcesFromTemplates(ses, readStackTemplates(outdir, LOCAL_HOME_REGION), LOCAL_ACCOUNT_ID);
    const eventSources: LocalSqsEventSource[] = [];
    for (const config of sqsEventSourcesFromTemplate(template)) {
      const fn = functions[config.functionLogicalId];
      if (!fn) continue;
      const source = new LocalSqsEventSource(config, (event) => fn.invoke(event), LOCAL_HOME_REGION, LOCAL_ACCOUNT_ID);
      const unsubscribe = ses.events.subscribe((event) => {
        if (matchesPattern(event, config.eventPattern)) source.send(JSON.stringify(event));
      });
      stops.push(async () => {
        unsubscribe();
        await source.stop();
      });
      eventSources.push(source);
    }

    const outputs: Record<string, string> = {};
    for (const [name, output] of Object.entries(template.Outputs ?? {})) {
      const ref = (output.Value as { Ref?: string } | undefined)?.Ref;
      if (ref) outputs[name] = tables[ref] ?? ref;
    }
    const description: LocalEnvironmentDescription = {
      region: LOCAL_HOME_REGION,
      credentials,
      endpoints: { dynamodb: dynamodbEndpoint, sesv2: ses.endpoint, lambda: lambdaApi.endpoint, s3: s3.endpoint },
      outputs,
      regions,
      smtp: { caFile, endpoints: ses.smtpEndpoints() },
      pid: process.pid,
    };
    if (envFile !== undefined) writeEnvironmentFile(envFile, description);
    return {
      ...description,
      credentials: localCredentials(),
      ses,
      s3,
      secretsManager,
      buckets,
      tables,
      template,
      awsEnv,
      envFile,
      eventSources,
      lambdaApi,
      configurationSets,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Creates the buckets of every stack of the cloud assembly in the local S3, each in its stack's region (the home
 * region for an environment-agnostic stack), with a client signed for that region. Returns names by stack.
 */
export async function createStackBuckets(outdir: string, s3Endpoint: string): Promise<Record<string, BucketNames>> {
  const out: Record<string, BucketNames> = {};
  for (const stack of readStackTemplates(outdir, LOCAL_HOME_REGION)) {
    const client = new S3Client({ region: stack.region, endpoint: s3Endpoint, forcePathStyle: true, credentials: localCredentials() });
    try {
      out[stack.stackName] = await createBucketsFromTemplate(client, stack.template, {
        stackName: stack.stackName,
        region: stack.region,
        accountId: stack.account ?? LOCAL_ACCOUNT_ID,
      });
    } finally {
      client.destroy();
    }
  }
  return out;
}

/**
 * The variables that point the SMTP canary at the emulator's SMTP interface (never set by the CDK):
 * `SSG_SMTP_ENDPOINTS` (`{"<region>": "<host>:<STARTTLS port>"}`) and `NODE_EXTRA_CA_CERTS` (the emulator's CA file).
 */
export function localSmtpEnvironment(ses: SesEmulator, caFile: string): Record<string, string> {
  const endpoints = Object.fromEntries(ses.smtpEndpoints().map(({ region, host, starttlsPort }) => [region, `${host}:${starttlsPort}`]));
  return { [SMTP_ENDPOINTS_VARIABLE]: JSON.stringify(endpoints), NODE_EXTRA_CA_CERTS: caFile };
}
