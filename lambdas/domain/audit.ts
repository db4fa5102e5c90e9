import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { canonicalAddress } from './address';
import { STATE_PK, STATE_SK } from './records';

/**
 * The audit trail of manual changes to the canonical suppression table. Entries live in the sync state table, one
 * partition per canonical address (`pk = audit#<address>`, `sk = <ISO time>#<random>`), so the trail of an
 * address is one Query, in time order, and never collides with the per-region state items (`region#...`).
 */

/** What an operator did to an address. */
export type AuditAction = 'suppress' | 'unsuppress' | 'import';

/** One entry of the audit trail. */
export interface AuditEntry {
  /** Canonical address the change applies to. */
  readonly address: string;
  readonly action: AuditAction;
  /** When, ISO-8601. */
  readonly at: string;
  /** Who: the caller's identity (an IAM ARN, or `local:<user>` against the local environment). */
  readonly by: string;
  /** Why, in the operator's words (or the suppression reason for `suppress`/`import`). */
  readonly reason: string;
  readonly note?: string;
  /** What changed: the state before and after, per-region outcomes, the import source. */
  readonly details?: Record<string, unknown>;
}

/** Prefix of the partition key of an address's audit trail. */
export const AUDIT_PK_PREFIX = 'audit#';

/** Partition key of an address's audit trail. */
export function auditPartitionKey(address: string): string {
  return `${AUDIT_PK_PREFIX}${canonicalAddress(address)}`;
}

/** The state-table item of an audit entry; the random suffix keeps entries of the same millisecond apart. */
export function auditItem(entry: AuditEntry, random: () => string = () => randomBytes(4).toString('hex')): Record<string, unknown> {
  return {
    [STATE_PK]: auditPartitionKey(entry.address),
    [STATE_SK]: `${entry.at}#${random()}`,
    ...entry,
    address: canonicalAddress(entry.address),
  };
}

/** The audit trail of an address, oldest first. */
export async function readAuditTrail(doc: DynamoDBDocumentClient, stateTable: string, address: string): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: stateTable,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': STATE_PK },
        ExpressionAttributeValues: { ':pk': auditPartitionKey(address) },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) {
      const { [STATE_PK]: _pk, [STATE_SK]: _sk, ...entry } = item;
      entries.push(entry as unknown as AuditEntry);
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return entries;
}
