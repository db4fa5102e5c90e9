import { deriveSmtpPassword, legacySmtpPassword, smtpEndpoint } from '../lambdas/domain/smtp';
import { runCli } from './support/cli';

/** The example key of the AWS documentation; the expected passwords are those the AWS SDK for PHP's tests hold. */
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('Function: deriveSmtpPassword', () => {
  it('derives the version-4 password of an independent implementation (the AWS SDK for PHP) for us-east-2', () => {
    expect(deriveSmtpPassword(SECRET, 'us-east-2')).toBe('BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS');
  });

  it('derives a different password for every region, each starting with the version byte 0x04', () => {
    const regions = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1'];
    const passwords = regions.map((region) => deriveSmtpPassword(SECRET, region));
    expect(new Set(passwords).size).toBe(regions.length);
    for (const password of passwords) expect(Buffer.from(password, 'base64')[0]).toBe(0x04);
    expect(Buffer.from(passwords[0]!, 'base64')).toHaveLength(33);
  });

  it('tells the old region-independent (version 2) password apart, as the same implementation computes it', () => {
    expect(legacySmtpPassword(SECRET)).toBe('An60U4ZD3sd4fg+FvXUjayOipTt8LO4rUUmhpdX6ctDy');
    expect(smtpEndpoint('eu-west-1')).toBe('email-smtp.eu-west-1.amazonaws.com');
  });
});

describe('CLI: ssg smtp derive', () => {
  it('reads the secret from stdin, prints the settings and the password, and never the secret', async () => {
    // Act
    const run = await runCli(['smtp', 'derive', '--region', 'us-east-2', '--access-key-id', 'AKIAIOSFODNN7EXAMPLE'], {
      stdin: `${SECRET}\n`,
    });

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('SMTP server  email-smtp.us-east-2.amazonaws.com');
    expect(run.stdout).toContain('user name    AKIAIOSFODNN7EXAMPLE');
    expect(run.stdout).toContain('password     BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS');
    expect(run.stdout).toMatch(/587 \(STARTTLS\).*465 \(TLS Wrapper/);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  }, 60_000);

  it('reads the secret from the variable --secret-env names, and answers in JSON', async () => {
    // Act
    const run = await runCli(['smtp', 'derive', '--region', 'us-east-2', '--secret-env', 'SMTP_SECRET', '--json'], {
      env: { SMTP_SECRET: SECRET },
    });

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      region: 'us-east-2',
      server: 'email-smtp.us-east-2.amazonaws.com',
      username: null,
      password: 'BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS',
    });
  }, 60_000);

  it.each([
    [['--region', 'us-east-2', '--access-key-id', 'ASIAIOSFODNN7EXAMPLE'], SECRET, /temporary key \(ASIA\.\.\.\)/],
    [['--region', 'us-east-2'], 'not-a-secret', /must be 40 characters .*got 12 characters/],
    [['--region', 'us-east-2'], '', /no secret access key on stdin/],
    [['--region', 'mars'], SECRET, /--region must be an AWS region/],
    [['--region', 'us-east-2', '--secret', SECRET], SECRET, /unknown option '--secret'/],
  ])(
    'refuses %j with exit 2 and a message that never shows the secret',
    async (args, stdin, message) => {
      // Act
      const run = await runCli(['smtp', 'derive', ...args], { stdin: `${stdin}\n` });

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toContain('not-a-secret');
    },
    60_000,
  );
});
