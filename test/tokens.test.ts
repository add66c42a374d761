// Tokens and sessions as services: every change audited, every time from the clock, bad input refused with the field named.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../api/errors.ts';
import { createSession, verifySession } from '../api/services/sessions.ts';
import { createToken, listTokens, revokeToken, verifyToken } from '../api/services/tokens.ts';
import { count } from './api-support.ts';
import { makeFixture, type Fixture } from './fixture.ts';
import { systemActor } from '../api/services/context.ts';

let f: Fixture;
const lead = systemActor('Ada Admin');

beforeAll(async () => {
  f = await makeFixture();
});
afterAll(() => f.close());

async function auditRows(subjectId: string) {
  const rs = await f.services.db.$client.execute({ sql: 'SELECT at, actor, action, detail FROM audit_events WHERE subject_id = ? ORDER BY id', args: [subjectId] });
  return rs.rows.map((r) => ({ at: Number(r.at), actor: String(r.actor), action: String(r.action), detail: JSON.parse(String(r.detail)) as Record<string, unknown> }));
}

describe('creating a token', () => {
  it('stores it hashed with its optional email, at the clock time, and audits token.created with the actor', async () => {
    f.clock.set('2026-11-23T13:00:00Z');
    const created = await createToken(f.services, lead, { role: 'comms', name: 'Night shift', email: ' Night.Lead@Example.com ' });
    expect(created.token).toMatch(/^sdk_/);
    expect(created.email).toBe('night.lead@example.com');
    const listed = (await listTokens(f.services)).find((t) => t.id === created.id)!;
    expect(listed).toMatchObject({ name: 'Night shift', role: 'comms', email: 'night.lead@example.com', revokedAt: null });
    expect(listed.createdAt.toISOString()).toBe('2026-11-23T13:00:00.000Z');
    expect(await auditRows(created.id)).toEqual([
      { at: Date.parse('2026-11-23T13:00:00Z'), actor: 'Ada Admin', action: 'token.created', detail: { name: 'Night shift', role: 'comms', email: 'night.lead@example.com' } },
    ]);
  });

  it('keeps the email optional', async () => {
    const created = await createToken(f.services, lead, { role: 'viewer', name: 'Reader' });
    expect((await listTokens(f.services)).find((t) => t.id === created.id)?.email).toBeNull();
  });

  it.each([
    [{ role: 'comms', name: 'X', email: 'not-an-address' }, ['email']],
    [{ role: 'comms', name: 'X', email: 'a@example.com\r\nBcc: b@example.com' }, ['email']],
    [{ role: 'comms', name: 'X', email: `${'a'.repeat(250)}@example.com` }, ['email']],
    [{ role: 'comms', name: 'X', email: '' }, ['email']],
    [{ role: 'superuser', name: 'a\nb' }, ['role', 'name']],
    [{ role: 'viewer', name: ' ' }, ['name']],
  ])('refuses %j naming %j, storing no token and no audit row', async (input, fields) => {
    const before = { tokens: await count(f, 'api_tokens'), audit: await count(f, 'audit_events') };
    const error = await createToken(f.services, lead, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors!.map((e) => e.path)).toEqual(fields);
    expect({ tokens: await count(f, 'api_tokens'), audit: await count(f, 'audit_events') }).toEqual(before);
  });
});

describe('revoking a token', () => {
  it('stamps the clock time, ends its sessions and audits token.revoked', async () => {
    f.clock.set('2026-11-23T14:00:00Z');
    const created = await createToken(f.services, lead, { role: 'comms', name: 'Day shift' });
    const principal = (await verifyToken(f.services, created.token))!;
    const session = await createSession(f.services, principal);
    expect(await verifySession(f.services, session.secret)).toMatchObject({ kind: 'token', id: created.id });

    f.clock.advance(60_000);
    await revokeToken(f.services, lead, created.id);
    expect(await verifyToken(f.services, created.token)).toBeNull();
    expect(await verifySession(f.services, session.secret)).toBeNull();
    expect(await count(f, 'sessions', `WHERE token_id = '${created.id}'`)).toBe(0);
    const listed = (await listTokens(f.services)).find((t) => t.id === created.id)!;
    expect(listed.revokedAt?.toISOString()).toBe('2026-11-23T14:01:00.000Z');
    expect((await auditRows(created.id)).map((r) => [r.action, r.actor, new Date(r.at).toISOString()])).toEqual([
      ['token.created', 'Ada Admin', '2026-11-23T14:00:00.000Z'],
      ['token.revoked', 'Ada Admin', '2026-11-23T14:01:00.000Z'],
    ]);
  });

  it('refuses an unknown id with NotFoundError and audits nothing', async () => {
    const before = await count(f, 'audit_events');
    await expect(revokeToken(f.services, lead, 'no-such-token')).rejects.toBeInstanceOf(NotFoundError);
    expect(await count(f, 'audit_events')).toBe(before);
  });
});

describe('time comes from the clock', () => {
  it('records a token’s last use at the clock time, at most every five minutes', async () => {
    f.clock.set('2026-11-23T15:00:00Z');
    const created = await createToken(f.services, lead, { role: 'viewer', name: 'Used' });
    const lastUsed = async () => (await listTokens(f.services)).find((t) => t.id === created.id)!.lastUsedAt?.toISOString();
    await verifyToken(f.services, created.token);
    expect(await lastUsed()).toBe('2026-11-23T15:00:00.000Z');
    f.clock.advance(4 * 60_000);
    await verifyToken(f.services, created.token);
    expect(await lastUsed()).toBe('2026-11-23T15:00:00.000Z');
    f.clock.advance(2 * 60_000);
    await verifyToken(f.services, created.token);
    expect(await lastUsed()).toBe('2026-11-23T15:06:00.000Z');
  });

  it('ends a session after twelve idle hours, and seven days after sign-in however busy', async () => {
    f.clock.set('2026-11-23T16:00:00Z');
    const created = await createToken(f.services, lead, { role: 'viewer', name: 'Sessions' });
    const idle = await createSession(f.services, (await verifyToken(f.services, created.token))!);
    const busy = await createSession(f.services, (await verifyToken(f.services, created.token))!);
    expect(idle.expiresAt.toISOString()).toBe('2026-11-30T16:00:00.000Z');
    f.clock.advance(12 * 60 * 60_000 - 1);
    expect(await verifySession(f.services, busy.secret)).not.toBeNull();
    f.clock.advance(1);
    expect(await verifySession(f.services, idle.secret)).toBeNull();
    // Used every few hours, a session still ends seven days after sign-in.
    while (f.clock.now().getTime() < Date.parse('2026-11-30T15:00:00Z')) {
      expect(await verifySession(f.services, busy.secret)).not.toBeNull();
      f.clock.advance(6 * 60 * 60_000);
    }
    f.clock.set('2026-11-30T16:00:00Z');
    expect(await verifySession(f.services, busy.secret)).toBeNull();
  });

  it('opens the subscribe rate window again when the clock has moved past it', async () => {
    const from = { 'x-forwarded-for': '203.0.113.77' };
    const post = (email: string) => f.call('POST', '/api/v1/subscribers', { token: null, body: { email }, headers: from });
    for (let i = 0; i < 20; i++) expect((await post(`w${i}@example.com`)).status).toBe(202);
    expect((await post('w20@example.com')).status).toBe(429);
    f.clock.advance(10 * 60_000);
    expect((await post('w21@example.com')).status).toBe(202);
  });
});
