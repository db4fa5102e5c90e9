import { ListSuppressedDestinationsCommand, type ListSuppressedDestinationsCommandOutput, type SESv2Client } from '@aws-sdk/client-sesv2';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../lambdas/domain/retry';

/** What the baseline did. */
export interface BaselineResult {
  readonly sesRequests: number;
  readonly entriesRead: number;
  readonly itemsWritten: number;
  readonly writeRequests: number;
  readonly durationMs: number;
}

/**
 * The sync a user would otherwise write, as common open-source scripts do: page the whole list with a pause between
 * pages (1 / rate seconds) and PutItem every entry, every run. Writes within a page go out in parallel (a generous
 * baseline); throttled requests are retried after the same pause.
 */
export async function baselineSync(
  ses: SESv2Client,
  doc: DynamoDBDocumentClient,
  tableName: string,
  region: string,
  requestsPerSecond: number,
): Promise<BaselineResult> {
  const started = Date.now();
  const pauseMs = 1000 / requestsPerSecond;
  let token: string | undefined;
  let sesRequests = 0;
  let entriesRead = 0;
  let writes = 0;
  do {
    let page: ListSuppressedDestinationsCommandOutput;
    for (;;) {
      sesRequests++;
      try {
        page = await ses.send(new ListSuppressedDestinationsCommand({ PageSize: 1000, NextToken: token }));
        break;
      } catch (error) {
        if ((error as Error).name !== 'TooManyRequestsException') throw error;
        await sleep(pauseMs);
      }
    }
    const entries = page.SuppressedDestinationSummaries ?? [];
    entriesRead += entries.length;
    await Promise.all(
      entries.map(async (e) => {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              address: e.EmailAddress!.toLowerCase(),
              [`region:${region}`]: {
                address: e.EmailAddress,
                reason: e.Reason,
                lastUpdateTime: e.LastUpdateTime?.toISOString(),
                status: 'LISTED',
              },
            },
          }),
        );
        writes++;
      }),
    );
    token = page.NextToken;
    if (token) await sleep(pauseMs);
  } while (token);
  return { sesRequests, entriesRead, itemsWritten: writes, writeRequests: writes, durationMs: Date.now() - started };
}
