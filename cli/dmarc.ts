import { createRequire } from 'node:module';

/**
 * A DMARC record as mailauth parses it: every tag of the record, named in lower case (`pct` and `ri` as numbers),
 * the record itself as `rr`, and whether it is the organizational domain's record.
 */
export interface DmarcRecord {
  readonly v?: string;
  readonly p?: string;
  readonly sp?: string;
  readonly pct?: number;
  readonly rua?: string;
  readonly ruf?: string;
  readonly fo?: string;
  /** The TXT record, as published. */
  readonly rr: string;
  /** True when the domain has no record of its own and this is its organizational domain's (RFC 7489 §6.6.3). */
  readonly isOrgRecord: boolean;
}

/** Looks up the TXT records of a name; rejects with the resolver's error (its `code`: ENODATA, ESERVFAIL, ...). */
export type TxtLookup = (name: string) => Promise<string[][]>;

type MailauthResolver = (name: string, type: string) => Promise<string[][]>;
type GetDmarcRecord = (domain: string, resolver: MailauthResolver) => Promise<DmarcRecord | false>;

// mailauth's public `dmarc()` verifies a message: it returns only p, sp, pct and the record, drops the other tags
// (ruf, fo) and whether the record is the organizational domain's, and turns a failed lookup into a bare
// "temperror". Its record lookup does what the audit needs, so it is loaded by path (mailauth has no "exports"
// map, so the path resolves; test/dmarc.test.ts fails if an upgrade moves it).
const getDmarcRecord = createRequire(__filename)('mailauth/lib/dmarc/get-dmarc-record') as GetDmarcRecord;

/**
 * The DMARC record that applies to mail from `domain`: `_dmarc.<domain>`, else the organizational domain's (for
 * `mail.example.com`, `_dmarc.example.com`). Null when neither name has exactly one `v=DMARC1` record (an absent
 * name or an empty answer counts as none). A lookup that gives no answer (SERVFAIL, a timeout) rejects with the
 * lookup's error: whether there is a record is then not known.
 */
export async function lookupDmarcRecord(domain: string, lookupTxt: TxtLookup): Promise<DmarcRecord | null> {
  const record = await getDmarcRecord(domain, (name, type) => {
    if (type !== 'TXT') return Promise.reject(new Error(`unexpected ${type} lookup of ${name} for DMARC`));
    return lookupTxt(name);
  });
  return record || null;
}
