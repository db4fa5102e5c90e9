import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveSmtpPassword, legacySmtpPassword } from '../lambdas/domain/smtp';
import type { LayerReport } from '../lambdas/domain/smtp-probe';
import { writeEnvironmentFile } from '../local/environment-file';
import { SesEmulator } from '../local/ses-emulator';
import { type CliRun, runCli } from './support/cli';

/**
 * `ssg smtp check` as an operator runs it, against the SES emulator's SMTP interface (one STARTTLS and one
 * implicit-TLS listener per region, certificates from a CA generated at start, AUTH only with passwords derived from
 * a key the emulator knows), found through a local environment file as `npm start` writes it.
 */

const WEST = 'us-west-2';
const EAST = 'us-east-1';
const KEY = 'AKIARELAYUSER0000001';
const SECRET = 'Relay/Secret+Key0123456789abcdefghijklmn';
const ROTATED_SECRET = 'Rotated/Key+0123456789abcdefghijklmnopqr';
const TEMPORARY_KEY = 'ASIARELAYSESSION0001';

interface CheckJson {
  readonly outcome: string;
  readonly layers: readonly LayerReport[];
  readonly notReached: readonly string[];
}

describe('CLI: ssg smtp check (SES emulator SMTP interface)', () => {
  let emu: SesEmulator;
  let dir: string;
  let envFile: string;

  beforeAll(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, eventDelayMs: 0, smtpRegions: [EAST, WEST] });
    dir = mkdtempSync(join(tmpdir(), 'ssg-smtp-'));
    envFile = join(dir, 'environment.json');
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, emu.smtpCaPem());
    writeEnvironmentFile(envFile, {
      region: EAST,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      // Only SES is used by this command; the other endpoints are never called.
      endpoints: { dynamodb: 'http://127.0.0.1:9', sesv2: emu.endpoint, lambda: 'http://127.0.0.1:9' },
      outputs: {},
      regions: [EAST, WEST],
      smtp: { caFile, endpoints: emu.smtpEndpoints() },
      pid: process.pid,
    });
  });

  afterAll(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    emu.reset();
    emu.setCredential(KEY, SECRET, 'gmail-relay');
    emu.setCredential(TEMPORARY_KEY, SECRET);
    // The relay's domain is verified in us-east-1 only: the seeds' region mismatch.
    emu.region(EAST).putIdentity({ name: 'example.com' });
    emu.region(WEST).putIdentity({ name: 'verified-west.example' });
  });

  /** Runs the check on the local environment, the password (and the secret, when given) on stdin. */
  const check = (args: readonly string[], password: string, secret?: string, json = true): Promise<CliRun> =>
    runCli(
      [
        '--local',
        'smtp',
        'check',
        '--username',
        KEY,
        '--password-stdin',
        ...(secret !== undefined ? ['--secret-access-key-stdin'] : []),
        ...(json ? ['--json'] : []),
        ...args,
      ],
      { stdin: `${password}\n${secret ?? ''}\n`, env: { SSG_LOCAL_ENV_FILE: envFile } },
    );
  const parsed = (run: CliRun): CheckJson => JSON.parse(run.stdout) as CheckJson;
  const layer = (run: CliRun, name: string) => parsed(run).layers.find((l) => l.layer === name);

  it('passes every layer with a password derived for the region, over STARTTLS and implicit TLS, the certificate verified', async () => {
    // Act
    const starttls = await check(['--region', WEST], deriveSmtpPassword(SECRET, WEST), undefined, false);
    const implicit = await check(['--region', WEST, '--port', '465'], deriveSmtpPassword(SECRET, WEST));

    // Assess
    expect(starttls.code).toBe(0);
    expect(starttls.stdout).toMatch(/PASS\s+tls\s+STARTTLS: TLSv1\.[23]/);
    expect(starttls.stdout).toContain('certificate verified for email-smtp.us-west-2.amazonaws.com');
    expect(starttls.stdout).toMatch(/PASS\s+auth\s+AUTH accepted for AKIARELAYUSER0000001/);
    expect(starttls.stdout).toContain('Every layer passed.');
    expect(implicit.code).toBe(0);
    expect(parsed(implicit).layers.map((l) => [l.layer, l.outcome])).toEqual([
      ['dns', 'pass'],
      ['tcp', 'pass'],
      ['tls', 'pass'],
      ['auth', 'pass'],
    ]);
    expect(layer(implicit, 'tls')?.evidence[0]).toMatch(/^implicit TLS: TLSv1\.[23]/);
    // The secret and the password never appear.
    expect(starttls.stdout + starttls.stderr).not.toContain(deriveSmtpPassword(SECRET, WEST));
  }, 120_000);

  it('names the cause of each 535: another region (named), another key (a rotation), a raw secret, a v2 password, a temporary key', async () => {
    // Act
    const otherRegion = await check(['--region', WEST], deriveSmtpPassword(SECRET, EAST), SECRET);
    const undetermined = await check(['--region', WEST], deriveSmtpPassword(SECRET, EAST));
    emu.setCredential(KEY, ROTATED_SECRET, 'gmail-relay');
    const rotated = await check(['--region', WEST], deriveSmtpPassword(SECRET, WEST), ROTATED_SECRET);
    const rawSecret = await check(['--region', WEST], ROTATED_SECRET);
    const legacy = await check(['--region', WEST], legacySmtpPassword(ROTATED_SECRET));
    const temporary = await runCli(
      ['--local', 'smtp', 'check', '--region', WEST, '--username', TEMPORARY_KEY, '--password-env', 'RELAY_PASSWORD', '--json'],
      { env: { SSG_LOCAL_ENV_FILE: envFile, RELAY_PASSWORD: deriveSmtpPassword(SECRET, WEST) } },
    );

    // Assess: each stops at AUTH, exit 1, with SES's reply as evidence and the cause.
    const causes = [otherRegion, undetermined, rotated, rawSecret, legacy, temporary].map((run) => {
      expect(run.code).toBe(1);
      const auth = layer(run, 'auth');
      expect(auth?.evidence[0]).toContain('535 Authentication Credentials Invalid');
      return auth?.cause;
    });
    expect(causes).toEqual([
      'derived-for-another-region',
      'undetermined',
      'derived-from-another-key',
      'raw-secret-key',
      'legacy-password',
      'temporary-credentials',
    ]);
    expect(layer(otherRegion, 'auth')?.diagnosis).toContain('derived for us-east-1');
  }, 180_000);

  it('with --from, says the sender is verified only in another region, without sending; --send-test sends to the mailbox simulator', async () => {
    // Act
    const unverified = await check(['--region', WEST, '--from', 'news@example.com'], deriveSmtpPassword(SECRET, WEST), undefined, false);
    const messagesAfterCheck = emu.stats().regions[WEST]?.SMTP?.requests ?? 0;
    const verified = await check(
      ['--region', WEST, '--from', 'alerts@verified-west.example', '--send-test'],
      deriveSmtpPassword(SECRET, WEST),
    );

    // Assess
    expect(unverified.code).toBe(1);
    expect(unverified.stdout).toMatch(/FAIL\s+sender\s+no identity in us-west-2 covers news@example.com/);
    expect(unverified.stdout).toContain('verified for sending in us-east-1 (example.com)');
    expect(unverified.stdout).toContain('cause: sender-not-verified');
    // The sender was asked of the SES API; the only message over SMTP is --send-test's.
    expect(messagesAfterCheck).toBe(0);
    expect(emu.stats().regions[WEST]?.SMTP?.requests).toBe(1);
    expect(verified.code).toBe(0);
    expect(layer(verified, 'sender')?.outcome).toBe('pass');
    expect(layer(verified, 'send-test')?.evidence[0]).toMatch(/^sent to success@simulator\.amazonses\.com: 250/);
  }, 120_000);

  it('fails TLS for the wrong TLS mode and for a certificate it cannot verify; TCP to a closed port is unchecked; an unknown host fails DNS', async () => {
    // Prepare
    const endpoint = emu.smtpEndpoints().find((e) => e.region === WEST);
    if (!endpoint) throw new Error('no SMTP endpoint for us-west-2');
    const password = deriveSmtpPassword(SECRET, WEST);
    const direct = (args: readonly string[]) =>
      runCli(
        [
          'smtp',
          'check',
          '--region',
          WEST,
          '--username',
          KEY,
          '--password-env',
          'RELAY_PASSWORD',
          '--json',
          '--timeout-seconds',
          '3',
          ...args,
        ],
        {
          env: { RELAY_PASSWORD: password },
        },
      );

    // Act
    const implicitOnStarttls = await direct(['--endpoint', `127.0.0.1:${endpoint.starttlsPort}`, '--port', '465', '--insecure-tls']);
    const starttlsOnImplicit = await direct(['--endpoint', `127.0.0.1:${endpoint.tlsPort}`, '--port', '587', '--insecure-tls']);
    const untrusted = await direct(['--endpoint', `127.0.0.1:${endpoint.starttlsPort}`]);
    const insecure = await direct(['--endpoint', `127.0.0.1:${endpoint.starttlsPort}`, '--insecure-tls']);
    const closed = await direct(['--endpoint', '127.0.0.1:1']);
    const unknownHost = await direct(['--endpoint', 'no-such-relay.invalid:587']);

    // Assess
    expect([implicitOnStarttls, starttlsOnImplicit, untrusted].map((run) => [run.code, layer(run, 'tls')?.cause])).toEqual([
      [1, 'tls-mode-mismatch'],
      [1, 'tls-mode-mismatch'],
      [1, 'certificate-invalid'],
    ]);
    expect(parsed(untrusted).notReached).toEqual(['auth']);
    expect(insecure.code).toBe(0);
    expect(layer(insecure, 'tls')?.evidence.join('\n')).toContain('certificate NOT verified (--insecure-tls)');
    expect([closed.code, layer(closed, 'tcp')?.outcome, layer(closed, 'tcp')?.cause]).toEqual([3, 'unchecked', 'unreachable']);
    expect([unknownHost.code, layer(unknownHost, 'dns')?.cause]).toEqual([1, 'no-such-host']);
  }, 180_000);

  it('refuses bad arguments with exit 2, naming the option, and never reads a password from argv', async () => {
    // Act
    const noPassword = await runCli(['smtp', 'check', '--region', WEST, '--username', KEY], { env: { SSG_SMTP_PASSWORD: '' } });
    const badPort = await runCli(['smtp', 'check', '--region', WEST, '--username', KEY, '--port', '2525'], {
      env: { SSG_SMTP_PASSWORD: 'x' },
    });
    const sendTestAlone = await runCli(['smtp', 'check', '--region', WEST, '--username', KEY, '--send-test'], {
      env: { SSG_SMTP_PASSWORD: 'x' },
    });

    // Assess
    expect([noPassword.code, badPort.code, sendTestAlone.code]).toEqual([2, 2, 2]);
    expect(noPassword.stderr).toContain('--password-stdin');
    expect(badPort.stderr).toContain('--port must be one of SES');
    expect(sendTestAlone.stderr).toContain('--send-test needs --from');
  }, 120_000);
});
