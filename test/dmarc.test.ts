import { lookupDmarcRecord } from '../cli/dmarc';
import { createDnsLookups, type DnsLookups } from '../cli/dns';
import { type FixtureDnsServer, startFixtureDnsServer } from './fixtures/cli/dns-server';

describe('Function: lookupDmarcRecord', () => {
  let server: FixtureDnsServer;
  let dns: DnsLookups;
  const lookupTxt = (name: string) => dns.resolveTxt(name);

  beforeAll(async () => {
    server = await startFixtureDnsServer({
      txt: {
        '_dmarc.example.com': ['v=DMARC1; p=quarantine; sp=reject; pct=50; rua=mailto:reports@example.com; ruf=mailto:f@example.com; fo=1'],
        '_dmarc.example.net': ['v=spf1 -all'],
        'example.org': ['v=spf1 include:amazonses.com ~all'],
      },
      failures: { '_dmarc.broken.example.com': 'SERVFAIL' },
    });
  });
  beforeEach(() => {
    // A fresh resolver per test: its answers are cached for a run.
    dns = createDnsLookups(server.address, {});
  });
  afterAll(async () => {
    await server?.close();
  });

  it('returns the policy and every tag of a domain that publishes a record', async () => {
    // Act
    const record = await lookupDmarcRecord('example.com', lookupTxt);

    // Assess
    expect(record).toEqual({
      v: 'DMARC1',
      p: 'quarantine',
      sp: 'reject',
      pct: 50,
      rua: 'mailto:reports@example.com',
      ruf: 'mailto:f@example.com',
      fo: '1',
      rr: 'v=DMARC1; p=quarantine; sp=reject; pct=50; rua=mailto:reports@example.com; ruf=mailto:f@example.com; fo=1',
      isOrgRecord: false,
    });
  });

  it("returns the organizational domain's record for a subdomain without one of its own", async () => {
    // Act
    const record = await lookupDmarcRecord('mail.example.com', lookupTxt);

    // Assess
    expect(record).toMatchObject({ p: 'quarantine', sp: 'reject', isOrgRecord: true });
  });

  it('returns nothing for a domain without a DMARC record', async () => {
    // Act: example.org has TXT records but no _dmarc name; example.net's _dmarc TXT record is not DMARC
    const records = await Promise.all([lookupDmarcRecord('example.org', lookupTxt), lookupDmarcRecord('example.net', lookupTxt)]);

    // Assess
    expect(records).toEqual([null, null]);
  });

  it('rejects with the lookup error when DNS gives no answer, since whether there is a record is not known', async () => {
    // Act
    const lookup = lookupDmarcRecord('broken.example.com', lookupTxt);

    // Assess
    await expect(lookup).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });
});
