import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** A document client that drops undefined attributes and keeps numbers as numbers. */
export function documentClient(client: DynamoDBClient = new DynamoDBClient({ maxAttempts: 8 })): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * One SES v2 client per region, created on first use and kept for warm invocations. The endpoint comes from the
 * SDK's standard resolution, so `AWS_ENDPOINT_URL_SESV2` points every region at a local emulator.
 */
export class SesClients {
  private readonly clients = new Map<string, SESv2Client>();

  /** `config` applies to every region's client (attempts, timeouts); the region is set per client. */
  constructor(private readonly config: Omit<SESv2ClientConfig, 'region'> = {}) {}

  /** The client for `region`. */
  forRegion(region: string): SESv2Client {
    let client = this.clients.get(region);
    if (!client) {
      client = new SESv2Client({ ...this.config, region });
      this.clients.set(region, client);
    }
    return client;
  }
}
