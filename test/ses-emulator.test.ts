import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteSuppressedDestinationCommand,
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetEmailIdentityCommand,
  GetSuppressedDestinationCommand,
  ListEmailIdentitiesCommand,
  ListSuppressedDestinationsCommand,
  type ListSuppressedDestinationsCommandInput,
  PutSuppressedDestinationCommand,
  SESv2Client,
  SESv2ServiceException,
  type SuppressedDestinationSummary,
} from '@aws-sdk/client-sesv2';
import { SesEmulator, type SesEmulatorOptions, type SuppressionReason } from '../local/ses-emulator';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' };
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function client(emu: SesEmulator, region: string, maxAttempts = 1): SESv2Client {
  return new SESv2Client({ region, endpoint: emu.endpoint, credentials, maxAttempts });
}

/** A fake SigV4 header: the emulator reads only the credential scope. */
function auth(region: string): Record<string, string> {
  return { authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/20261124/${region}/ses/aws4_request, SignedHeaders=host, Signature=00` };
}

async function listAll(
  c: SESv2Client,
  input: ListSuppressedDestinationsCommandInput = {},
): Promise<{ entries: SuppressedDestinationSummary[]; pages: number }> {
  const entries: SuppressedDestinationSummary[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const out = await c.send(new ListSuppressedDestinationsCommand({ ...input, NextToken: token }));
    entries.push(...(out.SuppressedDestinationSummaries ?? []));
    token = out.NextToken;
    pages++;
  } while (token);
  return { entries, pages };
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

function seed(emu: SesEmulator, region: string, count: number, prefix = 'user'): void {
  emu.region(region).putSuppressedMany(
    Array.from({ length: count }, (_, i) => ({
      emailAddress: `${prefix}${i}@example.com`,
      reason: (i % 3 === 0 ? 'COMPLAINT' : 'BOUNCE') as SuppressionReason,
      lastUpdateTime: new Date(T0 + i * 60_000),
    })),
  );
}

describe('SES v2 emulator through @aws-sdk/client-sesv2', () => {
  let emu: SesEmulator;
  const extra: SesEmulator[] = [];
  async function startExtra(options: SesEmulatorOptions): Promise<SesEmulator> {
    const e = await SesEmulator.start(options);
    extra.push(e);
    return e;
  }

  beforeEach(async () => {
    emu = await SesEmulator.start({ seed: 7, requestsPerSecond: 0 });
  });
  afterEach(async () => {
    await emu.stop();
    await Promise.all(extra.splice(0).map((e) => e.stop()));
  });

  describe('suppression list', () => {
    it('keeps one independent state per region, chosen by the SigV4 credential scope', async () => {
      const east = client(emu, 'us-east-1');
      const west = client(emu, 'us-west-2');
      await east.send(new PutSuppressedDestinationCommand({ EmailAddress: 'only-east@example.com', Reason: 'BOUNCE' }));

      expect((await listAll(east)).entries.map((e) => e.EmailAddress)).toEqual(['only-east@example.com']);
      expect((await listAll(west)).entries).toEqual([]);
      const err = await sesError(west.send(new GetSuppressedDestinationCommand({ EmailAddress: 'only-east@example.com' })));
      expect(err.name).toBe('NotFoundException');
      expect(err.$metadata.httpStatusCode).toBe(404);
      expect(emu.regions()).toEqual(['us-east-1', 'us-west-2']);
      expect(
        emu
          .region('us-east-1')
          .suppressed()
          .map((e) => e.emailAddress),
      ).toEqual(['only-east@example.com']);
    });

    it('pages with PageSize/NextToken and returns every entry exactly once', async () => {
      seed(emu, 'us-west-2', 2_345);
      const c = client(emu, 'us-west-2');
      const first = await c.send(new ListSuppressedDestinationsCommand({ PageSize: 100 }));
      expect(first.SuppressedDestinationSummaries).toHaveLength(100);
      expect(typeof first.NextToken).toBe('string');

      const { entries, pages } = await listAll(c, { PageSize: 100 });
      expect(pages).toBe(24);
      const addresses = entries.map((e) => e.EmailAddress);
      expect(new Set(addresses).size).toBe(2_345);
      expect(addresses.sort()).toEqual(
        emu
          .region('us-west-2')
          .suppressed()
          .map((e) => e.emailAddress)
          .sort(),
      );

      // Default page size is 1000.
      expect((await listAll(c)).pages).toBe(3);
    });

    it('shuffles every new listing: same content, different order', async () => {
      seed(emu, 'us-west-2', 300);
      const c = client(emu, 'us-west-2');
      const a = (await listAll(c)).entries.map((e) => e.EmailAddress as string);
      const b = (await listAll(c)).entries.map((e) => e.EmailAddress as string);
      expect(a).not.toEqual(b);
      expect([...a].sort()).toEqual([...b].sort());
      const sorted = [...a].sort();
      expect(a).not.toEqual(sorted);
    });

    it('filters on LastUpdateTime with StartDate/EndDate (exclusive by default, inclusive when configured) and on Reason', async () => {
      seed(emu, 'us-west-2', 30); // user{i} updated at T0 + i minutes; every third one is a COMPLAINT
      const c = client(emu, 'us-west-2');
      const window = { StartDate: new Date(T0 + 10 * 60_000), EndDate: new Date(T0 + 20 * 60_000) };
      const names = async (input: ListSuppressedDestinationsCommandInput): Promise<number[]> =>
        (await listAll(c, input)).entries.map((e) => Number(/user(\d+)@/.exec(e.EmailAddress ?? '')?.[1])).sort((x, y) => x - y);

      expect(await names(window)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19]);
      expect(await names({ ...window, Reasons: ['COMPLAINT'] })).toEqual([12, 15, 18]);
      expect(await names({ StartDate: new Date(T0 + 27 * 60_000) })).toEqual([28, 29]);
      expect(await names({ EndDate: new Date(T0 + 2 * 60_000) })).toEqual([0, 1]);

      emu.setDateFilterBounds('inclusive');
      expect(await names(window)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      expect(await names({ ...window, Reasons: ['BOUNCE', 'COMPLAINT'] })).toHaveLength(11);
    });

    it('accepts epoch-seconds dates on the wire and rejects unparseable ones', async () => {
      seed(emu, 'us-west-2', 5);
      const start = (T0 + 2 * 60_000) / 1000;
      const ok = await fetch(`${emu.endpoint}/v2/email/suppression/addresses?StartDate=${start}`, { headers: auth('us-west-2') });
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { SuppressedDestinationSummaries: Array<{ LastUpdateTime: unknown }> };
      expect(body.SuppressedDestinationSummaries).toHaveLength(2);
      // Response timestamps are epoch seconds (numbers), the rest-json body format.
      for (const s of body.SuppressedDestinationSummaries) expect(typeof s.LastUpdateTime).toBe('number');

      const bad = await fetch(`${emu.endpoint}/v2/email/suppression/addresses?EndDate=yesterday`, { headers: auth('us-west-2') });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('x-amzn-errortype')).toBe('BadRequestException');
      expect(((await bad.json()) as { message: string }).message).toMatch(/EndDate/);
    });

    it('rejects bad PageSize and Reason values with BadRequestException', async () => {
      const c = client(emu, 'us-west-2');
      for (const PageSize of [0, 1001]) {
        const err = await sesError(c.send(new ListSuppressedDestinationsCommand({ PageSize })));
        expect(err.name).toBe('BadRequestException');
        expect(err.message).toMatch(/PageSize/);
        expect(err.$metadata.httpStatusCode).toBe(400);
      }
      const err = await sesError(c.send(new ListSuppressedDestinationsCommand({ Reasons: ['SPAM' as SuppressionReason] })));
      expect(err.name).toBe('BadRequestException');
      expect(err.message).toMatch(/Reason/);
    });

    it('expires NextTokens after the TTL with InvalidNextTokenException', async () => {
      let now = T0;
      const e = await startExtra({ requestsPerSecond: 0, nextTokenTtlMs: 1_000, clock: () => now });
      seed(e, 'us-west-2', 10);
      const c = client(e, 'us-west-2');
      const p1 = await c.send(new ListSuppressedDestinationsCommand({ PageSize: 3 }));
      now += 900;
      const p2 = await c.send(new ListSuppressedDestinationsCommand({ PageSize: 3, NextToken: p1.NextToken }));
      expect(p2.SuppressedDestinationSummaries).toHaveLength(3);
      now += 1_001;
      const err = await sesError(c.send(new ListSuppressedDestinationsCommand({ PageSize: 3, NextToken: p2.NextToken })));
      expect(err.name).toBe('InvalidNextTokenException');
      expect(err.message).toMatch(/expired/);
      expect(err.$metadata.httpStatusCode).toBe(400);
    });

    it('rejects garbage tokens and tokens from another region', async () => {
      seed(emu, 'us-west-2', 10);
      seed(emu, 'eu-west-1', 10);
      const west = client(emu, 'us-west-2');
      for (const NextToken of ['garbage', 'dGhpcyBpcyBub3QgYSB0b2tlbg', '%%%']) {
        const err = await sesError(west.send(new ListSuppressedDestinationsCommand({ NextToken })));
        expect(err.name).toBe('InvalidNextTokenException');
      }
      const eu = await client(emu, 'eu-west-1').send(new ListSuppressedDestinationsCommand({ PageSize: 2 }));
      const err = await sesError(west.send(new ListSuppressedDestinationsCommand({ NextToken: eu.NextToken })));
      expect(err.name).toBe('InvalidNextTokenException');
    });

    it('gets, puts and deletes with exact-case addresses and 404s', async () => {
      const c = client(emu, 'us-west-2');
      const before = Date.now();
      await c.send(new PutSuppressedDestinationCommand({ EmailAddress: 'Mixed.Case+tag@Example.com', Reason: 'COMPLAINT' }));

      const got = await c.send(new GetSuppressedDestinationCommand({ EmailAddress: 'Mixed.Case+tag@Example.com' }));
      expect(got.SuppressedDestination?.EmailAddress).toBe('Mixed.Case+tag@Example.com');
      expect(got.SuppressedDestination?.Reason).toBe('COMPLAINT');
      expect(got.SuppressedDestination?.LastUpdateTime).toBeInstanceOf(Date);
      expect(got.SuppressedDestination?.LastUpdateTime?.getTime()).toBeGreaterThanOrEqual(before);
      expect(got.SuppressedDestination?.Attributes).toBeUndefined();

      expect((await sesError(c.send(new GetSuppressedDestinationCommand({ EmailAddress: 'mixed.case+tag@example.com' })))).name).toBe(
        'NotFoundException',
      );
      const delWrong = await sesError(c.send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'mixed.case+tag@example.com' })));
      expect(delWrong.name).toBe('NotFoundException');
      expect(delWrong.$metadata.httpStatusCode).toBe(404);

      // PUT again replaces reason and refreshes LastUpdateTime.
      await c.send(new PutSuppressedDestinationCommand({ EmailAddress: 'Mixed.Case+tag@Example.com', Reason: 'BOUNCE' }));
      expect(emu.region('us-west-2').suppressed()).toEqual([
        expect.objectContaining({ emailAddress: 'Mixed.Case+tag@Example.com', reason: 'BOUNCE' }),
      ]);

      await c.send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'Mixed.Case+tag@Example.com' }));
      expect(emu.region('us-west-2').suppressed()).toEqual([]);
      expect((await sesError(c.send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'Mixed.Case+tag@Example.com' })))).name).toBe(
        'NotFoundException',
      );
    });

    it('returns seeded Attributes and round-trips millisecond timestamps as Dates', async () => {
      const when = new Date(T0 + 123);
      emu.region('us-west-2').putSuppressed({
        emailAddress: 'a@example.com',
        reason: 'BOUNCE',
        lastUpdateTime: when,
        attributes: { messageId: 'msg-1', feedbackId: 'fb-1' },
      });
      const c = client(emu, 'us-west-2');
      const got = await c.send(new GetSuppressedDestinationCommand({ EmailAddress: 'a@example.com' }));
      expect(got.SuppressedDestination?.Attributes).toEqual({ MessageId: 'msg-1', FeedbackId: 'fb-1' });
      expect(got.SuppressedDestination?.LastUpdateTime?.getTime()).toBe(when.getTime());
      const listed = await c.send(new ListSuppressedDestinationsCommand({}));
      expect(listed.SuppressedDestinationSummaries?.[0]?.LastUpdateTime).toEqual(when);
    });

    it('validates PutSuppressedDestination input', async () => {
      const c = client(emu, 'us-west-2');
      const badReason = await sesError(
        c.send(new PutSuppressedDestinationCommand({ EmailAddress: 'a@example.com', Reason: 'SPAM' as SuppressionReason })),
      );
      expect(badReason.name).toBe('BadRequestException');
      const badAddress = await sesError(c.send(new PutSuppressedDestinationCommand({ EmailAddress: 'not-an-address', Reason: 'BOUNCE' })));
      expect(badAddress.name).toBe('BadRequestException');
      const put = (body: unknown): Promise<Response> =>
        fetch(`${emu.endpoint}/v2/email/suppression/addresses`, {
          method: 'PUT',
          headers: { ...auth('us-west-2'), 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const noReason = await put({ EmailAddress: 'a@example.com' });
      expect(noReason.status).toBe(400);
      expect(((await noReason.json()) as { message: string }).message).toBe('Reason is required.');
      const noAddress = await put({ Reason: 'BOUNCE' });
      expect(((await noAddress.json()) as { message: string }).message).toBe('EmailAddress is required.');
      expect(emu.region('us-west-2').suppressed()).toEqual([]);
    });

    it('refuses configured deletes with BadRequestException and keeps the entry', async () => {
      emu.region('us-west-2').putSuppressed({ emailAddress: 'stuck@example.com', reason: 'COMPLAINT' });
      emu.region('us-west-2').refuseDelete('stuck@example.com', 'This address cannot be removed.');
      const c = client(emu, 'us-west-2');
      const err = await sesError(c.send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'stuck@example.com' })));
      expect(err.name).toBe('BadRequestException');
      expect(err.message).toBe('This address cannot be removed.');
      expect(err.$metadata.httpStatusCode).toBe(400);
      expect(
        emu
          .region('us-west-2')
          .suppressed()
          .map((e) => e.emailAddress),
      ).toEqual(['stuck@example.com']);
      // Refusals are per region.
      emu.region('us-east-1').putSuppressed({ emailAddress: 'stuck@example.com', reason: 'COMPLAINT' });
      await client(emu, 'us-east-1').send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'stuck@example.com' }));
      expect(emu.region('us-east-1').suppressed()).toEqual([]);
    });

    it('seeds 50k entries fast and snapshots 150k without quadratic cost', async () => {
      // Work is counted, not timed: one map write per seeded entry, one shuffle draw per listed entry.
      const writes = jest.spyOn(Map.prototype, 'set');
      seed(emu, 'us-west-2', 50_000);
      const seedWrites = writes.mock.calls.length;
      writes.mockRestore();
      expect(seedWrites).toBeLessThan(1_000 + 50_000);
      seed(emu, 'us-west-2', 100_000, 'more');
      const draws = jest.spyOn(Math, 'floor');
      const out = await client(emu, 'us-west-2').send(new ListSuppressedDestinationsCommand({}));
      const listingDraws = draws.mock.calls.length;
      draws.mockRestore();
      expect(listingDraws).toBeLessThan(1_500 + 150_000);
      expect(out.SuppressedDestinationSummaries).toHaveLength(1_000);
      expect(emu.region('us-west-2').suppressedCount).toBe(150_000);
    });
  });

  describe('identities, account and configuration sets', () => {
    it('GetEmailIdentity returns verification, DKIM and MAIL FROM details, case-insensitively', async () => {
      const r = emu.region('us-west-2');
      r.putIdentity({
        name: 'Example.com',
        dkimStatus: 'PENDING',
        mailFromDomain: 'bounce.example.com',
        mailFromStatus: 'FAILED',
        configurationSetName: 'default',
      });
      r.putIdentity({ name: 'sender@other.com', verificationStatus: 'PENDING' });
      const c = client(emu, 'us-west-2');

      const domain = await c.send(new GetEmailIdentityCommand({ EmailIdentity: 'EXAMPLE.com' }));
      expect(domain).toMatchObject({
        IdentityType: 'DOMAIN',
        VerificationStatus: 'SUCCESS',
        VerifiedForSendingStatus: true,
        FeedbackForwardingStatus: true,
        DkimAttributes: { SigningEnabled: true, Status: 'PENDING', SigningAttributesOrigin: 'AWS_SES' },
        MailFromAttributes: {
          MailFromDomain: 'bounce.example.com',
          MailFromDomainStatus: 'FAILED',
          BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
        },
        Policies: {},
        Tags: [],
        ConfigurationSetName: 'default',
      });
      expect(domain.DkimAttributes?.Tokens).toHaveLength(3);

      const address = await c.send(new GetEmailIdentityCommand({ EmailIdentity: 'Sender@Other.com' }));
      expect(address).toMatchObject({
        IdentityType: 'EMAIL_ADDRESS',
        VerificationStatus: 'PENDING',
        VerifiedForSendingStatus: false,
        DkimAttributes: { Status: 'NOT_STARTED' },
      });
      expect(address.MailFromAttributes).toEqual({ BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' });
      expect(address.ConfigurationSetName).toBeUndefined();

      const err = await sesError(c.send(new GetEmailIdentityCommand({ EmailIdentity: 'missing.com' })));
      expect(err.name).toBe('NotFoundException');
      expect(err.$metadata.httpStatusCode).toBe(404);
      r.deleteIdentity('EXAMPLE.COM');
      expect((await sesError(c.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' })))).name).toBe('NotFoundException');
    });

    it('ListEmailIdentities works through the SDK (POST list-identities) and the GET form', async () => {
      const r = emu.region('us-west-2');
      for (const name of ['e.com', 'a.com', 'c@x.com', 'b.com', 'd.com'])
        r.putIdentity({ name, verificationStatus: name === 'b.com' ? 'FAILED' : 'SUCCESS' });
      const c = client(emu, 'us-west-2');

      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const out = await c.send(new ListEmailIdentitiesCommand({ PageSize: 2, NextToken: token }));
        seen.push(...(out.EmailIdentities ?? []).map((i) => i.IdentityName as string));
        token = out.NextToken;
        pages++;
      } while (token);
      expect(pages).toBe(3);
      expect(seen).toEqual(['a.com', 'b.com', 'c@x.com', 'd.com', 'e.com']);

      const failed = await c.send(new ListEmailIdentitiesCommand({ Filter: { VERIFICATION_STATUS: 'FAILED' } }));
      expect(failed.EmailIdentities).toEqual([
        { IdentityType: 'DOMAIN', IdentityName: 'b.com', SendingEnabled: true, VerificationStatus: 'FAILED' },
      ]);
      const addresses = await c.send(new ListEmailIdentitiesCommand({ Filter: { IDENTITY_TYPE: 'EMAIL_ADDRESS' } }));
      expect(addresses.EmailIdentities?.map((i) => i.IdentityName)).toEqual(['c@x.com']);

      const res = await fetch(`${emu.endpoint}/v2/email/identities?PageSize=4`, { headers: auth('us-west-2') });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { EmailIdentities: Array<{ IdentityName: string }>; NextToken?: string };
      expect(body.EmailIdentities.map((i) => i.IdentityName)).toEqual(['a.com', 'b.com', 'c@x.com', 'd.com']);
      const rest = await fetch(`${emu.endpoint}/v2/email/identities?NextToken=${encodeURIComponent(body.NextToken ?? '')}`, {
        headers: auth('us-west-2'),
      });
      expect((await rest.json()) as { EmailIdentities: Array<{ IdentityName: string }>; NextToken?: string }).toEqual({
        EmailIdentities: [{ IdentityType: 'DOMAIN', IdentityName: 'e.com', SendingEnabled: true, VerificationStatus: 'SUCCESS' }],
      });
      // Regions are isolated for identities too.
      expect((await client(emu, 'us-east-1').send(new ListEmailIdentitiesCommand({}))).EmailIdentities).toEqual([]);
    });

    it('GetAccount returns healthy production defaults and per-region overrides', async () => {
      const defaults = await client(emu, 'us-west-2').send(new GetAccountCommand({}));
      expect(defaults).toMatchObject({
        DedicatedIpAutoWarmupEnabled: false,
        EnforcementStatus: 'HEALTHY',
        ProductionAccessEnabled: true,
        SendingEnabled: true,
        SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 },
        SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
      });
      emu.region('eu-west-1').setAccount({
        enforcementStatus: 'PROBATION',
        sendingEnabled: false,
        maxSendRate: 1.5,
        sentLast24Hours: 12,
        suppressedReasons: ['BOUNCE'],
      });
      const eu = await client(emu, 'eu-west-1').send(new GetAccountCommand({}));
      expect(eu).toMatchObject({
        EnforcementStatus: 'PROBATION',
        SendingEnabled: false,
        SendQuota: { Max24HourSend: 50000, MaxSendRate: 1.5, SentLast24Hours: 12 },
        SuppressionAttributes: { SuppressedReasons: ['BOUNCE'] },
      });
      expect((await client(emu, 'us-west-2').send(new GetAccountCommand({}))).EnforcementStatus).toBe('HEALTHY');
    });

    it('GetConfigurationSet distinguishes absent from empty SuppressionOptions', async () => {
      const r = emu.region('us-west-2');
      r.putConfigurationSet({ name: 'inherit' });
      r.putConfigurationSet({ name: 'off', suppressedReasons: [] });
      r.putConfigurationSet({ name: 'bounces', suppressedReasons: ['BOUNCE'], sendingEnabled: false });
      const c = client(emu, 'us-west-2');

      const inherit = await c.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'inherit' }));
      expect(inherit.ConfigurationSetName).toBe('inherit');
      expect(inherit.SendingOptions).toEqual({ SendingEnabled: true });
      expect(inherit.SuppressionOptions).toBeUndefined();
      expect((await c.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'off' }))).SuppressionOptions).toEqual({
        SuppressedReasons: [],
      });
      const bounces = await c.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'bounces' }));
      expect(bounces.SuppressionOptions).toEqual({ SuppressedReasons: ['BOUNCE'] });
      expect(bounces.SendingOptions).toEqual({ SendingEnabled: false });
      const err = await sesError(c.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'missing' })));
      expect(err.name).toBe('NotFoundException');
    });
  });

  describe('wire protocol errors', () => {
    it('answers requests without a credential scope with 403 and unknown operations with 404', async () => {
      const unsigned = await fetch(`${emu.endpoint}/v2/email/account`);
      expect(unsigned.status).toBe(403);
      expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');

      const unknown = await fetch(`${emu.endpoint}/v2/email/templates`, { method: 'POST', headers: auth('us-west-2'), body: '{}' });
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
      expect(((await unknown.json()) as { message: string }).message).toContain('POST /v2/email/templates');
      const wrongMethod = await fetch(`${emu.endpoint}/v2/email/suppression/addresses`, { method: 'DELETE', headers: auth('us-west-2') });
      expect(wrongMethod.status).toBe(404);
    });

    it('works via AWS_ENDPOINT_URL_SESV2 without an explicit endpoint', async () => {
      const previous = process.env.AWS_ENDPOINT_URL_SESV2;
      process.env.AWS_ENDPOINT_URL_SESV2 = emu.endpoint;
      try {
        const c = new SESv2Client({ region: 'ap-southeast-2', credentials, maxAttempts: 1 });
        await c.send(new PutSuppressedDestinationCommand({ EmailAddress: 'env@example.com', Reason: 'BOUNCE' }));
      } finally {
        if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_SESV2;
        else process.env.AWS_ENDPOINT_URL_SESV2 = previous;
      }
      expect(
        emu
          .region('ap-southeast-2')
          .suppressed()
          .map((e) => e.emailAddress),
      ).toEqual(['env@example.com']);
    });
  });

  describe('rate limiting and fault injection', () => {
    it('throttles bursts above requestsPerSecond per region with 429 TooManyRequestsException', async () => {
      // A stopped clock: the bucket never refills, so only its burst succeeds however slowly the requests arrive.
      const e = await startExtra({ requestsPerSecond: 2, clock: () => T0 });
      const c = client(e, 'us-west-2');
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => c.send(new GetAccountCommand({}))));
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const throttled = results.filter(
        (r) => r.status === 'rejected' && (r.reason as SESv2ServiceException).name === 'TooManyRequestsException',
      );
      expect(ok).toBeGreaterThanOrEqual(2);
      expect(ok).toBeLessThanOrEqual(3);
      expect(throttled.length).toBe(12 - ok);
      const first = throttled[0];
      expect(first?.status === 'rejected' && (first.reason as SESv2ServiceException).$metadata.httpStatusCode).toBe(429);

      // Another region has its own bucket.
      await client(e, 'eu-west-1').send(new GetAccountCommand({}));
      expect(e.stats().regions['us-west-2']?.GetAccount).toEqual({ requests: 12, throttled: 12 - ok, serverErrors: 0, clientErrors: 0 });
      expect(e.stats().regions['eu-west-1']?.GetAccount?.requests).toBe(1);

      e.setRequestsPerSecond(0);
      await expect(Promise.all(Array.from({ length: 10 }, () => c.send(new GetAccountCommand({}))))).resolves.toHaveLength(10);
    });

    it('injects throttles and 5xx deterministically for the same seed', async () => {
      const outcomes = async (seedValue: number): Promise<string[]> => {
        const e = await startExtra({
          seed: seedValue,
          requestsPerSecond: 0,
          faults: { throttleRate: 0.25, serverErrorRate: { 'us-west-2': 0.25 } },
        });
        const c = client(e, 'us-west-2');
        const out: string[] = [];
        for (let i = 0; i < 40; i++) {
          try {
            await c.send(new GetAccountCommand({}));
            out.push('ok');
          } catch (err) {
            out.push((err as SESv2ServiceException).name);
          }
        }
        const stats = e.stats().regions['us-west-2']?.GetAccount;
        expect(stats?.throttled).toBe(out.filter((o) => o === 'TooManyRequestsException').length);
        expect(stats?.serverErrors).toBe(out.filter((o) => o === 'InternalServiceErrorException').length);
        return out;
      };
      const a = await outcomes(42);
      const b = await outcomes(42);
      const c = await outcomes(43);
      expect(a).toEqual(b);
      expect(a).not.toEqual(c);
      expect(new Set(a)).toEqual(new Set(['ok', 'TooManyRequestsException', 'InternalServiceErrorException']));
    });

    it('serves injected 500s as retryable server faults', async () => {
      emu.failNextRequests('us-west-2', 1, 'serverError');
      const err = await sesError(client(emu, 'us-west-2').send(new GetAccountCommand({})));
      expect(err.name).toBe('InternalServiceErrorException');
      expect(err.$fault).toBe('server');
      expect(err.$metadata.httpStatusCode).toBe(500);

      emu.failNextRequests('us-west-2', 1, 'serverError');
      emu.failNextRequests('us-west-2', 1, 'throttle');
      const retried = await client(emu, 'us-west-2', 3).send(new GetAccountCommand({}));
      expect(retried.$metadata.attempts).toBe(3);
      expect(emu.stats().regions['us-west-2']?.GetAccount).toEqual({ requests: 4, throttled: 1, serverErrors: 2, clientErrors: 0 });
      emu.resetStats();
      expect(emu.stats().totals.requests).toBe(0);
    });

    it('adds configured latency', async () => {
      emu.setFaults({ latencyMs: 120 });
      // The delay the emulator applies to the request, read from its decision rather than from a wall clock.
      const decide = jest.spyOn(emu.traffic, 'decide');
      await client(emu, 'us-west-2').send(new GetAccountCommand({}));
      expect(decide.mock.results.map((r) => (r.value as { delayMs: number }).delayMs)).toEqual([120]);
      decide.mockRestore();
    });
  });

  describe('control API', () => {
    const control = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(`${emu.endpoint}/_emulator${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };

    it('seeds and inspects state over HTTP, visible through the SDK', async () => {
      expect((await control('GET', '/health')).json).toMatchObject({ ok: true, regions: [], requestsPerSecond: null });

      const seeded = await control('POST', '/regions/us-west-2/suppressed', {
        entries: [
          { emailAddress: 'one@example.com', reason: 'BOUNCE', lastUpdateTime: '2026-01-01T00:00:00.000Z' },
          { emailAddress: 'two@example.com', reason: 'COMPLAINT', lastUpdateTime: T0 },
        ],
      });
      expect(seeded).toEqual({ status: 200, json: { region: 'us-west-2', added: 2, count: 2 } });
      expect((await control('PUT', '/regions/us-west-2/identities', { name: 'example.com', dkimStatus: 'FAILED' })).status).toBe(200);
      expect((await control('PATCH', '/regions/us-west-2/account', { enforcementStatus: 'SHUTDOWN' })).json).toMatchObject({
        enforcementStatus: 'SHUTDOWN',
      });
      expect((await control('PUT', '/regions/us-west-2/configuration-sets', { name: 'cs', suppressedReasons: [] })).status).toBe(200);
      expect((await control('POST', '/regions/us-west-2/refuse-delete', { emailAddress: 'one@example.com' })).status).toBe(200);

      const c = client(emu, 'us-west-2');
      const { entries } = await listAll(c);
      expect(entries.map((e) => [e.EmailAddress, e.Reason, e.LastUpdateTime?.toISOString()]).sort()).toEqual([
        ['one@example.com', 'BOUNCE', '2026-01-01T00:00:00.000Z'],
        ['two@example.com', 'COMPLAINT', new Date(T0).toISOString()],
      ]);
      expect((await c.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' }))).DkimAttributes?.Status).toBe('FAILED');
      expect((await c.send(new GetAccountCommand({}))).EnforcementStatus).toBe('SHUTDOWN');
      expect((await c.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'cs' }))).SuppressionOptions).toEqual({
        SuppressedReasons: [],
      });
      expect((await sesError(c.send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'one@example.com' })))).name).toBe(
        'BadRequestException',
      );
      await c.send(new DeleteSuppressedDestinationCommand({ EmailAddress: 'two@example.com' }));

      const listed = await control('GET', '/regions/us-west-2/suppressed');
      expect(listed.json).toEqual({
        region: 'us-west-2',
        count: 1,
        entries: [{ emailAddress: 'one@example.com', reason: 'BOUNCE', lastUpdateTime: '2026-01-01T00:00:00.000Z' }],
      });
      const stats = await control('GET', '/stats');
      expect(stats.json).toMatchObject({ regions: { 'us-west-2': { DeleteSuppressedDestination: { requests: 2, clientErrors: 1 } } } });

      expect((await control('POST', '/reset')).status).toBe(200);
      expect((await listAll(c)).entries).toEqual([]);
    });

    it('changes faults and rps at runtime and validates input', async () => {
      expect((await control('PUT', '/faults', { throttleRate: 1 })).status).toBe(200);
      expect((await sesError(client(emu, 'us-west-2').send(new GetAccountCommand({})))).name).toBe('TooManyRequestsException');
      expect((await control('PUT', '/faults', {})).status).toBe(200);
      expect((await control('PUT', '/rps', { requestsPerSecond: 5 })).json).toEqual({ requestsPerSecond: 5 });
      expect((await control('POST', '/regions/us-west-2/fail-next', { count: 1, kind: 'serverError' })).status).toBe(200);
      expect((await sesError(client(emu, 'us-west-2').send(new GetAccountCommand({})))).name).toBe('InternalServiceErrorException');

      const badFault = await control('PUT', '/faults', { throttleRate: 2 });
      expect(badFault.status).toBe(400);
      expect(badFault.json.error).toMatch(/probability/);
      const badEntry = await control('POST', '/regions/us-west-2/suppressed', [{ emailAddress: 'x@example.com', reason: 'NOPE' }]);
      expect(badEntry.status).toBe(400);
      expect(badEntry.json.error).toMatch(/reason/);
      expect((await control('POST', '/regions/not a region/suppressed', [])).status).toBe(400);
      expect((await control('GET', '/nope')).status).toBe(404);
    });
  });

  it('main.ts starts from the command line with a state file and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ses-emu-'));
    const stateFile = join(dir, 'state.json');
    writeFileSync(
      stateFile,
      JSON.stringify({
        requestsPerSecond: null,
        regions: {
          'eu-central-1': {
            suppressed: [{ emailAddress: 'state@example.com', reason: 'COMPLAINT' }],
            configurationSets: [{ name: 'from-file' }],
          },
        },
      }),
    );
    // Node with tsx's loader, not the tsx command: that one relays SIGTERM through a parent process, which kills the
    // emulator (exit 143) when it does not acknowledge the signal within 30 ms, as on a loaded machine.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/ses-emulator/main.ts', '--port', '0', '--seed', '3', '--state', stateFile],
      {
        cwd: join(__dirname, '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        let out = '';
        let errOut = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /SES emulator listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
        child.once('exit', (code) => reject(new Error(`emulator exited early (${code}): ${errOut}`)));
      });
      const c = new SESv2Client({ region: 'eu-central-1', endpoint, credentials, maxAttempts: 1 });
      const got = await c.send(new GetSuppressedDestinationCommand({ EmailAddress: 'state@example.com' }));
      expect(got.SuppressedDestination?.Reason).toBe('COMPLAINT');
      expect((await c.send(new GetConfigurationSetCommand({ ConfigurationSetName: 'from-file' }))).ConfigurationSetName).toBe('from-file');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
