import { identityCandidates } from '../lambdas/domain/email';
import { indexIdentities, resolveIdentity } from '../lambdas/domain/identity';
import type { SuppressionItem } from '../lambdas/domain/records';
import {
  accountSuppressionProblems,
  appliedReasons,
  configurationSetProblems,
  quotaProblems,
  sandboxProblems,
} from '../lambdas/guard/account-rules';
import { eventDeliveryProblems } from '../lambdas/guard/event-rules';
import { freshnessProblems } from '../lambdas/guard/freshness-rules';
import { classifyRecipients, recipientProblems, screenRecipients } from '../lambdas/guard/recipient-rules';
import { senderProblems, senderUsable, verifiedElsewhere } from '../lambdas/guard/sender-rules';
import type { AccountDetails, IdentityDetails } from '../lambdas/guard/ses-lookups';

const codes = (problems: ReadonlyArray<{ code: string; severity: string }>) => problems.map((p) => `${p.code}:${p.severity}`);

const ACCOUNT: AccountDetails = {
  sendingEnabled: true,
  enforcementStatus: 'HEALTHY',
  productionAccess: true,
  max24HourSend: 100,
  sentLast24Hours: 98,
  suppressedReasons: ['BOUNCE', 'COMPLAINT'],
};

const DOMAIN: IdentityDetails = {
  name: 'example.com',
  type: 'DOMAIN',
  verifiedForSending: true,
  verificationStatus: 'SUCCESS',
  dkimStatus: 'SUCCESS',
  dkimSigningEnabled: true,
  behaviorOnMxFailure: 'USE_DEFAULT_VALUE',
};

describe('Module: sender-rules', () => {
  const checked = identityCandidates({ address: 'news@example.com', localPart: 'news', domain: 'example.com' });

  it('reports DKIM and MAIL FROM problems of a usable identity, DKIM first', () => {
    // Prepare
    const resolution = resolveIdentity(
      checked,
      indexIdentities([{ name: 'example.com', verificationStatus: 'SUCCESS', sendingEnabled: true }]),
    );
    const details: IdentityDetails = { ...DOMAIN, dkimStatus: 'FAILED', mailFromDomain: 'mail.example.com', mailFromStatus: 'FAILED' };

    // Act
    const problems = senderProblems('us-east-1', 'news@example.com', { resolution, details, usable: true }, ['us-east-1']);

    // Assess
    expect(senderUsable(resolution, details)).toBe(true);
    expect(codes(problems)).toEqual(['DKIM_FAILED:block', 'MAIL_FROM_FAILED:warn']);
  });

  it('blocks a verified identity whose sending is disabled, and names where else the sender is verified', () => {
    // Prepare
    const resolution = resolveIdentity(
      checked,
      indexIdentities([{ name: 'example.com', verificationStatus: 'SUCCESS', sendingEnabled: false }]),
    );
    const elsewhere = verifiedElsewhere(checked, [
      { region: 'us-west-2', identities: indexIdentities([{ name: 'example.com', verificationStatus: 'SUCCESS', sendingEnabled: true }]) },
      { region: 'eu-west-1', identities: undefined },
    ]);

    // Act
    const problems = senderProblems('us-east-1', 'news@example.com', { resolution, details: DOMAIN, usable: false }, elsewhere);

    // Assess
    expect(senderUsable(resolution, DOMAIN)).toBe(false);
    expect(elsewhere).toEqual(['us-west-2']);
    expect(codes(problems)).toEqual(['IDENTITY_SENDING_DISABLED:block']);
  });
});

describe('Module: account-rules', () => {
  it("applies the set's reasons over the account's, and every reason when neither is known", () => {
    // Act & Assess
    expect([...appliedReasons(ACCOUNT, { name: 's', sendingEnabled: true, suppressedReasons: ['COMPLAINT'] })]).toEqual(['COMPLAINT']);
    expect([...appliedReasons({ ...ACCOUNT, suppressedReasons: ['BOUNCE'] }, { name: 's', sendingEnabled: true })]).toEqual(['BOUNCE']);
    expect([...appliedReasons(undefined, null)]).toEqual(['BOUNCE', 'COMPLAINT']);
  });

  it('warns that suppression is off for the account only when no configuration set overrides it', () => {
    // Prepare
    const off = { ...ACCOUNT, suppressedReasons: [] };

    // Act & Assess
    expect(codes(accountSuppressionProblems('us-east-1', off, undefined))).toEqual(['SUPPRESSION_DISABLED_FOR_ACCOUNT:warn']);
    expect(accountSuppressionProblems('us-east-1', off, { name: 's', sendingEnabled: true, suppressedReasons: ['BOUNCE'] })).toEqual([]);
    expect(codes(configurationSetProblems('us-east-1', 's', { name: 's', sendingEnabled: false, suppressedReasons: [] }))).toEqual([
      'CONFIGURATION_SET_SENDING_DISABLED:block',
      'SUPPRESSION_DISABLED_BY_CONFIGURATION_SET:warn',
    ]);
  });

  it('blocks more allowed recipients than the quota has left, never with an unlimited quota, and warns in the sandbox', () => {
    // Act & Assess
    expect(quotaProblems('us-east-1', ACCOUNT, 2)).toEqual([]);
    expect(quotaProblems('us-east-1', ACCOUNT, 3)[0]?.details).toEqual({
      region: 'us-east-1',
      allowed: 3,
      remaining: 2,
      max24HourSend: 100,
      sentLast24Hours: 98,
    });
    expect(quotaProblems('us-east-1', { ...ACCOUNT, max24HourSend: -1 }, 1_000_000)).toEqual([]);
    expect(sandboxProblems('us-east-1', ACCOUNT, 0)).toEqual([]);
    expect(sandboxProblems('us-east-1', { ...ACCOUNT, productionAccess: false }, 2)[0]?.details).toEqual({
      region: 'us-east-1',
      unverifiedRecipients: 2,
    });
  });
});

describe('Module: event-rules', () => {
  const DELIVERING = ['ses-suppression-guard', 'marketing'];

  it("warns when the request's configuration set is not one that delivers events, whatever the identity's default", () => {
    // Act
    const problems = eventDeliveryProblems('us-east-1', 'transactional', { ...DOMAIN, defaultConfigurationSet: 'marketing' }, DELIVERING);

    // Assess
    expect(problems).toEqual([
      {
        code: 'EVENTS_NOT_DELIVERED',
        severity: 'warn',
        message:
          'The configuration set transactional does not deliver SES events to the service in us-east-1: SES sends the service no events for this mail, so its bounces and complaints reach the service only through the sync of us-east-1\'s suppression list, not in real time. List transactional in the setting "eventConfigurationSets" and deploy, or send with the configuration set ses-suppression-guard.',
        details: {
          region: 'us-east-1',
          identity: 'example.com',
          eventConfigurationSets: DELIVERING,
          configurationSetName: 'transactional',
          source: 'request',
        },
      },
    ]);
  });

  it("warns when a send names no set and the identity's default is missing or does not deliver events, naming ssg events attach", () => {
    // Act
    const [none] = eventDeliveryProblems('us-west-2', undefined, DOMAIN, DELIVERING);
    const [other] = eventDeliveryProblems('us-west-2', undefined, { ...DOMAIN, defaultConfigurationSet: 'legacy' }, DELIVERING);

    // Assess
    expect(none).toMatchObject({
      code: 'EVENTS_NOT_DELIVERED',
      severity: 'warn',
      details: { region: 'us-west-2', identity: 'example.com', configurationSetName: null, source: 'identity default' },
    });
    expect(none?.message).toBe(
      "Mail from example.com in us-west-2 names no configuration set and the identity has no default one: SES sends the service no events for this mail, so its bounces and complaints reach the service only through the sync of us-west-2's suppression list, not in real time. Run ssg events attach --identity example.com --region us-west-2, or send with the configuration set ses-suppression-guard.",
    );
    expect(other).toMatchObject({ code: 'EVENTS_NOT_DELIVERED', severity: 'warn', details: { configurationSetName: 'legacy' } });
    expect(other?.message).toBe(
      'The default configuration set legacy of example.com does not deliver SES events to the service in us-west-2: SES sends the service no events for this mail, so its bounces and complaints reach the service only through the sync of us-west-2\'s suppression list, not in real time. List legacy in the setting "eventConfigurationSets" and deploy, or run ssg events attach --identity example.com --region us-west-2 --force (which replaces legacy as the identity\'s default).',
    );
  });

  it("says nothing for the service's set or a listed set, from the request or the identity's default", () => {
    // Act & Assess
    expect(eventDeliveryProblems('us-east-1', 'ses-suppression-guard', DOMAIN, DELIVERING)).toEqual([]);
    expect(eventDeliveryProblems('us-east-1', 'marketing', { ...DOMAIN, defaultConfigurationSet: 'legacy' }, DELIVERING)).toEqual([]);
    expect(
      eventDeliveryProblems('us-east-1', undefined, { ...DOMAIN, defaultConfigurationSet: 'ses-suppression-guard' }, DELIVERING),
    ).toEqual([]);
    expect(eventDeliveryProblems('us-east-1', undefined, { ...DOMAIN, defaultConfigurationSet: 'marketing' }, DELIVERING)).toEqual([]);
  });

  it('says nothing when events are off, or when no identity covers the sender and the request names no set', () => {
    // Act & Assess
    expect(eventDeliveryProblems('us-east-1', 'transactional', DOMAIN, 'off')).toEqual([]);
    expect(eventDeliveryProblems('us-east-1', undefined, DOMAIN, 'off')).toEqual([]);
    expect(eventDeliveryProblems('us-east-1', undefined, null, DELIVERING)).toEqual([]);
    expect(eventDeliveryProblems('us-east-1', undefined, undefined, DELIVERING)).toEqual([]);
  });
});

describe('Module: recipient-rules', () => {
  const bounced: SuppressionItem = {
    address: 'b@example.org',
    firstSeen: '2024-01-01T00:00:00.000Z',
    lastUpdated: '2024-01-01T00:00:00.000Z',
    origin: 'ses:us-east-1',
    'region:us-east-1': {
      address: 'b@example.org',
      reason: 'BOUNCE',
      lastUpdateTime: '2024-01-01T00:00:00.000Z',
      status: 'LISTED',
      syncedAt: '2024-01-01T00:00:00.000Z',
    },
  } as SuppressionItem;

  it('lists each recipient once, in request order, with its request position', () => {
    // Prepare
    const screened = screenRecipients(['a@example.org', 'not-an-address', 'A@Example.org', 'b@example.org', 'c@example.net']);

    // Act
    const recipients = classifyRecipients(screened, {
      region: 'us-east-1',
      items: new Map([['b@example.org', bounced]]),
      reasons: new Set(['BOUNCE', 'COMPLAINT']),
      sandboxIdentities: indexIdentities([{ name: 'example.org', verificationStatus: 'SUCCESS', sendingEnabled: false }]),
    });

    // Assess
    expect(screened.duplicates).toBe(1);
    expect(screened.candidates.map((c) => c.key)).toEqual(['a@example.org', 'b@example.org', 'c@example.net']);
    expect(recipients.allowed).toEqual(['a@example.org']);
    expect(recipients.suppressed.map((s) => [s.address, s.reason, s.regions])).toEqual([['b@example.org', 'BOUNCE', ['us-east-1']]]);
    expect(recipients.invalid.map((i) => i.address)).toEqual(['not-an-address', 'c@example.net']);
    expect(recipients.positions).toEqual({ allowed: [0], suppressed: [3], invalid: [1, 4] });
    expect(recipients.unverified).toBe(1);
    expect(codes(recipientProblems(recipients, 5, new Set(['BOUNCE']), true))).toEqual([
      'RECIPIENTS_SUPPRESSED:warn',
      'RECIPIENTS_INVALID:warn',
    ]);
  });

  it('lists only the malformed recipients, and says nothing is deliverable, when the suppression table gave no answer', () => {
    // Prepare
    const screened = screenRecipients(['a@example.org', 'bad']);

    // Act
    const recipients = classifyRecipients(screened, undefined);

    // Assess
    expect(recipients).toMatchObject({ allowed: [], suppressed: [], positions: { allowed: [], suppressed: [], invalid: [1] } });
    expect(codes(recipientProblems(recipients, 2, new Set(), false))).toEqual(['RECIPIENTS_INVALID:warn']);
    expect(codes(recipientProblems(classifyRecipients(screenRecipients(['bad']), undefined), 1, new Set(), true))).toContain(
      'NO_DELIVERABLE_RECIPIENTS:block',
    );
  });
});

describe('Module: freshness-rules', () => {
  it('names each region whose watermark is missing or older than the threshold, with the configured severity', () => {
    // Prepare
    const now = Date.parse('2024-06-01T12:00:00.000Z');

    // Act
    const problems = freshnessProblems(
      [
        { region: 'us-east-1', watermark: '2024-06-01T11:30:00.000Z' },
        { region: 'us-west-2', watermark: '2024-06-01T10:00:00.000Z' },
        { region: 'eu-west-1' },
      ],
      now,
      60,
      'warn',
    );

    // Assess
    expect(codes(problems)).toEqual(['SUPPRESSION_DATA_STALE:warn']);
    expect(problems[0]?.details).toMatchObject({
      staleAfterMinutes: 60,
      regions: [
        { region: 'us-west-2', ageMinutes: 120 },
        { region: 'eu-west-1', watermark: null, ageMinutes: null },
      ],
    });
  });
});
