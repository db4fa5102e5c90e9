import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lambdas/domain/clients';
import { SuppressionTable } from '../lambdas/domain/suppression-table';
import { syncRegion } from '../lambdas/sync/sync';
import { SesEmulator } from '../local/ses-emulator';
import { createTestTables, type TestTables, testDynamoClient, testSyncDeps } from './support/local-aws';

const HOUR = 3600_000;

describe('Function: syncRegion, new addresses (SES emulator + DynamoDB Local)', () => {
  let emu: SesEmulator;
  let tables: TestTables;

  beforeEach(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 5 });
    tables = await createTestTables();
  });
  afterEach(async () => {
    await emu.stop();
  });

  const item = async (address: string) =>
    (await tables.doc.send(new GetCommand({ TableName: tables.suppressionTable, Key: { address } }))).Item;

  it('creates new addresses 25 to a request, in far fewer write requests than items', async () => {
    // Prepare
    const base = Date.now() - 5 * HOUR;
    emu.region('us-east-1').putSuppressedMany(
      Array.from({ length: 500 }, (_, i) => ({
        emailAddress: `User.${i}@Example.com`,
        reason: 'BOUNCE' as const,
        lastUpdateTime: new Date(base + i),
      })),
    );
    const client = testDynamoClient();
    const counts = new Map<string, number>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        counts.set(context.commandName ?? '', (counts.get(context.commandName ?? '') ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'count' },
    );

    // Act
    const summary = await syncRegion(
      { region: 'us-east-1', mode: 'full' },
      testSyncDeps(emu.endpoint, tables, 'us-east-1', { doc: documentClient(client) }),
    );

    // Assess
    expect(summary).toMatchObject({ complete: true, entriesRead: 500, itemsWritten: 500 });
    expect(counts.get('BatchExecuteStatementCommand')).toBe(20);
    expect(await item('user.7@example.com')).toMatchObject({
      firstSeen: new Date(base + 7).toISOString(),
      origin: 'ses:us-east-1',
      'region:us-east-1': { address: 'User.7@Example.com', status: 'LISTED' },
    });
  });

  it("merges, never overwrites, an item another region created between the sync's read and its insert", async () => {
    // Prepare: eu-west-1 creates the item (with an earlier firstSeen) just before us-east-1's first insert request
    const early = new Date(Date.now() - 9 * HOUR);
    const late = new Date(Date.now() - 2 * HOUR);
    emu.region('us-east-1').putSuppressed({ emailAddress: 'Both@Example.org', reason: 'BOUNCE', lastUpdateTime: late });
    emu.region('us-east-1').putSuppressed({ emailAddress: 'east.only@example.org', reason: 'BOUNCE', lastUpdateTime: late });
    const client = testDynamoClient();
    const other = new SuppressionTable(tables.doc, tables.suppressionTable);
    let raced = false;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchExecuteStatementCommand' && !raced) {
          raced = true;
          await other.putRegionEntry(
            'both@example.org',
            'eu-west-1',
            {
              address: 'both@example.org',
              reason: 'COMPLAINT',
              lastUpdateTime: early.toISOString(),
              status: 'LISTED',
              syncedAt: early.toISOString(),
            },
            early.toISOString(),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'race' },
    );

    // Act
    const summary = await syncRegion(
      { region: 'us-east-1', mode: 'incremental' },
      testSyncDeps(emu.endpoint, tables, 'us-east-1', { doc: documentClient(client) }),
    );

    // Assess
    expect(raced).toBe(true);
    expect(summary).toMatchObject({ complete: true, entriesRead: 2, itemsWritten: 2 });
    expect(await item('both@example.org')).toMatchObject({
      firstSeen: early.toISOString(),
      origin: 'ses:eu-west-1',
      'region:eu-west-1': { reason: 'COMPLAINT', status: 'LISTED' },
      'region:us-east-1': { address: 'Both@Example.org', reason: 'BOUNCE', status: 'LISTED' },
    });
    expect(await item('east.only@example.org')).toMatchObject({ origin: 'ses:us-east-1' });
  });
});
