// The overdue rule: notices at the cadence for a day past due (no count cap that silences a SEV1 overnight), then daily for a week.
import { afterEach, describe, expect, it } from 'vitest';
import { overdueRule, overdueTimes } from '../api/services/reminders.ts';
import { declare, makeFixture, seedComponents, type Fixture } from './fixture.ts';
import { rows } from './fanout-support.ts';

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

describe('overdueTimes', () => {
  it('nags at the cadence for the first day past due, then once a day for a week', () => {
    const due = Date.UTC(2026, 10, 23, 12, 15);
    const times = overdueTimes(due, 15);
    const atCadence = times.slice(0, 96);
    expect(atCadence.every((t, k) => t === due + k * 15 * minute)).toBe(true);
    expect(times.slice(96)).toEqual(Array.from({ length: overdueRule.dailyFor }, (_, d) => due + 95 * 15 * minute + (d + 1) * day));
    // Overnight: a SEV1 due at 12:15 still nags at 04:00 next day (a cap of 48 stopped at 00:00).
    expect(times).toContain(due + 15 * hour + 45 * minute);
  });

  it('caps at-cadence notices at 288, gives one notice when there is no interval, and is always increasing', () => {
    expect(overdueTimes(0, 1)).toHaveLength(overdueRule.maxAtCadence + overdueRule.dailyFor);
    expect(overdueTimes(0, null)).toEqual([0, ...Array.from({ length: overdueRule.dailyFor }, (_, d) => (d + 1) * day)]);
    expect(overdueTimes(0, 60)).toHaveLength(24 + overdueRule.dailyFor);
    for (const interval of [1, 7, 15, 30, 60, 90, 1440, 2000, null]) {
      const t = overdueTimes(0, interval);
      expect(t.every((x, i) => i === 0 || x > t[i - 1]!), String(interval)).toBe(true);
    }
  });
});

describe('scheduled with the update', () => {
  it('a SEV1 declared without an update schedules 96 overdue notices over a day, then 7 daily ones, for the comms lead', async () => {
    f = await makeFixture({ COMMS_EMAIL: 'comms@example.com' });
    await seedComponents(f);
    const incident = await declare(f, { severity: 'SEV1' });
    const due = new Date((incident as unknown as { nextUpdateAt: string }).nextUpdateAt).getTime();
    const overdue = await rows<{ seq: number; next_attempt_at: number }>(
      f,
      "SELECT seq, next_attempt_at FROM deliveries WHERE kind = 'overdue' AND audience = 'comms' ORDER BY seq",
    );
    expect(overdue).toHaveLength(96 + 7);
    expect(Number(overdue[0]!.next_attempt_at)).toBe(due);
    expect(Number(overdue[95]!.next_attempt_at)).toBe(due + 95 * 15 * minute);
    expect(Number(overdue.at(-1)!.next_attempt_at)).toBe(due + 95 * 15 * minute + 7 * day);
  });
});
