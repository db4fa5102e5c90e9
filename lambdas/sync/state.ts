import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SyncMode, SyncSummary } from '../../client/sync-contract';
import { regionStateKey } from '../domain/records';

export type { SyncMode, SyncSummary };

/** Progress of one pass through a region's list, saved after every page so the next invocation can go on. */
export interface PassCheckpoint {
  readonly passId: string;
  readonly kind: SyncMode;
  readonly startedAt: string;
  /** Lower bound of LastUpdateTime asked of SES (incremental passes after the first). */
  readonly windowStart?: string;
  /** Upper bound of LastUpdateTime asked of SES (incremental); the watermark once the pass completes. */
  readonly windowEnd: string;
  phase: 'list' | 'sweep';
  nextToken?: string;
  scanKey?: Record<string, unknown>;
  pages: number;
  entriesRead: number;
  itemsWritten: number;
  removals: number;
  restarts: number;
  seenChunks: number;
}

/** The per-region sync state item (watermark, last success, last error, checkpoints). */
export interface RegionSyncState {
  readonly region: string;
  watermark?: string;
  lastSuccessAt?: string;
  lastFullSuccessAt?: string;
  lastRunAt?: string;
  lastError?: { name: string; message: string; at: string };
  lastSummary?: SyncSummary;
  /** Entries the region's SES list held at the end of the last full reconciliation. */
  listedAtLastFull?: number;
  incremental?: PassCheckpoint;
  full?: PassCheckpoint;
  fullRequestedAt?: string;
  leaseOwner?: string;
  leaseUntil?: number;
}

/** Reads and writes a region's sync state; writes are fenced by the lease so a stale invocation cannot win. */
export class SyncStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The region's state, or an empty state when the region was never synced. */
  async load(region: string): Promise<RegionSyncState> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: regionStateKey(region), ConsistentRead: true }));
    const { pk: _pk, sk: _sk, ...state } = (out.Item ?? {}) as Record<string, unknown>;
    return { ...(state as Partial<RegionSyncState>), region };
  }

  /** Takes the region's lease until `until` (epoch ms); false when another invocation holds it. */
  async acquireLease(region: string, owner: string, until: number, now: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: regionStateKey(region),
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until, #region = :region',
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
          ExpressionAttributeNames: { '#region': 'region' },
          ExpressionAttributeValues: { ':owner': owner, ':until': until, ':now': now, ':region': region },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Gives the lease back if we still hold it. */
  async releaseLease(region: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: regionStateKey(region),
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
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
}
