import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateImportJobCommand,
  type CreateImportJobCommandInput,
  GetImportJobCommand,
  type GetImportJobCommandOutput,
  ListImportJobsCommand,
  ListSuppressedDestinationsCommand,
  SESv2Client,
  SESv2ServiceException,
} from '@aws-sdk/client-sesv2';
import { type LocalS3, startLocalS3 } from '../local/s3-local';
import { SesEmulator } from '../local/ses-emulator';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' };

function ses(emu: SesEmulator, region: string): SESv2Client {
  return new SESv2Client({ region, endpoint: emu.endpoint, credentials, maxAttempts: 1 });
}

/** The construction the handlers use: path-style whenever an S3 endpoint is configured. */
function s3(endpoint: string, region: string): S3Client {
  return new S3Client({ region, endpoint, credentials, forcePathStyle: true });
}

async function sesError(promise: Promise<unknown>): Promise<SESv2ServiceException> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SESv2ServiceException) return err;
    throw err;
  }
  throw new Error('expected the SES call to fail');
}

function job(action: 'PUT' | 'DELETE', s3Url: string, DataFormat: 'CSV' | 'JSON' = 'CSV'): CreateImportJobCommandInput {
  return {
    ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: action } },
    ImportDataSource: { S3Url: s3Url, DataFormat },
  };
}

async function waitForJob(client: SESv2Client, jobId: string, timeoutMs = 20_000): Promise<GetImportJobCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await client.send(new GetImportJobCommand({ JobId: jobId }));
    if (out.JobStatus === 'COMPLETED' || out.JobStatus === 'FAILED') return out;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${out.JobStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function listed(client: SESv2Client): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let NextToken: string | undefined;
  do {
    const page = await client.send(new ListSuppressedDestinationsCommand({ NextToken }));
    for (const s of page.SuppressedDestinationSummaries ?? []) out.set(s.EmailAddress!, s.Reason!);
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

describe('SES import jobs against the local S3', () => {
  let local: LocalS3;
  let emu: SesEmulator;
  const region = 'us-west-2';
  const bucket = 'imports-us-west-2';

  beforeAll(async () => {
    local = await startLocalS3();
    const west = s3(local.endpoint, region);
    await west.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region } }));
    const east = s3(local.endpoint, 'us-east-1');
    await east.send(new CreateBucketCommand({ Bucket: 'imports-us-east-1' }));
    west.destroy();
    east.destroy();
  });
  afterAll(async () => {
    await local.stop();
  });

  beforeEach(async () => {
    emu = await SesEmulator.start({ seed: 3, requestsPerSecond: 0, s3Endpoint: local.endpoint });
  });
  afterEach(async () => {
    await emu.stop();
  });

  async function put(key: string, body: string, inBucket = bucket, inRegion = region): Promise<string> {
    const client = s3(local.endpoint, inRegion);
    await client.send(new PutObjectCommand({ Bucket: inBucket, Key: key, Body: body }));
    client.destroy();
    return `s3://${inBucket}/${key}`;
  }

  it('keeps bucket regions in the local S3 and refuses a request signed for another region', async () => {
    // Prepare
    const east = s3(local.endpoint, 'us-east-1');

    // Act
    const refusal = await east.send(new PutObjectCommand({ Bucket: bucket, Key: 'x.csv', Body: 'a' })).catch((e: Error) => e);

    // Assess
    expect(local.bucketRegion(bucket)).toBe(region);
    expect(local.bucketRegion('imports-us-east-1')).toBe('us-east-1');
    expect((refusal as Error).name).toBe('AuthorizationHeaderMalformed');
    expect((refusal as Error).message).toContain(`expecting '${region}'`);
    east.destroy();
  });

  it('a PUT job goes CREATED → PROCESSING → COMPLETED and adds every address with its reason, exact case kept', async () => {
    // Prepare: a slow pace so PROCESSING can be observed.
    emu.setImportRowsPerSecond(200);
    const rows = Array.from({ length: 300 }, (_, i) => `User${i}@Example.com,${i % 2 === 0 ? 'BOUNCE' : ' COMPLAINT'}`);
    const url = await put('put.csv', `${rows.join('\n')}\n`);
    const client = ses(emu, region);

    // Act
    const { JobId } = await client.send(new CreateImportJobCommand(job('PUT', url)));
    const statuses = new Set<string>();
    let done: GetImportJobCommandOutput;
    for (;;) {
      done = await client.send(new GetImportJobCommand({ JobId }));
      statuses.add(done.JobStatus!);
      if (done.JobStatus === 'COMPLETED' || done.JobStatus === 'FAILED') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Assess
    expect(statuses.has('PROCESSING')).toBe(true);
    expect(done).toMatchObject({
      JobId,
      JobStatus: 'COMPLETED',
      ProcessedRecordsCount: 300,
      FailedRecordsCount: 0,
      ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
      ImportDataSource: { S3Url: url, DataFormat: 'CSV' },
    });
    expect(done.FailureInfo).toBeUndefined();
    expect(done.CompletedTimestamp!.getTime()).toBeGreaterThanOrEqual(done.CreatedTimestamp!.getTime());
    const list = await listed(client);
    expect(list.size).toBe(300);
    expect(list.get('User0@Example.com')).toBe('BOUNCE');
    expect(list.get('User1@Example.com')).toBe('COMPLAINT');
    expect(await listed(ses(emu, 'us-east-1'))).toEqual(new Map());
  });

  it('a DELETE job removes the listed addresses and leaves the others', async () => {
    // Prepare
    emu.region(region).putSuppressedMany([
      { emailAddress: 'a@example.com', reason: 'BOUNCE' },
      { emailAddress: 'b@example.com', reason: 'COMPLAINT' },
      { emailAddress: 'c@example.com', reason: 'BOUNCE' },
    ]);
    const url = await put('delete.json', '{"emailAddress":"a@example.com"}\n{"emailAddress":"c@example.com"}\n');
    const client = ses(emu, region);

    // Act
    const { JobId } = await client.send(new CreateImportJobCommand(job('DELETE', url, 'JSON')));
    const done = await waitForJob(client, JobId!);

    // Assess
    expect(done).toMatchObject({ JobStatus: 'COMPLETED', ProcessedRecordsCount: 2, FailedRecordsCount: 0 });
    expect([...(await listed(client)).keys()]).toEqual(['b@example.com']);
  });

  it('bad rows and injected failures are failed records, in a CSV any HTTP client can read', async () => {
    // Prepare
    emu.region(region).failImportsFor(['Blocked@example.com'], 'injected');
    const url = await put(
      'mixed.csv',
      'emailAddress,reason\nok@example.com,BOUNCE\nnot-an-address,BOUNCE\nbad.reason@example.com,SPAM\nblocked@example.com,COMPLAINT\n',
    );
    const client = ses(emu, region);

    // Act
    const { JobId } = await client.send(new CreateImportJobCommand(job('PUT', url)));
    const done = await waitForJob(client, JobId!);
    const failedCsv = await fetch(done.FailureInfo!.FailedRecordsS3Url!).then((r) => r.text());

    // Assess
    expect(done).toMatchObject({ JobStatus: 'COMPLETED', ProcessedRecordsCount: 4, FailedRecordsCount: 3 });
    expect([...(await listed(client)).keys()]).toEqual(['ok@example.com']);
    const lines = failedCsv.trim().split('\n');
    expect(lines[0]).toBe('emailAddress,reason,error');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['not-an-address', 'bad.reason@example.com', 'blocked@example.com']);
    expect(lines[3]).toContain('injected');
  });

  it('refuses a bucket in another region, naming both regions, and a missing object or bucket', async () => {
    // Prepare
    const eastUrl = await put('east.csv', 'a@example.com,BOUNCE\n', 'imports-us-east-1', 'us-east-1');
    const client = ses(emu, region);

    // Act
    const wrongRegion = await sesError(client.send(new CreateImportJobCommand(job('PUT', eastUrl))));
    const missingObject = await sesError(client.send(new CreateImportJobCommand(job('PUT', `s3://${bucket}/absent.csv`))));
    const missingBucket = await sesError(client.send(new CreateImportJobCommand(job('PUT', 's3://no-such-bucket-here/a.csv'))));

    // Assess
    expect(wrongRegion.name).toBe('BadRequestException');
    expect(wrongRegion.message).toContain('us-east-1');
    expect(wrongRegion.message).toContain(region);
    expect(missingObject.name).toBe('BadRequestException');
    expect(missingObject.message).toContain('does not exist');
    expect(missingBucket.name).toBe('BadRequestException');
    expect((await client.send(new ListImportJobsCommand({}))).ImportJobs).toEqual([]);
  });

  it('refuses malformed requests and contact-list destinations', async () => {
    // Prepare
    const client = ses(emu, region);
    const contact: CreateImportJobCommandInput = {
      ImportDestination: { ContactListDestination: { ContactListName: 'l', ContactListImportAction: 'PUT' } },
      ImportDataSource: { S3Url: `s3://${bucket}/x.csv`, DataFormat: 'CSV' },
    };

    // Act
    const contactError = await sesError(client.send(new CreateImportJobCommand(contact)));
    const badUrl = await sesError(client.send(new CreateImportJobCommand(job('PUT', `https://${bucket}/x.csv`))));

    // Assess
    expect(contactError.name).toBe('BadRequestException');
    expect(contactError.message).toContain('ContactListDestination is not supported');
    expect(badUrl.message).toContain('s3://<bucket_name>/<object>');
  });

  it('fails a job over the documented limits: 100,000 records to add, 10,000 to remove', async () => {
    // Prepare
    const addUrl = await put('too-many-add.csv', Array.from({ length: 100_001 }, (_, i) => `u${i}@example.com,BOUNCE`).join('\n'));
    const okDeleteUrl = await put('ok-delete.csv', Array.from({ length: 10_000 }, (_, i) => `u${i}@example.com`).join('\n'));
    const deleteUrl = await put('too-many-delete.csv', Array.from({ length: 10_001 }, (_, i) => `u${i}@example.com`).join('\n'));
    emu.setImportRowsPerSecond(1_000_000);
    const client = ses(emu, region);

    // Act
    const add = await waitForJob(client, (await client.send(new CreateImportJobCommand(job('PUT', addUrl)))).JobId!);
    const del = await waitForJob(client, (await client.send(new CreateImportJobCommand(job('DELETE', deleteUrl)))).JobId!);
    const okDel = await waitForJob(client, (await client.send(new CreateImportJobCommand(job('DELETE', okDeleteUrl)))).JobId!);

    // Assess
    expect(add).toMatchObject({ JobStatus: 'FAILED', ProcessedRecordsCount: 0 });
    expect(add.FailureInfo?.ErrorMessage).toContain('at most 100000');
    expect(del).toMatchObject({ JobStatus: 'FAILED', ProcessedRecordsCount: 0 });
    expect(del.FailureInfo?.ErrorMessage).toContain('at most 10000');
    expect(okDel).toMatchObject({ JobStatus: 'COMPLETED', ProcessedRecordsCount: 10_000 });
    expect(emu.region(region).suppressedCount).toBe(0);
  });

  it('answers NotFoundException for an unknown job, and for a job of another region', async () => {
    // Prepare
    const url = await put('one.csv', 'one@example.com,BOUNCE\n');
    const { JobId } = await ses(emu, region).send(new CreateImportJobCommand(job('PUT', url)));

    // Act
    const unknown = await sesError(ses(emu, region).send(new GetImportJobCommand({ JobId: 'no-such-job' })));
    const otherRegion = await sesError(ses(emu, 'eu-west-1').send(new GetImportJobCommand({ JobId })));

    // Assess
    expect(unknown.name).toBe('NotFoundException');
    expect(unknown.$metadata.httpStatusCode).toBe(404);
    expect(otherRegion.name).toBe('NotFoundException');
  });

  it('ListImportJobs pages through every job of the region and filters by destination type', async () => {
    // Prepare
    const url = await put('page.csv', 'p@example.com,BOUNCE\n');
    const client = ses(emu, region);
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await client.send(new CreateImportJobCommand(job('PUT', url)))).JobId!);

    // Act
    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListImportJobsCommand({ PageSize: 2, NextToken, ImportDestinationType: 'SUPPRESSION_LIST' }));
      seen.push(...(page.ImportJobs ?? []).map((j) => j.JobId!));
      NextToken = page.NextToken;
      pages++;
    } while (NextToken);
    const contact = await client.send(new ListImportJobsCommand({ ImportDestinationType: 'CONTACT_LIST' }));
    const first = (await client.send(new ListImportJobsCommand({ PageSize: 1 }))).ImportJobs?.[0];

    // Assess
    expect(pages).toBe(3);
    expect(seen).toEqual(created);
    expect(contact.ImportJobs).toEqual([]);
    expect(first).toMatchObject({
      JobId: created[0],
      ImportDestination: { SuppressionListDestination: { SuppressionListImportAction: 'PUT' } },
    });
    expect(first?.CreatedTimestamp).toBeInstanceOf(Date);
  });

  it('the rate limit and seeded faults apply to the import operations', async () => {
    // Prepare
    const url = await put('rate.csv', 'r@example.com,BOUNCE\n');
    emu.setRequestsPerSecond(1);
    const client = ses(emu, region);

    // Act
    await client.send(new CreateImportJobCommand(job('PUT', url)));
    const throttled = await sesError(client.send(new CreateImportJobCommand(job('PUT', url))));
    await client.send(new ListImportJobsCommand({}));
    const listThrottled = await sesError(client.send(new ListImportJobsCommand({})));
    emu.setRequestsPerSecond(0);
    emu.failNextRequests(region, 1, 'serverError');
    const serverError = await sesError(client.send(new GetImportJobCommand({ JobId: 'x' })));

    // Assess
    expect(throttled.name).toBe('TooManyRequestsException');
    expect(listThrottled.name).toBe('TooManyRequestsException');
    expect(serverError.name).toBe('InternalServiceErrorException');
    expect(emu.stats().regions[region]?.CreateImportJob).toMatchObject({ requests: 2, throttled: 1 });
    expect(emu.region(region).listImportJobs()).toHaveLength(1);
  });

  it('the control API injects import failures and shows the jobs', async () => {
    // Prepare
    const url = await put('control.csv', 'x@example.com,BOUNCE\ny@example.com,BOUNCE\n');
    const control = `${emu.endpoint}/_emulator/regions/${region}`;

    // Act
    const set = await fetch(`${control}/import-failures`, {
      method: 'POST',
      body: JSON.stringify({ emailAddresses: ['y@example.com'], message: 'nope' }),
    }).then((r) => r.json());
    const client = ses(emu, region);
    const done = await waitForJob(client, (await client.send(new CreateImportJobCommand(job('PUT', url)))).JobId!);
    const jobs = (await fetch(`${control}/import-jobs`).then((r) => r.json())) as { jobs: Array<Record<string, unknown>> };
    await fetch(`${control}/import-failures`, { method: 'DELETE' });

    // Assess
    expect(set).toEqual({ region, emailAddresses: ['y@example.com'] });
    expect(done).toMatchObject({ JobStatus: 'COMPLETED', FailedRecordsCount: 1 });
    expect(jobs.jobs).toHaveLength(1);
    expect(jobs.jobs[0]).toMatchObject({ status: 'COMPLETED', failedRecordsCount: 1, action: 'PUT' });
    expect(emu.region(region).importFailureAddresses()).toEqual([]);
  });

  it('without an S3 endpoint CreateImportJob is refused', async () => {
    // Prepare
    const bare = await SesEmulator.start({ requestsPerSecond: 0, s3Endpoint: undefined });
    bare.setS3Endpoint(undefined);

    // Act
    const err = await sesError(ses(bare, region).send(new CreateImportJobCommand(job('PUT', `s3://${bucket}/x.csv`))));
    await bare.stop();

    // Assess
    expect(err.name).toBe('BadRequestException');
    expect(err.message).toContain('no S3 endpoint');
  });
});
