// The one back-off rule for everything that tries again: outbox retries, paused couriers, background loops, the database lock.

/** How a back-off grows: the first delay and the most it may reach, both in ms. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential back-off with "equal jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"): the ceiling is
 * `baseMs` doubled per attempt up to `maxMs`; half of it is fixed and half random, so retries spread out but never
 * come sooner than half the ceiling. `attempt` counts from 1; the result is in ms, at most `maxMs`.
 */
export function backoffMs(attempt: number, policy: Backoff, random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The most any background loop waits between two tries of a service that is down (SPEC "Faults": at most 60 s). */
export const maxRetryGapMs = 60_000;
