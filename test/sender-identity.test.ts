import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DnsLookups } from '../cli/dns';
import { auditSender, parseSender } from '../cli/sender-audit';
import { identityCandidates } from '../lambdas/domain/email';
import { type IdentityState, indexIdentities, isVerifiedIdentity, passedOver, resolveIdentity } from '../lambdas/domain/identity';
import { evaluate } from '../lambdas/guard/guard';
import { SesEmulator } from '../local/ses-emulator';
import { guardDeps, syncAllRegions } from './support/guard';
import { createTestTables, type TestTables, testSesClient } from './support/local-aws';

const address = (value: string) => {
  const at = value.lastIndexOf('@');
  return { address: value, localPart: value.slice(0, at), domain: value.slice(at + 1) };
};
const verified = (name: string, sendingEnabled?: boolean): IdentityState => ({
  name,
  verificationStatus: 'SUCCESS',
  ...(sendingEnabled === undefined ? {} : { sendingEnabled }),
});

describe('Function: resolveIdentity', () => {
  it('takes the most specific verified identity and says why each more specific one does not cover the send', () => {
    // Prepare
    const checked = identityCandidates(address('ceo@mail.example.com'));
    const identities = indexIdentities([{ name: 'CEO@mail.example.com', verificationStatus: 'PENDING' }, verified('example.com')]);

    // Act
    const resolution = resolveIdentity(checked, identities);

    // Assess
    expect(resolution.covering?.name).toBe('example.com');
    expect(resolution.reported?.name).toBe('example.com');
    expect(resolution.outcomes.map((o) => [o.name, o.status])).toEqual([
      ['ceo@mail.example.com', 'not-verified'],
      ['mail.example.com', 'absent'],
      ['example.com', 'covers'],
    ]);
    expect(passedOver(resolution)).toEqual(['ceo@mail.example.com is PENDING']);
  });

  it('passes over a verified identity whose sending is disabled, and marks less specific verified ones superseded', () => {
    // Prepare
    const checked = identityCandidates(address('news@mail.example.com'));
    const identities = indexIdentities([verified('mail.example.com', false), verified('example.com', true)]);

    // Act
    const resolution = resolveIdentity(checked, identities);
    const sub = resolveIdentity(
      identityCandidates(address('a@example.com')),
      indexIdentities([verified('a@example.com'), verified('example.com')]),
    );

    // Assess
    expect(resolution.covering?.name).toBe('example.com');
    expect(passedOver(resolution)).toEqual(['mail.example.com has sending disabled']);
    expect(sub.outcomes.map((o) => o.status)).toEqual(['covers', 'superseded']);
  });

  it('reports the most specific existing identity when none is verified, and nothing when none exists', () => {
    // Act
    const pending = resolveIdentity(
      identityCandidates(address('ceo@example.com')),
      indexIdentities([
        { name: 'example.com', verificationStatus: 'FAILED' },
        { name: 'ceo@example.com', verificationStatus: 'PENDING' },
      ]),
    );
    const none = resolveIdentity(identityCandidates(address('ceo@example.com')), indexIdentities([verified('other.example')]));

    // Assess
    expect(pending.covering).toBeUndefined();
    expect(pending.reported).toEqual({ name: 'ceo@example.com', verificationStatus: 'PENDING' });
    expect(none).toEqual({
      checked: ['ceo@example.com', 'example.com'],
      outcomes: [
        { name: 'ceo@example.com', status: 'absent' },
        { name: 'example.com', status: 'absent' },
      ],
    });
  });

  it('counts a verified identity with sending disabled as a verified recipient (the sandbox rule)', () => {
    // Act
    const identities = indexIdentities([verified('example.org', false)]);

    // Assess
    expect(isVerifiedIdentity(identityCandidates(address('a@example.org')), identities)).toBe(true);
    expect(isVerifiedIdentity(identityCandidates(address('a@example.net')), identities)).toBe(false);
  });
});

/** DNS that knows no record: the identity checks of the audit do not depend on DNS. */
const noDns: DnsLookups = {
  resolveTxt: () => Promise.reject(Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' })),
  resolveCname: () => Promise.reject(Object.assign(new Error('queryCname ENOTFOUND'), { code: 'ENOTFOUND' })),
  resolveMx: () => Promise.reject(Object.assign(new Error('queryMx ENOTFOUND'), { code: 'ENOTFOUND' })),
};

describe('Identity resolution: the guard and ssg audit agree (SES emulator + DynamoDB Local)', () => {
  let emu: SesEmulator;
  let tables: TestTables;
  const clients: SESv2Client[] = [];
  const ses = (region: string) => {
    const client = testSesClient(emu.endpoint, region);
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    emu = await SesEmulator.start({ requestsPerSecond: 0, seed: 11 });
    tables = await createTestTables();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await emu.stop();
  });

  it('resolves example.com for ceo@example.com while the address identity is PENDING and the domain verified', async () => {
    // Prepare
    emu.region('us-east-1').putIdentity({ name: 'example.com' });
    emu.region('us-east-1').putIdentity({ name: 'ceo@example.com', verificationStatus: 'PENDING' });
    await syncAllRegions(emu, tables);

    // Act
    const [guard, audit] = await Promise.all([
      evaluate({ from: 'CEO <ceo@example.com>', region: 'us-east-1', recipients: ['a@example.org'] }, guardDeps(emu, tables)),
      auditSender(parseSender('CEO <ceo@example.com>'), ['us-east-1'], ses, noDns),
    ]);

    // Assess
    expect(guard.proceed).toBe(true);
    expect(guard.sender).toMatchObject({ identity: 'example.com', identityType: 'DOMAIN', verifiedForSending: true });
    const [region] = audit.regions;
    expect(region).toMatchObject({ region: 'us-east-1', identity: 'example.com', identityType: 'DOMAIN' });
    expect(region?.findings.find((f) => f.check === 'identity')).toEqual({
      check: 'identity',
      level: 'ok',
      message: 'example.com (DOMAIN) is verified for sending; ceo@example.com is PENDING, so SES uses example.com',
    });
  });

  it('agrees when nothing is verified: both report the PENDING address identity', async () => {
    // Prepare
    emu.region('us-east-1').putIdentity({ name: 'example.com', verificationStatus: 'FAILED' });
    emu.region('us-east-1').putIdentity({ name: 'ceo@example.com', verificationStatus: 'PENDING' });
    await syncAllRegions(emu, tables);

    // Act
    const [guard, audit] = await Promise.all([
      evaluate({ from: 'ceo@example.com', region: 'us-east-1', recipients: ['a@example.org'] }, guardDeps(emu, tables)),
      auditSender(parseSender('ceo@example.com'), ['us-east-1'], ses, noDns),
    ]);

    // Assess
    expect(guard.proceed).toBe(false);
    expect(guard.sender?.identity).toBe('ceo@example.com');
    expect(guard.problems.map((p) => p.code)).toEqual(['IDENTITY_VERIFICATION_PENDING']);
    expect(audit.regions[0]?.identity).toBe('ceo@example.com');
    expect(audit.regions[0]?.findings[0]).toMatchObject({ check: 'identity', level: 'fail' });
  });
});
