import { BatchExecuteStatementCommand, type DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type BatchGetOptions, batchGetByKey } from './batch';
import { type EventClaim, joinEventOrigin } from './origins';
import {
  EVENTS_ENDED_ATTRIBUTE,
  type EventOriginEntry,
  eventAttribute,
  MANUAL_ATTRIBUTE,
  type ManualEntry,
  type PropagatedEntry,
  parseManualEntry,
  parseRegionEntry,
  parseSuppressionItem,
  propagatedAttribute,
  type RegionEntry,
  regionAttribute,
  SUPPRESSION_KEY,
  type SuppressionItem,
} from './records';
import { isConditionFailure } from './state-table';

/**
 * Every read and write of the canonical suppression table (`SuppressionTableName`, key `address`). Items are parsed
 * here ({@link parseSuppressionItem}); nothing else sends commands to this table.
 *
 * | writer | attribute | how |
 * | --- | --- | --- |
 * | the sync, per page (new addresses) | the whole item | {@link SuppressionTable.insertRegionEntries}: PartiQL INSERTs, 25 in one BatchExecuteStatement, each failing alone when its item exists; those go through putRegionEntry |
 * | the sync, per page | `region:<region>`, `firstSeen`, `origin`, `lastUpdated` | {@link SuppressionTable.putRegionEntry}: UpdateItem conditional on the entry being older and `firstSeen` later; re-read and retried on a failed condition |
 * | the sync's full-pass sweep | `region:<region>.status/removedAt` | {@link SuppressionTable.markRegionRemoved}: UpdateItem conditional on still LISTED and older than the pass |
 * | propagation into a region (`propagation.ts`) | `propagated:<region>`; `region:<region>.status/removedAt` of a copy it withdrew | {@link SuppressionTable.putPropagated} (only on an existing item); {@link SuppressionTable.markRegionRemoved} |
 * | manual operations (`manual.ts`: suppress, unsuppress, import) | `manual`, `region:<region>.status/removedAt`, `propagated:<region>`, `eventsEndedAt` (unsuppress), `firstSeen`, `origin` | {@link SuppressionTable.manualUpdate} inside a TransactWriteItems with the audit entry, conditional on the manual entry read |
 * | event ingestion (`lambdas/events`) | `event:<region>`, `firstSeen`, `origin`, `lastUpdated` (creates the item when absent) | {@link SuppressionTable.putEventOrigin}: UpdateItem conditional on the entry and `eventsEndedAt` being what was read and `firstSeen` later; re-read and retried on a failed condition |
 *
 * Readers: the guard ({@link SuppressionTable.getMany}), the sync ({@link SuppressionTable.readRegionEntries},
 * {@link SuppressionTable.scanListed}), the CLI ({@link SuppressionTable.get}, {@link SuppressionTable.scanPages}).
 */
export class SuppressionTable {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** The canonical item of `key` (a canonical address), read consistently. */
  async get(key: string): Promise<SuppressionItem | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [SUPPRESSION_KEY]: key }, ConsistentRead: true }));
    return out.Item ? parseSuppressionItem(out.Item) : undefined;
  }

  /** The canonical items of `keys`, read with BatchGetItem 100 keys at a time, several requests in parallel. */
  async getMany(
    keys: readonly string[],
    options: Pick<BatchGetOptions, 'concurrency' | 'maxRounds' | 'consistentRead'> = {},
  ): Promise<{ items: Map<string, SuppressionItem>; requests: number }> {
    const { items, requests } = await batchGetByKey(this.doc, this.tableName, SUPPRESSION_KEY, keys, options);
    return { items: new Map([...items].map(([key, item]) => [key, parseSuppressionItem(item)])), requests };
  }

  /**
   * One region's entry and `firstSeen` of each of `keys`, for the sync to compare with what SES lists; absent keys
   * have no item. `consistentRead` for a second look after a write found the item changed.
   */
  async readRegionEntries(keys: readonly string[], region: string, consistentRead = false): Promise<Map<string, RegionView>> {
    const attr = regionAttribute(region);
    const { items } = await batchGetByKey(this.doc, this.tableName, SUPPRESSION_KEY, keys, {
      projection: '#key, #r, firstSeen',
      names: { '#key': SUPPRESSION_KEY, '#r': attr },
      consistentRead,
    });
    const views = new Map<string, RegionView>();
    for (const [key, raw] of items) {
      const item = parseSuppressionItem(raw);
      views.set(key, { entry: item[attr], firstSeen: item.firstSeen });
    }
    return views;
  }

  /** The manual entries of `keys` (consistent reads), for an import to compare with. */
  async readManualEntries(keys: readonly string[]): Promise<Map<string, ManualEntry | undefined>> {
    const { items } = await batchGetByKey(this.doc, this.tableName, SUPPRESSION_KEY, keys, {
      projection: '#a, #m',
      names: { '#a': SUPPRESSION_KEY, '#m': MANUAL_ATTRIBUTE },
      consistentRead: true,
    });
    return new Map(
      [...items].map(([key, raw]) => [key, raw[MANUAL_ATTRIBUTE] === undefined ? undefined : parseManualEntry(raw[MANUAL_ATTRIBUTE])]),
    );
  }

  /**
   * Records what a region's SES list says of `key`: its `entry` (LISTED, as SES lists it) and `lastUpdateTime`, the
   * earliest LastUpdateTime that region listed for the address (it may list several spellings). The entry is written
   * unless the stored one is LISTED and at least as new (in the order of {@link compareRegionEntries}), so whatever
   * order pages arrive in, the newest entry wins. `firstSeen` (with `origin`, its source) only ever moves earlier, so
   * it is the earliest LastUpdateTime of any region whatever order concurrent syncs write in. Both are conditional
   * writes; when a condition fails (another writer got there first) the item is read again and the comparison
   * redone. `stored` is what the caller read before (see {@link readRegionEntries}). False when nothing needed writing.
   */
  async putRegionEntry(key: string, region: string, entry: RegionEntry, earliest: string, stored: RegionView = {}): Promise<boolean> {
    let view = stored;
    for (let attempt = 0; attempt < MAX_REGION_WRITE_ATTEMPTS; attempt++) {
      const { writeEntry, writeFirstSeen } = regionWrites(view, entry, earliest);
      if (!writeEntry && !writeFirstSeen) return false;
      const sets = ['lastUpdated = :now'];
      const conditions: string[] = [];
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':now': entry.syncedAt };
      if (writeEntry) {
        sets.push('#r = :entry');
        conditions.push(
          '(attribute_not_exists(#r) OR #r.#st <> :listed OR #r.#lut < :lut OR (#r.#lut = :lut AND #r.#a < :addr) OR (#r.#lut = :lut AND #r.#a = :addr AND #r.#reason < :reason))',
        );
        Object.assign(names, {
          '#r': regionAttribute(region),
          '#st': 'status',
          '#lut': 'lastUpdateTime',
          '#a': 'address',
          '#reason': 'reason',
        });
        Object.assign(values, {
          ':entry': entry,
          ':lut': entry.lastUpdateTime,
          ':listed': 'LISTED',
          ':addr': entry.address,
          ':reason': entry.reason,
        });
      }
      if (writeFirstSeen) {
        sets.push('firstSeen = :first', 'origin = :origin');
        conditions.push('(attribute_not_exists(firstSeen) OR firstSeen > :first)');
        Object.assign(values, { ':first': earliest, ':origin': `ses:${region}` });
      }
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [SUPPRESSION_KEY]: key },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: conditions.join(' AND '),
            ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        view = await this.readRegionView(key, region);
      }
    }
    // Every failed attempt means another writer moved the item forward; this many in a row is not contention.
    throw new Error(`the canonical item of a ${region} entry kept changing: ${MAX_REGION_WRITE_ATTEMPTS} conditional writes failed`);
  }

  /**
   * Creates the canonical items of addresses the table did not hold when the caller read it: the item
   * {@link putRegionEntry} would create (`region:<region>`, `firstSeen` = `earliest`, `origin`, `lastUpdated`), for up
   * to {@link INSERT_BATCH_LIMIT} addresses in one BatchExecuteStatement request instead of one UpdateItem each. A
   * PartiQL INSERT writes only when no item has the key (it fails alone, with `DuplicateItem`, otherwise), so it is as
   * conditional as putRegionEntry's first attempt over an absent item: another region's sync or an operator that
   * created the item since it was read is never overwritten. Returns the entries that were not inserted (the item
   * exists by now, or the statement failed), for the caller to write with putRegionEntry, which re-reads and compares.
   */
  async insertRegionEntries(region: string, items: readonly NewRegionItem[]): Promise<NewRegionItem[]> {
    if (items.length === 0) return [];
    if (items.length > INSERT_BATCH_LIMIT) throw new Error(`at most ${INSERT_BATCH_LIMIT} inserts a request, got ${items.length}`);
    const statement = `INSERT INTO "${this.tableName}" VALUE {'${SUPPRESSION_KEY}': ?, '${regionAttribute(region)}': ?, 'firstSeen': ?, 'origin': ?, 'lastUpdated': ?}`;
    const out = await this.doc.send(
      new BatchExecuteStatementCommand({
        Statements: items.map(({ key, entry, earliest }) => ({
          Statement: statement,
          Parameters: [key, entry, earliest, `ses:${region}`, entry.syncedAt],
        })),
      }),
    );
    const responses = out.Responses ?? [];
    return items.filter((_, i) => responses[i] === undefined || responses[i]?.Error !== undefined);
  }

  /** One region's entry and `firstSeen` of one item, read consistently. */
  private async readRegionView(key: string, region: string): Promise<RegionView> {
    const attr = regionAttribute(region);
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [SUPPRESSION_KEY]: key },
        ProjectionExpression: '#key, #r, firstSeen',
        ExpressionAttributeNames: { '#key': SUPPRESSION_KEY, '#r': attr },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return {};
    const item = parseSuppressionItem(out.Item);
    return { entry: item[attr], firstSeen: item.firstSeen };
  }

  /**
   * Marks a region's entry REMOVED at `at`, only while it is LISTED as `address` with a LastUpdateTime before
   * `listedBefore` (entries (re)listed after a full pass began may be missing from its listing; they are not
   * removals). False when the condition kept the entry.
   */
  async markRegionRemoved(key: string, region: string, address: string, listedBefore: string, at: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [SUPPRESSION_KEY]: key },
          UpdateExpression: 'SET #r.#st = :removed, #r.removedAt = :now, lastUpdated = :now',
          ConditionExpression: '#r.#st = :listed AND #r.#lut < :passStart AND #r.#a = :addr',
          ExpressionAttributeNames: { '#r': regionAttribute(region), '#st': 'status', '#lut': 'lastUpdateTime', '#a': 'address' },
          ExpressionAttributeValues: {
            ':removed': 'REMOVED',
            ':listed': 'LISTED',
            ':now': at,
            ':passStart': listedBefore,
            ':addr': address,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * One Scan page of the items whose `region` entry is LISTED, with that entry; `nextKey` continues the scan. With
   * `segment`, the page is of that segment of a parallel Scan in `segment.total` segments (a key continues only the
   * segment it came from); `limit` bounds the items the page evaluates (the filter applies after it), and so its cost.
   */
  async scanListed(
    region: string,
    startKey: Record<string, unknown> | undefined,
    options: { readonly segment?: { readonly index: number; readonly total: number }; readonly limit?: number } = {},
  ): Promise<{ listed: Array<{ key: string; entry: RegionEntry }>; nextKey?: Record<string, unknown> }> {
    const attr = regionAttribute(region);
    const { segment, limit } = options;
    const out = await this.doc.send(
      new ScanCommand({
        TableName: this.tableName,
        ProjectionExpression: '#key, #r',
        FilterExpression: '#r.#st = :listed',
        ExpressionAttributeNames: { '#key': SUPPRESSION_KEY, '#r': attr, '#st': 'status' },
        ExpressionAttributeValues: { ':listed': 'LISTED' },
        ExclusiveStartKey: startKey,
        ...(segment && segment.total > 1 ? { Segment: segment.index, TotalSegments: segment.total } : {}),
        ...(limit ? { Limit: limit } : {}),
      }),
    );
    return {
      listed: (out.Items ?? []).map((item) => ({ key: String(item[SUPPRESSION_KEY]), entry: parseRegionEntry(item[attr], attr) })),
      nextKey: out.LastEvaluatedKey,
    };
  }

  /**
   * Records our copy of the address in `region`. Only an existing item is written:
   * propagation never creates one. False when the item is gone.
   */
  async putPropagated(key: string, region: string, copy: PropagatedEntry): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [SUPPRESSION_KEY]: key },
          UpdateExpression: 'SET #p = :copy',
          ConditionExpression: 'attribute_exists(#key)',
          ExpressionAttributeNames: { '#p': propagatedAttribute(region), '#key': SUPPRESSION_KEY },
          ExpressionAttributeValues: { ':copy': stripUndefined(copy) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Records what one SES event of `region` says of `key` (a canonical address): joins `claim` into the item's
   * `event:<region>` entry ({@link joinEventOrigin}) and moves `firstSeen` (with `origin` `event:<region>`) earlier
   * when the claim is earlier, creating the item when there is none. The write is conditional on the entry and
   * `eventsEndedAt` being exactly as read and on `firstSeen` being later (equal: on `origin` sorting after ours, so
   * ties end the same whatever the order); when the condition fails the item is read again and the join redone. So the
   * same event twice writes nothing the second time, and any order of the same events leaves the same item. False
   * when nothing needed writing. `now` is the item's `lastUpdated`.
   */
  async putEventOrigin(key: string, region: string, claim: EventClaim, now: string): Promise<boolean> {
    const attr = eventAttribute(region);
    const origin = `event:${region}`;
    for (let attempt = 0; attempt < MAX_REGION_WRITE_ATTEMPTS; attempt++) {
      const view = await this.readEventView(key, attr);
      const next = joinEventOrigin(view.entry, claim, view.endedAt);
      const writeEntry = next !== undefined && next !== view.entry;
      const writeFirstSeen =
        writeEntry &&
        (view.firstSeen === undefined || claim.at < view.firstSeen || (claim.at === view.firstSeen && (view.origin ?? '') > origin));
      if (!writeEntry) return false;
      const sets = ['#e = :entry', 'lastUpdated = :now'];
      const names: Record<string, string> = { '#e': attr, '#ended': EVENTS_ENDED_ATTRIBUTE };
      const values: Record<string, unknown> = { ':entry': next, ':now': now };
      const conditions = [view.raw === undefined ? 'attribute_not_exists(#e)' : '#e = :before'];
      if (view.raw !== undefined) values[':before'] = view.raw;
      if (view.endedAt === undefined) conditions.push('attribute_not_exists(#ended)');
      else {
        conditions.push('#ended = :ended');
        values[':ended'] = view.endedAt;
      }
      if (writeFirstSeen) {
        sets.push('firstSeen = :first', 'origin = :origin');
        conditions.push(
          '(attribute_not_exists(firstSeen) OR firstSeen > :first OR (firstSeen = :first AND (attribute_not_exists(origin) OR origin > :origin)))',
        );
        Object.assign(values, { ':first': claim.at, ':origin': origin });
      }
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [SUPPRESSION_KEY]: key },
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error(`the canonical item of a ${region} event kept changing: ${MAX_REGION_WRITE_ATTEMPTS} conditional writes failed`);
  }

  /** One region's event origin (parsed, and as stored), `eventsEndedAt`, `firstSeen` and `origin` of one item, read consistently. */
  private async readEventView(key: string, attr: string): Promise<EventView> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [SUPPRESSION_KEY]: key },
        ProjectionExpression: '#key, #e, #ended, firstSeen, origin',
        ExpressionAttributeNames: { '#key': SUPPRESSION_KEY, '#e': attr, '#ended': EVENTS_ENDED_ATTRIBUTE },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return {};
    const item = parseSuppressionItem(out.Item);
    return {
      raw: out.Item[attr],
      entry: item[attr as `event:${string}`],
      endedAt: item.eventsEndedAt,
      firstSeen: item.firstSeen,
      origin: item.origin,
    };
  }

  /** One Scan page of whole canonical items, from `startKey`; `nextKey` continues the scan. */
  async scanItems(
    startKey: Record<string, unknown> | undefined,
    limit?: number,
  ): Promise<{ items: SuppressionItem[]; nextKey?: Record<string, unknown> }> {
    const out = await this.doc.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey, Limit: limit }));
    return { items: (out.Items ?? []).map(parseSuppressionItem), nextKey: out.LastEvaluatedKey };
  }

  /** Every canonical item, one Scan page at a time. */
  async *scanPages(): AsyncGenerator<SuppressionItem[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }));
      yield (out.Items ?? []).map(parseSuppressionItem);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * The Update of a manual change, for a TransactWriteItems with its audit entry: sets `set` (attributes or
   * `attr.field` paths), `setIfAbsent` only where the item has none, and `lastUpdated`; conditional on the manual
   * entry being exactly `manualBefore` (or absent), so two operators cannot silently overwrite each other.
   */
  manualUpdate(key: string, manualBefore: ManualEntry | undefined, change: ManualChange): ManualUpdate {
    const names: Record<string, string> = { '#manual': MANUAL_ATTRIBUTE, '#lastUpdated': 'lastUpdated' };
    const values: Record<string, unknown> = { ':at': change.at };
    const sets = ['#lastUpdated = :at'];
    let n = 0;
    for (const [path, value] of Object.entries(change.set)) {
      const parts = path.split('.').map((part) => {
        const name = `#n${n++}`;
        names[name] = part;
        return name;
      });
      const v = `:v${n++}`;
      values[v] = value;
      sets.push(`${parts.join('.')} = ${v}`);
    }
    for (const [attr, value] of Object.entries(change.setIfAbsent ?? {})) {
      const name = `#n${n++}`;
      const v = `:v${n++}`;
      names[name] = attr;
      values[v] = value;
      sets.push(`${name} = if_not_exists(${name}, ${v})`);
    }
    let condition: string;
    if (manualBefore) {
      values[':manualBefore'] = manualBefore;
      condition = '#manual = :manualBefore';
    } else {
      condition = 'attribute_not_exists(#manual)';
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: { [SUPPRESSION_KEY]: key },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }
}

const MAX_REGION_WRITE_ATTEMPTS = 10;

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** DynamoDB's limit of statements per BatchExecuteStatement request. */
export const INSERT_BATCH_LIMIT = 25;

/** A canonical item to create for a region's entry (see {@link SuppressionTable.insertRegionEntries}). */
export interface NewRegionItem {
  readonly key: string;
  readonly entry: RegionEntry;
  /** The earliest LastUpdateTime the region listed for the address: the new item's `firstSeen`. */
  readonly earliest: string;
}

/** What {@link SuppressionTable.putEventOrigin} reads before joining an event in. */
interface EventView {
  /** The entry exactly as stored, for the write's condition (parsing may drop attributes a later version adds). */
  readonly raw?: unknown;
  readonly entry?: EventOriginEntry;
  readonly endedAt?: string;
  readonly firstSeen?: string;
  readonly origin?: string;
}

/** What the sync needs to know of an item before writing a region's entry. */
export interface RegionView {
  readonly entry?: RegionEntry;
  readonly firstSeen?: string;
}

/** A manual change to a canonical item (see {@link SuppressionTable.manualUpdate}). */
export interface ManualChange {
  /** Attributes (or `attr.field` paths) to set. */
  readonly set: Record<string, unknown>;
  /** Attributes set only when the item has none yet. */
  readonly setIfAbsent?: Record<string, unknown>;
  readonly at: string;
}

/** A TransactWriteItems element updating a canonical item. */
export interface ManualUpdate {
  readonly Update: {
    TableName: string;
    Key: Record<string, unknown>;
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, unknown>;
  };
}

/**
 * What {@link SuppressionTable.putRegionEntry} writes over `view`: the entry unless the stored one is LISTED and at
 * least as new; `firstSeen` when `earliest` is earlier (or there is none). Neither: nothing to write.
 */
export function regionWrites(
  view: RegionView | undefined,
  entry: Pick<RegionEntry, 'lastUpdateTime' | 'address' | 'reason'>,
  earliest: string,
): { writeEntry: boolean; writeFirstSeen: boolean } {
  return {
    writeEntry: view?.entry?.status !== 'LISTED' || compareRegionEntries(entry, view.entry) > 0,
    writeFirstSeen: view?.firstSeen === undefined || earliest < view.firstSeen,
  };
}

/** Orders two entries for the same canonical address: newer LastUpdateTime wins, ties broken deterministically. */
export function compareRegionEntries(
  a: Pick<RegionEntry, 'lastUpdateTime' | 'address' | 'reason'>,
  b: Pick<RegionEntry, 'lastUpdateTime' | 'address' | 'reason'>,
): number {
  return cmp(a.lastUpdateTime, b.lastUpdateTime) || cmp(a.address, b.address) || cmp(a.reason, b.reason);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
