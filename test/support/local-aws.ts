import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../lambdas/domain/clients';
import { Pacer } from '../../lambdas/domain/retry';
import type { SyncDeps } from '../../lambdas/sync/sync';
import { type LocalEnvironment, startLocalEnvironment } from '../../local/environment';
import { readTemplate, type Template } from '../../local/synth';
import { createTablesFromTemplate, findResource, type TableNames } from '../../local/template-resources';

/** Test credentials; DynamoDB Local runs with -sharedDb, so any key sees the same tables. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' };

/** The template synthesized once by the global setup. */
export function testTemplate(): { template: Template; outdir: string } {
  const outdir = process.env.SSG_TEST_CDK_OUT;
  if (!outdir) throw new Error('SSG_TEST_CDK_OUT is not set: run the tests through jest (global setup)');
  return { template: readTemplate(outdir), outdir };
}

/** A DynamoDB client for the shared DynamoDB Local. */
export function testDynamoClient(): DynamoDBClient {
  const endpoint = process.env.SSG_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('SSG_TEST_DYNAMODB_ENDPOINT is not set: run the tests through jest (global setup)');
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
}

/** A document client for the shared DynamoDB Local that counts the commands sent through it, by command name. */
export function countingDocumentClient(): { doc: DynamoDBDocumentClient; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const client = testDynamoClient();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts[context.commandName ?? '?'] = (counts[context.commandName ?? '?'] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { doc: documentClient(client), counts };
}

/** Fresh tables created from the synthesized template, with their local names. */
export interface TestTables {
  readonly ddb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly names: TableNames;
  readonly suppressionTable: string;
  readonly stateTable: string;
}

/** Creates the template's tables under a random suffix. */
export async function createTestTables(): Promise<TestTables> {
  const { template } = testTemplate();
  const ddb = testDynamoClient();
  const names = await createTablesFromTemplate(ddb, template, `-${randomBytes(4).toString('hex')}`);
  return {
    ddb,
    doc: documentClient(ddb),
    names,
    suppressionTable: names[findResource(template, 'AWS::DynamoDB::Table', 'SyncSuppressionTable')]!,
    stateTable: names[findResource(template, 'AWS::DynamoDB::Table', 'SyncSyncStateTable')]!,
  };
}

/** An SES v2 client for one region of the emulator. */
export function testSesClient(endpoint: string, region: string, maxAttempts = 1): SESv2Client {
  return new SESv2Client({ endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts });
}

/** Every item of a table. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary attributes of the scanned items.
export async function scanAll(doc: DynamoDBDocumentClient, tableName: string): Promise<Array<Record<string, any>>> {
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  const items: Array<Record<string, any>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey }));
    items.push(...(out.Items ?? []));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** A logger that prints nothing. */
export function silentLogger(): Logger {
  return new Logger({ serviceName: 'test', logLevel: 'SILENT' });
}

/** Dependencies of a sync run against the emulator at `endpoint` and the test tables, fast-paced and silent. */
export function testSyncDeps(endpoint: string, tables: TestTables, region: string, overrides: Partial<SyncDeps> = {}): SyncDeps {
  return {
    ses: testSesClient(endpoint, region),
    doc: tables.doc,
    suppressionTable: tables.suppressionTable,
    stateTable: tables.stateTable,
    pacer: new Pacer(10_000),
    logger: silentLogger(),
    remainingMs: () => 900_000,
    ...overrides,
  };
}

/**
 * The local environment of `npm start` on the test run's DynamoDB Local and synthesized assembly, its tables under a
 * random suffix that starts with `name`, SES unthrottled; described in `envFile` for the CLI's `--local`.
 */
export function startTestEnvironment(name: string, envFile: string): Promise<LocalEnvironment> {
  return startLocalEnvironment({
    envFile,
    dynamodbEndpoint: process.env.SSG_TEST_DYNAMODB_ENDPOINT,
    outdir: process.env.SSG_TEST_CDK_OUT,
    reuseAssembly: true,
    sesRequestsPerSecond: 0,
    tableSuffix: `-${name}-${randomBytes(3).toString('hex')}`,
  });
}
