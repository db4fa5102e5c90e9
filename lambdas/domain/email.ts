import { hasControlCharacter } from './text';

/** A syntactically valid address, split into its parts. */
export interface ParsedAddress {
  /** The address as given, trimmed. */
  readonly address: string;
  readonly localPart: string;
  /** Lower-cased domain. */
  readonly domain: string;
}

/** Longest raw value looked at: an address of 254 characters with generous surrounding whitespace. */
const MAX_RAW_ADDRESS_LENGTH = 1024;

// RFC 5322 atext, the characters of an unquoted local part.
const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks an address the way SES can deliver it (RFC 5321 limits, dot-atom local part, ASCII host name with at least
 * two labels). Returns the parsed address, or a sentence saying what is wrong.
 */
export function checkAddress(raw: string): { ok: true; value: ParsedAddress } | { ok: false; error: string } {
  const fail = (why: string) => ({ ok: false as const, error: why });
  // Refused before any scan, so a huge value costs no more than a short one.
  if (raw.length > MAX_RAW_ADDRESS_LENGTH) return fail(`is ${raw.length} characters long; the limit is 254`);
  const address = raw.trim();
  if (address === '') return fail('is empty');
  if (address.includes('<') || address.includes('>'))
    return fail('must be a bare address like user@example.com, without a display name or angle brackets');
  if (/\s/.test(address)) return fail('contains whitespace');
  if (/[^\x21-\x7e]/.test(address)) return fail('contains non-ASCII characters (use the Punycode form of the domain, xn--...)');
  const at = address.lastIndexOf('@');
  if (at < 0) return fail('has no "@"');
  const localPart = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (localPart.includes('@')) return fail('has more than one "@"');
  if (localPart === '') return fail('has nothing before the "@"');
  if (domain === '') return fail('has no domain after the "@"');
  if (address.length > 254) return fail(`is ${address.length} characters long; the limit is 254`);
  if (localPart.length > 64) return fail(`has a local part of ${localPart.length} characters; the limit is 64`);
  if (localPart.startsWith('"')) return fail('has a quoted local part, which this guard does not accept');
  if (localPart.split('.').some((atom) => !ATEXT.test(atom))) {
    return fail("has an invalid local part (dots must separate non-empty runs of letters, digits and !#$%&'*+/=?^_`{|}~-)");
  }
  if (domain.startsWith('[')) return fail('has an IP-address literal as its domain, which SES does not send to');
  const labels = domain.split('.');
  if (labels.length < 2) return fail(`has the domain "${domain}", which is not a fully qualified host name`);
  if (domain.length > 253 || labels.some((label) => !LABEL.test(label))) {
    return fail(`has an invalid domain "${domain}" (labels of 1-63 letters, digits or inner hyphens, separated by dots)`);
  }
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return fail(`has the domain "${domain}", whose top-level label is numeric`);
  return { ok: true, value: { address, localPart, domain } };
}

/** A `from` value split into display name and address. */
export interface ParsedFrom extends ParsedAddress {
  readonly displayName?: string;
}

const NAME_ADDR = /^(?:"((?:[^"\\]|\\.)*)"|([^"<>]*?))\s*<([^<>]*)>$/;

/** Longest display name `from` may carry: far above any real one, far below a header line's 998 characters. */
export const MAX_DISPLAY_NAME_LENGTH = 256;
/** Longest `from`: a quoted display name of the maximum length, an address of 254 characters, and the punctuation. */
export const MAX_FROM_LENGTH = MAX_DISPLAY_NAME_LENGTH + 254 + 8;

/**
 * Parses `from`: a bare address or `Display Name <address>` (the name may be quoted). Refuses anything longer than
 * {@link MAX_FROM_LENGTH} before looking inside it, and any control character (CR and LF would inject headers).
 */
export function parseFrom(raw: string): { ok: true; value: ParsedFrom } | { ok: false; error: string } {
  if (raw.length > MAX_FROM_LENGTH) {
    return { ok: false, error: `is ${raw.length} characters long; the limit is ${MAX_FROM_LENGTH} (a display name and an address)` };
  }
  if (hasControlCharacter(raw)) {
    return { ok: false, error: 'contains a control character (CR, LF, NUL, TAB, ...), which could inject a mail header' };
  }
  const value = raw.trim();
  if (value.includes('<') || value.includes('>')) {
    const match = NAME_ADDR.exec(value);
    if (!match) return { ok: false, error: 'must be an address or "Display Name <address>"' };
    const checked = checkAddress(match[3] ?? '');
    if (!checked.ok) return { ok: false, error: `has an address that ${checked.error}` };
    const displayName = (match[1] ?? match[2] ?? '').trim();
    if (displayName.length > MAX_DISPLAY_NAME_LENGTH) {
      return { ok: false, error: `has a display name of ${displayName.length} characters; the limit is ${MAX_DISPLAY_NAME_LENGTH}` };
    }
    return { ok: true, value: { ...checked.value, ...(displayName ? { displayName } : {}) } };
  }
  const checked = checkAddress(value);
  return checked.ok ? checked : { ok: false, error: checked.error };
}

/**
 * Identities that may cover an address, most specific first, as SES resolves them: the address, its domain, then
 * each parent domain (`a@mail.example.com` → `a@mail.example.com`, `mail.example.com`, `example.com`, `com`).
 */
export function identityCandidates(address: ParsedAddress): string[] {
  const candidates = [`${address.localPart}@${address.domain}`.toLowerCase()];
  const labels = address.domain.split('.');
  // A bare top-level domain cannot be an SES identity, so the walk stops at two labels.
  for (let i = 0; i < labels.length - 1; i++) candidates.push(labels.slice(i).join('.'));
  return candidates;
}
