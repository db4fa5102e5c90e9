import { createServer, type Server } from 'node:net';
import { SES_REGIONS } from '../lambdas/domain/ses-regions';
import { deriveSmtpPassword, diagnoseSmtpAuthFailure, legacySmtpPassword, smtpPasswordKind } from '../lambdas/domain/smtp';
import { type Lookup, probeSmtp } from '../lambdas/domain/smtp-probe';

/** The example key of the AWS documentation. */
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ROTATED_SECRET = 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY';
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const facts = { region: 'us-west-2', username: KEY_ID, regions: SES_REGIONS };

describe('Function: diagnoseSmtpAuthFailure', () => {
  it('names a temporary key first, whatever the password', () => {
    const diagnosis = diagnoseSmtpAuthFailure({
      ...facts,
      username: 'ASIAIOSFODNN7EXAMPLE',
      password: deriveSmtpPassword(SECRET, 'us-west-2'),
    });
    expect(diagnosis.cause).toBe('temporary-credentials');
    expect(diagnosis.explanation).toContain('long-term access keys of an IAM user');
  });

  it('names a user name that is not an access key ID (an IAM user name, say)', () => {
    expect(diagnoseSmtpAuthFailure({ ...facts, username: 'ses-smtp-user.20240101', password: 'x' }).cause).toBe('not-an-access-key-id');
  });

  it('names a raw secret access key pasted as the password, with or without the secret given', () => {
    expect(diagnoseSmtpAuthFailure({ ...facts, password: SECRET }).cause).toBe('raw-secret-key');
    expect(diagnoseSmtpAuthFailure({ ...facts, password: SECRET, secretAccessKey: SECRET }).cause).toBe('raw-secret-key');
  });

  it('names the old version-2 password, and a password that is no SMTP password at all', () => {
    expect(smtpPasswordKind(legacySmtpPassword(SECRET))).toBe('derived-v2');
    expect(diagnoseSmtpAuthFailure({ ...facts, password: legacySmtpPassword(SECRET) }).cause).toBe('legacy-password');
    expect(diagnoseSmtpAuthFailure({ ...facts, password: 'hunter2' }).cause).toBe('malformed-password');
    // A derived password cut short by a bad paste.
    expect(diagnoseSmtpAuthFailure({ ...facts, password: deriveSmtpPassword(SECRET, 'us-west-2').slice(0, 30) }).cause).toBe(
      'malformed-password',
    );
  });

  it('given the secret, names the region a password was derived for', () => {
    const diagnosis = diagnoseSmtpAuthFailure({ ...facts, password: deriveSmtpPassword(SECRET, 'us-east-1'), secretAccessKey: SECRET });
    expect(diagnosis).toMatchObject({ cause: 'derived-for-another-region', derivedFor: 'us-east-1' });
    expect(diagnosis.explanation).toContain('ssg smtp derive --region us-west-2');
  });

  it('given the secret, tells a password derived from another key (a rotation) from one right for this key', () => {
    const stale = deriveSmtpPassword(ROTATED_SECRET, 'us-west-2');
    expect(diagnoseSmtpAuthFailure({ ...facts, password: stale, secretAccessKey: SECRET }).cause).toBe('derived-from-another-key');
    expect(diagnoseSmtpAuthFailure({ ...facts, password: deriveSmtpPassword(SECRET, 'us-west-2'), secretAccessKey: SECRET }).cause).toBe(
      'key-not-accepted',
    );
  });

  it('without the secret, says what a well-formed password may be and how to tell', () => {
    const diagnosis = diagnoseSmtpAuthFailure({ ...facts, password: deriveSmtpPassword(SECRET, 'us-east-1') });
    expect(diagnosis.cause).toBe('undetermined');
    expect(diagnosis.explanation).toContain('--secret-access-key-stdin');
  });

  it('never shows the password or the secret', () => {
    const password = deriveSmtpPassword(SECRET, 'eu-west-1');
    for (const secretAccessKey of [SECRET, ROTATED_SECRET, undefined]) {
      const text = JSON.stringify(diagnoseSmtpAuthFailure({ ...facts, password, secretAccessKey }));
      expect(text).not.toContain(password);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(ROTATED_SECRET);
    }
  });
});

describe('Function: probeSmtp (DNS and TCP layers)', () => {
  const notFound = (): Promise<never> => Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
  const options = { region: 'us-east-7', port: 587, username: KEY_ID, password: 'x', regions: SES_REGIONS, timeoutMs: 2000 };

  it('fails DNS for a region that does not exist when a known endpoint resolves (a typo)', async () => {
    const lookup: Lookup = (host) =>
      host === 'email-smtp.us-east-1.amazonaws.com' ? Promise.resolve([{ address: '192.0.2.1', family: 4 }]) : notFound();
    const result = await probeSmtp({ ...options, lookup });
    expect(result.layers).toHaveLength(1);
    expect(result.layers[0]).toMatchObject({ layer: 'dns', outcome: 'fail', cause: 'no-such-host' });
    expect(result.layers[0]?.diagnosis).toContain('us-east-7 is not an SES region');
  });

  it('reports DNS unchecked, not failed, when even a known endpoint does not resolve (a filtered network)', async () => {
    const result = await probeSmtp({ ...options, region: 'us-west-2', lookup: notFound });
    expect(result.layers[0]).toMatchObject({ layer: 'dns', outcome: 'unchecked', cause: 'dns-unavailable' });
  });

  it('reports DNS unchecked when the resolver does not answer', async () => {
    const lookup: Lookup = () => Promise.reject(Object.assign(new Error('timeout'), { code: 'EAI_AGAIN' }));
    const result = await probeSmtp({ ...options, region: 'us-west-2', lookup });
    expect(result.layers[0]).toMatchObject({ layer: 'dns', outcome: 'unchecked', cause: 'dns-unavailable' });
  });

  it('fails TCP as a blocked port when 25 times out while 587 answers (EC2 and Lightsail), and is unchecked when both time out', async () => {
    const resolves: Lookup = () => Promise.resolve([{ address: '192.0.2.10', family: 4 }]);
    const blocked25 = (_host: string, port: number) => Promise.resolve(port === 25 ? 'ETIMEDOUT' : undefined);
    const nothing = () => Promise.resolve('ETIMEDOUT');

    const blocked = await probeSmtp({ ...options, region: 'us-west-2', port: 25, lookup: resolves, tcpConnect: blocked25 });
    const unreachable = await probeSmtp({ ...options, region: 'us-west-2', port: 25, lookup: resolves, tcpConnect: nothing });

    expect(blocked.layers[1]).toMatchObject({ layer: 'tcp', outcome: 'fail', cause: 'port-blocked' });
    expect(blocked.layers[1]?.diagnosis).toContain('EC2 and Lightsail block outbound port 25');
    expect(blocked.layers[1]?.evidence).toEqual([
      'email-smtp.us-west-2.amazonaws.com:25: ETIMEDOUT after 2000 ms',
      'email-smtp.us-west-2.amazonaws.com:587: connected (a control)',
    ]);
    expect(unreachable.layers[1]).toMatchObject({ layer: 'tcp', outcome: 'unchecked', cause: 'unreachable' });
  });

  describe('with a listener that never answers on the port', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer(() => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('reports TCP unchecked when nothing listens, and a STARTTLS port that never greets as the wrong TLS mode', async () => {
      const closed = await probeSmtp({ ...options, region: 'us-west-2', endpoint: { host: '127.0.0.1', port: 1 } });
      expect(closed.layers.map((l) => [l.layer, l.outcome, l.cause])).toEqual([
        ['dns', 'pass', undefined],
        ['tcp', 'unchecked', 'unreachable'],
      ]);

      // A server that accepts and waits (as an implicit-TLS port waits for the handshake) never sends a greeting.
      const silent = await probeSmtp({ ...options, region: 'us-west-2', endpoint: { host: '127.0.0.1', port } });
      expect(silent.layers.map((l) => [l.layer, l.outcome])).toEqual([
        ['dns', 'pass'],
        ['tcp', 'pass'],
        ['tls', 'fail'],
      ]);
      expect(silent.layers[2]).toMatchObject({ cause: 'tls-mode-mismatch' });
      expect(silent.layers[2]?.diagnosis).toContain('implicit TLS');
    }, 20_000);
  });
});
