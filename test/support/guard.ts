import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { regionStateKey } from '../../lambdas/domain/records';
import { LookupCache } from '../../lambdas/guard/cache';
import type { GuardDeps } from '../../lambdas/guard/guard';
import { syncRegion } from '../../lambdas/sync/sync';
import { LocalLambda } from '../../local/lambda-runtime';
import type { SesEmulator } from '../../local/ses-emulator';
import { functionBundle } from '../../local/template-resources';
import { silentLogger, TEST_CREDENTIALS, type TestTables, testSesClient, testSyncDeps, testTemplate } from './local-aws';

/** The regions the synthesized stack is configured with (cdk.json). */
export const GUARD_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'];

/** Guard dependencies against the SES emulator and the test tables, with a fresh cache. */
export function guardDeps(emu: SesEmulator, tables: TestTables, overrides: Partial<GuardDeps> = {}): GuardDeps {
  const clients = new Map<string, SESv2Client>();
  return {
    doc: tables.doc,
    ses: (region) => {
      let client = clients.get(region);
      if (!client) {
        client = testSesClient(emu.endpoint, region, 2);
        clients.set(region, client);
      }
      return client;
    },
    suppressionTable: tables.suppressionTable,
    stateTable: tables.stateTable,
    regions: GUARD_REGIONS,
    defaultRegion: 'us-east-1',
    cache: new LookupCache(60_000),
    logger: silentLogger(),
    ...overrides,
  };
}

/** Runs the real incremental sync of every region, filling the canonical table and the watermarks. */
export async function syncAllRegions(emu: SesEmulator, tables: TestTables, regions: readonly string[] = GUARD_REGIONS): Promise<void> {
  for (const region of regions) {
    await syncRegion({ region, mode: 'incremental' }, testSyncDeps(emu.endpoint, tables, region));
  }
}

/** Writes a region's sync state item with the given watermark (undefined: a region that never synced). */
export async function setWatermark(tables: TestTables, region: string, watermark: Date | undefined): Promise<void> {
  await tables.doc.send(
    new PutCommand({
      TableName: tables.stateTable,
      Item: {
        ...regionStateKey(region),
        region,
        ...(watermark ? { watermark: watermark.toISOString(), lastSuccessAt: watermark.toISOString() } : {}),
      },
    }),
  );
}

/** Verifies `example.com` (the usual sender domain of the tests) in `regions`. */
export function verifyDomain(emu: SesEmulator, name: string, regions: readonly string[] = GUARD_REGIONS): void {
  for (const region of regions) emu.region(region).putIdentity({ name });
}

/** Starts the synthesized guard bundle with the template's environment, pointed at the emulators. */
export async function startGuardBundle(emu: SesEmulator, tables: TestTables, region = 'us-west-2'): Promise<LocalLambda> {
  const { template, outdir } = testTemplate();
  return LocalLambda.start(functionBundle(template, outdir, 'GuardGuardFunction', tables.names), {
    env: {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SESV2: emu.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: process.env.SSG_TEST_DYNAMODB_ENDPOINT!,
    },
    timeoutMs: 30_000,
  });
}
