import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { type BucketLocationConstraint, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Template } from './synth';

/** Local physical names of the template's tables: the logical ID plus a suffix, so test runs never collide. */
export type TableNames = Record<string, string>;

/**
 * Creates every `AWS::DynamoDB::Table` of the template in DynamoDB Local with the template's key schema, indexes
 * and billing mode, so the local schema cannot drift from the deployed one.
 */
export async function createTablesFromTemplate(client: DynamoDBClient, template: Template, suffix = ''): Promise<TableNames> {
  const names: TableNames = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const p = resource.Properties ?? {};
    const tableName = `${logicalId}${suffix}`;
    names[logicalId] = tableName;
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          KeySchema: p.KeySchema,
          AttributeDefinitions: p.AttributeDefinitions,
          BillingMode: p.BillingMode ?? 'PROVISIONED',
          ProvisionedThroughput: p.BillingMode === 'PAY_PER_REQUEST' ? undefined : p.ProvisionedThroughput,
          GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
          LocalSecondaryIndexes: p.LocalSecondaryIndexes,
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
  }
  return names;
}

/** Local names of a template's buckets, by logical ID. */
export type BucketNames = Record<string, string>;

/**
 * Creates every `AWS::S3::Bucket` of a stack's template in the local S3, in the stack's region (its
 * `LocationConstraint`), as deploying the stack would. `BucketName` may be a string or an `Fn::Join` of strings and
 * `Ref`s to `AWS::AccountId`, `AWS::Region`, `AWS::Partition` or `AWS::URLSuffix`; a bucket without one gets a
 * CloudFormation-like generated name (`<stack>-<logicalid>`, lower case). `client` must be signed for `region` (the
 * local S3 refuses a bucket whose constraint differs from the signing region, as S3 does). A bucket that already
 * exists is kept. Returns the names by logical ID.
 */
export async function createBucketsFromTemplate(
  client: S3Client,
  template: Template,
  stack: { readonly stackName: string; readonly region: string; readonly accountId: string },
): Promise<BucketNames> {
  const names: BucketNames = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::S3::Bucket') continue;
    const declared = resource.Properties?.BucketName;
    const name =
      declared === undefined
        ? `${stack.stackName}-${logicalId}`
            .toLowerCase()
            .replace(/[^a-z0-9.-]/g, '-')
            .slice(0, 63)
            .replace(/-+$/, '')
        : resolveName(declared, stack, `${logicalId}.BucketName`);
    names[logicalId] = name;
    try {
      await client.send(
        new CreateBucketCommand({
          Bucket: name,
          ...(stack.region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: stack.region as BucketLocationConstraint } }),
        }),
      );
    } catch (error) {
      const code = (error as { name?: string }).name;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw error;
    }
  }
  return names;
}

function resolveName(value: unknown, stack: { readonly region: string; readonly accountId: string }, where: string): string {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: unknown } | null)?.Ref;
  if (typeof ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': stack.accountId,
      'AWS::Region': stack.region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    const resolved = pseudo[ref];
    if (resolved !== undefined) return resolved;
  }
  const join = (value as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map((part, i) => resolveName(part, stack, `${where}[${i}]`)).join(join[0]);
  }
  throw new Error(`cannot resolve ${where} = ${JSON.stringify(value)} locally`);
}

/** Logical ID of the single resource of `type` whose logical ID starts with `prefix`. */
export function findResource(template: Template, type: string, prefix: string): string {
  const matches = Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${JSON.stringify(matches)}`);
  return matches[0] as string;
}

/** The deployed function's handler file and environment, with `Ref`s to tables resolved to local names. */
export interface FunctionBundle {
  readonly logicalId: string;
  /** Absolute path of the bundle's JavaScript file, as `cdk synth` wrote it. */
  readonly file: string;
  /** Export the Lambda runtime calls, from the template's `Handler`. */
  readonly exportName: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
  /** The template's `MemorySize` (MB). @default 128, Lambda's default */
  readonly memorySize?: number;
}

/** Reads a function's bundle location, handler and environment from the template and the cloud assembly. */
export function functionBundle(template: Template, outdir: string, logicalIdPrefix: string, tables: TableNames): FunctionBundle {
  const logicalId = findResource(template, 'AWS::Lambda::Function', logicalIdPrefix);
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`the template has no resource ${logicalId}`);
  const assetPath = assetDirectory(outdir, resource.Properties?.Code?.S3Key, logicalId);
  const handler = String(resource.Properties?.Handler ?? '');
  const dot = handler.lastIndexOf('.');
  if (dot < 1) throw new Error(`function ${logicalId} has an invalid Handler ${JSON.stringify(handler)}`);
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries((resource.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>)) {
    // A function's name is its logical ID locally: the local Lambda API serves every function by it.
    const ref = (value as { Ref?: string } | null)?.Ref;
    environment[name] =
      ref && template.Resources[ref]?.Type === 'AWS::Lambda::Function'
        ? ref
        : resolveValue(value, tables, `${logicalId}.Environment.${name}`);
  }
  return {
    logicalId,
    file: join(outdir, assetPath, `${handler.slice(0, dot)}.js`),
    exportName: handler.slice(dot + 1),
    environment,
    timeoutSeconds: Number(resource.Properties?.Timeout ?? 3),
    memorySize: Number(resource.Properties?.MemorySize ?? 128),
  };
}

/**
 * A function's environment value: a string, a `Ref` to a local table (or bucket), a pseudo parameter of the home
 * stack, or an `Fn::Join` of those (the import bucket pattern joins the account id).
 */
function resolveValue(value: unknown, tables: TableNames, where: string, stack = LOCAL_HOME_STACK): string {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: string } | null)?.Ref;
  if (ref && tables[ref]) return tables[ref];
  const join = (value as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map((part, i) => resolveValue(part, tables, `${where}[${i}]`, stack)).join(join[0]);
  }
  return resolveName(value, stack, where);
}

/** The home stack as the local runtime deploys it: the local account, the first configured region of cdk.json. */
const LOCAL_HOME_STACK = { region: 'us-east-1', accountId: '000000000000' } as const;

/** The cloud-assembly directory of a function's code asset, found through the stack's asset manifest. */
function assetDirectory(outdir: string, s3Key: unknown, logicalId: string): string {
  if (typeof s3Key !== 'string' || !s3Key.endsWith('.zip')) {
    throw new Error(`function ${logicalId} has no file asset as its code (Code.S3Key = ${JSON.stringify(s3Key)})`);
  }
  const hash = s3Key.slice(0, -'.zip'.length);
  for (const file of readdirSync(outdir).filter((name) => name.endsWith('.assets.json'))) {
    const manifest = JSON.parse(readFileSync(join(outdir, file), 'utf8')) as { files?: Record<string, { source?: { path?: string } }> };
    const path = manifest.files?.[hash]?.source?.path;
    if (path) return path;
  }
  throw new Error(`asset ${hash} of function ${logicalId} is not in any asset manifest under ${outdir}`);
}
