import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lambdas/domain/clients';
import { type DynamoDbLocal, startDynamoDbLocal } from '../local/dynamodb-local';
import { LocalLambda } from '../local/lambda-runtime';
import { synthesize, type Template } from '../local/synth';
import { createTablesFromTemplate, findResource, functionBundle } from '../local/template-resources';

/** Counts DynamoDB requests by operation, as seen on the wire by one client. */
export class RequestCounter {
  private readonly counts = new Map<string, number>();

  /** Adds the counting middleware to `client`. */
  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.counts.set(context.commandName ?? 'unknown', (this.counts.get(context.commandName ?? 'unknown') ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'benchRequestCounter' },
    );
  }

  /** Requests of one operation so far. */
  get(operation: string): number {
    return this.counts.get(operation) ?? 0;
  }

  /** Write requests (PutItem, UpdateItem, DeleteItem, BatchWriteItem, BatchExecuteStatement: the sync's INSERTs) so far. */
  writes(): number {
    return ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'BatchExecuteStatementCommand'].reduce(
      (n, op) => n + this.get(op),
      0,
    );
  }

  /** Read requests (GetItem, BatchGetItem, Query, Scan) so far. */
  reads(): number {
    return ['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand'].reduce((n, op) => n + this.get(op), 0);
  }

  reset(): void {
    this.counts.clear();
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** DynamoDB Local plus the synthesized template, shared by the benchmarks. */
export interface BenchDynamo {
  readonly local: DynamoDbLocal;
  readonly template: Template;
  readonly outdir: string;
  /** A fresh pair of tables from the template, with a counting client. */
  tables(suffix: string): Promise<{
    doc: DynamoDBDocumentClient;
    counter: RequestCounter;
    suppressionTable: string;
    stateTable: string;
    client: DynamoDBClient;
  }>;
  stop(): Promise<void>;
}

/** Starts DynamoDB Local and synthesizes the app (the same bundles `cdk synth` writes). */
export async function startBenchDynamo(): Promise<BenchDynamo> {
  const outdir = join(__dirname, '..', '.local', 'bench-cdk.out');
  mkdirSync(outdir, { recursive: true });
  const { template } = synthesize(outdir);
  const local = await startDynamoDbLocal();
  const admin = new DynamoDBClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  return {
    local,
    template,
    outdir,
    tables: async (suffix) => {
      const names = await createTablesFromTemplate(admin, template, `-${suffix}`);
      const client = new DynamoDBClient({
        endpoint: local.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
        maxAttempts: 10,
      });
      const counter = new RequestCounter();
      counter.attach(client);
      return {
        client,
        doc: documentClient(client),
        counter,
        suppressionTable: names[findResource(template, 'AWS::DynamoDB::Table', 'SyncSuppressionTable')]!,
        stateTable: names[findResource(template, 'AWS::DynamoDB::Table', 'SyncSyncStateTable')]!,
      };
    },
    stop: () => local.stop(),
  };
}

/** Median of `values`. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Credentials of every benchmark client and function (DynamoDB Local and the SES emulator accept any). */
export const BENCH_CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

/** Where a benchmarked function reaches its tables and SES. */
export interface BenchFunctionTarget {
  readonly tables: { readonly suppressionTable: string; readonly stateTable: string };
  /** The DynamoDB endpoint (DynamoDB Local, or a counting proxy in front of it). */
  readonly dynamoEndpoint: string;
  readonly sesEndpoint: string;
  readonly region: string;
}

/** Starts a synthesized bundle of the template (by logical id prefix) in the local Lambda runtime, on `target`. */
export function startBenchFunction(dynamo: BenchDynamo, logicalIdPrefix: string, target: BenchFunctionTarget): Promise<LocalLambda> {
  const names: Record<string, string> = {};
  for (const [id, r] of Object.entries(dynamo.template.Resources)) {
    if (r.Type !== 'AWS::DynamoDB::Table') continue;
    names[id] = id.startsWith('SyncSuppressionTable') ? target.tables.suppressionTable : target.tables.stateTable;
  }
  return LocalLambda.start(functionBundle(dynamo.template, dynamo.outdir, logicalIdPrefix, names), {
    env: {
      AWS_REGION: target.region,
      AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: target.dynamoEndpoint,
      AWS_ENDPOINT_URL_SESV2: target.sesEndpoint,
    },
  });
}
