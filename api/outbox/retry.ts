// The retry policy, as pure functions: how long to wait after a failure, and whether to try again at all.
import { backoffMs, maxRetryGapMs } from '../backoff.ts';

export { backoffMs } from '../backoff.ts';

export interface RetryPolicy {
  /** Delay after the first failure in ms; it doubles per attempt, with jitter, up to maxMs. */
  baseMs: number;
  maxMs: number;
  /** Transient failures after which a delivery is given up as failed. */
  maxAttempts: number;
}

/**
 * 30 s doubling to 60 s (SPEC "Faults": a receiver that comes back is used again within 60 s), for about a day
 * (1,440 tries at most a minute apart) before a delivery is given up.
 */
export const defaultRetry: RetryPolicy = { baseMs: 30_000, maxMs: maxRetryGapMs, maxAttempts: 1_440 };

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    baseMs: overrides.baseMs ?? defaultRetry.baseMs,
    maxMs: overrides.maxMs ?? defaultRetry.maxMs,
    maxAttempts: overrides.maxAttempts ?? defaultRetry.maxAttempts,
  };
}

/** What becomes of a delivery after a failed attempt: tried again at `nextAttemptAt` (epoch ms), or failed for good. */
export type AfterFailure = { status: 'pending'; attempts: number; nextAttemptAt: number } | { status: 'failed'; attempts: number };

/** `attempts` is the count before this failure; a permanent failure, or the last allowed attempt, fails the delivery. */
export function afterFailure(
  failure: { permanent: boolean },
  attempts: number,
  policy: RetryPolicy,
  nowMs: number,
  random = Math.random,
): AfterFailure {
  const made = attempts + 1;
  if (failure.permanent || made >= policy.maxAttempts) return { status: 'failed', attempts: made };
  return { status: 'pending', attempts: made, nextAttemptAt: nowMs + backoffMs(made, policy, random) };
}
