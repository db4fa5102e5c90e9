import { randomBytes } from 'node:crypto';
import { SesError } from './errors';

interface Snapshot<T> {
  readonly items: readonly T[];
  /** Last time a token for this snapshot was issued; the snapshot lives until its newest token expires. */
  lastIssuedMs: number;
}

interface DecodedToken {
  readonly snapshotId: number;
  readonly offset: number;
  readonly issuedMs: number;
}

/**
 * Snapshot-backed paging: a new listing freezes its (already shuffled) result set, and NextTokens are opaque
 * references to (snapshot, offset) that expire after a TTL, like SES's short-lived tokens.
 */
export class SnapshotPager<T> {
  private readonly snapshots = new Map<number, Snapshot<T>>();
  private nextId = 1;
  // Per-instance nonce so tokens from another region or a restarted emulator are rejected instead of misread.
  private readonly nonce = randomBytes(6).toString('hex');

  constructor(
    private readonly now: () => number,
    private readonly ttlMs: () => number,
  ) {}

  /** Starts a new listing over `items` (taken as-is, not copied) and returns the first page. */
  start(items: readonly T[], pageSize: number): { page: readonly T[]; nextToken?: string } {
    this.prune();
    const id = this.nextId++;
    const snapshot: Snapshot<T> = { items, lastIssuedMs: this.now() };
    this.snapshots.set(id, snapshot);
    return this.page(id, snapshot, 0, pageSize);
  }

  /** Continues a listing from a NextToken; throws InvalidNextTokenException when it is malformed or expired. */
  resume(token: string, pageSize: number): { page: readonly T[]; nextToken?: string } {
    const decoded = this.decode(token);
    if (!decoded) throw new SesError('InvalidNextTokenException', 'The NextToken provided is invalid.');
    if (this.now() - decoded.issuedMs > this.ttlMs()) {
      throw new SesError('InvalidNextTokenException', 'The NextToken provided has expired. Start a new listing without a NextToken.');
    }
    const snapshot = this.snapshots.get(decoded.snapshotId);
    if (!snapshot || decoded.offset > snapshot.items.length) {
      throw new SesError('InvalidNextTokenException', 'The NextToken provided is invalid.');
    }
    return this.page(decoded.snapshotId, snapshot, decoded.offset, pageSize);
  }

  /** Number of snapshots currently retained (for tests and diagnostics). */
  get size(): number {
    return this.snapshots.size;
  }

  /** Drops every snapshot, invalidating all outstanding tokens. */
  clear(): void {
    this.snapshots.clear();
  }

  private page(id: number, snapshot: Snapshot<T>, offset: number, pageSize: number): { page: readonly T[]; nextToken?: string } {
    const end = Math.min(snapshot.items.length, offset + pageSize);
    const page = snapshot.items.slice(offset, end);
    if (end >= snapshot.items.length) return { page };
    const issuedMs = this.now();
    snapshot.lastIssuedMs = issuedMs;
    return { page, nextToken: this.encode({ snapshotId: id, offset: end, issuedMs }) };
  }

  private encode(token: DecodedToken): string {
    return Buffer.from(`v1:${this.nonce}:${token.snapshotId}:${token.offset}:${token.issuedMs}`).toString('base64url');
  }

  private decode(token: string): DecodedToken | undefined {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(token)) return undefined;
    const parts = Buffer.from(token, 'base64url').toString('utf8').split(':');
    if (parts.length !== 5 || parts[0] !== 'v1' || parts[1] !== this.nonce) return undefined;
    const [snapshotId, offset, issuedMs] = parts.slice(2).map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
    if (snapshotId === undefined || offset === undefined || issuedMs === undefined) return undefined;
    if (![snapshotId, offset, issuedMs].every(Number.isSafeInteger)) return undefined;
    return { snapshotId, offset, issuedMs };
  }

  private prune(): void {
    const cutoff = this.now() - this.ttlMs();
    for (const [id, snapshot] of this.snapshots) {
      if (snapshot.lastIssuedMs < cutoff) this.snapshots.delete(id);
    }
  }
}
