import type { SesEmulator, SuppressedEntryInput } from './ses-emulator';

const HOUR = 3600_000;

/** Suppressed in the first region only: after propagation, on every region's list (the demo shows it). */
export const DEMO_BOUNCED_ONCE = 'bounced.once@example.net';

/**
 * The demo data `npm start` loads into the configured regions (whatever `cdk.json` says): addresses suppressed in
 * one region only, one address in every region (in a different case in each), and identities that reproduce the
 * region-mismatch incident (example.com verified in the first region only, example.net in every region).
 */
export function seedDemo(ses: SesEmulator, regions: readonly string[], now = Date.now()): void {
  if (regions.length === 0) throw new Error('the demo needs at least one region');
  const at = (hoursAgo: number) => new Date(now - hoursAgo * HOUR);
  const perRegion: SuppressedEntryInput[][] = [
    [
      { emailAddress: 'Jane.Doe@Example.org', reason: 'BOUNCE', lastUpdateTime: at(72) },
      { emailAddress: DEMO_BOUNCED_ONCE, reason: 'BOUNCE', lastUpdateTime: at(30) },
      { emailAddress: 'angry.reader@example.org', reason: 'COMPLAINT', lastUpdateTime: at(5) },
    ],
    [
      { emailAddress: 'jane.doe@example.org', reason: 'BOUNCE', lastUpdateTime: at(48) },
      { emailAddress: 'West.Coast@Example.com', reason: 'BOUNCE', lastUpdateTime: at(12) },
    ],
    [
      { emailAddress: 'JANE.DOE@EXAMPLE.ORG', reason: 'COMPLAINT', lastUpdateTime: at(2) },
      { emailAddress: 'europe.only@example.eu', reason: 'COMPLAINT', lastUpdateTime: at(20) },
    ],
  ];
  regions.forEach((region, index) => {
    // Beyond the third region, each one lists jane.doe too; with fewer regions the last one takes the rest.
    const own = index === regions.length - 1 ? perRegion.slice(index).flat() : (perRegion[index] ?? []);
    const entries: SuppressedEntryInput[] =
      own.length > 0 ? own : [{ emailAddress: 'jane.doe@Example.ORG', reason: 'BOUNCE', lastUpdateTime: at(10 + index) }];
    const seen = new Set<string>();
    ses
      .region(region)
      .putSuppressedMany(
        entries.filter((entry) => !seen.has(entry.emailAddress.toLowerCase()) && seen.add(entry.emailAddress.toLowerCase())),
      );
  });

  const [first = ''] = regions;
  // campaigns@example.com sends from the first region, where example.com is verified; no other region verified it.
  ses.region(first).putIdentity({
    name: 'example.com',
    type: 'DOMAIN',
    verifiedForSending: true,
    verificationStatus: 'SUCCESS',
    dkimStatus: 'SUCCESS',
    mailFromDomain: 'mail.example.com',
    mailFromStatus: 'SUCCESS',
  });
  // news@example.net is set up in every region.
  for (const region of regions) {
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
