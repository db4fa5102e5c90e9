import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { badRequest } from './errors';
import type { EmulatedRegion, SuppressionReason } from './state';

/**
 * SES import jobs into the suppression list (CreateImportJob with a SuppressionListDestination), reading the data
 * from S3 the way SES does: the bucket must be in the SES region, the object is read after the job is created, and
 * the job goes CREATED → PROCESSING → COMPLETED (or FAILED) while its rows are applied at a configurable pace.
 */

/** What a suppression-list import does with each address. */
export type ImportAction = 'PUT' | 'DELETE';
/** The SES job statuses the emulator uses (SES also models CANCELLED, which it never reaches). */
export type ImportJobStatus = 'CREATED' | 'PROCESSING' | 'COMPLETED' | 'FAILED';

/** One import job as a region holds it. */
export interface ImportJob {
  readonly jobId: string;
  readonly action: ImportAction;
  readonly s3Url: string;
  readonly dataFormat: 'CSV' | 'JSON';
  status: ImportJobStatus;
  readonly createdMs: number;
  completedMs?: number;
  processed: number;
  failed: number;
  failedRecordsS3Url?: string;
  errorMessage?: string;
}

/** Limits SES documents for suppression-list imports: records per object for an add (PUT) and a removal (DELETE). */
export const IMPORT_LIMITS: Readonly<Record<ImportAction, number>> = { PUT: 100_000, DELETE: 10_000 };

/** How the emulator reaches S3 and paces imports; read at call time so they can change at runtime. */
export interface ImportSettings {
  /** Local S3 endpoint; undefined = imports are refused. */
  s3Endpoint(): string | undefined;
  /** Records applied per second per job. */
  rowsPerSecond(): number;
  now(): number;
}

/** Credentials the emulator signs its own S3 requests with (s3rver's built-in key, so a plain s3rver works too). */
const EMULATOR_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const TICK_MS = 50;

/** A parsed data-source record. */
interface ImportRecord {
  readonly raw: string;
  readonly emailAddress?: string;
  readonly reason?: string;
}

/** Runs import jobs: validates and creates them, reads their objects and applies them row by row. */
export class ImportJobRunner {
  private readonly clients = new Map<string, S3Client>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private clientsEndpoint: string | undefined;
  private stopped = false;

  constructor(private readonly settings: ImportSettings) {}

  /** CreateImportJob: checks the bucket's region and the object, then creates the job and starts it. */
  async create(region: EmulatedRegion, action: ImportAction, s3Url: string, dataFormat: 'CSV' | 'JSON'): Promise<ImportJob> {
    const { bucket, key } = parseS3Url(s3Url);
    const s3 = this.client(region.name);
    let bucketRegion: string;
    try {
      const location = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
      bucketRegion = location.LocationConstraint || 'us-east-1';
    } catch (error) {
      throw s3Refusal(error, `the bucket ${bucket}`);
    }
    if (bucketRegion !== region.name) {
      throw badRequest(
        `The S3 bucket ${bucket} is in ${bucketRegion}, but this import job is in ${region.name}: ` +
          `SES reads import data only from a bucket in the same region (${region.name}).`,
      );
    }
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      throw s3Refusal(error, `the object ${s3Url}`);
    }
    const job: ImportJob = {
      jobId: randomUUID(),
      action,
      s3Url,
      dataFormat,
      status: 'CREATED',
      createdMs: this.settings.now(),
      processed: 0,
      failed: 0,
    };
    region.addImportJob(job);
    this.later(() => this.run(region, job, bucket, key), TICK_MS);
    return job;
  }

  /** Cancels pending work and closes the S3 clients. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }

  private async run(region: EmulatedRegion, job: ImportJob, bucket: string, key: string): Promise<void> {
    job.status = 'PROCESSING';
    let records: ImportRecord[];
    try {
      const out = await this.client(region.name).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = (await out.Body?.transformToString('utf8')) ?? '';
      records = job.dataFormat === 'CSV' ? parseCsv(text) : parseJsonLines(text);
    } catch (error) {
      return this.fail(job, `Failed to read ${job.s3Url}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const limit = IMPORT_LIMITS[job.action];
    if (records.length > limit) {
      return this.fail(
        job,
        `The data source has ${records.length} records; a suppression list ${job.action === 'PUT' ? 'add (PUT)' : 'removal (DELETE)'} import accepts at most ${limit}.`,
      );
    }
    const failures: Array<{ record: ImportRecord; error: string }> = [];
    let next = 0;
    const step = (): void => {
      if (this.stopped) return;
      const batch = Math.max(1, Math.round((this.settings.rowsPerSecond() * TICK_MS) / 1000));
      const end = Math.min(records.length, next + batch);
      for (; next < end; next++) {
        const record = records[next] as ImportRecord;
        const error = this.apply(region, job.action, record);
        if (error !== undefined) {
          failures.push({ record, error });
          job.failed++;
        }
        job.processed++;
      }
      if (next < records.length) {
        this.later(step, TICK_MS);
        return;
      }
      this.finish(region, job, failures).catch((err: unknown) =>
        this.fail(job, `Failed to write the failed records: ${err instanceof Error ? err.message : String(err)}`),
      );
    };
    step();
  }

  /** Applies one record; returns why it failed, if it did. */
  private apply(region: EmulatedRegion, action: ImportAction, record: ImportRecord): string | undefined {
    const email = record.emailAddress ?? '';
    if (!validAddress(email)) return `Invalid email address ${JSON.stringify(email)}.`;
    const injected = region.importFailureFor(email);
    if (injected !== undefined) return injected;
    if (action === 'DELETE') {
      region.deleteSuppressed(email);
      return undefined;
    }
    const reason = (record.reason ?? '').trim().toUpperCase();
    if (reason !== 'BOUNCE' && reason !== 'COMPLAINT')
      return `Invalid reason ${JSON.stringify(record.reason ?? '')}; expected BOUNCE or COMPLAINT.`;
    region.putSuppressedFromApi(email, reason as SuppressionReason);
    return undefined;
  }

  private async finish(region: EmulatedRegion, job: ImportJob, failures: Array<{ record: ImportRecord; error: string }>): Promise<void> {
    if (failures.length > 0) job.failedRecordsS3Url = await this.writeFailures(region.name, job.jobId, failures);
    job.status = 'COMPLETED';
    job.completedMs = this.settings.now();
  }

  private fail(job: ImportJob, message: string): void {
    job.status = 'FAILED';
    job.errorMessage = message;
    job.completedMs = this.settings.now();
  }

  /**
   * Writes the failed records as CSV (`emailAddress,reason,error`) to an emulator-owned bucket in the job's region
   * and returns a plain URL to it: where SES gives a pre-signed URL, any HTTP client can GET this one.
   */
  private async writeFailures(
    regionName: string,
    jobId: string,
    failures: Array<{ record: ImportRecord; error: string }>,
  ): Promise<string> {
    const s3 = this.client(regionName);
    const bucket = `ses-emulator-import-failures-${regionName}`;
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(regionName === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: regionName as never } }),
        }),
      );
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
    }
    const lines = [
      'emailAddress,reason,error',
      ...failures.map(({ record, error }) => [record.emailAddress ?? record.raw, record.reason ?? '', error].map(csvField).join(',')),
    ];
    const key = `${jobId}.csv`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${lines.join('\n')}\n`, ContentType: 'text/csv' }));
    return `${this.settings.s3Endpoint()}/${bucket}/${key}`;
  }

  private client(regionName: string): S3Client {
    const endpoint = this.settings.s3Endpoint();
    if (endpoint === undefined) {
      throw badRequest('The SES emulator has no S3 endpoint configured (s3Endpoint option, --s3-endpoint or AWS_ENDPOINT_URL_S3).');
    }
    if (endpoint !== this.clientsEndpoint) {
      for (const c of this.clients.values()) c.destroy();
      this.clients.clear();
      this.clientsEndpoint = endpoint;
    }
    let c = this.clients.get(regionName);
    if (!c) {
      c = new S3Client({ region: regionName, endpoint, forcePathStyle: true, credentials: EMULATOR_S3_CREDENTIALS, maxAttempts: 2 });
      this.clients.set(regionName, c);
    }
    return c;
  }

  private later(fn: () => void | Promise<void>, ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    this.timers.add(t);
  }
}

/** Splits `s3://bucket/key` with the pattern the SES API reference gives for ImportDataSource.S3Url. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*?([^/]+)\/?)$/.exec(url);
  if (!m) throw badRequest(`ImportDataSource.S3Url "${url}" is not an Amazon S3 URL of the form s3://<bucket_name>/<object>.`);
  return { bucket: m[1] as string, key: m[2] as string };
}

function s3Refusal(error: unknown, what: string): Error {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    if (error.name === 'NoSuchBucket' || error.name === 'NotFound' || error.name === 'NoSuchKey' || status === 404) {
      return badRequest(`Unable to read ${what}: it does not exist.`);
    }
    return badRequest(`Unable to read ${what}: ${error.name} ${error.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** CSV as SES documents it: one `emailAddress,reason` record a line, no header needed (one is skipped if present). */
function parseCsv(text: string): ImportRecord[] {
  const rows = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as string[][];
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0);
  const records = rows.map((row, i) => ({ raw: lines[i] ?? row.join(','), emailAddress: row[0], reason: row[1] }));
  const first = records[0];
  if (first && first.emailAddress?.toLowerCase() === 'emailaddress') records.shift();
  return records;
}

/** JSON as SES documents it: one `{"emailAddress": ..., "reason": ...}` object a line. */
function parseJsonLines(text: string): ImportRecord[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0)
    .map((raw) => {
      try {
        const o = JSON.parse(raw) as { emailAddress?: unknown; reason?: unknown };
        return {
          raw,
          ...(typeof o.emailAddress === 'string' ? { emailAddress: o.emailAddress } : {}),
          ...(typeof o.reason === 'string' ? { reason: o.reason } : {}),
        };
      } catch {
        return { raw };
      }
    });
}

function validAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  return (
    value.length > 0 && value.length <= 320 && !/[\s,;<>()"]/.test(value) && at > 0 && at < value.length - 1 && value.indexOf('@') === at
  );
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
