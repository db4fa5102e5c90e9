import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `.local/environment.json`: how other processes (the CLI's `--local`, scripts, tests) reach the environment
 * `npm start` runs. Written and read only through this module, by `local/` and `cli/` alike; it imports nothing
 * heavier than `node:fs`, so the CLI can use it without loading the local tooling.
 */
export interface LocalEnvironmentDescription {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** `s3`: the local S3 (path-style addressing), absent in files written before it existed. */
  readonly endpoints: { readonly dynamodb: string; readonly sesv2: string; readonly lambda: string; readonly s3?: string };
  /** The stack outputs, resolved to local names (same keys as the deployed stack's outputs). */
  readonly outputs: Record<string, string>;
  readonly regions: readonly string[];
  /**
   * The SES emulator's SMTP interface, one STARTTLS and one implicit-TLS port per region, and the file of the CA its
   * certificates chain to (give it as `ca`, or `NODE_EXTRA_CA_CERTS`, and `serverName` as the TLS servername).
   * Absent in files written before it existed.
   */
  readonly smtp?: LocalSmtpDescription;
  /** The process that runs the environment (`npm start`); the file is stale once it is gone. */
  readonly pid: number;
}

/** The local SES SMTP interface. */
export interface LocalSmtpDescription {
  readonly caFile: string;
  readonly endpoints: ReadonlyArray<{
    readonly region: string;
    readonly host: string;
    readonly serverName: string;
    readonly starttlsPort: number;
    readonly tlsPort: number;
  }>;
}

/** Where the file lives, relative to the project directory. */
export const ENVIRONMENT_FILE = join('.local', 'environment.json');

/** Environment variable that overrides where `--local` finds the local environment's description. */
export const LOCAL_ENV_FILE_VARIABLE = 'SSG_LOCAL_ENV_FILE';

const REQUIRED_FIELDS = ['region', 'credentials', 'endpoints', 'outputs', 'regions', 'pid'] as const;

/** What a reader finds at the file's location. */
export type EnvironmentFileState =
  | { readonly state: 'missing'; readonly reason: string }
  | { readonly state: 'invalid'; readonly reason: string }
  /** Claimed by an `npm start` that has not finished starting. */
  | { readonly state: 'starting'; readonly pid: number }
  /** The process that wrote it is gone (it was killed, or the machine restarted). */
  | { readonly state: 'stale'; readonly pid: number }
  | { readonly state: 'running'; readonly description: LocalEnvironmentDescription };

/** Reads and checks the file; never throws. */
export function readEnvironmentFile(file: string): EnvironmentFileState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { state: 'missing', reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { state: 'invalid', reason: 'not a JSON object' };
  } catch {
    return { state: 'invalid', reason: 'not valid JSON' };
  }
  const pid = parsed.pid;
  if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0 && !processRunning(pid)) return { state: 'stale', pid };
  if (parsed.status === 'starting' && typeof pid === 'number') return { state: 'starting', pid };
  const missing = REQUIRED_FIELDS.filter((key) => parsed[key] === undefined);
  if (missing.length > 0) return { state: 'invalid', reason: `lacks ${missing.join(', ')}` };
  return { state: 'running', description: parsed as unknown as LocalEnvironmentDescription };
}

/** Raised by {@link claimEnvironmentFile} when another `npm start` runs the environment. */
export class EnvironmentRunningError extends Error {
  constructor(
    readonly file: string,
    readonly pid: number,
    starting: boolean,
  ) {
    super(
      `the local environment is already ${starting ? 'starting' : 'running'} (process ${pid}, described in ${file}); ` +
        `use it (npx ssg --local ...), or stop it (Ctrl+C in its terminal, or kill ${pid}) before starting another`,
    );
  }
}

/**
 * Claims the file for this process before anything starts: refuses (EnvironmentRunningError) while the process
 * described in it runs, replaces a stale or broken file, and creates the claim exclusively so that two starts at
 * once cannot both win. Returns what was replaced, for a message.
 */
export function claimEnvironmentFile(file: string, pid = process.pid): { replacedStalePid?: number } {
  const current = readEnvironmentFile(file);
  if (current.state === 'running') throw new EnvironmentRunningError(file, current.description.pid, false);
  if (current.state === 'starting') throw new EnvironmentRunningError(file, current.pid, true);
  if (current.state !== 'missing') rmSync(file, { force: true });
  try {
    writeFileSync(file, `${JSON.stringify({ pid, status: 'starting' })}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = readEnvironmentFile(file);
    throw new EnvironmentRunningError(
      file,
      winner.state === 'running' ? winner.description.pid : winner.state === 'starting' ? winner.pid : 0,
      true,
    );
  }
  return current.state === 'stale' ? { replacedStalePid: current.pid } : {};
}

/** Writes the description (replacing the claim atomically). Only the listed fields are written, nothing an SDK added. */
export function writeEnvironmentFile(file: string, description: LocalEnvironmentDescription): void {
  const clean: LocalEnvironmentDescription = {
    region: description.region,
    credentials: { accessKeyId: description.credentials.accessKeyId, secretAccessKey: description.credentials.secretAccessKey },
    endpoints: {
      dynamodb: description.endpoints.dynamodb,
      sesv2: description.endpoints.sesv2,
      lambda: description.endpoints.lambda,
      ...(description.endpoints.s3 !== undefined ? { s3: description.endpoints.s3 } : {}),
    },
    outputs: { ...description.outputs },
    regions: [...description.regions],
    ...(description.smtp !== undefined
      ? {
          smtp: {
            caFile: description.smtp.caFile,
            endpoints: description.smtp.endpoints.map(({ region, host, serverName, starttlsPort, tlsPort }) => ({
              region,
              host,
              serverName,
              starttlsPort,
              tlsPort,
            })),
          },
        }
      : {}),
    pid: description.pid,
  };
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(clean, null, 2)}\n`);
  renameSync(partial, file);
}

/** Removes the file if this process owns it (synchronous: safe in an `exit` handler). */
export function releaseEnvironmentFile(file: string, pid = process.pid): void {
  const current = readEnvironmentFile(file);
  const owner = current.state === 'running' ? current.description.pid : current.state === 'starting' ? current.pid : undefined;
  if (owner === pid) rmSync(file, { force: true });
}

/** Whether a process with this ID exists (EPERM: it exists, owned by someone else). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
