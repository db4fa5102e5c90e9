import { createHash } from 'node:crypto';

/**
 * Canonical key of an address: trimmed and lower-cased, because SES matches suppressed destinations
 * case-insensitively when it sends.
 */
export function canonicalAddress(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * A short, stable, non-reversible reference to an address for logs and metrics, which must never carry
 * plaintext addresses.
 */
export function addressRef(address: string): string {
  return createHash('sha256').update(canonicalAddress(address)).digest('hex').slice(0, 12);
}
