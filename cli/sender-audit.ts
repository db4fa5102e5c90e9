import { GetEmailIdentityCommand, type GetEmailIdentityCommandOutput, type SESv2Client } from '@aws-sdk/client-sesv2';
import { identityCandidates, parseFrom } from '../lambdas/domain/email';
import { indexIdentities, passedOver, resolveIdentity } from '../lambdas/domain/identity';
import { excerpt } from '../lambdas/domain/text';
import { type DmarcRecord, lookupDmarcRecord } from './dmarc';
import { type DnsLookups, isNoRecord } from './dns';
import { UsageError } from './errors';

/**
 * `ok`; a problem that only deserves attention (`warn`); a check whose answer could not be had (`unchecked`: DNS or
 * SES gave no answer, so nothing is known either way); or a problem that breaks sending or authentication (`fail`).
 * Only a definite answer is a `fail`: for DNS, a record that is absent (NXDOMAIN, or no data) or wrong.
 */
export type Level = 'ok' | 'warn' | 'unchecked' | 'fail';

/** One check's outcome. */
export interface Finding {
  readonly check: string;
  readonly level: Level;
  readonly message: string;
}

/** A sender's setup in one region. */
export interface RegionAudit {
  readonly region: string;
  /** The identity SES would use for the sender (most specific first), null when none covers it. */
  readonly identity: string | null;
  readonly identityType: string | null;
  readonly findings: Finding[];
}

/** The whole audit. */
export interface SenderAudit {
  readonly sender: string;
  /** The From domain, whose DMARC record applies. */
  readonly domain: string;
  readonly regions: RegionAudit[];
  /** Checks of the From domain that do not depend on the region (DMARC). */
  readonly domainFindings: Finding[];
  readonly failures: number;
  /** Checks that could not be made (findings at level `unchecked`). */
  readonly unchecked: number;
  readonly warnings: number;
}

/** A parsed `--from`: an address (identities tried: address, domain, parents) or a domain. */
export interface SenderTarget {
  readonly sender: string;
  readonly domain: string;
  readonly candidates: string[];
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;

/** Parses `--from` (an address, `Name <address>`, or a domain). */
export function parseSender(raw: string): SenderTarget {
  const value = raw.trim();
  if (value.includes('@')) {
    const parsed = parseFrom(value);
    if (!parsed.ok) throw new UsageError(`--from ${excerpt(raw)} is not a valid sender address: it ${parsed.error}`);
    return {
      sender: parsed.value.address,
      domain: parsed.value.domain,
      candidates: identityCandidates(parsed.value).filter((c) => c.includes('@') || c.includes('.')),
    };
  }
  const domain = value.toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(domain)) throw new UsageError(`--from must be a sender address or a domain like example.com, got ${excerpt(raw)}`);
  const labels = domain.split('.');
  const candidates = labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
  return { sender: domain, domain, candidates };
}

/** Audits the sender in every region: SES identity, DKIM, MAIL FROM, and their DNS records; then DMARC once. */
export async function auditSender(
  target: SenderTarget,
  regions: readonly string[],
  ses: (region: string) => SESv2Client,
  dns: DnsLookups,
): Promise<SenderAudit> {
  const [regionAudits, domainFindings] = await Promise.all([
    Promise.all(regions.map((region) => auditRegion(target, region, ses(region), dns))),
    dmarcFindings(target.domain, dns),
  ]);
  const all = [...regionAudits.flatMap((r) => r.findings), ...domainFindings];
  return {
    sender: target.sender,
    domain: target.domain,
    regions: regionAudits,
    domainFindings,
    failures: all.filter((f) => f.level === 'fail').length,
    unchecked: all.filter((f) => f.level === 'unchecked').length,
    warnings: all.filter((f) => f.level === 'warn').length,
  };
}

/**
 * The identity SES uses for the sender in one region, resolved as the guard resolves it (lambdas/domain/identity.ts):
 * GetEmailIdentity of each candidate, most specific first, until one covers the send (less specific ones cannot
 * change the answer); when none does, the most specific one that exists. `passedOver` says why the more specific
 * identities that exist do not cover the send.
 */
export async function findIdentity(
  ses: SESv2Client,
  candidates: readonly string[],
): Promise<{ name: string; out: GetEmailIdentityCommandOutput; passedOver: string[] } | null> {
  const found = new Map<string, GetEmailIdentityCommandOutput>();
  const resolveAmong = (checked: readonly string[]) =>
    resolveIdentity(
      checked,
      indexIdentities([...found].map(([name, out]) => ({ name, verificationStatus: out.VerificationStatus ?? 'NOT_STARTED' }))),
    );
  let resolution = resolveAmong([]);
  for (const [i, name] of candidates.entries()) {
    try {
      found.set(name, await ses.send(new GetEmailIdentityCommand({ EmailIdentity: name })));
    } catch (error) {
      if ((error as Error).name !== 'NotFoundException') throw error;
    }
    resolution = resolveAmong(candidates.slice(0, i + 1));
    if (resolution.covering) break;
  }
  const name = resolution.reported?.name;
  const out = name === undefined ? undefined : found.get(name);
  return name !== undefined && out ? { name, out, passedOver: passedOver(resolution) } : null;
}

async function auditRegion(target: SenderTarget, region: string, ses: SESv2Client, dns: DnsLookups): Promise<RegionAudit> {
  let found: Awaited<ReturnType<typeof findIdentity>>;
  try {
    found = await findIdentity(ses, target.candidates);
  } catch (error) {
    return {
      region,
      identity: null,
      identityType: null,
      // Only NotFoundException says there is no such identity; throttling, a 5xx answer or access denied (after
      // the SDK's retries) says nothing about the sender's setup.
      findings: [
        {
          check: 'identity',
          level: 'unchecked',
          message: `could not ask SES in ${region}: ${(error as Error).name}: ${(error as Error).message}`,
        },
      ],
    };
  }
  if (!found) {
    return {
      region,
      identity: null,
      identityType: null,
      findings: [
        {
          check: 'identity',
          level: 'fail',
          message: `no SES identity in ${region} covers ${target.sender} (tried ${target.candidates.join(', ')}); verify the domain there before sending from ${region}`,
        },
      ],
    };
  }
  const { name, out } = found;
  const others = found.passedOver.length > 0 ? `; ${found.passedOver.join(', ')}, so SES uses ${name}` : '';
  const findings: Finding[] = [];
  findings.push(
    out.VerifiedForSendingStatus
      ? { check: 'identity', level: 'ok', message: `${name} (${out.IdentityType}) is verified for sending${others}` }
      : {
          check: 'identity',
          level: 'fail',
          message: `${name} (${out.IdentityType}) is not verified for sending (verification ${out.VerificationStatus ?? 'unknown'})`,
        },
  );

  const dkim = out.DkimAttributes;
  const dkimDomain = name.includes('@') ? name.slice(name.lastIndexOf('@') + 1) : name;
  if (dkim?.Status === 'SUCCESS' && dkim.SigningEnabled)
    findings.push({
      check: 'DKIM',
      level: 'ok',
      message: `${dkim.Status}, signing enabled (${dkim.SigningAttributesOrigin ?? 'AWS_SES'})`,
    });
  else
    findings.push({
      check: 'DKIM',
      level: 'fail',
      message: `status ${dkim?.Status ?? 'unknown'}, signing ${dkim?.SigningEnabled ? 'enabled' : 'disabled'}: SES does not DKIM-sign mail from ${name}`,
    });
  if (dkim?.Tokens?.length && (dkim.SigningAttributesOrigin ?? 'AWS_SES') === 'AWS_SES') {
    findings.push(await dkimDnsFinding(dkimDomain, region, dkim.Tokens, dns));
  }

  const mailFrom = out.MailFromAttributes;
  if (!mailFrom?.MailFromDomain) {
    findings.push({
      check: 'MAIL FROM',
      level: 'warn',
      message: 'no custom MAIL FROM domain: bounces go to amazonses.com, so SPF cannot align with your domain for DMARC (DKIM must)',
    });
  } else {
    const domain = mailFrom.MailFromDomain.toLowerCase();
    findings.push(
      mailFrom.MailFromDomainStatus === 'SUCCESS'
        ? { check: 'MAIL FROM', level: 'ok', message: `${domain} ${mailFrom.MailFromDomainStatus}` }
        : {
            check: 'MAIL FROM',
            level: 'fail',
            message: `${domain} is ${mailFrom.MailFromDomainStatus ?? 'unknown'} (on MX failure SES will ${mailFrom.BehaviorOnMxFailure === 'REJECT_MESSAGE' ? 'reject the message' : 'fall back to amazonses.com'})`,
          },
    );
    findings.push(await mxFinding(domain, region, dns));
    findings.push(await spfFinding(domain, dns));
  }
  return { region, identity: name, identityType: out.IdentityType ?? null, findings };
}

const trimDot = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** The error code of a failed DNS lookup (ESERVFAIL, ETIMEOUT, ECONNREFUSED, ...), else its message. */
const lookupError = (error: unknown) => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

async function dkimDnsFinding(domain: string, region: string, tokens: readonly string[], dns: DnsLookups): Promise<Finding> {
  const bad: string[] = [];
  const unanswered: string[] = [];
  for (const token of tokens) {
    const name = `${token}._domainkey.${domain}`;
    // Most regions sign with <token>.dkim.amazonses.com; some newer ones with <token>.dkim.<region>.amazonses.com.
    const expected = [`${token}.dkim.amazonses.com`, `${token}.dkim.${region}.amazonses.com`].map((t) => t.toLowerCase());
    try {
      const targets = (await dns.resolveCname(name)).map(trimDot);
      if (!targets.some((t) => expected.includes(t))) bad.push(`${name} points at ${targets.join(', ')}, not ${expected[0]}`);
    } catch (error) {
      if (isNoRecord(error)) bad.push(`${name} has no CNAME (add ${name} CNAME ${expected[0]})`);
      else unanswered.push(`${name}: DNS lookup failed (${lookupError(error)})`);
    }
  }
  const good = tokens.length - bad.length - unanswered.length;
  if (bad.length === 0 && unanswered.length === 0)
    return {
      check: 'DKIM DNS',
      level: 'ok',
      message: `${tokens.length} of ${tokens.length} CNAMEs <token>._domainkey.${domain} point at SES`,
    };
  return {
    check: 'DKIM DNS',
    // A CNAME that is definitely missing or wrong fails, whatever the lookups that gave no answer would have said.
    level: bad.length > 0 ? 'fail' : 'unchecked',
    message: `${good} of ${tokens.length} DKIM CNAMEs resolve to SES: ${[...bad, ...unanswered].join('; ')}`,
  };
}

async function mxFinding(domain: string, region: string, dns: DnsLookups): Promise<Finding> {
  const expected = `feedback-smtp.${region}.amazonses.com`;
  try {
    const records = await dns.resolveMx(domain);
    const exchanges = records.map((r) => trimDot(r.exchange));
    if (exchanges.includes(expected)) return { check: 'MAIL FROM MX', level: 'ok', message: `${domain} MX ${expected}` };
    return {
      check: 'MAIL FROM MX',
      level: 'fail',
      message: `${domain} MX is ${exchanges.join(', ') || 'empty'}; SES in ${region} needs "10 ${expected}"`,
    };
  } catch (error) {
    if (isNoRecord(error))
      return { check: 'MAIL FROM MX', level: 'fail', message: `${domain} has no MX record; SES in ${region} needs "10 ${expected}"` };
    return { check: 'MAIL FROM MX', level: 'unchecked', message: `${domain}: MX lookup failed (${lookupError(error)})` };
  }
}

/**
 * The SPF record of a domain (one `v=spf1` TXT record), or why there is none; `unanswered` when the lookup gave no
 * answer, so whether there is one is not known.
 */
async function spfRecord(domain: string, dns: DnsLookups): Promise<{ record?: string; error?: string; unanswered?: boolean }> {
  let rows: string[][];
  try {
    rows = await dns.resolveTxt(domain);
  } catch (error) {
    if (isNoRecord(error)) return { error: `${domain} has no SPF record` };
    return { error: `${domain}: TXT lookup failed (${lookupError(error)})`, unanswered: true };
  }
  const records = rows.map((chunks) => chunks.join('')).filter((txt) => /^v=spf1(\s|$)/i.test(txt.trim()));
  if (records.length === 0) return { error: `${domain} has no SPF record` };
  if (records.length > 1)
    return { error: `${domain} has ${records.length} SPF records, which is a permanent error (RFC 7208 §4.5); merge them into one` };
  return { record: (records[0] ?? '').trim() };
}

/**
 * Whether the MAIL FROM domain's SPF authorizes SES: `include:amazonses.com` directly, or through the records it
 * includes or redirects to (within SPF's limit of 10 lookups).
 */
async function spfFinding(domain: string, dns: DnsLookups): Promise<Finding> {
  const top = await spfRecord(domain, dns);
  if (top.unanswered) return { check: 'SPF', level: 'unchecked', message: `${top.error}` };
  if (!top.record) return { check: 'SPF', level: 'fail', message: `${top.error}; add TXT "v=spf1 include:amazonses.com ~all"` };
  let lookups = 0;
  // Includes whose record could not be read: amazonses.com may be behind one of them.
  const unanswered: string[] = [];
  const search = async (record: string, via: string[]): Promise<{ found: boolean; qualifier?: string; via: string[] }> => {
    const terms = record.split(/\s+/).slice(1);
    for (const term of terms) {
      const include = /^([+?~-]?)include:(.+)$/i.exec(term);
      if (include && trimDot(include[2] ?? '') === 'amazonses.com') return { found: true, qualifier: include[1] || '+', via };
    }
    const next = terms
      .map((term) => /^[+?~-]?include:(.+)$/i.exec(term)?.[1] ?? /^redirect=(.+)$/i.exec(term)?.[1])
      .filter((name): name is string => name !== undefined && name !== '' && !name.includes('%'));
    for (const name of next) {
      if (++lookups > 10) return { found: false, via };
      const nested = await spfRecord(trimDot(name), dns);
      if (nested.unanswered) unanswered.push(`${nested.error}`);
      if (!nested.record) continue;
      const result = await search(nested.record, [...via, trimDot(name)]);
      if (result.found) return result;
    }
    return { found: false, via };
  };
  const result = await search(top.record, []);
  if (!result.found && unanswered.length > 0)
    return {
      check: 'SPF',
      level: 'unchecked',
      message: `${domain}: "${top.record}" does not include amazonses.com directly, and not every record it includes could be read: ${unanswered.join('; ')}`,
    };
  if (!result.found)
    return { check: 'SPF', level: 'fail', message: `${domain}: "${top.record}" does not include amazonses.com; add include:amazonses.com` };
  if (result.qualifier === '-')
    return { check: 'SPF', level: 'fail', message: `${domain}: "${top.record}" has -include:amazonses.com, which fails SES's mail` };
  return {
    check: 'SPF',
    level: 'ok',
    message: `${domain}: "${top.record}" includes amazonses.com${result.via.length ? ` (via ${result.via.join(' > ')})` : ''}`,
  };
}

async function dmarcFindings(domain: string, dns: DnsLookups): Promise<Finding[]> {
  let record: DmarcRecord | null;
  try {
    record = await lookupDmarcRecord(domain, (name) => dns.resolveTxt(name));
  } catch (error) {
    return [{ check: 'DMARC', level: 'unchecked', message: `_dmarc.${domain}: DNS lookup failed (${lookupError(error)})` }];
  }
  if (!record) {
    return [
      {
        check: 'DMARC',
        level: 'fail',
        message: `no DMARC record at _dmarc.${domain}; mailbox providers require one from bulk senders (start with "v=DMARC1; p=none; rua=mailto:...")`,
      },
    ];
  }
  const where = record.isOrgRecord ? 'the organizational domain' : `_dmarc.${domain}`;
  const policy = (record.p ?? '').toLowerCase();
  const findings: Finding[] = [];
  if (policy === 'reject' || policy === 'quarantine')
    findings.push({
      check: 'DMARC',
      level: 'ok',
      message: `policy p=${policy}${record.pct !== undefined && record.pct < 100 ? ` (pct=${record.pct})` : ''} at ${where}: "${record.rr}"`,
    });
  else if (policy === 'none')
    findings.push({
      check: 'DMARC',
      level: 'warn',
      message: `policy p=none at ${where} only monitors; spoofed mail is delivered: "${record.rr}"`,
    });
  else
    findings.push({
      check: 'DMARC',
      level: 'fail',
      message: `the record at ${where} has no valid policy (p=${record.p ?? 'missing'}): "${record.rr}"`,
    });
  if (record.ruf) {
    findings.push({
      check: 'DMARC ruf',
      level: 'warn',
      message: `forensic (failure) reports requested (ruf=${record.ruf}): one report per failing message can flood that inbox, and reports carry message content; consider removing ruf=`,
    });
  }
  if (
    record.fo
      ?.split(':')
      .map((o) => o.trim())
      .includes('1')
  ) {
    findings.push({
      check: 'DMARC fo',
      level: 'warn',
      message: `fo=1 asks for a failure report whenever any mechanism fails (not only when all do), multiplying forensic reports`,
    });
  }
  return findings;
}
