import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './support/wait';

const ROOT = join(__dirname, '..');

/** `npm start` (local/start.ts) with its environment file in `envFile`; stdout and stderr collected. */
function npmStart(
  envFile: string,
  args: string[] = [],
): { child: ChildProcessWithoutNullStreams; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], {
    cwd: ROOT,
    env: { ...withoutSdkNoticeSetting(process.env), SSG_LOCAL_ENV_FILE: envFile },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { child, out: () => out, exited };
}

/** The environment as a user's shell has it: the test setup's silencing of the SDK notice removed. */
function withoutSdkNoticeSetting(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...rest } = env;
  return rest;
}

/** Child process IDs of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether the process exists and has not exited (zombies count as exited). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('Script: npm start', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-npm-start-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('with --once runs the demo, stops, prints no endpoints it has shut down, and leaves nothing behind', async () => {
    // Prepare
    const envFile = join(dir, 'environment.json');

    // Act
    const run = npmStart(envFile, ['--once']);
    const code = await run.exited;

    // Assess
    const out = run.out();
    expect(code).toBe(0);
    expect(out).toContain('Guard check 2 (identity verified in every region):');
    // The address that bounced in the first region only is on every region's list, put there by propagation.
    expect(out).toContain('bounced.once@example.net bounced in us-east-1 only; origins: ses:us-east-1');
    expect(out).toMatch(/us-east-1 +SES list: BOUNCE since \S+ +\(SES listed it on its own\)/);
    expect(out).toMatch(/us-west-2 +SES list: BOUNCE since \S+ +\(propagated by the service\)/);
    expect(out).toMatch(/eu-west-1 +SES list: BOUNCE since \S+ +\(propagated by the service\)/);
    // A bounce event in the first region reaches every region's list through ingestion and targeted propagation,
    // and ssg senders names the caller that sent it.
    expect(out).toMatch(/bounce@simulator\.amazonses\.com after [\d.]+ s/);
    const realTime = out.slice(out.indexOf('bounce@simulator.amazonses.com after'));
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) expect(realTime).toMatch(new RegExp(`${region} +SES list: BOUNCE since`));
    expect(out).toMatch(/us-east-1 +example\.net +blast-lambda-role .* 1 +50\.00% .*bounce AT RISK/);
    // The relay incident: a password derived for us-east-1 at us-west-2's SMTP endpoint is refused, ssg smtp check
    // names why; with the right one, the relay mails an address propagation put on us-west-2's list: SES drops it,
    // and ssg senders names the relay's IAM user.
    const relay = out.slice(out.indexOf('SMTP relay incident'));
    expect(relay).toContain('relay: 535 Authentication Credentials Invalid');
    expect(relay).toMatch(/FAIL +auth +AUTH as AKIAGMAILRELAY000001: 535 Authentication Credentials Invalid/);
    expect(relay).toContain('cause: derived-for-another-region');
    expect(relay).toContain('the password was derived for us-east-1');
    expect(relay).toMatch(/relay: 250 Ok \S+/);
    expect(relay).toContain("SES accepted it and dropped it: us-west-2's list holds the address (BOUNCE, put there by propagation)");
    expect(relay).toMatch(
      /Callers mailing suppressed addresses:\s+region .*\n\s+us-west-2 +example\.net +gmail-relay +127\.0\.0\.1 +ses-suppression-guard +1 +1/,
    );
    expect(out).toContain('Stopped (--once)');
    expect(out).not.toMatch(/Local endpoints|curl|Running\. Press Ctrl\+C/);
    expect(out).not.toContain('NodeVersionSupportWarning');
    expect(existsSync(envFile)).toBe(false);
  }, 180_000);

  it('refuses a second start while running, and on Ctrl+C stops every process it started and removes its file', async () => {
    // Prepare
    const envFile = join(dir, 'environment.json');
    const first = npmStart(envFile);
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (first.out().includes('Running. Press Ctrl+C to stop.')) {
          clearInterval(poll);
          resolve();
        }
      }, 200);
      first.exited.then(() => {
        clearInterval(poll);
        reject(new Error(`npm start exited early:\n${first.out()}`));
      });
    });
    const children = childrenOf(first.child.pid!);
    const described = JSON.parse(readFileSync(envFile, 'utf8')) as { pid: number };

    try {
      // Act
      const second = npmStart(envFile);
      const secondCode = await second.exited;
      const before = readFileSync(envFile, 'utf8');
      first.child.kill('SIGINT');
      const code = await first.exited;
      await waitFor(() => !children.some(isRunning));

      // Assess
      expect(described.pid).toBe(first.child.pid);
      expect(first.out()).toMatch(
        /Schedules \(from the synthesized template, run locally as deployed.*\n {2}rate\(15 minutes\) {2}incremental sync/,
      );
      expect(secondCode).toBe(1);
      expect(second.out()).toContain(`the local environment is already running (process ${first.child.pid}, described in ${envFile})`);
      expect(JSON.parse(before)).toEqual(described);
      expect(code).toBe(130);
      expect(children.length).toBeGreaterThanOrEqual(3); // DynamoDB Local and the functions' environments
      expect(children.filter(isRunning)).toEqual([]);
      expect(existsSync(envFile)).toBe(false);
    } finally {
      first.child.kill('SIGKILL');
      for (const pid of children.filter(isRunning)) process.kill(pid, 'SIGKILL');
    }
  }, 180_000);
});
