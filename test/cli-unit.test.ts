import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { GetEmailIdentityCommand, NotFoundException, SESv2Client, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { printVerdict, readRecipients } from '../cli/commands/check';
import type { DnsLookups } from '../cli/dns';
import { buildProgram } from '../cli/main';
import { formatDuration, Progress, table } from '../cli/output';
import { Runner } from '../cli/runner';
import { auditSender, parseSender } from '../cli/sender-audit';

/** A stream that records what was written, claiming to be a terminal or not. */
function fakeStderr(isTTY: boolean): PassThrough & { isTTY: boolean; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; text: () => string };
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  stream.isTTY = isTTY;
  stream.text = () => chunks.join('');
  return stream;
}

describe('Class: Progress', () => {
  it('redraws one line on a terminal and clears it when done', async () => {
    // Prepare
    const stderr = fakeStderr(true);
    const progress = new Progress(stderr);

    // Act
    progress.update('exporting: 10 of 20', true);
    progress.update('exporting: 20 of 20', true);
    progress.done();
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(stderr.text()).toBe('\r\x1b[2Kexporting: 10 of 20\r\x1b[2Kexporting: 20 of 20\r\x1b[2K');
  });

  it('writes nothing when stderr is piped', async () => {
    // Prepare
    const stderr = fakeStderr(false);
    const progress = new Progress(stderr);

    // Act
    progress.update('importing: 5 rows', true);
    progress.done();
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(stderr.text()).toBe('');
  });
});

describe('Function: table', () => {
  it('aligns columns under their headers without trailing spaces', () => {
    // Act
    const lines = table(
      ['region', 'health', 'note'],
      [
        ['us-east-1', 'ok', ''],
        ['eu-west-1', 'STALE', 'never synced'],
      ],
    );

    // Assess
    expect(lines).toEqual(['  region     health  note', '  us-east-1  ok', '  eu-west-1  STALE   never synced']);
  });
});

describe('Function: formatDuration', () => {
  it.each([
    [0, '0s'],
    [59_000, '59s'],
    [12 * 60_000, '12m'],
    [3 * 3600_000 + 5 * 60_000, '3h 05m'],
    [50 * 3600_000, '2d 02h'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('Function: buildProgram', () => {
  it('registers every operator command with a description', () => {
    // Act
    const program = buildProgram(new Runner({}));

    // Assess
    expect(program.commands.map((c) => c.name())).toEqual([
      'status',
      'lookup',
      'check',
      'suppress',
      'unsuppress',
      'export',
      'import',
      'sync',
      'propagate',
      'audit',
      'senders',
      'events',
      'smtp',
    ]);
    expect(program.commands.find((c) => c.name() === 'events')?.commands.map((c) => c.name())).toEqual(['attach', 'status']);
    // Each command says what it does in its own words, and the reference documents it.
    const descriptions = program.commands.map((c) => c.description());
    expect(new Set(descriptions).size).toBe(descriptions.length);
    const reference = readFileSync(join(__dirname, '..', 'cli', 'README.md'), 'utf8');
    for (const command of program.commands) expect(reference).toMatch(new RegExp(`^\\| \`${command.name()}[ \`]`, 'm'));
  });
});

describe('Function: printVerdict', () => {
  it('counts recipients the guard left out of its answer to stay under the payload limit, and says so', () => {
    // Prepare
    const lines: string[] = [];
    const verdict = {
      proceed: true,
      problems: [],
      sender: null,
      account: null,
      recipients: {
        total: 50_000,
        allowed: ['ok@example.org'],
        suppressed: [],
        invalid: [{ address: 'x', error: 'recipients[1] "x" is not a valid address' }],
        duplicates: 0,
        omitted: { suppressed: 0, invalid: 49_998 },
      },
    };

    // Act
    printVerdict((text = '') => lines.push(text), verdict);

    // Assess
    expect(lines).toContain('Recipients: 50000 given, 1 allowed, 0 suppressed, 49999 invalid, 0 duplicates');
    expect(lines.join('\n')).toMatch(/49998 invalid recipients are counted but not listed/);
  });
});

describe('Function: readRecipients', () => {
  it('keeps addresses that start with or hold "#", skipping only a header, blank lines and "#" notes without "@"', async () => {
    // Act
    const recipients = await readRecipients(
      Readable.from(['email,name\r\n#lead@x.example,A\r\n', '\r\nhash#tag@x.example\r\n# not a recipient\r\n"quoted@x.example",B\r\n']),
      'list.csv',
    );

    // Assess
    expect(recipients).toEqual(['#lead@x.example', 'hash#tag@x.example', 'quoted@x.example']);
  });

  it('names the line of a stray quote instead of reading the rows after it into one recipient', async () => {
    // Act
    const read = readRecipients(Readable.from(['a@x.example\nb@x.example,"B\nc@x.example\nd@x.example,D"\n']), '-');

    // Assess
    await expect(read).rejects.toThrow('--recipients "-" line 2 has a quote that is never closed');
  });
});

describe('Command: lookup options', () => {
  it.each([
    [['--list-limit', '5'], '--list-limit applies to --live only'],
    [['--live', '--list-limit', '0'], '--list-limit must be a whole number of entries from 1 to 10000000, got "0"'],
  ])('refuses %j with exit 2 before reaching any target', async (args, message) => {
    // Prepare
    const runner = new Runner({});
    const errors: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      errors.push(String(chunk));
      return true;
    });

    // Act
    await buildProgram(runner).parseAsync(['node', 'ssg', 'lookup', 'a@b.example', ...args]);
    spy.mockRestore();

    // Assess
    expect(runner.exitCode).toBe(2);
    expect(errors.join('')).toBe(`error: ${message}\n`);
  });
});

describe('Function: auditSender', () => {
  const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
  const noRecord = () => Promise.reject(Object.assign(new Error('queryTxt ENODATA'), { code: 'ENODATA' }));
  const dns: DnsLookups = {
    resolveTxt: async (name) => (name === '_dmarc.example.com' ? [['v=DMARC1; p=reject']] : noRecord()),
    resolveCname: noRecord,
    resolveMx: noRecord,
  };

  it('reports SES throttling and access denied as "could not check", and only NotFoundException as no identity', async () => {
    // Prepare: one client per region, each answering GetEmailIdentity with one error (the SDK's retries are spent)
    const errors: Record<string, Error> = {
      'us-east-1': new TooManyRequestsException({ message: 'Too many requests', ...metadata(429) }),
      'us-west-2': Object.assign(new Error('not authorized to perform ses:GetEmailIdentity'), {
        name: 'AccessDeniedException',
        ...metadata(403),
      }),
      'eu-west-1': new NotFoundException({ message: 'Email identity does not exist', ...metadata(404) }),
    };
    const clients = Object.fromEntries(
      Object.entries(errors).map(([region, error]) => {
        const client = new SESv2Client({ region });
        mockClient(client).on(GetEmailIdentityCommand).rejects(error);
        return [region, client];
      }),
    );

    // Act
    const report = await auditSender(parseSender('news@example.com'), Object.keys(errors), (region) => clients[region]!, dns);

    // Assess
    expect(report.regions.map((r) => [r.region, r.findings.map((f) => [f.check, f.level])])).toEqual([
      ['us-east-1', [['identity', 'unchecked']]],
      ['us-west-2', [['identity', 'unchecked']]],
      ['eu-west-1', [['identity', 'fail']]],
    ]);
    expect(report.regions[0]?.findings[0]?.message).toBe('could not ask SES in us-east-1: TooManyRequestsException: Too many requests');
    expect(report.regions[1]?.findings[0]?.message).toMatch(/^could not ask SES in us-west-2: AccessDeniedException: not authorized/);
    expect([report.failures, report.unchecked]).toEqual([1, 2]);
  });

  it('cannot check SPF when a record it includes gives no answer, and does not fail it', async () => {
    // Prepare: a verified domain whose MAIL FROM SPF reaches SES only through an include whose lookup times out
    const client = new SESv2Client({ region: 'us-east-1' });
    mockClient(client)
      .on(GetEmailIdentityCommand)
      .resolves({
        IdentityType: 'DOMAIN',
        VerifiedForSendingStatus: true,
        DkimAttributes: { Status: 'SUCCESS', SigningEnabled: true, Tokens: [] },
        MailFromAttributes: {
          MailFromDomain: 'mail.example.com',
          MailFromDomainStatus: 'SUCCESS',
          BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
        },
      });
    const timeout = Object.assign(new Error('queryTxt ETIMEOUT _spf.provider.example'), { code: 'ETIMEOUT' });
    const lookups: DnsLookups = {
      ...dns,
      resolveMx: async () => [{ exchange: 'feedback-smtp.us-east-1.amazonses.com', priority: 10 }],
      resolveTxt: async (name) => {
        if (name === 'mail.example.com') return [['v=spf1 include:_spf.provider.example ~all']];
        if (name === '_spf.provider.example') throw timeout;
        return dns.resolveTxt(name);
      },
    };

    // Act
    const report = await auditSender(parseSender('example.com'), ['us-east-1'], () => client, lookups);

    // Assess
    expect(report.regions[0]?.findings.find((f) => f.check === 'SPF')).toEqual({
      check: 'SPF',
      level: 'unchecked',
      message:
        'mail.example.com: "v=spf1 include:_spf.provider.example ~all" does not include amazonses.com directly, and not every record it includes could be read: _spf.provider.example: TXT lookup failed (ETIMEOUT)',
    });
    expect([report.failures, report.unchecked]).toEqual([0, 1]);
  });
});
