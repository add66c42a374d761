// The cadence, webhook and alert settings: defaults from SPEC, good values read, bad ones refused with one line naming the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../api/config.ts';
import { afterFailure, backoffMs } from '../api/outbox/retry.ts';
import { roleEmail } from '../api/services/reminders.ts';

function refusal(env: Record<string, string>): string {
  try {
    readConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('cadence, webhook and alert settings', () => {
  it('defaults to SPEC: CADENCE SEV1:15,SEV2:30,SEV3:60,SEV4:0, a 5-minute lead, publish SEV1 and draft the rest', () => {
    const c = readConfig({});
    expect(c.cadence).toEqual({ minutes: { SEV1: 15, SEV2: 30, SEV3: 60, SEV4: 0 }, leadMinutes: 5, commsEmail: undefined });
    expect(c.webhookAllowPrivate).toBe(false);
    expect(c.alerts.policy).toEqual({ SEV1: 'publish', SEV2: 'draft', SEV3: 'draft', SEV4: 'draft' });
    expect(c.alerts.severityMap).toEqual({ critical: 'SEV1', warning: 'SEV2', major: 'SEV2', minor: 'SEV3', info: 'SEV4' });
    expect(c.alerts.componentMap).toEqual({});
  });

  it('reads good values, overriding only what is named', () => {
    const c = readConfig({
      CADENCE: 'SEV1:10, SEV4:120',
      REMINDER_LEAD_MINUTES: '2',
      COMMS_EMAIL: 'duty@example.com',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      ALERT_POLICY: 'SEV2:publish',
      ALERT_SEVERITY_MAP: 'page:SEV1,Warning:SEV3',
      ALERT_COMPONENT_MAP: 'checkout-svc:api, pg-primary:database',
    });
    expect(c.cadence).toEqual({ minutes: { SEV1: 10, SEV2: 30, SEV3: 60, SEV4: 120 }, leadMinutes: 2, commsEmail: 'duty@example.com' });
    expect(c.webhookAllowPrivate).toBe(true);
    expect(c.alerts.policy.SEV2).toBe('publish');
    expect(c.alerts.severityMap).toMatchObject({ page: 'SEV1', warning: 'SEV3', critical: 'SEV1' });
    expect(c.alerts.componentMap).toEqual({ 'checkout-svc': 'api', 'pg-primary': 'database' });
  });

  it('refuses bad values with one line naming the variable', () => {
    for (const [env, name] of [
      [{ CADENCE: 'SEV1:fast' }, 'CADENCE'],
      [{ CADENCE: 'SEV9:15' }, 'CADENCE'],
      [{ REMINDER_LEAD_MINUTES: '-1' }, 'REMINDER_LEAD_MINUTES'],
      [{ COMMS_EMAIL: 'not-an-address' }, 'COMMS_EMAIL'],
      [{ WEBHOOK_ALLOW_PRIVATE: 'maybe' }, 'WEBHOOK_ALLOW_PRIVATE'],
      [{ ALERT_POLICY: 'SEV1:shout' }, 'ALERT_POLICY'],
      [{ ALERT_SEVERITY_MAP: 'critical:SEV0' }, 'ALERT_SEVERITY_MAP'],
      [{ ALERT_COMPONENT_MAP: 'checkout-svc:Checkout API' }, 'ALERT_COMPONENT_MAP'],
      [{ ALERT_COMPONENT_MAP: ':api' }, 'ALERT_COMPONENT_MAP'],
    ] as const) {
      const message = refusal(env);
      expect(message.startsWith(`Configuration error: ${name}=`), message).toBe(true);
      expect(message).not.toContain('\n');
    }
  });
});

describe('retry policy', () => {
  const policy = { baseMs: 1_000, maxMs: 60_000, maxAttempts: 3 };
  it('retries a transient failure after back-off and gives up at the last allowed attempt', () => {
    expect(afterFailure({ permanent: false }, 0, policy, 10_000, () => 0)).toEqual({ status: 'pending', attempts: 1, nextAttemptAt: 10_500 });
    expect(afterFailure({ permanent: false }, 1, policy, 10_000, () => 1)).toEqual({ status: 'pending', attempts: 2, nextAttemptAt: 12_000 });
    expect(afterFailure({ permanent: false }, 2, policy, 10_000)).toEqual({ status: 'failed', attempts: 3 });
  });
  it('fails a permanent failure at once', () => {
    expect(afterFailure({ permanent: true }, 0, policy, 0)).toEqual({ status: 'failed', attempts: 1 });
  });
  it('never waits longer than maxMs', () => {
    expect(backoffMs(40, policy, () => 1)).toBe(60_000);
  });
});

describe('the comms lead email in a role', () => {
  it('finds an address in "Name <address>" or alone, lower-cased; none in a plain name', () => {
    expect(roleEmail('Casey Comms <Casey@Example.com>')).toBe('casey@example.com');
    expect(roleEmail('casey@example.com')).toBe('casey@example.com');
    expect(roleEmail('Casey Comms')).toBeNull();
    expect(roleEmail(undefined)).toBeNull();
  });
});
