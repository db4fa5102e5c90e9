import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { parseManualEntry, parseRegionSyncState, parseSuppressionItem, RecordError, type RegionEntry } from '../lambdas/domain/records';
import { SuppressionTable } from '../lambdas/domain/suppression-table';
import { createTestTables, type TestTables } from './support/local-aws';

const entry = (lastUpdateTime: string, syncedAt = '2026-01-10T00:00:00.000Z'): RegionEntry => ({
  address: 'Someone@Example.org',
  reason: 'BOUNCE',
  lastUpdateTime,
  status: 'LISTED',
  syncedAt,
});

// The suppression table module's tests share one pair of tables; each test uses its own addresses.
let tables: TestTables;
let table: SuppressionTable;
const item = async (address: string) =>
  (await tables.doc.send(new GetCommand({ TableName: tables.suppressionTable, Key: { address } }))).Item;
beforeAll(async () => {
  tables = await createTestTables();
  table = new SuppressionTable(tables.doc, tables.suppressionTable);
});

describe('Class: SuppressionTable (DynamoDB Local)', () => {
  it('re-reads and compares again when another writer moved firstSeen earlier since the caller read the item', async () => {
    // Prepare
    await table.putRegionEntry('someone@example.org', 'eu-west-1', entry('2026-01-02T00:00:00.000Z'), '2026-01-02T00:00:00.000Z');
    const stale = { entry: undefined, firstSeen: undefined };

    // Act
    const laterRegion = await table.putRegionEntry(
      'someone@example.org',
      'us-east-1',
      entry('2026-01-05T00:00:00.000Z'),
      '2026-01-05T00:00:00.000Z',
      stale,
    );
    const again = await table.putRegionEntry(
      'someone@example.org',
      'us-east-1',
      entry('2026-01-05T00:00:00.000Z'),
      '2026-01-05T00:00:00.000Z',
      stale,
    );

    // Assess
    expect(laterRegion).toBe(true);
    expect(again).toBe(false);
    expect(await item('someone@example.org')).toMatchObject({
      firstSeen: '2026-01-02T00:00:00.000Z',
      origin: 'ses:eu-west-1',
      'region:us-east-1': { lastUpdateTime: '2026-01-05T00:00:00.000Z' },
    });
  });

  it('moves only firstSeen when a region lists an earlier spelling than its newest entry', async () => {
    // Prepare
    await table.putRegionEntry('early@example.org', 'us-east-1', entry('2026-01-05T00:00:00.000Z'), '2026-01-05T00:00:00.000Z');
    const stored = await table.readRegionEntries(['early@example.org'], 'us-east-1');

    // Act
    const written = await table.putRegionEntry(
      'early@example.org',
      'us-east-1',
      entry('2026-01-05T00:00:00.000Z', '2026-01-11T00:00:00.000Z'),
      '2026-01-01T00:00:00.000Z',
      stored.get('early@example.org'),
    );

    // Assess
    expect(written).toBe(true);
    expect(await item('early@example.org')).toMatchObject({
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastUpdated: '2026-01-11T00:00:00.000Z',
      'region:us-east-1': { syncedAt: '2026-01-10T00:00:00.000Z' },
    });
  });
});

describe('Method: SuppressionTable.insertRegionEntries (DynamoDB Local)', () => {
  it('creates the item putRegionEntry would create over an absent item', async () => {
    // Prepare
    const value = entry('2026-01-05T00:00:00.000Z', '2026-01-11T00:00:00.000Z');
    await table.putRegionEntry('updated@example.org', 'us-east-1', value, '2026-01-04T00:00:00.000Z');

    // Act
    const left = await table.insertRegionEntries('us-east-1', [
      { key: 'inserted@example.org', entry: value, earliest: '2026-01-04T00:00:00.000Z' },
    ]);

    // Assess
    expect(left).toEqual([]);
    const { address: _a, ...inserted } = (await item('inserted@example.org'))!;
    const { address: _b, ...updated } = (await item('updated@example.org'))!;
    expect(inserted).toEqual(updated);
    expect(parseSuppressionItem((await item('inserted@example.org'))!)['region:us-east-1']).toEqual(value);
  });

  it("never overwrites an item another region created since it was read, and hands it back for putRegionEntry's merge", async () => {
    // Prepare: eu-west-1 created the item first, with an earlier firstSeen
    await table.putRegionEntry('shared@example.org', 'eu-west-1', entry('2026-01-02T00:00:00.000Z'), '2026-01-02T00:00:00.000Z');
    const east = { key: 'shared@example.org', entry: entry('2026-01-05T00:00:00.000Z'), earliest: '2026-01-05T00:00:00.000Z' };
    const fresh = { key: 'fresh@example.org', entry: entry('2026-01-06T00:00:00.000Z'), earliest: '2026-01-06T00:00:00.000Z' };

    // Act
    const left = await table.insertRegionEntries('us-east-1', [east, fresh]);
    const merged = await table.putRegionEntry(east.key, 'us-east-1', east.entry, east.earliest);

    // Assess
    expect(left).toEqual([east]);
    expect(merged).toBe(true);
    expect(await item('shared@example.org')).toMatchObject({
      firstSeen: '2026-01-02T00:00:00.000Z',
      origin: 'ses:eu-west-1',
      'region:eu-west-1': { lastUpdateTime: '2026-01-02T00:00:00.000Z' },
      'region:us-east-1': { lastUpdateTime: '2026-01-05T00:00:00.000Z' },
    });
    expect(await item('fresh@example.org')).toMatchObject({ firstSeen: '2026-01-06T00:00:00.000Z', origin: 'ses:us-east-1' });
  });
});

describe('Module: records (parse functions)', () => {
  it('parses a canonical item into its typed entries', () => {
    // Prepare
    const raw = {
      address: 'someone@example.org',
      firstSeen: '2026-01-01T00:00:00.000Z',
      'region:us-east-1': entry('2026-01-01T00:00:00.000Z'),
      manual: { reason: 'COMPLAINT', status: 'LISTED', at: '2026-01-03T00:00:00.000Z', by: 'ops' },
    };

    // Act
    const item = parseSuppressionItem(raw);

    // Assess
    expect(item).toEqual(raw);
  });

  it('names the attribute and a bounded excerpt of a value that does not have the stored shape', () => {
    // Prepare
    const long = 'x'.repeat(10_000);

    // Act
    const badReason = () => parseManualEntry({ reason: long, status: 'LISTED', at: 'now', by: 'ops' });
    const badRegion = () => parseSuppressionItem({ address: 'a@example.org', 'region:us-east-1': { ...entry('t'), status: 'GONE' } });
    const badState = () => parseRegionSyncState({ watermark: 17 }, 'us-east-1');

    // Assess
    expect(badReason).toThrow(RecordError);
    expect(badReason).toThrow(/^manual entry: reason is invalid \(string "x{40}"\.\.\. \(10000 characters\)\)$/);
    expect(badRegion).toThrow('canonical item region:us-east-1: status is invalid (string "GONE")');
    expect(badState).toThrow('sync state of us-east-1: watermark is invalid (number "17")');
  });
});
