// The HTTP courier: posts chat messages and webhook envelopes, refusing private addresses after DNS resolution.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { SendFailure } from '../mail/transport.ts';

/**
 * Addresses a public webhook must never reach: "this network", loopback, RFC 1918 private, carrier-grade NAT,
 * link-local (cloud metadata lives at 169.254.169.254), multicast and reserved; IPv6 loopback, unspecified,
 * IPv4-compatible and IPv4-translated forms, unique-local (fc00::/7), link-local (fe80::/10), multicast, and
 * IPv4-mapped forms of all of these.
 * Sources: RFC 6890 special-purpose registries, RFC 4193, RFC 4291.
 */
const privateRanges = (() => {
  const list = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const) {
    list.addSubnet(net, bits, 'ipv4');
  }
  for (const [net, bits] of [
    // ::/96 holds the unspecified address, loopback and the deprecated IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1);
    // ::ffff:0:0:0/96 the IPv4-translated forms (RFC 2765).
    ['::', 96],
    ['::ffff:0:0:0', 96],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['64:ff9b::', 96],
  ] as const) {
    list.addSubnet(net, bits, 'ipv6');
  }
  return list;
})();

/** True for loopback, private, link-local and other non-public addresses, IPv4 or IPv6 (IPv4-mapped included). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(address);
  if (family === 0) return true;
  return privateRanges.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class PrivateTargetError extends Error {}

/**
 * A DNS lookup for outgoing requests that refuses a host if any address it resolves to is private, so a name
 * that resolves (or re-resolves) to 127.0.0.1 is caught at connect time, not only when it was registered.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const bad = addresses.find((a) => isPrivateAddress(a.address));
      if (bad && !allowPrivate) {
        return callback(Object.assign(new PrivateTargetError(`${hostname} resolves to ${bad.address}, a private address`), { code: 'EPRIVATE' }), '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Why a target URL is refused, or null when it may be used: http(s) only, https unless private targets are allowed, a public address after DNS. */
export async function targetProblem(raw: string, allowPrivate: boolean): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'must be an https:// URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (allowPrivate) return null;
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must not point at this machine';
  const addresses = isIP(host)
    ? [host]
    : await new Promise<string[] | null>((resolve) => dnsLookup(host, { all: true }, (e, list) => resolve(e ? null : list.map((a) => a.address))));
  if (!addresses || addresses.length === 0) return `host ${host} does not resolve`;
  const bad = addresses.find(isPrivateAddress);
  return bad ? `must not point at a private, loopback or link-local address (${host} is ${bad})` : null;
}

/** One HTTP POST the outbox sends. */
export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpSenderOptions {
  allowPrivate: boolean;
  /** Connect and response timeout, ms. */
  timeoutMs?: number;
  /** Sockets kept open per host. */
  maxSockets?: number;
}

/**
 * Posts JSON with keep-alive connections and no redirects. A 2xx is success; 408, 429 and 5xx are retried;
 * other answers (3xx, 4xx) are permanent. Every failure counts towards disabling a webhook subscriber once
 * its delivery is given up, so `bounce` is set.
 */
export function httpSender(o: HttpSenderOptions) {
  const lookup = guardedLookup(o.allowPrivate);
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 50, lookup } as http.AgentOptions),
    'https:': new https.Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 50, lookup } as https.AgentOptions),
  };
  const timeout = o.timeoutMs ?? 10_000;
  return {
    send(request: HttpRequest): Promise<void> {
      return new Promise((resolve, reject) => {
        const url = new URL(request.url);
        // A literal address skips DNS, so the guarded lookup never sees it: check it here, at every send.
        const literal = url.hostname.replace(/^\[|\]$/g, '');
        if (!o.allowPrivate && isIP(literal) && isPrivateAddress(literal)) {
          return reject(new SendFailure(`${literal} is a private address`, true, true, false));
        }
        const client = url.protocol === 'https:' ? https : http;
        const agent = agents[url.protocol as 'http:' | 'https:'];
        if (!agent) return reject(new SendFailure(`unsupported protocol ${url.protocol}`, true, true, false));
        const req = client.request(
          url,
          { method: 'POST', agent, timeout, headers: { 'content-type': 'application/json', 'user-agent': 'statusdesk', ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) } },
          (res) => {
            res.resume();
            res.on('end', () => {
              const code = res.statusCode ?? 0;
              if (code >= 200 && code < 300) return resolve();
              const transient = code === 408 || code === 429 || code >= 500;
              reject(new SendFailure(`HTTP ${code} from ${url.host}`, !transient, true, false));
            });
            res.on('error', (e) => reject(new SendFailure(e.message, false, true, false)));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${timeout} ms`)));
        req.on('error', (e: Error & { code?: string }) => reject(new SendFailure(e.message, e.code === 'EPRIVATE', true, false)));
        req.end(request.body);
      });
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
