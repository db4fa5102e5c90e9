import type { DynamoDbLocal } from '../../local/dynamodb-local';

/** Stops the DynamoDB Local started by the global setup. */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __ssgDynamoDb?: DynamoDbLocal }).__ssgDynamoDb?.stop();
}
