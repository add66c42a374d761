// Who sent a request: the socket peer, or, only behind a proxy named in TRUSTED_PROXIES, the address it forwarded.
import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';

/** The peers whose X-Forwarded-For is believed (TRUSTED_PROXIES); empty by default, so no header is believed. */
export interface TrustedProxies {
  /** The entries as configured, for messages and logs. */
  readonly entries: readonly string[];
  has(address: string): boolean;
}

export const noTrustedProxies: TrustedProxies = { entries: [], has: () => false };

/**
 * Parses TRUSTED_PROXIES: comma-separated IPv4/IPv6 addresses and CIDR ranges ("127.0.0.1, 10.0.0.0/8, fd00::/8").
 * Empty or undefined: none. Throws an Error naming the first bad entry.
 */
export function parseTrustedProxies(spec: string | undefined): TrustedProxies {
  const entries = (spec ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) return noTrustedProxies;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits, ...rest] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (family === 0 || rest.length > 0 || !(prefix >= 0 && prefix <= max)) {
      throw new Error(`has "${entry}", which is not an IP address or CIDR range such as 10.0.0.0/8 or fd00::/8`);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    entries,
    has(candidate) {
      const address = plain(candidate);
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * The client address of a request, as a string: the TCP peer (from @hono/node-server's `incoming` socket; "local"
 * when the app is called in-process). When the peer is a trusted proxy, X-Forwarded-For is read right to left and the
 * first address that is not itself a trusted proxy is the client; everything left of it was written by the client and
 * is ignored. The source of the rule: MDN "X-Forwarded-For", "Selecting an IP address" (trusted proxy list).
 */
export function clientAddress(c: Context, proxies: TrustedProxies): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const peer = plain(env?.incoming?.socket?.remoteAddress ?? 'local');
  if (!proxies.has(peer)) return peer;
  const forwarded = c.req
    .header('x-forwarded-for')
    ?.split(',')
    .map((a) => plain(a.trim()));
  let client = peer;
  for (const hop of (forwarded ?? []).reverse()) {
    if (isIP(hop) === 0) break; // garbage from the client's side: the last believable hop stands
    client = hop;
    if (!proxies.has(hop)) break;
  }
  return client;
}
