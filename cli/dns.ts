import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UsageError } from './errors';

/** Environment variable naming the DNS server `audit` asks (same format as `--dns-server`). */
export const DNS_SERVER_VARIABLE = 'SSG_DNS_SERVER';

/** The DNS lookups `audit` makes. */
export interface DnsLookups {
  resolveTxt(name: string): Promise<string[][]>;
  resolveCname(name: string): Promise<string[]>;
  resolveMx(name: string): Promise<Array<{ exchange: string; priority: number }>>;
}

/**
 * Parses a DNS server given as `ip` or `ip:port` (IPv6 as `[ip]:port`), the forms `Resolver.setServers` takes.
 * Host names are refused: resolving the resolver would need a resolver.
 */
export function parseDnsServer(raw: string, option: string): string {
  const value = raw.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  const [host, port] = v6 ? [v6[1] ?? '', v6[2]] : value.includes(':') && isIP(value) !== 6 ? value.split(':', 2) : [value, undefined];
  const portNumber = port === undefined ? 53 : Number(port);
  if (!host || isIP(host) === 0 || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    throw new UsageError(
      `${option} must be an IP address with an optional port, like 127.0.0.1:5353 or [::1]:53, got ${JSON.stringify(raw)}`,
    );
  }
  return isIP(host) === 6 ? `[${host}]:${portNumber}` : `${host}:${portNumber}`;
}

/**
 * A resolver for `audit`: the system's DNS servers, or the one `--dns-server` / `$SSG_DNS_SERVER` names (tests
 * use a local server with fixture records). Answers are cached for the run, since every region asks about the
 * same names.
 */
export function createDnsLookups(server: string | undefined, env: NodeJS.ProcessEnv = process.env): DnsLookups {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  const chosen =
    server !== undefined
      ? parseDnsServer(server, '--dns-server')
      : env[DNS_SERVER_VARIABLE]
        ? parseDnsServer(env[DNS_SERVER_VARIABLE], DNS_SERVER_VARIABLE)
        : undefined;
  if (chosen) resolver.setServers([chosen]);
  const cache = new Map<string, Promise<unknown>>();
  const cached = <T>(type: string, name: string, lookup: () => Promise<T>): Promise<T> => {
    const key = `${type} ${name.toLowerCase()}`;
    let hit = cache.get(key);
    if (!hit) {
      hit = lookup();
      cache.set(key, hit);
    }
    return hit as Promise<T>;
  };
  return {
    resolveTxt: (name) => cached('TXT', name, () => resolver.resolveTxt(name)),
    resolveCname: (name) => cached('CNAME', name, () => resolver.resolveCname(name)),
    resolveMx: (name) => cached('MX', name, () => resolver.resolveMx(name)),
  };
}

/** True when a DNS error only means "no such record". */
export function isNoRecord(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}
