import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FAIL_FAST_SDK_SETTINGS } from '../domain/ses';

/**
 * The guard's DynamoDB client: a blast sender waits on the answer, so a table that does not answer must turn into
 * GUARD_DEPENDENCY_UNAVAILABLE within seconds, not after the SDK's default minutes (the SES clients use the same
 * settings, see `SES_CALLERS.guard`).
 */
export function guardDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ ...FAIL_FAST_SDK_SETTINGS });
}
