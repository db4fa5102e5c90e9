import { randomBytes } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { canonicalAddress } from './address';
import { batchGet, batchWrite } from './batch';
import type { StepBudget } from './deadline';
import {
  type AuditEntry,
  auditPartitionKey,
  type ImportJobRecord,
  importJobKey,
  parseAuditEntry,
  parseImportJob,
  parseRegionFreshness,
  parseRegionSyncState,
  type RegionFreshness,
  type RegionSyncState,
  regionStateKey,
  STATE_PK,
  STATE_SK,
  sesLookupKey,
} from './records';
import { encodeSeenHashes, type SeenAddresses, SeenSetBuilder } from './seen-set';

/**
 * Most addresses queued for a region's lease holder (about 100 bytes each in the region state item, which DynamoDB
 * caps at 400 KB alongside the pass checkpoints).
 */
export const MAX_PENDING_ADDRESSES = 2_000;

/**
 * Every read and write of the sync state table (`SyncStateTableName`, keys `pk`/`sk`). It holds three kinds of item:
 *
 * | item | key | written by | how |
 * | --- | --- | --- | --- |
 * | region state | `region#<region>` / `state` | the sync ({@link StateTable.save} fenced by the lease); targeted runs queue addresses for the lease holder ({@link StateTable.queuePendingAddresses}) | UpdateItem |
 * | seen-address chunks | `region#<region>` / `full#<pass>#<n>` | the sync's full pass | PutItem; BatchWriteItem delete; TTL |
 * | audit trail | `audit#<address>` / `<time>#<random>` | manual operations (`manual.ts`) | in their TransactWriteItems |
 * | shared SES lookup | `ses-lookup#<region>\|<operation>\|<name>` / `lookup` | the guard ({@link StateTable.putSesLookup}) | PutItem; TTL |
 * | import job | `propagation#<region>` / `job#<key>` | propagation ({@link StateTable.putJob}), under the region's lease | PutItem; DeleteItem |
 *
 * Readers: the sync (state, seen chunks), the guard ({@link StateTable.readFreshness}, shared SES lookups), the CLI
 * (state, audit trail).
 */
export class StateTable {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * A shared SES lookup: the answer one guard environment got from SES, for the others (each environment has its own
   * in-memory cache, and SES allows about one call a second per operation). Undefined when absent or unreadable.
   */
  async getSesLookup(key: string): Promise<SharedSesLookup | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: sesLookupKey(key), ConsistentRead: true }));
    const item = out.Item;
    if (typeof item?.value !== 'string' || typeof item.fetchedAt !== 'number') return undefined;
    try {
      return { value: JSON.parse(item.value) as unknown, fetchedAt: item.fetchedAt };
    } catch {
      return undefined;
    }
  }

  /** Stores an SES lookup's answer, fetched at `fetchedAt` (epoch ms); DynamoDB's TTL deletes it a day later. */
  async putSesLookup(key: string, value: unknown, fetchedAt: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...sesLookupKey(key), value: JSON.stringify(value), fetchedAt, expiresAt: Math.floor(fetchedAt / 1000) + 86_400 },
      }),
    );
  }

  /** Records an import job as it stands now (propagation holds the region's lease while it writes). */
  async putJob(job: ImportJobRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...importJobKey(job.region, job.key), ...job } }));
  }

  /** Every import job recorded for `region`, oldest first. */
  async listJobs(region: string): Promise<ImportJobRecord[]> {
    const jobs: ImportJobRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :job)',
          ExpressionAttributeValues: { ':pk': importJobKey(region, '').pk, ':job': 'job#' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        const { [STATE_PK]: _pk, [STATE_SK]: _sk, ...job } = item;
        jobs.push(parseImportJob(job));
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return jobs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  /** Forgets an import job whose copies are all settled. */
  async deleteJob(region: string, key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: importJobKey(region, key) }));
  }

  /** The region's state, or an empty state when the region was never synced. */
  async load(region: string): Promise<RegionSyncState> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: regionStateKey(region), ConsistentRead: true }));
    return parseRegionSyncState(out.Item, region);
  }

  /** Takes the region's lease until `until` (epoch ms); false when another invocation holds it. */
  async acquireLease(region: string, owner: string, until: number, now: number): Promise<boolean> {
    return this.updateRegionStateIf(region, {
      UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until, #region = :region',
      ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
      ExpressionAttributeNames: { '#region': 'region' },
      ExpressionAttributeValues: { ':owner': owner, ':until': until, ':now': now, ':region': region },
    });
  }

  /**
   * Gives the lease back if we still hold it. With `unlessPending`, only when no targeted run has queued addresses
   * for the holder ({@link queuePendingAddresses}): false then, and the holder propagates them first. True when the
   * lease is given back or was not ours any more.
   */
  async releaseLease(region: string, owner: string, options: { unlessPending?: boolean } = {}): Promise<boolean> {
    const released = await this.updateRegionStateIf(region, {
      UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
      ConditionExpression: options.unlessPending ? 'leaseOwner = :owner AND attribute_not_exists(pendingAddresses)' : 'leaseOwner = :owner',
      ExpressionAttributeValues: { ':owner': owner },
    });
    if (released || !options.unlessPending) return true;
    // Either the lease is not ours (nothing to give back) or addresses are waiting.
    return (await this.load(region)).leaseOwner !== owner;
  }

  /**
   * Queues addresses for the invocation that holds the region's lease: a targeted run that finds the lease taken
   * hands its addresses over instead of polling for the lease (polling is unfair: a run may lose the race to the
   * lease several times in a burst). The holder takes them before it gives the lease back. Returns false when the
   * queue is full (the region state item would grow past {@link MAX_PENDING_ADDRESSES}); the caller then waits.
   */
  async queuePendingAddresses(region: string, addresses: readonly string[]): Promise<boolean> {
    if (addresses.length === 0) return true;
    return this.updateRegionStateIf(region, {
      UpdateExpression: 'ADD pendingAddresses :addresses, pendingCount :n SET #region = :region',
      ConditionExpression: 'attribute_not_exists(pendingCount) OR pendingCount <= :room',
      ExpressionAttributeNames: { '#region': 'region' },
      ExpressionAttributeValues: {
        ':addresses': new Set(addresses),
        ':n': addresses.length,
        ':room': MAX_PENDING_ADDRESSES - addresses.length,
        ':region': region,
      },
    });
  }

  /** A conditional UpdateItem of the region's state item: false when its condition did not hold. */
  private async updateRegionStateIf(
    region: string,
    update: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
  ): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: regionStateKey(region), ...update }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Takes (and removes) the addresses queued for the lease holder; fenced by the lease. */
  async takePendingAddresses(region: string, owner: string): Promise<string[]> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: regionStateKey(region),
        UpdateExpression: 'REMOVE pendingAddresses, pendingCount',
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeValues: { ':owner': owner },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    const pending = out.Attributes?.pendingAddresses;
    return pending instanceof Set ? [...pending].filter((a): a is string => typeof a === 'string').sort() : [];
  }

  /** Records that a full reconciliation is wanted; whichever invocation next holds the lease starts it. */
  async requestFullPass(region: string, at: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: regionStateKey(region),
        UpdateExpression: 'SET fullRequestedAt = if_not_exists(fullRequestedAt, :at), #region = :region',
        ExpressionAttributeNames: { '#region': 'region' },
        ExpressionAttributeValues: { ':at': at, ':region': region },
      }),
    );
  }

  /**
   * Sets and removes top-level state attributes while `owner` holds the lease. Throws
   * `ConditionalCheckFailedException` when the lease was lost, so a late invocation cannot overwrite newer progress.
   */
  async save(region: string, owner: string, set: Partial<RegionSyncState>, remove: Array<keyof RegionSyncState> = []): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':owner': owner };
    const sets: string[] = [];
    for (const [name, value] of Object.entries(set)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    const removes = remove.map((name) => {
      names[`#${name}`] = name;
      return `#${name}`;
    });
    if (sets.length === 0 && removes.length === 0) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: regionStateKey(region),
        UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
          .join(' ')
          .trim(),
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * Records chunk number `chunk` of the addresses (canonical keys) a full pass saw, as 8-byte hashes (8 KB for a
   * 1,000-entry page, far under the 400 KB item limit), so its sweep can tell which ones the region no longer lists.
   * Chunks expire a week after `nowMs` if the pass never ends.
   */
  async putSeenChunk(region: string, passId: string, chunk: number, keys: readonly string[], nowMs: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [STATE_PK]: regionStateKey(region).pk,
          [STATE_SK]: seenChunkKey(passId, chunk),
          hashes: encodeSeenHashes(keys),
          count: keys.length,
          expiresAt: Math.floor(nowMs / 1000) + SEEN_CHUNK_TTL_SECONDS,
        },
      }),
    );
  }

  /**
   * The addresses a full pass saw, as recorded by {@link putSeenChunk}, in one sorted typed array (8 bytes an
   * address). `expected` (the entries the pass listed) sizes the array once instead of growing it. With `budget`, each
   * Query page (up to 1 MB) is read only while the budget has room for it: undefined when it ran out first (a list of
   * 10,000,000 entries is 80 MB, 80 pages; the next invocation reads them again).
   */
  async loadSeen(region: string, passId: string, expected = 0, budget?: StepBudget): Promise<SeenAddresses | undefined> {
    const seen = new SeenSetBuilder(expected);
    let startKey: Record<string, unknown> | undefined;
    do {
      if (budget && !budget.hasRoom()) return undefined;
      const query = () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': regionStateKey(region).pk, ':prefix': seenPrefix(passId) },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
      const out = await (budget ? budget.time(query) : query());
      for (const item of out.Items ?? []) seen.addEncoded(item.hashes as Uint8Array);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return seen.build();
  }

  /**
   * Deletes chunks 1..`chunks` of a pass, one BatchWriteItem of 25 at a time; with `budget`, only while it has room
   * for the next one. Returns how many were deleted; anything left expires through the table's TTL attribute.
   */
  async deleteSeen(region: string, passId: string, chunks: number, budget?: StepBudget): Promise<number> {
    const pk = regionStateKey(region).pk;
    let deleted = 0;
    for (let from = 0; from < chunks; from += DELETE_BATCH) {
      if (budget && !budget.hasRoom()) break;
      const requests = Array.from({ length: Math.min(DELETE_BATCH, chunks - from) }, (_, i) => ({
        DeleteRequest: { Key: { [STATE_PK]: pk, [STATE_SK]: seenChunkKey(passId, from + i + 1) } },
      }));
      const write = () => batchWrite(this.doc, this.tableName, requests);
      await (budget ? budget.time(write) : write());
      deleted += requests.length;
    }
    return deleted;
  }

  /** The sync progress of `regions`, read in one BatchGetItem (unprocessed keys retried). */
  async readFreshness(regions: readonly string[]): Promise<RegionFreshness[]> {
    const { items } = await batchGet(
      this.doc,
      this.tableName,
      regions.map((region) => regionStateKey(region)),
      {
        projection: '#pk, #sk, watermark, lastSuccessAt, lastError',
        names: { '#pk': STATE_PK, '#sk': STATE_SK },
        maxRounds: 5,
        backoffCapMs: 1000,
      },
    );
    const found = new Map(items.map((item) => [String(item[STATE_PK]), item]));
    return regions.map((region) => parseRegionFreshness(found.get(regionStateKey(region).pk), region));
  }

  /**
   * The Put of an audit entry, for the transaction that makes the change it records: there is never a change
   * without its audit entry. The random suffix keeps entries of the same millisecond apart.
   */
  auditPut(entry: AuditEntry, random: () => string = () => randomBytes(4).toString('hex')): AuditPut {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          [STATE_PK]: auditPartitionKey(entry.address),
          [STATE_SK]: `${entry.at}#${random()}`,
          ...entry,
          address: canonicalAddress(entry.address),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** The audit trail of an address, oldest first (one Query: the trail is one partition, in time order). */
  async readAuditTrail(address: string): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': STATE_PK },
          ExpressionAttributeValues: { ':pk': auditPartitionKey(address) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        const { [STATE_PK]: _pk, [STATE_SK]: _sk, ...entry } = item;
        entries.push(parseAuditEntry(entry));
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return entries;
  }
}

/** A shared SES lookup: the answer as SES gave it (JSON), and when. */
export interface SharedSesLookup {
  readonly value: unknown;
  readonly fetchedAt: number;
}

/** A TransactWriteItems element putting an audit entry. */
export interface AuditPut {
  readonly Put: { TableName: string; Item: Record<string, unknown>; ConditionExpression: string };
}

/** True when DynamoDB refused a write because its condition did not hold. */
export function isConditionFailure(error: unknown): boolean {
  return (error as Error)?.name === 'ConditionalCheckFailedException';
}

const SEEN_CHUNK_TTL_SECONDS = 7 * 24 * 3600;

/** Chunks deleted a request (BatchWriteItem's limit). */
const DELETE_BATCH = 25;

function seenPrefix(passId: string): string {
  return `full#${passId}#`;
}

function seenChunkKey(passId: string, chunk: number): string {
  return `${seenPrefix(passId)}${String(chunk).padStart(6, '0')}`;
}
