import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backoffDelay, sleep } from './retry';

/**
 * The one place that talks BatchGetItem and BatchWriteItem: requests of at most DynamoDB's size, several in flight,
 * and the unprocessed-keys (unprocessed-items) retry loop with backoff.
 */

/** A DynamoDB key or item, as the document client takes it. */
export type Key = Record<string, unknown>;

/** Options for {@link batchGet}. */
export interface BatchGetOptions {
  readonly projection?: string;
  readonly names?: Record<string, string>;
  /** BatchGetItem requests in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Rounds of retrying unprocessed keys before giving up. @default 10 */
  readonly maxRounds?: number;
  /** Upper bound of one backoff delay between rounds. @default 2000 */
  readonly backoffCapMs?: number;
  readonly consistentRead?: boolean;
}

/** What {@link batchGet} returns: the items found (in no particular order), and how many requests it took. */
export interface BatchGetResult {
  readonly items: Key[];
  readonly requests: number;
}

/** DynamoDB's limit of keys per BatchGetItem request. */
export const BATCH_GET_LIMIT = 100;

/** DynamoDB's limit of requests per BatchWriteItem request. */
export const BATCH_WRITE_LIMIT = 25;

/**
 * Reads items by key with BatchGetItem (100 keys a request, several requests in parallel), retrying unprocessed keys
 * with backoff. Throws when keys are still unprocessed after `maxRounds`, never returning a silently partial answer.
 */
export async function batchGet(doc: DynamoDBDocumentClient, tableName: string, keys: readonly Key[], options: BatchGetOptions = {}) {
  const items: Key[] = [];
  let requests = 0;
  const maxRounds = options.maxRounds ?? 10;
  const capMs = options.backoffCapMs ?? 2000;
  const fetchChunk = async (chunk: Key[]): Promise<void> => {
    let pending = chunk;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= maxRounds) {
        throw new Error(`BatchGetItem left ${pending.length} keys unprocessed on ${tableName} after ${maxRounds} rounds`);
      }
      if (round > 0) await sleep(backoffDelay(round, 50, capMs));
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
      items.push(...(out.Responses?.[tableName] ?? []));
      pending = (out.UnprocessedKeys?.[tableName]?.Keys as Key[] | undefined) ?? [];
    }
  };
  await forEachLimit(chunks(keys, BATCH_GET_LIMIT), options.concurrency ?? 8, fetchChunk);
  return { items, requests } satisfies BatchGetResult;
}

/**
 * Items by a string partition key: {@link batchGet} with duplicate keys asked once, the answer keyed by the
 * partition key's value.
 */
export async function batchGetByKey(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keyName: string,
  keys: readonly string[],
  options: BatchGetOptions = {},
): Promise<{ items: Map<string, Key>; requests: number }> {
  const { items, requests } = await batchGet(
    doc,
    tableName,
    [...new Set(keys)].map((key) => ({ [keyName]: key })),
    options,
  );
  return { items: new Map(items.map((item) => [String(item[keyName]), item])), requests };
}

/** A BatchWriteItem request: put an item or delete a key. */
export type WriteRequest = { readonly PutRequest: { readonly Item: Key } } | { readonly DeleteRequest: { readonly Key: Key } };

/**
 * Writes with BatchWriteItem, 25 requests at a time, retrying unprocessed items with backoff for at most `maxRounds`
 * rounds. Returns how many requests were still unprocessed at the end (0 when everything was written), so the caller
 * decides whether that is an error.
 */
export async function batchWrite(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  options: { readonly maxRounds?: number; readonly backoffCapMs?: number } = {},
): Promise<number> {
  const maxRounds = options.maxRounds ?? 8;
  let leftover = 0;
  for (const chunk of chunks(requests, BATCH_WRITE_LIMIT)) {
    let pending = chunk;
    for (let round = 0; pending.length > 0 && round < maxRounds; round++) {
      if (round > 0) await sleep(backoffDelay(round, 50, options.backoffCapMs ?? 2000));
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending as WriteRequest[] } }));
      pending = (out.UnprocessedItems?.[tableName] as WriteRequest[] | undefined) ?? [];
    }
    leftover += pending.length;
  }
  return leftover;
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

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
