import { startDynamoDbLocal } from '../../local/dynamodb-local';

/** Starts one shared DynamoDB Local for the whole run; test files create their own uniquely named tables. */
export default async function globalSetup(): Promise<void> {
  if (process.env.SSG_TEST_DYNAMODB_ENDPOINT) return;
  const ddb = await startDynamoDbLocal();
  process.env.SSG_TEST_DYNAMODB_ENDPOINT = ddb.endpoint;
  (globalThis as { __ssgDynamoDb?: typeof ddb }).__ssgDynamoDb = ddb;
}
