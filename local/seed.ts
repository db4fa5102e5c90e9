import type { SesEmulator } from './ses-emulator';

const HOUR = 3600_000;

/**
 * The demo data `npm start` loads: three regions with addresses suppressed in one region only, one address in
 * every region (in a different case in each), and identities that reproduce the region-mismatch incident.
 */
export function seedDemo(ses: SesEmulator, now = Date.now()): void {
  const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR);
  ses.region('us-east-1').putSuppressedMany([
    { emailAddress: 'Jane.Doe@Example.org', reason: 'BOUNCE', lastUpdateTime: at(72) },
    { emailAddress: 'bounced.once@example.net', reason: 'BOUNCE', lastUpdateTime: at(30) },
    { emailAddress: 'angry.reader@example.org', reason: 'COMPLAINT', lastUpdateTime: at(5) },
  ]);
  ses.region('us-west-2').putSuppressedMany([
    { emailAddress: 'jane.doe@example.org', reason: 'BOUNCE', lastUpdateTime: at(48) },
    { emailAddress: 'West.Coast@Example.com', reason: 'BOUNCE', lastUpdateTime: at(12) },
  ]);
  ses.region('eu-west-1').putSuppressedMany([
    { emailAddress: 'JANE.DOE@EXAMPLE.ORG', reason: 'COMPLAINT', lastUpdateTime: at(2) },
    { emailAddress: 'europe.only@example.eu', reason: 'COMPLAINT', lastUpdateTime: at(20) },
  ]);

  // campaigns@example.com sends from us-east-1, where example.com is verified; us-west-2 never verified it.
  ses.region('us-east-1').putIdentity({
    name: 'example.com',
    type: 'DOMAIN',
    verifiedForSending: true,
    verificationStatus: 'SUCCESS',
    dkimStatus: 'SUCCESS',
    mailFromDomain: 'mail.example.com',
    mailFromStatus: 'SUCCESS',
  });
  // news@example.net is set up in every region.
  for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) {
    ses.region(region).putIdentity({
      name: 'example.net',
      type: 'DOMAIN',
      verifiedForSending: true,
      verificationStatus: 'SUCCESS',
      dkimStatus: 'SUCCESS',
      mailFromDomain: 'bounce.example.net',
      mailFromStatus: 'SUCCESS',
    });
  }
}
