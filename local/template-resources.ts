import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
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
    environment[name] = resolveValue(value, tables, `${logicalId}.Environment.${name}`);
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

function resolveValue(value: unknown, tables: TableNames, where: string): string {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: string } | null)?.Ref;
  if (ref && tables[ref]) return tables[ref];
  throw new Error(`cannot resolve ${where} = ${JSON.stringify(value)} locally`);
}

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
