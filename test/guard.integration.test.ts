import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { GuardResponse, Problem } from '../client/contract';
import { documentClient } from '../lambdas/domain/clients';
import { regionAttribute } from '../lambdas/domain/records';
import { StateTable } from '../lambdas/domain/state-table';
import { LookupCache } from '../lambdas/guard/cache';
import { evaluate } from '../lambdas/guard/guard';
import type { SharedLookupStore } from '../lambdas/guard/ses-lookups';
import { freePort } from '../local/dynamodb-local';
import { SesEmulator } from '../local/ses-emulator';
import { GUARD_REGIONS, guardDeps, setWatermark, syncAllRegions, verifyDomain } from './support/guard';
import { countingDocumentClient, createTestTables, TEST_CREDENTIALS, type TestTables } from './support/local-aws';

const HOUR = 3600_000;
const codes = (response: GuardResponse) => response.problems.map((p) => p.code);
const problem = (response: GuardResponse, code: string): Problem | undefined => response.problems.find((p) => p.code === code);

describe('Function: evaluate (SES emulator + DynamoDB Local)', () => {
  let emu: SesEmulator;
  let tables: TestTables;

  beforeEach(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 5 });
    tables = await createTestTables();
  });
  afterEach(async () => {
    await emu.stop();
  });

  describe('happy path', () => {
    it('proceeds and reports the sender, the account and every recipient as allowed', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        {
          from: 'Campaigns <campaigns@example.com>',
          region: 'us-west-2',
          recipients: ['a@example.org', 'b@example.org', 'c@example.net'],
          caller: 'spring-sale',
        },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response).toEqual({
        proceed: true,
        problems: [],
        sender: {
          identity: 'example.com',
          identityType: 'DOMAIN',
          verifiedForSending: true,
          dkim: 'SUCCESS',
          mailFrom: 'NOT_CONFIGURED',
          verifiedInRegions: ['us-west-2'],
        },
        account: {
          sendingEnabled: true,
          enforcementStatus: 'HEALTHY',
          productionAccess: true,
          quota: { max24HourSend: 50000, sentLast24Hours: 0, remaining: 50000 },
        },
        recipients: { total: 3, allowed: ['a@example.org', 'b@example.org', 'c@example.net'], suppressed: [], invalid: [], duplicates: 0 },
      });
    });

    it("defaults the region to the guard's own region", async () => {
      // Prepare
      verifyDomain(emu, 'example.com', ['eu-west-1']);
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', recipients: ['a@example.org'] },
        guardDeps(emu, tables, { defaultRegion: 'eu-west-1' }),
      );

      // Assess
      expect(response.proceed).toBe(true);
      expect(response.sender?.verifiedInRegions).toEqual(['eu-west-1']);
    });

    it('uses the most specific verified identity: the address over its domain, a parent domain for a subdomain', async () => {
      // Prepare
      emu.region('us-east-1').putIdentity({ name: 'example.com' });
      emu.region('us-east-1').putIdentity({ name: 'ceo@example.com', dkimStatus: 'PENDING', dkimSigningEnabled: true });
      await syncAllRegions(emu, tables);
      const deps = guardDeps(emu, tables);

      // Act
      const address = await evaluate({ from: 'CEO@Example.com', region: 'us-east-1', recipients: ['a@example.org'] }, deps);
      const subdomain = await evaluate({ from: 'news@mail.example.com', region: 'us-east-1', recipients: ['a@example.org'] }, deps);

      // Assess
      expect(address.sender).toMatchObject({ identity: 'ceo@example.com', identityType: 'EMAIL_ADDRESS', dkim: 'PENDING' });
      expect(codes(address)).toEqual(['DKIM_PENDING']);
      expect(subdomain.sender).toMatchObject({ identity: 'example.com', identityType: 'DOMAIN', verifiedForSending: true });
      expect(subdomain.proceed).toBe(true);
    });
  });

  describe('incident: identity verified in another region', () => {
    it('blocks with IDENTITY_NOT_VERIFIED_IN_REGION and names the regions where the identity is verified', async () => {
      // Prepare: example.com is verified only in us-east-1; the blast is sent from us-west-2.
      verifyDomain(emu, 'example.com', ['us-east-1']);
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        { from: 'Campaigns <campaigns@example.com>', region: 'us-west-2', recipients: ['a@example.org'] },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(response.sender).toEqual({
        identity: null,
        identityType: null,
        verifiedForSending: false,
        dkim: null,
        mailFrom: null,
        verifiedInRegions: ['us-east-1'],
      });
      expect(problem(response, 'IDENTITY_NOT_VERIFIED_IN_REGION')).toEqual({
        code: 'IDENTITY_NOT_VERIFIED_IN_REGION',
        severity: 'block',
        message: expect.stringMatching(/us-west-2.*verified in us-east-1/),
        details: {
          region: 'us-west-2',
          identity: null,
          checked: ['campaigns@example.com', 'example.com'],
          verifiedInRegions: ['us-east-1'],
        },
      });
      // The recipients are still checked, so the caller sees the whole picture.
      expect(response.recipients.allowed).toEqual(['a@example.org']);
    });

    it('reports a failed verification in the region as IDENTITY_NOT_VERIFIED_IN_REGION with its status', async () => {
      // Prepare
      emu.region('us-east-1').putIdentity({ name: 'example.com' });
      emu.region('us-west-2').putIdentity({ name: 'example.com', verificationStatus: 'FAILED', dkimStatus: 'FAILED' });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-west-2', recipients: ['a@example.org'] },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(response.sender).toMatchObject({ identity: 'example.com', verifiedForSending: false, verifiedInRegions: ['us-east-1'] });
      expect(problem(response, 'IDENTITY_NOT_VERIFIED_IN_REGION')?.details).toMatchObject({
        status: 'FAILED',
        verifiedInRegions: ['us-east-1'],
      });
    });

    it('reports a pending verification as IDENTITY_VERIFICATION_PENDING, distinct from a failure', async () => {
      // Prepare
      emu.region('us-west-2').putIdentity({ name: 'example.com', verificationStatus: 'PENDING', dkimStatus: 'PENDING' });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-west-2', recipients: ['a@example.org'] },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(codes(response)).toEqual(['IDENTITY_VERIFICATION_PENDING']);
      expect(response.sender).toMatchObject({ identity: 'example.com', verifiedForSending: false, verifiedInRegions: [] });
    });
  });

  describe('incident: address bounced in another region', () => {
    it('drops an address bounced in us-east-1 when sending from us-west-2, with regions, reason and since', async () => {
      // Prepare
      const bouncedAt = new Date(Date.now() - 5 * HOUR);
      const complainedAt = new Date(Date.now() - 2 * HOUR);
      verifyDomain(emu, 'example.com');
      emu.region('us-east-1').putSuppressed({ emailAddress: 'Bounced@Example.org', reason: 'BOUNCE', lastUpdateTime: bouncedAt });
      emu.region('eu-west-1').putSuppressed({ emailAddress: 'bounced@example.org', reason: 'COMPLAINT', lastUpdateTime: complainedAt });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        {
          from: 'campaigns@example.com',
          region: 'us-west-2',
          recipients: ['first@example.org', 'BOUNCED@example.org', 'last@example.org'],
        },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(true);
      expect(response.recipients).toEqual({
        total: 3,
        allowed: ['first@example.org', 'last@example.org'],
        suppressed: [
          { address: 'BOUNCED@example.org', reason: 'COMPLAINT', regions: ['eu-west-1', 'us-east-1'], since: bouncedAt.toISOString() },
        ],
        invalid: [],
        duplicates: 0,
      });
      expect(problem(response, 'RECIPIENTS_SUPPRESSED')).toMatchObject({ severity: 'warn', details: { count: 1 } });
    });

    it("keeps an address removed from every region allowed, and honours an operator's manual suppression everywhere", async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      await syncAllRegions(emu, tables);
      const at = new Date(Date.now() - HOUR).toISOString();
      await tables.doc.send(
        new PutCommand({
          TableName: tables.suppressionTable,
          Item: {
            address: 'gone@example.org',
            firstSeen: at,
            lastUpdated: at,
            origin: 'ses:us-east-1',
            [regionAttribute('us-east-1')]: {
              address: 'gone@example.org',
              reason: 'BOUNCE',
              lastUpdateTime: at,
              status: 'REMOVED',
              syncedAt: at,
              removedAt: at,
            },
          },
        }),
      );
      await tables.doc.send(
        new PutCommand({
          TableName: tables.suppressionTable,
          Item: {
            address: 'manual@example.org',
            firstSeen: at,
            lastUpdated: at,
            origin: 'manual',
            manual: { reason: 'COMPLAINT', status: 'LISTED', at, by: 'ops', note: 'asked' },
          },
        }),
      );

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-west-2', recipients: ['gone@example.org', 'manual@example.org'] },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.recipients.allowed).toEqual(['gone@example.org']);
      expect(response.recipients.suppressed).toEqual([
        { address: 'manual@example.org', reason: 'COMPLAINT', regions: ['manual'], since: at },
      ]);
    });

    it('checks duplicates once, case-insensitively, and keeps every verdict list in input order', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('us-east-1').putSuppressed({ emailAddress: 'z@example.org', reason: 'BOUNCE' });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        {
          from: 'campaigns@example.com',
          region: 'us-east-1',
          recipients: [
            'b@example.org',
            'z@example.org',
            'A@example.org',
            'no-at-sign',
            'a@EXAMPLE.org',
            ' c@example.org ',
            'Z@example.org',
          ],
        },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.recipients).toMatchObject({
        total: 7,
        allowed: ['b@example.org', 'A@example.org', 'c@example.org'],
        suppressed: [expect.objectContaining({ address: 'z@example.org', regions: ['us-east-1'] })],
        invalid: [
          { address: 'no-at-sign', error: expect.stringContaining('recipients[3] "no-at-sign" is not a valid address: it has no "@"') },
        ],
        duplicates: 2,
      });
      expect(problem(response, 'RECIPIENTS_INVALID')).toMatchObject({ severity: 'warn', details: { count: 1 } });
      expect(response.proceed).toBe(true);
    });

    it('blocks when no recipient is left to send to', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('eu-west-1').putSuppressed({ emailAddress: 'only@example.org', reason: 'BOUNCE' });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-east-1', recipients: ['only@example.org'] },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(problem(response, 'NO_DELIVERABLE_RECIPIENTS')).toMatchObject({ severity: 'block' });
    });
  });

  describe('DKIM and MAIL FROM', () => {
    it('warns while DKIM is pending and blocks when DKIM failed', async () => {
      // Prepare
      for (const region of GUARD_REGIONS) {
        emu.region(region).putIdentity({ name: 'pending.example', dkimStatus: 'PENDING' });
        emu.region(region).putIdentity({ name: 'failed.example', dkimStatus: 'FAILED' });
      }
      await syncAllRegions(emu, tables);
      const deps = guardDeps(emu, tables);

      // Act
      const pending = await evaluate({ from: 'news@pending.example', region: 'us-west-2', recipients: ['a@example.org'] }, deps);
      const failed = await evaluate({ from: 'news@failed.example', region: 'us-west-2', recipients: ['a@example.org'] }, deps);

      // Assess
      expect(pending.proceed).toBe(true);
      expect(pending.problems).toEqual([
        expect.objectContaining({
          code: 'DKIM_PENDING',
          severity: 'warn',
          details: { region: 'us-west-2', identity: 'pending.example', status: 'PENDING' },
        }),
      ]);
      expect(pending.sender?.dkim).toBe('PENDING');
      expect(failed.proceed).toBe(false);
      expect(failed.problems).toEqual([expect.objectContaining({ code: 'DKIM_FAILED', severity: 'block' })]);
      expect(failed.sender?.dkim).toBe('FAILED');
    });

    it('blocks a failed MAIL FROM domain when SES rejects on MX failure, and only warns when it falls back', async () => {
      // Prepare
      for (const region of GUARD_REGIONS) {
        emu.region(region).putIdentity({
          name: 'reject.example',
          mailFromDomain: 'bounce.reject.example',
          mailFromStatus: 'FAILED',
          behaviorOnMxFailure: 'REJECT_MESSAGE',
        });
        emu.region(region).putIdentity({
          name: 'fallback.example',
          mailFromDomain: 'bounce.fallback.example',
          mailFromStatus: 'FAILED',
          behaviorOnMxFailure: 'USE_DEFAULT_VALUE',
        });
        emu.region(region).putIdentity({ name: 'waiting.example', mailFromDomain: 'bounce.waiting.example', mailFromStatus: 'PENDING' });
      }
      await syncAllRegions(emu, tables);
      const deps = guardDeps(emu, tables);

      // Act
      const [reject, fallback, waiting] = await Promise.all(
        ['reject.example', 'fallback.example', 'waiting.example'].map((domain) =>
          evaluate({ from: `news@${domain}`, region: 'eu-west-1', recipients: ['a@example.org'] }, deps),
        ),
      );

      // Assess
      expect(reject!.proceed).toBe(false);
      expect(reject!.problems).toEqual([
        expect.objectContaining({
          code: 'MAIL_FROM_FAILED',
          severity: 'block',
          details: expect.objectContaining({ mailFromDomain: 'bounce.reject.example', behaviorOnMxFailure: 'REJECT_MESSAGE' }),
        }),
      ]);
      expect(reject!.sender?.mailFrom).toBe('FAILED');
      expect(fallback!.proceed).toBe(true);
      expect(fallback!.problems).toEqual([expect.objectContaining({ code: 'MAIL_FROM_FAILED', severity: 'warn' })]);
      expect(waiting!.problems).toEqual([expect.objectContaining({ code: 'MAIL_FROM_PENDING', severity: 'warn' })]);
    });
  });

  describe('account', () => {
    it('warns on probation and blocks when the account is shut down', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('us-east-1').setAccount({ enforcementStatus: 'PROBATION' });
      emu.region('us-west-2').setAccount({ enforcementStatus: 'SHUTDOWN', sendingEnabled: false });
      await syncAllRegions(emu, tables);
      const deps = guardDeps(emu, tables);

      // Act
      const probation = await evaluate({ from: 'campaigns@example.com', region: 'us-east-1', recipients: ['a@example.org'] }, deps);
      const shutdown = await evaluate({ from: 'campaigns@example.com', region: 'us-west-2', recipients: ['a@example.org'] }, deps);

      // Assess
      expect(probation.proceed).toBe(true);
      expect(probation.problems).toEqual([expect.objectContaining({ code: 'ACCOUNT_PROBATION', severity: 'warn' })]);
      expect(probation.account?.enforcementStatus).toBe('PROBATION');
      expect(shutdown.proceed).toBe(false);
      expect(codes(shutdown).sort()).toEqual(['ACCOUNT_SHUTDOWN', 'SENDING_DISABLED']);
    });

    it('blocks when sending is disabled for the account in the region', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('eu-west-1').setAccount({ sendingEnabled: false });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'eu-west-1', recipients: ['a@example.org'] },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(response.problems).toEqual([
        expect.objectContaining({ code: 'SENDING_DISABLED', severity: 'block', details: { region: 'eu-west-1' } }),
      ]);
      expect(response.account?.sendingEnabled).toBe(false);
    });

    it('drops recipients that are not verified identities while the account is in the sandbox', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('us-west-2').setAccount({ productionAccessEnabled: false, max24HourSend: 200 });
      emu.region('us-west-2').putIdentity({ name: 'tester@example.org' });
      emu.region('us-west-2').putIdentity({ name: 'qa.example.net' });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        {
          from: 'campaigns@example.com',
          region: 'us-west-2',
          recipients: ['customer@example.org', 'Tester@example.org', 'anyone@qa.example.net'],
        },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(true);
      expect(response.account).toMatchObject({ productionAccess: false, quota: { max24HourSend: 200, remaining: 200 } });
      expect(response.recipients.allowed).toEqual(['Tester@example.org', 'anyone@qa.example.net']);
      expect(response.recipients.invalid).toEqual([
        { address: 'customer@example.org', error: expect.stringContaining('not a verified identity in us-west-2') },
      ]);
      expect(problem(response, 'SANDBOX')).toMatchObject({ severity: 'warn', details: { region: 'us-west-2', unverifiedRecipients: 1 } });
    });

    it('blocks when the allowed recipients exceed what is left of the 24-hour quota, and not when it is unlimited', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('us-east-1').setAccount({ max24HourSend: 1000, sentLast24Hours: 998 });
      emu.region('us-west-2').setAccount({ max24HourSend: -1, sentLast24Hours: 5_000_000 });
      emu.region('us-east-1').putSuppressed({ emailAddress: 'suppressed@example.org', reason: 'BOUNCE' });
      await syncAllRegions(emu, tables);
      const deps = guardDeps(emu, tables);
      const recipients = ['a@example.org', 'b@example.org', 'c@example.org', 'suppressed@example.org'];

      // Act
      const limited = await evaluate({ from: 'campaigns@example.com', region: 'us-east-1', recipients }, deps);
      const fits = await evaluate({ from: 'campaigns@example.com', region: 'us-east-1', recipients: recipients.slice(1) }, deps);
      const unlimited = await evaluate({ from: 'campaigns@example.com', region: 'us-west-2', recipients }, deps);

      // Assess
      expect(limited.proceed).toBe(false);
      expect(problem(limited, 'QUOTA_EXCEEDED')).toMatchObject({
        severity: 'block',
        details: { allowed: 3, remaining: 2, max24HourSend: 1000, sentLast24Hours: 998 },
      });
      expect(fits.proceed).toBe(true);
      expect(unlimited.proceed).toBe(true);
      expect(unlimited.account?.quota).toEqual({ max24HourSend: -1, sentLast24Hours: 5_000_000, remaining: null });
    });
  });

  describe('configuration set', () => {
    it('blocks when the configuration set does not exist in the region', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('us-east-1').putConfigurationSet({ name: 'marketing' });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-west-2', recipients: ['a@example.org'], configurationSetName: 'marketing' },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(response.problems).toEqual([
        expect.objectContaining({
          code: 'CONFIGURATION_SET_NOT_FOUND',
          severity: 'block',
          details: { region: 'us-west-2', configurationSetName: 'marketing' },
        }),
      ]);
    });

    it("applies the set's suppressed reasons to the cross-region list, warns when they are empty, and keeps manual suppressions", async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('us-east-1').putConfigurationSet({ name: 'complaints-only', suppressedReasons: ['COMPLAINT'] });
      emu.region('us-east-1').putConfigurationSet({ name: 'transactional', suppressedReasons: [] });
      emu.region('us-west-2').putSuppressed({ emailAddress: 'bounced@example.org', reason: 'BOUNCE' });
      emu.region('us-west-2').putSuppressed({ emailAddress: 'complained@example.org', reason: 'COMPLAINT' });
      await syncAllRegions(emu, tables);
      const at = new Date().toISOString();
      await tables.doc.send(
        new PutCommand({
          TableName: tables.suppressionTable,
          Item: {
            address: 'manual@example.org',
            firstSeen: at,
            lastUpdated: at,
            origin: 'manual',
            manual: { reason: 'BOUNCE', status: 'LISTED', at, by: 'ops' },
          },
        }),
      );
      const deps = guardDeps(emu, tables);
      const recipients = ['bounced@example.org', 'complained@example.org', 'manual@example.org', 'ok@example.org'];

      // Act
      const complaintsOnly = await evaluate(
        { from: 'campaigns@example.com', region: 'us-east-1', recipients, configurationSetName: 'complaints-only' },
        deps,
      );
      const off = await evaluate(
        { from: 'campaigns@example.com', region: 'us-east-1', recipients, configurationSetName: 'transactional' },
        deps,
      );

      // Assess
      expect(complaintsOnly.recipients.allowed).toEqual(['bounced@example.org', 'ok@example.org']);
      expect(complaintsOnly.recipients.suppressed.map((s) => s.address)).toEqual(['complained@example.org', 'manual@example.org']);
      expect(off.recipients.allowed).toEqual(['bounced@example.org', 'complained@example.org', 'ok@example.org']);
      expect(off.recipients.suppressed.map((s) => s.address)).toEqual(['manual@example.org']);
      expect(problem(off, 'SUPPRESSION_DISABLED_BY_CONFIGURATION_SET')).toMatchObject({
        severity: 'warn',
        details: { configurationSetName: 'transactional', suppressedReasons: [] },
      });
      expect(off.proceed).toBe(true);
    });

    it('blocks when sending is disabled for the configuration set', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu.region('us-east-1').putConfigurationSet({ name: 'paused', sendingEnabled: false });
      await syncAllRegions(emu, tables);

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-east-1', recipients: ['a@example.org'], configurationSetName: 'paused' },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(codes(response)).toEqual(['CONFIGURATION_SET_SENDING_DISABLED']);
    });
  });

  describe('stale suppression data', () => {
    it('blocks by default when a configured region has not synced within the threshold or never synced', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      await setWatermark(tables, 'us-east-1', new Date());
      await setWatermark(tables, 'us-west-2', new Date(Date.now() - 3 * HOUR));
      // eu-west-1 has no state item at all.

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-east-1', recipients: ['a@example.org'] },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(problem(response, 'SUPPRESSION_DATA_STALE')).toEqual({
        code: 'SUPPRESSION_DATA_STALE',
        severity: 'block',
        message: expect.stringContaining('us-west-2, eu-west-1'),
        details: {
          staleAfterMinutes: 60,
          regions: [
            expect.objectContaining({ region: 'us-west-2', ageMinutes: 180 }),
            { region: 'eu-west-1', watermark: null, ageMinutes: null, lastSuccessAt: null, lastError: null },
          ],
        },
      });
    });

    it('only warns in warn mode and honours the configured threshold', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      for (const region of GUARD_REGIONS) await setWatermark(tables, region, new Date(Date.now() - 90 * 60_000));

      // Act
      const warn = await evaluate(
        { from: 'campaigns@example.com', region: 'us-east-1', recipients: ['a@example.org'] },
        guardDeps(emu, tables, { staleMode: 'warn' }),
      );
      const longer = await evaluate(
        { from: 'campaigns@example.com', region: 'us-east-1', recipients: ['a@example.org'] },
        guardDeps(emu, tables, { staleAfterMinutes: 120 }),
      );

      // Assess
      expect(warn.proceed).toBe(true);
      expect(warn.problems).toEqual([expect.objectContaining({ code: 'SUPPRESSION_DATA_STALE', severity: 'warn' })]);
      expect(longer.problems).toEqual([]);
    });
  });

  describe('fail closed', () => {
    it('answers GUARD_DEPENDENCY_UNAVAILABLE naming SES and the region when SES keeps answering 5xx', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      await syncAllRegions(emu, tables);
      emu.setFaults({ serverErrorRate: 1 });

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-west-2', recipients: ['a@example.org'] },
        guardDeps(emu, tables),
      );

      // Assess
      expect(response.proceed).toBe(false);
      expect(response.sender).toBeNull();
      expect(response.account).toBeNull();
      const unavailable = response.problems.filter((p) => p.code === 'GUARD_DEPENDENCY_UNAVAILABLE');
      expect(unavailable.length).toBeGreaterThan(0);
      for (const p of unavailable)
        expect(p).toMatchObject({ severity: 'block', details: { dependency: 'ses', target: 'us-west-2', httpStatus: 500 } });
      expect(unavailable.map((p) => p.details.operation).sort()).toEqual(['GetAccount', 'ListEmailIdentities']);
    });

    it('answers GUARD_DEPENDENCY_UNAVAILABLE naming DynamoDB when the tables cannot be reached, and allows no recipient', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      const closed = await freePort();
      const client = new DynamoDBClient({
        endpoint: `http://127.0.0.1:${closed}`,
        region: 'us-east-1',
        credentials: TEST_CREDENTIALS,
        maxAttempts: 2,
      });
      // Commands the guard sends, and the attempts the SDK makes for them (the deserialize step runs once per attempt).
      const sent = { commands: [] as string[], attempts: 0 };
      client.middlewareStack.add(
        (next, context) => async (args) => {
          sent.commands.push(context.commandName ?? '?');
          return next(args);
        },
        { step: 'initialize', name: 'countCommands' },
      );
      client.middlewareStack.add(
        (next) => async (args) => {
          sent.attempts++;
          return next(args);
        },
        { step: 'deserialize', name: 'countAttempts' },
      );

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-east-1', recipients: ['a@example.org'] },
        guardDeps(emu, tables, { doc: documentClient(client) }),
      );

      // Assess: the guard gives up after the client's attempts (one read per table, no retry loop of its own), so an
      // unreachable DynamoDB costs a bounded time.
      expect(sent.commands).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand']);
      expect(sent.attempts).toBe(2 * 2);
      expect(response.proceed).toBe(false);
      expect(response.recipients.allowed).toEqual([]);
      const unavailable = response.problems.filter((p) => p.code === 'GUARD_DEPENDENCY_UNAVAILABLE');
      expect(unavailable.map((p) => p.details.target).sort()).toEqual([tables.stateTable, tables.suppressionTable].sort());
      for (const p of unavailable)
        expect(p).toMatchObject({
          severity: 'block',
          details: { dependency: 'dynamodb', operation: 'BatchGetItem', error: 'ECONNREFUSED' },
        });
      // SES was reachable, so its verdicts are still reported.
      expect(response.sender?.verifiedForSending).toBe(true);
    });

    it('does not cache a failed lookup: the next check asks SES again and succeeds', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      await syncAllRegions(emu, tables);
      const deps = guardDeps(emu, tables);
      emu.setFaults({ serverErrorRate: 1 });
      const failed = await evaluate({ from: 'campaigns@example.com', region: 'us-east-1', recipients: ['a@example.org'] }, deps);
      emu.setFaults({});

      // Act
      const recovered = await evaluate({ from: 'campaigns@example.com', region: 'us-east-1', recipients: ['a@example.org'] }, deps);

      // Assess
      expect(failed.proceed).toBe(false);
      expect(recovered.proceed).toBe(true);
    });
  });

  describe('load on SES and DynamoDB', () => {
    it('makes at most one GetAccount and one GetEmailIdentity call per region for a burst of 20 checks', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      await syncAllRegions(emu, tables);
      emu.resetStats();
      const deps = guardDeps(emu, tables, { cache: new LookupCache(60_000) });
      const check = (i: number) =>
        evaluate({ from: 'campaigns@example.com', region: i % 2 ? 'us-east-1' : 'us-west-2', recipients: [`r${i}@example.org`] }, deps);

      // Act: ten concurrent checks, then ten more one after another.
      const concurrent = await Promise.all(Array.from({ length: 10 }, (_, i) => check(i)));
      const sequential: GuardResponse[] = [];
      for (let i = 10; i < 20; i++) sequential.push(await check(i));

      // Assess
      expect([...concurrent, ...sequential].every((r) => r.proceed)).toBe(true);
      const stats = emu.stats().regions;
      for (const region of ['us-east-1', 'us-west-2']) {
        expect(stats[region]?.GetAccount?.requests).toBe(1);
        expect(stats[region]?.GetEmailIdentity?.requests).toBe(1);
        expect(stats[region]?.ListEmailIdentities?.requests).toBe(1);
      }
      expect(stats['eu-west-1']).toBeUndefined();
    });

    describe('SES answers shared between execution environments (the state table)', () => {
      // What the handler builds: the state table as the store; short re-read delays for the test.
      const sharedStore = (overrides: Partial<SharedLookupStore> = {}): SharedLookupStore => {
        const state = new StateTable(tables.doc, tables.stateTable);
        return {
          get: (key) => state.getSesLookup(key),
          put: (key, value, fetchedAt) => state.putSesLookup(key, value, fetchedAt),
          ttlMs: 30_000,
          now: Date.now,
          rereadDelaysMs: [20, 40],
          ...overrides,
        };
      };
      const request = { from: 'campaigns@example.com', region: 'us-west-2', recipients: ['r@example.org'] };

      it('answers a second environment (its own empty cache) without asking SES again', async () => {
        // Prepare
        verifyDomain(emu, 'example.com');
        await syncAllRegions(emu, tables);
        const first = await evaluate(request, guardDeps(emu, tables, { sharedLookups: sharedStore() }));
        emu.resetStats();

        // Act
        const second = await evaluate(request, guardDeps(emu, tables, { sharedLookups: sharedStore() }));

        // Assess
        expect(first.proceed).toBe(true);
        expect(second).toEqual(first);
        expect(emu.stats().totals.requests).toBe(0);
      });

      it('answers from the store when SES throttles an environment that lost the race to another', async () => {
        // Prepare: environment A asked SES and stored the answers; B looked at the store before A wrote (its first
        // read of each key finds nothing), and SES now throttles every call of B.
        verifyDomain(emu, 'example.com');
        await syncAllRegions(emu, tables);
        await evaluate(request, guardDeps(emu, tables, { sharedLookups: sharedStore() }));
        const raced = (): SharedLookupStore => {
          const store = sharedStore();
          const missed = new Set<string>();
          const get = async (key: string) => {
            if (missed.has(key)) return store.get(key);
            missed.add(key);
            return undefined;
          };
          return { ...store, get };
        };
        emu.failNextRequests('us-west-2', 1_000, 'throttle');

        // Act
        const withStore = await evaluate(request, guardDeps(emu, tables, { sharedLookups: raced() }));
        const withoutStore = await evaluate(request, guardDeps(emu, tables));

        // Assess: the same throttling without the store is the self-inflicted unavailability the store prevents.
        expect(withStore.proceed).toBe(true);
        expect(withStore.problems).toEqual([]);
        expect(withoutStore.proceed).toBe(false);
        expect(withoutStore.problems).toContainEqual(expect.objectContaining({ code: 'GUARD_DEPENDENCY_UNAVAILABLE' }));
      });

      it('asks SES again once the stored answer is older than the store TTL, and a failing store costs only the sharing', async () => {
        // Prepare
        verifyDomain(emu, 'example.com');
        await syncAllRegions(emu, tables);
        await evaluate(request, guardDeps(emu, tables, { sharedLookups: sharedStore() }));
        emu.resetStats();
        const later = sharedStore({ now: () => Date.now() + 31_000 });
        const broken = sharedStore({
          get: async () => Promise.reject(new Error('store unavailable')),
          put: async () => Promise.reject(new Error('store unavailable')),
        });

        // Act
        const expired = await evaluate(request, guardDeps(emu, tables, { sharedLookups: later }));
        const callsAfterExpiry = emu.stats().totals.requests;
        const unshared = await evaluate(request, guardDeps(emu, tables, { sharedLookups: broken }));

        // Assess
        expect(expired.proceed).toBe(true);
        expect(callsAfterExpiry).toBeGreaterThan(0);
        expect(unshared.proceed).toBe(true);
        expect(emu.stats().totals.requests).toBe(2 * callsAfterExpiry);
      });
    });

    it('reads 1,000 recipients with at most 10 BatchGetItem requests and never GetItem', async () => {
      // Prepare
      verifyDomain(emu, 'example.com');
      emu
        .region('us-east-1')
        .putSuppressedMany(
          Array.from({ length: 100 }, (_, i) => ({ emailAddress: `user${i * 10}@example.org`, reason: 'BOUNCE' as const })),
        );
      await syncAllRegions(emu, tables);
      const { doc: countingDoc, counts } = countingDocumentClient();
      const recipients = Array.from({ length: 1000 }, (_, i) => `user${i}@example.org`);

      // Act
      const response = await evaluate(
        { from: 'campaigns@example.com', region: 'us-west-2', recipients },
        guardDeps(emu, tables, { doc: countingDoc }),
      );

      // Assess
      expect(response.recipients.suppressed).toHaveLength(100);
      expect(response.recipients.allowed).toHaveLength(900);
      expect(response.recipients.allowed[0]).toBe('user1@example.org');
      // Ten for the recipients, one for the sync state of the regions.
      expect(counts.BatchGetItemCommand).toBeLessThanOrEqual(11);
      expect(counts.GetItemCommand).toBeUndefined();
      expect(Object.keys(counts)).toEqual(['BatchGetItemCommand']);
    });
  });
});
