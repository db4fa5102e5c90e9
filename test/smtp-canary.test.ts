import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { deriveSmtpPassword, parseSmtpEndpoints } from '../lambdas/domain/smtp';
import { credentialsFromSecret, mapBounded, SecretFormatError } from '../lambdas/smtp-canary/canary';
import type { SmtpCanarySummary } from '../lambdas/smtp-canary/handler';
import { LocalLambda } from '../local/lambda-runtime';
import { type LocalSecretsManager, startLocalSecretsManager } from '../local/secrets-manager';
import { SesEmulator } from '../local/ses-emulator';
import { synthesize } from '../local/synth';
import { functionBundle } from '../local/template-resources';
import { emfRecords } from './support/emf';
import { TEST_CREDENTIALS } from './support/local-aws';
import { closedPort } from './support/net';

const ACCOUNT = '000000000000';
const EAST = 'us-east-1';
const WEST = 'us-west-2';
const KEY = 'AKIACANARYRELAY00001';
const SECRET_V1 = 'canary/Secret+Key0123456789abcdefghijklmn';
const SECRET_V2 = 'canary/Rotated+Key0123456789abcdefghijklm';
const arn = (region: string, name: string) => `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}`;

/** The canaries, by the partial ARNs of their secrets (the local Secrets Manager picks the suffix, as the real one does). */
const CANARIES = [
  { name: 'relay-east', region: EAST, secretArn: arn(EAST, 'canary/relay') },
  { name: 'key-west', region: WEST, secretArn: arn(WEST, 'canary/key') },
  { name: 'wrong-region', region: EAST, secretArn: arn(EAST, 'canary/region') },
  { name: 'unreachable', region: 'eu-west-1', secretArn: arn(EAST, 'canary/unreachable') },
  { name: 'no-secret', region: EAST, secretArn: arn(EAST, 'canary/missing') },
  { name: 'malformed', region: EAST, secretArn: arn(EAST, 'canary/malformed') },
];

function secretsClient(endpoint: string, region: string): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}

/** Each metric value a run published, as `<canary> <metric>` → value. */
function published(output: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const record of emfRecords(output)) {
    for (const directive of record._aws.CloudWatchMetrics) {
      for (const metric of directive.Metrics)
        values[`${String(record.Canary)}/${String(record.Region)} ${metric.Name}`] = Number(record[metric.Name]);
    }
  }
  return values;
}

describe('SMTP canary: secrets, endpoints and concurrency', () => {
  it('reads both secret forms, deriving the password of the key form for the region', () => {
    expect(credentialsFromSecret(JSON.stringify({ username: KEY, password: 'p' }), EAST)).toEqual({
      username: KEY,
      password: 'p',
      form: 'smtp-credentials',
    });
    expect(credentialsFromSecret(JSON.stringify({ accessKeyId: KEY, secretAccessKey: SECRET_V1 }), WEST)).toEqual({
      username: KEY,
      password: deriveSmtpPassword(SECRET_V1, WEST),
      secretAccessKey: SECRET_V1,
      form: 'access-key',
    });
  });

  it.each([
    [undefined, /no SecretString/],
    ['not json', /not JSON \(8 characters\)/],
    ['["a"]', /not an object \(a list\)/],
    [JSON.stringify({ username: KEY, password: '' }), /password must be a non-empty string/],
    [JSON.stringify({ accessKeyId: KEY }), /secretAccessKey must be a non-empty string/],
    [JSON.stringify({ username: KEY, password: 'p', secretAccessKey: 7 }), /secretAccessKey must be a non-empty string when present/],
  ])('reports the unusable secret %j by its fields, never its values', (secret, message) => {
    const read = () => credentialsFromSecret(secret, EAST);
    expect(read).toThrow(SecretFormatError);
    expect(read).toThrow(message);
    expect(() => credentialsFromSecret(secret, EAST)).not.toThrow(new RegExp(KEY));
  });

  it('parses the local endpoint overrides and refuses anything else', () => {
    expect(parseSmtpEndpoints(undefined)).toBeUndefined();
    expect(parseSmtpEndpoints('{"us-east-1": "127.0.0.1:2525", "eu-west-1": "[::1]:25"}')).toEqual({
      'us-east-1': { host: '127.0.0.1', port: 2525 },
      'eu-west-1': { host: '::1', port: 25 },
    });
    for (const bad of ['x', '[]', '{"us-east-1": "no-port"}', '{"nowhere": "h:1"}'])
      expect(() => parseSmtpEndpoints(bad)).toThrow(/SSG_SMTP_ENDPOINTS/);
  });

  it('probes at most the given number of canaries at once, keeping their order', async () => {
    let running = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
  });
});

describe('Local Secrets Manager: the awsJson1.1 protocol through the real client', () => {
  let sm: LocalSecretsManager;
  beforeAll(async () => {
    sm = await startLocalSecretsManager({ accountId: ACCOUNT });
  });
  afterAll(() => sm?.stop());

  it('creates, versions and reads a secret by name, complete ARN and partial ARN, per region', async () => {
    const client = secretsClient(sm.endpoint, WEST);
    const created = await client.send(new CreateSecretCommand({ Name: 'proto/one', SecretString: '{"a":1}' }));
    expect(created.ARN).toMatch(new RegExp(`^${arn(WEST, 'proto/one')}-[A-Za-z0-9]{6}$`));
    await client.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: '{"a":2}' }));
    for (const id of ['proto/one', created.ARN!, arn(WEST, 'proto/one')]) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: id }));
      expect(out).toMatchObject({ ARN: created.ARN, Name: 'proto/one', SecretString: '{"a":2}', VersionStages: ['AWSCURRENT'] });
      expect(out.CreatedDate).toBeInstanceOf(Date);
    }
    const previous = await client.send(new GetSecretValueCommand({ SecretId: 'proto/one', VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('{"a":1}');
    // Another region has its own secrets.
    await expect(secretsClient(sm.endpoint, EAST).send(new GetSecretValueCommand({ SecretId: 'proto/one' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(client.send(new CreateSecretCommand({ Name: 'proto/one', SecretString: 'x' }))).rejects.toMatchObject({
      name: 'ResourceExistsException',
    });
  });

  it("answers an unknown secret with ResourceNotFoundException and Secrets Manager's message", async () => {
    const error = await secretsClient(sm.endpoint, EAST)
      .send(new GetSecretValueCommand({ SecretId: 'nope' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as Error).message).toBe("Secrets Manager can't find the specified secret.");
  });
});

describe('Bundle: synthesized SMTP canary against the emulated SES SMTP interface and Secrets Manager', () => {
  let emu: SesEmulator;
  let sm: LocalSecretsManager;
  let fn: LocalLambda;
  let dir: string;
  let first: { result?: SmtpCanarySummary; output: string };
  const report = (summary: SmtpCanarySummary | undefined, name: string) => summary?.canaries.find((c) => c.canary === name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssg-canary-'));
    const { template, outdir } = synthesize(join(dir, 'cdk.out'), { smtpCanaries: CANARIES });
    emu = await SesEmulator.start({ requestsPerSecond: 0, smtpRegions: [EAST, WEST] });
    emu.setCredential(KEY, SECRET_V1, 'smtp-relay');
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, emu.smtpCaPem());
    sm = await startLocalSecretsManager({ accountId: ACCOUNT });
    const east = secretsClient(sm.endpoint, EAST);
    const seed = (client: SecretsManagerClient, name: string, value: unknown) =>
      client.send(new CreateSecretCommand({ Name: name, SecretString: typeof value === 'string' ? value : JSON.stringify(value) }));
    // As the relay has them (Gmail's "Send mail as"), with the key they come from.
    await seed(east, 'canary/relay', { username: KEY, password: deriveSmtpPassword(SECRET_V1, EAST), secretAccessKey: SECRET_V1 });
    await seed(secretsClient(sm.endpoint, WEST), 'canary/key', { accessKeyId: KEY, secretAccessKey: SECRET_V1 });
    await seed(east, 'canary/region', { username: KEY, password: deriveSmtpPassword(SECRET_V1, WEST), secretAccessKey: SECRET_V1 });
    await seed(east, 'canary/unreachable', { accessKeyId: KEY, secretAccessKey: SECRET_V1 });
    await seed(east, 'canary/malformed', { user: 'relay@example.com', pass: SECRET_V1 });
    const endpoints = Object.fromEntries(emu.smtpEndpoints().map((e) => [e.region, `${e.host}:${e.starttlsPort}`]));
    fn = await LocalLambda.start(functionBundle(template, outdir, 'SmtpCanaryFunction', {}), {
      env: {
        AWS_REGION: EAST,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
        SSG_SMTP_ENDPOINTS: JSON.stringify({ ...endpoints, 'eu-west-1': `127.0.0.1:${await closedPort()}` }),
        NODE_EXTRA_CA_CERTS: caFile,
      },
      timeoutMs: 60_000,
    });
    const before = fn.output.length;
    const out = await fn.invoke<SmtpCanarySummary>({});
    expect(out.error).toBeUndefined();
    first = { result: out.result, output: fn.output.slice(before) };
  }, 240_000);

  afterAll(async () => {
    await fn?.stop();
    await emu?.stop();
    await sm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes with the right credentials, in either secret form, and publishes SmtpCanaryAuth 1 and SmtpCanaryUnchecked 0', () => {
    expect(report(first.result, 'relay-east')).toMatchObject({ outcome: 'pass', layer: 'auth', secretForm: 'smtp-credentials' });
    expect(report(first.result, 'key-west')).toMatchObject({ outcome: 'pass', layer: 'auth', secretForm: 'access-key' });
    const values = published(first.output);
    expect(values).toMatchObject({
      'relay-east/us-east-1 SmtpCanaryAuth': 1,
      'relay-east/us-east-1 SmtpCanaryUnchecked': 0,
      'key-west/us-west-2 SmtpCanaryAuth': 1,
      'key-west/us-west-2 SmtpCanaryUnchecked': 0,
    });
    for (const record of emfRecords(first.output)) {
      expect(record._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: 'SesSuppressionGuard',
        Dimensions: [['service', 'Canary', 'Region']],
      });
    }
    expect(first.result).toMatchObject({ passed: 2, failed: 1, unchecked: 3 });
  });

  it('fails a password derived for another region with that cause, publishing SmtpCanaryAuth 0', () => {
    expect(report(first.result, 'wrong-region')).toMatchObject({ outcome: 'fail', layer: 'auth', cause: 'derived-for-another-region' });
    expect(report(first.result, 'wrong-region')?.diagnosis).toContain(WEST);
    expect(published(first.output)).toMatchObject({
      'wrong-region/us-east-1 SmtpCanaryAuth': 0,
      'wrong-region/us-east-1 SmtpCanaryUnchecked': 0,
    });
  });

  it('reports an unreachable endpoint, a missing and a malformed secret as unchecked, without an AUTH verdict', () => {
    expect(report(first.result, 'unreachable')).toMatchObject({ outcome: 'unchecked', layer: 'tcp', cause: 'unreachable' });
    expect(report(first.result, 'no-secret')).toMatchObject({ outcome: 'unchecked', layer: 'secret', cause: 'secret-unavailable' });
    expect(report(first.result, 'no-secret')?.evidence.join(' ')).toContain('ResourceNotFoundException');
    expect(report(first.result, 'malformed')).toMatchObject({ outcome: 'unchecked', layer: 'secret', cause: 'secret-malformed' });
    expect(report(first.result, 'malformed')?.diagnosis).toMatch(
      /neither \{"username", "password"\} nor \{"accessKeyId", "secretAccessKey"\} \(its keys: "user", "pass"\)/,
    );
    const values = published(first.output);
    for (const name of ['unreachable/eu-west-1', 'no-secret/us-east-1', 'malformed/us-east-1']) {
      expect(values[`${name} SmtpCanaryUnchecked`]).toBe(1);
      expect(values[`${name} SmtpCanaryAuth`]).toBeUndefined();
    }
  });

  it('logs each outcome without a password, a secret key, the whole key ID or an address', () => {
    expect(first.output).toMatch(/"message":"SMTP credentials accepted".*"canary":"relay-east"/);
    expect(first.output).toMatch(/"message":"SMTP credentials refused".*"cause":"derived-for-another-region"/);
    expect(first.output).toMatch(/"message":"SMTP credentials not checked".*"cause":"secret-malformed"/);
    for (const secret of [SECRET_V1, deriveSmtpPassword(SECRET_V1, EAST), deriveSmtpPassword(SECRET_V1, WEST), KEY, 'relay@example.com']) {
      expect(first.output).not.toContain(secret);
      expect(JSON.stringify(first.result)).not.toContain(secret);
    }
    expect(first.output).toContain('AKIA…0001');
  });

  it('notices a key rotation the relay missed: derived-from-another-key, SmtpCanaryAuth 0 and an error log', async () => {
    // Prepare: the key is rotated (the emulator now knows only the new secret); the secret holds the new key, the
    // relay's password is still the old one. The key-form secret was not updated at all.
    emu.setCredential(KEY, SECRET_V2, 'smtp-relay');
    await secretsClient(sm.endpoint, EAST).send(
      new PutSecretValueCommand({
        SecretId: arn(EAST, 'canary/relay'),
        SecretString: JSON.stringify({ username: KEY, password: deriveSmtpPassword(SECRET_V1, EAST), secretAccessKey: SECRET_V2 }),
      }),
    );
    const before = fn.output.length;

    // Act
    const out = await fn.invoke<SmtpCanarySummary>({});

    // Assess
    const output = fn.output.slice(before);
    expect(report(out.result, 'relay-east')).toMatchObject({ outcome: 'fail', layer: 'auth', cause: 'derived-from-another-key' });
    expect(report(out.result, 'key-west')).toMatchObject({ outcome: 'fail', layer: 'auth', cause: 'key-not-accepted' });
    expect(published(output)).toMatchObject({ 'relay-east/us-east-1 SmtpCanaryAuth': 0, 'key-west/us-west-2 SmtpCanaryAuth': 0 });
    expect(output).toMatch(
      /"level":"ERROR".*"message":"SMTP credentials refused".*"canary":"relay-east".*"cause":"derived-from-another-key"/,
    );
    expect(output).not.toContain(SECRET_V2);
  });
});
