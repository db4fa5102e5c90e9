import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** A document client that drops undefined attributes and keeps numbers as numbers. */
export function documentClient(client: DynamoDBClient = new DynamoDBClient({ maxAttempts: 8 })): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * One S3 client per region (each region's import bucket lives in that region), kept for warm invocations. With a
 * local endpoint (`AWS_ENDPOINT_URL_S3`, the SDK's standard variable) requests use path-style addressing, since a
 * local server has no per-bucket host names.
 */
export class S3Clients {
  private readonly clients = new Map<string, S3Client>();

  forRegion(region: string): S3Client {
    let client = this.clients.get(region);
    if (!client) {
      client = new S3Client({ region, maxAttempts: 5, forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined });
      this.clients.set(region, client);
    }
    return client;
  }
}
