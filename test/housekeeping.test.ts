// Housekeeping: ended sessions, long-expired sign-in links and day-old use-case outcomes are deleted; nothing still in use is.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemActor } from '../api/services/context.ts';
import { forgetExpired, housekeeping } from '../api/services/housekeeping.ts';
import { addMember, memberActor } from '../api/services/members.ts';
import { openSession, verifySession, sessionIdleMs, sessionLifetimeMs } from '../api/services/sessions.ts';
import { requestSignInLink } from '../api/services/stakeholder-sign-in.ts';
import { makeFixture, type Fixture } from './fixture.ts';

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
});
afterEach(() => f.close());

const hour = 60 * 60 * 1000;
const later = (ms: number) => f.clock.set(new Date(f.clock.now().getTime() + ms).toISOString());
const countOf = async (table: string) => Number((await f.services.db.$client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

describe('forgetting what has expired', () => {
  it('deletes sessions past their end or idle too long, and keeps one in use', async () => {
    const dana = memberActor(await addMember(f.services, systemActor('test'), { email: 'dana@example.com', name: 'Dana', role: 'comms' }, { signInLink: false }));
    const idle = await openSession(f.services.db, f.clock.now(), dana);
    const busy = await openSession(f.services.db, f.clock.now(), dana);
    // The busy one is used every few hours; the idle one never again.
    for (let t = 0; t < sessionIdleMs + hour; t += 4 * hour) {
      later(4 * hour);
      expect(await verifySession(f.services, busy.secret)).not.toBeNull();
    }
    expect(await forgetExpired(f.services)).toMatchObject({ sessions: 1 });
    expect(await verifySession(f.services, busy.secret)).not.toBeNull();
    expect(await verifySession(f.services, idle.secret)).toBeNull();
    expect(await countOf('sessions')).toBe(1);
    // Past its absolute end, even a session in use goes.
    later(sessionLifetimeMs);
    expect(await forgetExpired(f.services)).toMatchObject({ sessions: 1 });
    expect(await countOf('sessions')).toBe(0);
  });

  it('deletes sign-in links that expired over an hour ago, keeping those the hourly limit still counts', async () => {
    await addMember(f.services, systemActor('test'), { email: 'dana@example.com', name: 'Dana', role: 'comms' }, { signInLink: false });
    expect(await requestSignInLink(f.services, { email: 'dana@example.com' })).toBe(true);
    later(30 * 60 * 1000);
    expect(await requestSignInLink(f.services, { email: 'dana@example.com' })).toBe(true);
    // The first expired 15 minutes after it was made, 1 h 5 min ago; the second 35 minutes ago.
    later(50 * 60 * 1000);
    expect(await forgetExpired(f.services)).toMatchObject({ signInLinks: 1 });
    expect(await countOf('sign_in_links')).toBe(1);
  });

  it('deletes use-case outcomes a day old, after which a resubmitted form starts afresh anyway', async () => {
    const at = f.clock.now().getTime();
    for (const [key, age] of [['old', 25 * hour], ['fresh', hour]] as const) {
      await f.services.db.$client.execute({
        sql: `INSERT INTO use_case_outcomes (scope, key, use_case, request_hash, subject_id, created_at) VALUES ('token:x', ?, 'declareIncident', 'h', 'inc', ?)`,
        args: [key, at - age],
      });
    }
    expect(await forgetExpired(f.services)).toEqual({ sessions: 0, signInLinks: 0, outcomes: 1 });
    expect((await f.services.db.$client.execute('SELECT key FROM use_case_outcomes')).rows.map((r) => r.key)).toEqual(['fresh']);
  });

  it('runs at most once an hour when the scheduler calls it every few seconds', async () => {
    const tidy = housekeeping(f.services);
    expect(await tidy()).not.toBeNull();
    later(59 * 60 * 1000);
    expect(await tidy()).toBeNull();
    later(60 * 1000);
    expect(await tidy()).not.toBeNull();
  });
});
