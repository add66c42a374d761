// With no SMTP_URL, mail is written as .eml files and its links are logged as plain text that works when copied.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../api/config.ts';
import { plainLinks } from '../api/mail/transport.ts';
import { startServer, type Running } from '../api/server.ts';

const dirs: string[] = [];
let running: Running | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Waits for a condition, polling; fails with what it last saw instead of hanging. */
async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('file-mode mail', () => {
  it('logs the decoded confirm link of a confirmation email, and that very link confirms the subscription', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-mailfile-'));
    dirs.push(dir);
    const logs: string[] = [];
    // A public URL unlike the server's own, so the test proves the path and token survive, then calls the real server.
    running = await startServer(readConfig({ DATA_DIR: dir, PORT: '0', PUBLIC_URL: 'https://status.example.com', SEED_DEMO: 'false' }), {
      log: (m) => logs.push(m),
      schedulerIntervalMs: 0,
      outboxPollMs: 25,
    });
    const res = await fetch(`${running.url}/api/v1/subscribers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'reader@example.com' }),
    });
    expect(res.status).toBe(202);

    const line = await until('the logged confirm link', () => logs.find((l) => l.startsWith('mail:   link https://status.example.com/api/v1/subscribers/confirm?token=')));
    const link = line.slice('mail:   link '.length);
    expect(link).toMatch(/^https:\/\/status\.example\.com\/api\/v1\/subscribers\/confirm\?token=[A-Za-z0-9_-]{20,}$/);
    expect(logs.some((l) => l.startsWith('mail: wrote ') && l.includes('to reader@example.com'))).toBe(true);

    // The reported fault: the .eml encodes the long link as quoted-printable, so copying it from the file breaks it.
    const [eml] = readdirSync(join(dir, 'mail'));
    const raw = readFileSync(join(dir, 'mail', eml!), 'utf8');
    expect(raw).toMatch(/Content-Transfer-Encoding: (quoted-printable|base64)/i);
    expect(raw).not.toContain(link);

    // The copied link opens the confirmation page, whose button (a POST to the same address) confirms.
    const local = `${running.url}${new URL(link).pathname}${new URL(link).search}`;
    expect((await fetch(local)).status).toBe(200);
    const confirmed = await fetch(local, { method: 'POST', headers: { origin: running.url } });
    expect(confirmed.status).toBe(200);
    const rs = await running.services.db.$client.execute("SELECT confirmed_at FROM subscribers WHERE email = 'reader@example.com'");
    expect(rs.rows[0]!.confirmed_at).not.toBeNull();
  });

  it('takes each distinct link once, in order, without trailing punctuation', () => {
    expect(
      plainLinks({ text: 'Follow along: https://s.example/incidents/a/.\n\nManage: https://s.example/m?token=x_y-z\nAgain (https://s.example/incidents/a/)' }),
    ).toEqual(['https://s.example/incidents/a/', 'https://s.example/m?token=x_y-z']);
    expect(plainLinks({ text: 'no links here' })).toEqual([]);
  });
});
