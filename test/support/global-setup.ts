import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { quietSdkNodeVersionWarning } from '../../local/sdk-warnings';
import { synthesize } from '../../local/synth';

/**
 * Starts one shared DynamoDB Local and synthesizes the app once (the same bundles `cdk synth` writes); test files
 * create their own uniquely named tables from that template.
 */
export default async function globalSetup(): Promise<void> {
  quietSdkNodeVersionWarning();
  const outdir = join(__dirname, '..', '..', '.local', 'test-cdk.out');
  mkdirSync(outdir, { recursive: true });
  synthesize(outdir);
  process.env.SSG_TEST_CDK_OUT = outdir;
  if (process.env.SSG_TEST_DYNAMODB_ENDPOINT) return;
  const ddb = await startDynamoDbLocal();
  process.env.SSG_TEST_DYNAMODB_ENDPOINT = ddb.endpoint;
  (globalThis as { __ssgDynamoDb?: typeof ddb }).__ssgDynamoDb = ddb;
}
