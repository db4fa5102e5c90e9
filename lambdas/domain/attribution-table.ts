import { type DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  ATTRIBUTION_PK,
  ATTRIBUTION_SK,
  ATTRIBUTION_TTL_ATTRIBUTE,
  COUNTER_NAMES,
  COUNTER_PK_PREFIX,
  type CounterIncrements,
  countedEventKey,
  counterKey,
  parseSenderDayCounters,
  type SenderDayCounters,
  type SenderKey,
} from './records';

/**
 * Every read and write of the attribution table (`AttributionTableName`, keys `pk`/`sk`, TTL `expiresAt`): who
 * sends, and what became of it, counted per day from SES events. It never holds a recipient's address.
 *
 * | item | pk / sk | writer | how |
 * | --- | --- | --- | --- |
 * | a sender's counters of a day | `day#<YYYY-MM-DD>` / `counter#<region>\|<sender>\|<caller>\|<source ip>\|<configuration set>` | event ingestion ({@link AttributionTable.countOnce}) | UpdateItem ADD, in a transaction with the next; TTL |
 * | an event counted | `event#<digest>` / `counted` | event ingestion | PutItem conditional on its absence, in the same transaction; TTL |
 *
 * Readers: {@link AttributionTable.dayCounters} (tests), {@link AttributionTable.countersOfDays} (`ssg senders`).
 */
export class AttributionTable {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Adds `increments` to the counters of `sender` on `day`, once per `eventKey` (a digest naming the event): the
   * counted-event item is put, conditional on its absence, in the same transaction as the ADD, so a duplicate delivery
   * of the event changes nothing. The counted-event item expires at `countedUntil`, the counters at `countersUntil`
   * (epoch seconds). False when the event was counted before. A transaction that lost to a concurrent one on the
   * same counter item is tried again.
   */
  async countOnce(
    eventKey: string,
    day: string,
    sender: SenderKey,
    increments: CounterIncrements,
    expiry: { readonly countedUntil: number; readonly countersUntil: number },
  ): Promise<boolean> {
    const names: Record<string, string> = { '#ttl': ATTRIBUTION_TTL_ATTRIBUTE };
    const values: Record<string, unknown> = { ':ttl': expiry.countersUntil };
    const sets = ['#ttl = :ttl'];
    const dimensions: Record<string, string | undefined> = { day, ...sender };
    for (const [name, value] of Object.entries(dimensions)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    const adds: string[] = [];
    for (const name of COUNTER_NAMES) {
      const n = increments[name];
      if (n === undefined || n === 0) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = n;
      adds.push(`#${name} :${name}`);
    }
    const transaction = {
      TransactItems: [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...countedEventKey(eventKey), [ATTRIBUTION_TTL_ATTRIBUTE]: expiry.countedUntil },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': ATTRIBUTION_PK },
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: counterKey(day, sender),
            UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
        },
      ],
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.doc.send(new TransactWriteCommand(transaction));
        return true;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] === 'ConditionalCheckFailed') return false;
        if (!codes?.includes('TransactionConflict') || attempt >= MAX_CONFLICT_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
      }
    }
  }

  /** Every sender's counters of `day` (UTC, `YYYY-MM-DD`), read consistently. */
  async dayCounters(day: string): Promise<SenderDayCounters[]> {
    const counters: SenderDayCounters[] = [];
    for await (const page of this.dayCounterPages(day, { consistent: true })) counters.push(...page);
    return counters;
  }

  /**
   * The counters of each of `days` (UTC, `YYYY-MM-DD`): one Query per day's partition, page by page (eventually
   * consistent; a report does not need the last second). `region` narrows each Query to the sort keys of that region.
   */
  async countersOfDays(days: readonly string[], filter: { readonly region?: string } = {}): Promise<SenderDayCounters[]> {
    const counters: SenderDayCounters[] = [];
    for (const day of days) {
      for await (const page of this.dayCounterPages(day, { consistent: false, region: filter.region })) counters.push(...page);
    }
    return counters;
  }

  /** The counter items of one day's partition, a page at a time. */
  private async *dayCounterPages(
    day: string,
    options: { readonly consistent: boolean; readonly region?: string },
  ): AsyncGenerator<SenderDayCounters[]> {
    const names: Record<string, string> = { '#pk': ATTRIBUTION_PK };
    const values: Record<string, unknown> = { ':pk': `${COUNTER_PK_PREFIX}${day}` };
    let condition = '#pk = :pk';
    if (options.region !== undefined) {
      // The region is the first part of the sort key (see counterKey), escaped like every part.
      names['#sk'] = ATTRIBUTION_SK;
      values[':sk'] = `${counterKey(day, { region: options.region, sender: '' }).sk.split('|')[0]}|`;
      condition += ' AND begins_with(#sk, :sk)';
    }
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ConsistentRead: options.consistent,
          ExclusiveStartKey: startKey,
        }),
      );
      yield (out.Items ?? []).map(parseSenderDayCounters);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }
}

const MAX_CONFLICT_ATTEMPTS = 5;

/**
 * The cancellation reason codes of a cancelled transaction, in the order of its items (`None` for an item that was
 * fine); undefined for any other error. Taken from the message when the error carries no reasons.
 */
function cancellationCodes(error: unknown): string[] | undefined {
  const e = error as { name?: string; message?: string; CancellationReasons?: Array<{ Code?: string }> };
  if (e?.name !== 'TransactionCanceledException') return undefined;
  if (Array.isArray(e.CancellationReasons)) return e.CancellationReasons.map((r) => r.Code ?? 'None');
  // "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]"
  const listed = /\[([^\]]*)\]/.exec(e.message ?? '')?.[1];
  return listed === undefined ? [] : listed.split(',').map((code) => code.trim());
}
