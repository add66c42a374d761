// The console as its tests meet it: the shared fixture's app with the site and the console mounted (as api/server.ts mounts them) and a signed-in session per role.
import { expect } from 'vitest';
import { consoleMount } from '../api/console/routes.ts';
import { startSite, type Site } from '../api/site/start.ts';
import { makeFixture, seedComponents, type Fixture } from './fixture.ts';

type Role = 'admin' | 'comms' | 'viewer';

/** The origin the console's forms are posted from: same-origin checks compare against it. */
export const origin = 'http://127.0.0.1:4321';

export type ConsoleFixture = Fixture & {
  site: Site;
  /** A `status_session=…` cookie per role, signed in through the sign-in form. */
  sessions: Record<Role, string>;
};

/** What a cross-site form post carries, each refused by the same-origin rule: Fetch Metadata, else Origin. */
export const crossSiteHeaders: Record<string, string>[] = [
  { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
  { origin: 'https://evil.example' },
  { 'sec-fetch-site': 'same-site' },
  { origin: 'null' },
];

/** The error shown next to a field: the field's own error paragraph, tied to it by aria-describedby. */
export function fieldError(html: string, id: string): string | null {
  const m = new RegExp(`<p class="field-error" id="${id}-error"><span class="sr-only">Error: </span>([^<]*)</p>`).exec(html);
  if (!m) return null;
  expect(html).toMatch(new RegExp(`id="${id}"[^>]*aria-describedby="[^"]*${id}-error`));
  return m[1]!;
}

/** The fixture with components seeded, the site and console mounted, and each role signed in. Close with `site.close()` then `close()`. */
export async function makeConsoleFixture(): Promise<ConsoleFixture> {
  const base = await makeFixture();
  const site = await startSite(base.services, base.config, { log: () => {}, refreshMs: 0, console: (parts) => consoleMount({ services: base.services, ...parts }) });
  base.app.route('/', site.routes);
  await seedComponents(base);
  const sessions = { admin: '', comms: '', viewer: '' };
  for (const role of ['admin', 'comms', 'viewer'] as const) sessions[role] = await signIn(base, role);
  return { ...base, site, sessions };
}

async function signIn(f: Fixture, role: Role): Promise<string> {
  const res = await f.app.request(`${origin}/internal/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ token: f.tokens[role] }),
  });
  expect(res.status).toBe(303);
  return /status_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
}
