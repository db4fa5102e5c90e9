import { statSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { GuardRequest, GuardResponse } from '../client/contract';
import { forEachLimit } from '../lambdas/domain/batch';
import { documentClient } from '../lambdas/domain/clients';
import { regionAttribute, regionStateKey } from '../lambdas/domain/records';
import type { LocalLambda } from '../local/lambda-runtime';
import { SesEmulator } from '../local/ses-emulator';
import { CountingProxy } from './counting-proxy';
import { BENCH_CREDENTIALS, type BenchDynamo, median, percentile, round, startBenchFunction } from './harness';

/** Guard latency for one recipient count, ours against the GetItem-per-recipient baseline. */
export interface GuardRow {
  readonly recipients: number;
  readonly runs: number;
  readonly oursMedianMs: number;
  readonly oursP95Ms: number;
  readonly oursDynamoRequests: number;
  readonly baselineRuns: number;
  readonly baselineMedianMs: number;
  readonly baselineP95Ms: number;
  readonly baselineDynamoRequests: number;
  /** baseline median ÷ ours median */
  readonly speedup: number;
  readonly suppressedFound: number;
}

/** Settings of the guard benchmark. */
export interface GuardBenchOptions {
  readonly tableSize: number;
  readonly sizes: readonly number[];
  readonly runs: (recipients: number) => number;
  readonly baselineRuns: (recipients: number) => number;
}

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

/** Fills a canonical table, then times the synthesized guard bundle and the per-recipient baseline side by side. */
export async function runGuardBench(dynamo: BenchDynamo, options: GuardBenchOptions, log: (line: string) => void): Promise<GuardRow[]> {
  const tables = await dynamo.tables('guard');
  const emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 5 });
  const proxy = await CountingProxy.start(dynamo.local.endpoint);
  let guard: LocalLambda | undefined;
  try {
    const addresses = await prepareGuardData(tables, emu, options.tableSize, log);

    guard = await startBenchFunction(dynamo, 'GuardGuardFunction', {
      tables,
      dynamoEndpoint: proxy.endpoint,
      sesEndpoint: emu.endpoint,
      region: 'us-west-2',
    });
    const baselineClient = new DynamoDBClient({ region: 'us-west-2', endpoint: proxy.endpoint, credentials: BENCH_CREDENTIALS });
    const baselineDoc = documentClient(baselineClient);

    const rows: GuardRow[] = [];
    for (const size of options.sizes) {
      // One recipient in ten is suppressed; the rest are unknown to the table.
      const recipients = Array.from({ length: size }, (_, i) =>
        i % 10 === 0 ? addresses[((i / 10) * 7919) % addresses.length]! : `fresh.${size}.${i}@example.com`,
      );
      const request: GuardRequest = { from: 'News <news@example.net>', region: 'us-west-2', recipients };
      await guard.invoke(request); // warm: identity and account lookups are cached across warm invocations
      const ours: number[] = [];
      let suppressedFound = 0;
      proxy.reset();
      for (let run = 0; run < options.runs(size); run++) {
        const outcome = await guard.invoke<GuardResponse>(request);
        if (outcome.error || !outcome.result) throw new Error(`guard failed for ${size} recipients: ${outcome.error?.message}`);
        if (outcome.result.recipients.allowed.length + outcome.result.recipients.suppressed.length !== size) {
          throw new Error(
            `guard answered for ${outcome.result.recipients.allowed.length + outcome.result.recipients.suppressed.length} of ${size} recipients`,
          );
        }
        suppressedFound = outcome.result.recipients.suppressed.length;
        ours.push(outcome.durationMs);
      }
      const oursRequests = proxy.total() / options.runs(size);

      const baseline: number[] = [];
      proxy.reset();
      let baselineFound = 0;
      for (let run = 0; run < options.baselineRuns(size); run++) {
        const t0 = performance.now();
        let found = 0;
        // The peer: one GetItem per recipient, as many in flight as the SDK's connection pool allows.
        await forEachLimit(recipients, 50, async (address) => {
          const out = await baselineDoc.send(
            new GetCommand({ TableName: tables.suppressionTable, Key: { address: address.toLowerCase() } }),
          );
          if (out.Item) found++;
        });
        baseline.push(performance.now() - t0);
        baselineFound = found;
      }
      const baselineRequests = proxy.total() / options.baselineRuns(size);
      if (baselineFound !== suppressedFound)
        throw new Error(`guard found ${suppressedFound} suppressed recipients, the baseline ${baselineFound}`);
      rows.push({
        recipients: size,
        runs: ours.length,
        oursMedianMs: round(median(ours), 1),
        oursP95Ms: round(percentile(ours, 95), 1),
        oursDynamoRequests: round(oursRequests, 1),
        baselineRuns: baseline.length,
        baselineMedianMs: round(median(baseline), 1),
        baselineP95Ms: round(percentile(baseline, 95), 1),
        baselineDynamoRequests: round(baselineRequests, 1),
        speedup: round(median(baseline) / Math.max(0.1, median(ours)), 1),
        suppressedFound,
      });
      log(`  guard: ${size} recipients done`);
    }
    baselineClient.destroy();
    return rows;
  } finally {
    await guard?.stop();
    await proxy.stop();
    await emu.stop();
  }
}

/** Size of a bundle's JavaScript file in bytes. */
export function bundleBytes(file: string): number {
  return statSync(file).size;
}

/**
 * Fills a canonical table with `tableSize` suppressed addresses (`listed.<i>@example.org`, each listed in one of the
 * three regions), marks every region freshly synced, and verifies the sender domain `example.net` everywhere.
 */
export async function prepareGuardData(
  tables: { doc: DynamoDBDocumentClient; suppressionTable: string; stateTable: string },
  emu: SesEmulator,
  tableSize: number,
  log: (line: string) => void,
): Promise<string[]> {
  log(`  guard: filling the canonical table with ${tableSize} addresses...`);
  const now = new Date().toISOString();
  const addresses = Array.from({ length: tableSize }, (_, i) => `listed.${i}@example.org`);
  const batches: string[][] = [];
  for (let i = 0; i < addresses.length; i += 25) batches.push(addresses.slice(i, i + 25));
  await forEachLimit(batches, 16, async (batch) => {
    let pending = batch.map((address, j) => ({
      PutRequest: {
        Item: {
          address,
          firstSeen: now,
          lastUpdated: now,
          origin: `ses:${REGIONS[j % 3]}`,
          [regionAttribute(REGIONS[j % 3]!)]: { address, reason: 'BOUNCE', lastUpdateTime: now, status: 'LISTED', syncedAt: now },
        },
      },
    }));
    while (pending.length > 0) {
      const out = await tables.doc.send(new BatchWriteCommand({ RequestItems: { [tables.suppressionTable]: pending } }));
      pending = (out.UnprocessedItems?.[tables.suppressionTable] as typeof pending | undefined) ?? [];
    }
  });
  for (const region of REGIONS) {
    await tables.doc.send(
      new PutCommand({ TableName: tables.stateTable, Item: { ...regionStateKey(region), region, watermark: now, lastSuccessAt: now } }),
    );
    emu.region(region).putIdentity({
      name: 'example.net',
      type: 'DOMAIN',
      verifiedForSending: true,
      verificationStatus: 'SUCCESS',
      dkimStatus: 'SUCCESS',
    });
    emu.region(region).setAccount({ max24HourSend: -1 });
  }
  return addresses;
}
