import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Timeouts and attempts of the guard's SDK clients: a blast sender waits on the answer, so a dependency that does
 * not answer must turn into GUARD_DEPENDENCY_UNAVAILABLE within seconds, not after the SDK's default minutes.
 */
export const GUARD_SDK_SETTINGS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
} as const;

/** The guard's DynamoDB client. */
export function guardDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ ...GUARD_SDK_SETTINGS });
}
