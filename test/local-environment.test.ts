import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { resolveTarget } from '../cli/context';
import { type LocalEnvironment, startLocalEnvironment } from '../local/environment';
import {
  claimEnvironmentFile,
  EnvironmentRunningError,
  readEnvironmentFile,
  releaseEnvironmentFile,
  writeEnvironmentFile,
} from '../local/environment-file';
import { seedDemo } from '../local/seed';
import { SesEmulator } from '../local/ses-emulator';
import { waitFor } from './support/wait';

/** The process ID of a process that has exited. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

const DESCRIPTION = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  endpoints: { dynamodb: 'http://127.0.0.1:1', sesv2: 'http://127.0.0.1:2', lambda: 'http://127.0.0.1:3' },
  outputs: { GuardFunctionName: 'Guard' },
  regions: ['us-east-1'],
};

describe('Module: environment-file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-envfile-'));
    file = join(dir, 'environment.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second claim while the process described in the file runs, naming it', () => {
    // Prepare: another live process (this test's parent) owns the file.
    writeEnvironmentFile(file, { ...DESCRIPTION, pid: process.ppid });
    const before = readFileSync(file, 'utf8');

    // Act
    const claim = () => claimEnvironmentFile(file);

    // Assess
    expect(claim).toThrow(EnvironmentRunningError);
    expect(claim).toThrow(`the local environment is already running (process ${process.ppid}, described in ${file})`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('replaces a stale file whose process is gone, and says whose it was', async () => {
    // Prepare
    const gone = await exitedPid();
    writeEnvironmentFile(file, { ...DESCRIPTION, pid: gone });

    // Act
    const claim = claimEnvironmentFile(file);

    // Assess
    expect(claim).toEqual({ replacedStalePid: gone });
    expect(readEnvironmentFile(file)).toEqual({ state: 'starting', pid: process.pid });
  });

  it('reports a stale file as stale, and releases only a file this process owns', async () => {
    // Prepare
    const gone = await exitedPid();
    writeEnvironmentFile(file, { ...DESCRIPTION, pid: gone });

    // Act
    const found = readEnvironmentFile(file);
    releaseEnvironmentFile(file);

    // Assess
    expect(found).toEqual({ state: 'stale', pid: gone });
    expect(existsSync(file)).toBe(true);
  });

  it('writes only the described fields, never what an SDK client added to the objects it was given', () => {
    // Prepare: the SDK adds `$source` to a credentials object it is given.
    const credentials = { ...DESCRIPTION.credentials, $source: { CREDENTIALS_CODE: 'e' } };

    // Act
    writeEnvironmentFile(file, { ...DESCRIPTION, credentials, pid: process.pid });

    // Assess
    expect(readFileSync(file, 'utf8')).not.toContain('$source');
    expect(readEnvironmentFile(file)).toEqual({ state: 'running', description: { ...DESCRIPTION, pid: process.pid } });
  });
});

describe('Function: resolveTarget (--local)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-target-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says the local environment is not running when its file is stale', async () => {
    // Prepare
    const file = join(dir, 'environment.json');
    const gone = await exitedPid();
    writeEnvironmentFile(file, { ...DESCRIPTION, pid: gone });

    // Act
    const target = resolveTarget({ local: true }, { SSG_LOCAL_ENV_FILE: file });

    // Assess
    await expect(target).rejects.toThrow(
      `the local environment described at ${file} is not running (its process ${gone} has exited); start it again with \`npm start\``,
    );
  });

  it('says the local environment is still starting while npm start holds only its claim', async () => {
    // Prepare
    const file = join(dir, 'environment.json');
    writeFileSync(file, JSON.stringify({ pid: process.ppid, status: 'starting' }));

    // Act
    const target = resolveTarget({ local: true }, { SSG_LOCAL_ENV_FILE: file });

    // Assess
    await expect(target).rejects.toThrow(`the local environment is still starting (process ${process.ppid})`);
  });
});

describe('Function: startLocalEnvironment', () => {
  let dir: string;
  let env: LocalEnvironment | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-local-env-'));
  });
  afterAll(async () => {
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes itself without SDK bookkeeping, refuses a second start on the same file, and removes the file when stopped', async () => {
    // Prepare
    const envFile = join(dir, 'environment.json');
    const options = {
      envFile,
      dynamodbEndpoint: process.env.SSG_TEST_DYNAMODB_ENDPOINT,
      outdir: process.env.SSG_TEST_CDK_OUT,
      reuseAssembly: true,
      sesRequestsPerSecond: 0,
      tableSuffix: `-env-${randomBytes(3).toString('hex')}`,
    };

    // Act
    env = await startLocalEnvironment(options);
    const written = readFileSync(envFile, 'utf8');
    const second = await startLocalEnvironment(options).catch((error: Error) => error);
    // A client given the environment's credentials must not change what the file says.
    const ddb = new DynamoDBClient({ region: env.region, endpoint: env.endpoints.dynamodb, credentials: env.credentials });
    await ddb.send(new ListTablesCommand({ Limit: 1 }));
    ddb.destroy();
    const s3Endpoint = env.endpoints.s3;
    const functionsS3 = env.awsEnv.AWS_ENDPOINT_URL_S3;
    const emulatorS3 = env.ses.s3Endpoint;
    await env.stop();
    env = undefined;

    // Assess
    expect(written).not.toMatch(/\$source|\$metadata/);
    expect(JSON.parse(written)).toEqual({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
      endpoints: { dynamodb: expect.any(String), sesv2: expect.any(String), lambda: expect.any(String), s3: expect.any(String) },
      outputs: expect.objectContaining({ GuardFunctionName: expect.any(String) }),
      regions: ['us-east-1', 'us-west-2', 'eu-west-1'],
      smtp: {
        caFile: join(dirname(envFile), 'ses-smtp-ca.pem'),
        endpoints: ['eu-west-1', 'us-east-1', 'us-west-2'].map((region) => ({
          region,
          host: '127.0.0.1',
          serverName: `email-smtp.${region}.amazonaws.com`,
          starttlsPort: expect.any(Number),
          tlsPort: expect.any(Number),
        })),
      },
      pid: process.pid,
    });
    expect(second).toBeInstanceOf(EnvironmentRunningError);
    expect(existsSync(envFile)).toBe(false);
    expect(existsSync(join(dirname(envFile), 'ses-smtp-ca.pem'))).toBe(false);
    // The functions and the SES emulator (for import jobs) reach the same local S3 the file describes.
    expect(s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(functionsS3).toBe(s3Endpoint);
    expect(emulatorS3).toBe(s3Endpoint);
  });
});

describe('Function: seedDemo', () => {
  let emu: SesEmulator;
  beforeAll(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0 });
  });
  afterAll(async () => {
    await emu?.stop();
  });
  beforeEach(() => emu.reset());

  it.each([[['eu-central-1']], [['ap-south-1', 'sa-east-1']], [['us-east-1', 'us-west-2', 'eu-west-1', 'ap-northeast-1', 'ca-central-1']]])(
    'seeds the demo into the configured regions %j only, with every demo address somewhere',
    (regions) => {
      // Act
      seedDemo(emu, regions);

      // Assess
      expect(emu.regions()).toEqual([...regions].sort());
      const addresses = new Set(
        regions.flatMap((r) =>
          emu
            .region(r)
            .suppressed()
            .map((e) => e.emailAddress.toLowerCase()),
        ),
      );
      for (const address of ['jane.doe@example.org', 'bounced.once@example.net', 'angry.reader@example.org', 'west.coast@example.com']) {
        expect(addresses).toContain(address);
      }
      for (const region of regions) expect(emu.region(region).suppressedCount).toBeGreaterThan(0);
    },
  );
});

describe('Module: child-processes', () => {
  it('stops DynamoDB Local and every function environment when the process that started them dies of an error', async () => {
    // Prepare
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'local', 'start-and-crash.ts')], {
      cwd: join(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));

    // Act
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const started = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { worker: number; dynamodbPort: number; children: number[] };
    // An exit hook sends SIGKILL synchronously; the children are gone once the kernel has delivered it.
    await waitFor(() => !started.children.some(isRunning));
    const dynamoDbAnswers = await fetch(`http://127.0.0.1:${started.dynamodbPort}`, { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    );

    const survivors = started.children.filter(isRunning);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');

    // Assess
    expect(code).toBe(1);
    expect(started.children).toHaveLength(2);
    expect(started.children).toContain(started.worker);
    expect(survivors).toEqual([]);
    expect(dynamoDbAnswers).toBe(false);
  }, 60_000);
});

/** Whether the process exists and has not exited (a killed process its new parent has not reaped yet is a zombie). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Linux: the state follows the parenthesized command name in /proc/<pid>/stat.
    return !/\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
