// X-Forwarded-For is believed only from TRUSTED_PROXIES: over real sockets, for the subscribe limit, and at start-up.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../api/config.ts';
import { parseTrustedProxies } from '../api/http/client-address.ts';
import { countRows } from './fanout-support.ts';
import { makeFixture, type Fixture } from './fixture.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const open: { f: Fixture; server: ServerType }[] = [];
afterEach(async () => {
  for (const { f, server } of open.splice(0)) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await f.close();
  }
});

/** The fixture's app behind a real socket on 127.0.0.1, so the peer address is real. */
async function listening(env: Record<string, string> = {}) {
  const f = await makeFixture(env);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: f.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  open.push({ f, server });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const subscribe = (email: string, forwardedFor?: string) =>
    fetch(`${base}/api/v1/subscribers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      body: JSON.stringify({ email }),
    }).then(async (r) => (await r.arrayBuffer(), r.status));
  return { f, subscribe };
}

describe('without TRUSTED_PROXIES', () => {
  it('counts 60 subscribes with rotating X-Forwarded-For from one peer against that peer: 20 pass, 40 are 429', async () => {
    const { f, subscribe } = await listening();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push(await subscribe(`r${i}@example.com`, `203.0.113.${i}, 198.51.100.${i}`));
    expect(statuses.filter((s) => s === 202)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    expect(await countRows(f, 'subscribers')).toBe(20);
  });
});

describe('with TRUSTED_PROXIES naming the peer', () => {
  it('believes the address the proxy appended: rotating clients each get their own allowance', async () => {
    const { subscribe } = await listening({ TRUSTED_PROXIES: '127.0.0.1' });
    for (let i = 0; i < 60; i++) expect(await subscribe(`p${i}@example.com`, `203.0.113.${i}`)).toBe(202);
  });

  it('reads right to left and ignores what the client wrote before the proxies', async () => {
    const { subscribe } = await listening({ TRUSTED_PROXIES: '127.0.0.0/8, 10.0.0.0/8' });
    // The client forges a new left-most entry each time; the proxy chain (10.0.0.2, then the peer) names the same client.
    for (let i = 0; i < 20; i++) expect(await subscribe(`q${i}@example.com`, `192.0.2.${i}, 198.51.100.23, 10.0.0.2`)).toBe(202);
    expect(await subscribe('q20@example.com', '192.0.2.99, 198.51.100.23, 10.0.0.2')).toBe(429);
    // Another client through the same proxies is counted on its own.
    expect(await subscribe('other@example.com', '198.51.100.24, 10.0.0.2')).toBe(202);
  });

  it('falls back to the last believable hop when the header holds garbage', async () => {
    const { subscribe } = await listening({ TRUSTED_PROXIES: '127.0.0.1' });
    for (let i = 0; i < 20; i++) expect(await subscribe(`g${i}@example.com`, `not-an-address-${i}`)).toBe(202);
    expect(await subscribe('g20@example.com', 'also-not-one')).toBe(429);
  });
});

describe('TRUSTED_PROXIES at start-up', () => {
  it('defaults to none, and takes addresses and CIDR ranges of both families', () => {
    expect(readConfig({}).trustedProxies.entries).toEqual([]);
    const proxies = parseTrustedProxies(' 127.0.0.1 ,10.0.0.0/8, fd00::/8,::1 ');
    expect(proxies.entries).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']);
    for (const yes of ['127.0.0.1', '::ffff:127.0.0.1', '10.255.0.1', 'fd12::1', '::1']) expect(proxies.has(yes), yes).toBe(true);
    for (const no of ['127.0.0.2', '11.0.0.1', 'fe80::1', '192.168.1.1', 'local', '']) expect(proxies.has(no), no).toBe(false);
  });

  for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.1/8/1', '::1/129', '10.0.0.0/x', '300.1.1.1']) {
    it(`refuses ${JSON.stringify(bad)} with one line naming the variable and the entry`, () => {
      expect(() => readConfig({ TRUSTED_PROXIES: `127.0.0.1,${bad}` })).toThrow(ConfigError);
      try {
        readConfig({ TRUSTED_PROXIES: `127.0.0.1,${bad}` });
      } catch (e) {
        const message = (e as Error).message;
        expect(message).toMatch(/^Configuration error: TRUSTED_PROXIES=/);
        expect(message).toContain(`"${bad}"`);
        expect(message).not.toContain('\n');
      }
    });
  }

  it('stops the real server with that one line and exit code 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts'], {
      cwd: root,
      env: { ...process.env, TRUSTED_PROXIES: '10.0.0.0/99', PORT: '0', DATA_DIR: '/nonexistent-never-created', SEED_DEMO: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Configuration error: TRUSTED_PROXIES="10\.0\.0\.0\/99" has "10\.0\.0\.0\/99"/)]);
  });
});
