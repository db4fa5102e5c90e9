import { type CfnElement, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ATTRIBUTION_PK, ATTRIBUTION_SK, ATTRIBUTION_TTL_ATTRIBUTE, SES_LOOKUP_PK_PREFIX } from '../lambdas/domain/records';

/**
 * Logical IDs of the two tables, as the first release created them (under the sync construct). They are a
 * contract: a new logical ID would make CloudFormation create a new, empty table and leave the old one behind
 * (RETAIN), so moving the tables in the construct tree must not change them.
 */
export const TABLE_LOGICAL_IDS = {
  suppression: 'SyncSuppressionTable8E544157',
  state: 'SyncSyncStateTableD47212A1',
} as const;

/**
 * The service's tables and what each role may do with them: the canonical suppression table (one item per
 * address), the sync state table (per-region watermarks, leases, pass data, the audit trail) and the attribution
 * table (daily counters per sender from SES events, and the events already counted).
 */
export class SuppressionTables extends Construct implements EventTableRefs {
  /** The canonical suppression table, keyed by the canonical address. */
  public readonly table: dynamodb.Table;
  /** The per-region sync state and the audit trail. */
  public readonly stateTable: dynamodb.Table;
  /** Daily counters per sender (`lambdas/domain/attribution-table.ts`); items expire by `expiresAt`. */
  public readonly attributionTable: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'SuppressionTable', {
      partitionKey: { name: 'address', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (this.table.node.defaultChild as CfnElement).overrideLogicalId(TABLE_LOGICAL_IDS.suppression);
    this.stateTable = new dynamodb.Table(this, 'SyncStateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (this.stateTable.node.defaultChild as CfnElement).overrideLogicalId(TABLE_LOGICAL_IDS.state);
    this.attributionTable = new dynamodb.Table(this, 'AttributionTable', {
      partitionKey: { name: ATTRIBUTION_PK, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ATTRIBUTION_SK, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ATTRIBUTION_TTL_ATTRIBUTE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** See {@link grantEventIngester}. */
  grantEventIngester(grantee: iam.IGrantable): void {
    grantEventIngester(this, grantee);
  }

  /** See {@link grantSyncWriter}. */
  grantSyncWriter(grantee: iam.IGrantable): void {
    grantSyncWriter(this, grantee);
  }

  /** See {@link grantGuardReader}. */
  grantGuardReader(grantee: iam.IGrantable): void {
    grantGuardReader(this, grantee);
  }

  /** See {@link grantOperator}. */
  grantOperator(grantee: iam.IGrantable): void {
    grantOperator(this, grantee);
  }

  /** See {@link grantOperatorReports}. */
  grantOperatorReports(grantee: iam.IGrantable): void {
    grantOperatorReports(this, grantee);
  }
}

/** The two tables, as the roles' grants need them (the constructs also accept imported tables). */
export interface TableRefs {
  readonly table: dynamodb.ITable;
  readonly stateTable: dynamodb.ITable;
}

/** The tables, with the attribution table the event ingestion writes. */
export interface EventTableRefs extends TableRefs {
  readonly attributionTable: dynamodb.ITable;
}

/**
 * The event ingestion (`lambdas/events`): reads and updates one canonical item per origin an SES event gives (a
 * consistent GetItem, then an UpdateItem that may create the item); counts each event once in the attribution table
 * with a TransactWriteItems of a conditional PutItem (the event counted) and an UpdateItem (the counters). Nothing
 * else: no scans, no deletes, no sync state.
 */
export function grantEventIngester(tables: Pick<EventTableRefs, 'table' | 'attributionTable'>, grantee: iam.IGrantable): void {
  tables.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
  tables.attributionTable.grant(grantee, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
}

/**
 * The sync: reads canonical items in batches, creates new ones with PartiQL INSERTs in batches (BatchExecuteStatement
 * needs the action of each statement, nothing more), updates existing ones one by one and sweeps the table in a full
 * pass (and propagation in each run); keeps its watermark, lease and seen-address chunks in the state table, and
 * propagation's import-job records, deleted once a job is settled.
 */
export function grantSyncWriter(tables: TableRefs, grantee: iam.IGrantable): void {
  tables.table.grant(grantee, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:PartiQLInsert', 'dynamodb:Scan');
  tables.stateTable.grant(
    grantee,
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:BatchWriteItem',
    'dynamodb:DeleteItem',
  );
}

/**
 * The guard: batch reads of recipients, and the regions' sync state for freshness; it writes only the SES answers
 * its execution environments share (state items whose key starts with `ses-lookup#`). Nothing else.
 */
export function grantGuardReader(tables: TableRefs, grantee: iam.IGrantable): void {
  tables.table.grant(grantee, 'dynamodb:BatchGetItem');
  tables.stateTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
  const put = tables.stateTable.grant(grantee, 'dynamodb:PutItem');
  for (const statement of put.principalStatements) {
    statement.addCondition('ForAllValues:StringLike', { 'dynamodb:LeadingKeys': [`${SES_LOOKUP_PK_PREFIX}*`] });
  }
}

/**
 * The operator's CLI (`ssg`): `status`, `lookup` and `export` read; `suppress`, `unsuppress` and `import` change the
 * manual entry of an item in one transaction with its audit record (an update of the canonical item and a put of a
 * new audit item; sync state is never changed).
 */
export function grantOperator(tables: TableRefs, grantee: iam.IGrantable): void {
  tables.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem');
  tables.stateTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem');
}

/**
 * The operator's CLI reading the attribution table (`ssg senders`): one Query per day's partition, paged. Nothing
 * else: the counters are written only by the event ingestion.
 */
export function grantOperatorReports(tables: Pick<EventTableRefs, 'attributionTable'>, grantee: iam.IGrantable): void {
  tables.attributionTable.grant(grantee, 'dynamodb:Query');
}
