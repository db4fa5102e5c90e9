import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backoffDelay, sleep } from './retry';

/** Options for {@link batchGetItems}. */
export interface BatchGetOptions {
  readonly projection?: string;
  readonly names?: Record<string, string>;
  /** BatchGetItem requests in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Rounds of retrying unprocessed keys before giving up. @default 10 */
  readonly maxRounds?: number;
  readonly consistentRead?: boolean;
}

/** What {@link batchGetItems} returns: items by partition key, and how many requests it took. */
export interface BatchGetResult {
  readonly items: Map<string, Record<string, unknown>>;
  readonly requests: number;
}

/** DynamoDB's limit of keys per BatchGetItem request. */
export const BATCH_GET_LIMIT = 100;

/**
 * Reads items by partition key with BatchGetItem (100 keys a request, several requests in parallel), retrying
 * unprocessed keys with backoff. Throws when keys are still unprocessed after `maxRounds`, never returning a
 * silently partial answer.
 */
export async function batchGetItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keyName: string,
  keys: readonly string[],
  options: BatchGetOptions = {},
): Promise<BatchGetResult> {
  const items = new Map<string, Record<string, unknown>>();
  const unique = [...new Set(keys)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
  let requests = 0;
  const maxRounds = options.maxRounds ?? 10;

  const fetchChunk = async (chunk: string[]): Promise<void> => {
    let pending: Array<Record<string, unknown>> = chunk.map((key) => ({ [keyName]: key }));
    for (let round = 0; pending.length > 0; round++) {
      if (round >= maxRounds) {
        throw new Error(`BatchGetItem left ${pending.length} keys unprocessed on ${tableName} after ${maxRounds} rounds`);
      }
      if (round > 0) await sleep(backoffDelay(round, 50, 2000));
      requests++;
      const out = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ProjectionExpression: options.projection,
              ExpressionAttributeNames: options.names,
              ConsistentRead: options.consistentRead,
            },
          },
        }),
      );
      for (const item of out.Responses?.[tableName] ?? []) items.set(String(item[keyName]), item);
      pending = (out.UnprocessedKeys?.[tableName]?.Keys as Array<Record<string, unknown>> | undefined) ?? [];
    }
  };

  const concurrency = Math.max(1, options.concurrency ?? 8);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, chunks.length) }, async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      if (chunk) await fetchChunk(chunk);
    }
  });
  await Promise.all(workers);
  return { items, requests };
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
