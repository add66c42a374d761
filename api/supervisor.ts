// The one shape of every background loop (renders, bucket uploads, the email and HTTP outboxes): runs one job at a time, soon after a wake, every poll interval, and after a growing back-off while the job fails.
import { performance } from 'node:perf_hooks';
import { backoffMs, maxRetryGapMs } from './backoff.ts';

export interface SupervisorOptions {
  /** The job. Throws to be retried after backoffMs (api/backoff.ts): 1 s doubling, with jitter, up to `maxBackoffMs`. */
  run: () => Promise<void>;
  /** How often the job runs with no wake (0: never), so changes made elsewhere are seen. */
  pollMs: number;
  /** The longest wait between two tries of a failing job; at most (and by default) 60 s, SPEC "Faults". */
  maxBackoffMs?: number;
  /** The first wait after a failure, in ms (1 s by default). */
  baseBackoffMs?: number;
  /** Told of each failure with its attempt number and the delay before the next. */
  onFailure: (error: Error, attempt: number, retryInMs: number) => void;
}

export interface Supervisor {
  /** Runs the job `delayMs` from now (or sooner if already due); a wake during a run makes one more run after it. */
  wake(delayMs: number): void;
  /** Resolves when no run is in flight or due, other than a poll or a retry waiting out its back-off. */
  idle(): Promise<void>;
  /** The last failure, until a run succeeds. */
  readonly lastError: Error | null;
  readonly failures: number;
  /** Stops the timers and waits for a run in flight. */
  close(): Promise<void>;
}

/**
 * Supervises a background job so it recovers by itself: a failure never ends the loop, it only delays the next try
 * (one back-off rule, capped at 60 s), and the job in flight always settles before the next starts.
 */
export function createSupervisor(o: SupervisorOptions): Supervisor {
  const backoff = { baseMs: o.baseBackoffMs ?? 1_000, maxMs: Math.min(o.maxBackoffMs ?? maxRetryGapMs, maxRetryGapMs) };
  /** When the next run is due, and whether that is a wake (counts as busy) or a poll or retry (counts as idle). */
  let due: { timer: NodeJS.Timeout; at: number; busy: boolean } | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let failures = 0;
  let lastError: Error | null = null;
  let closed = false;
  const waiters: (() => void)[] = [];

  const notifyIfIdle = () => {
    if (running || due?.busy || again) return;
    for (const w of waiters.splice(0)) w();
  };

  function at(delayMs: number, busy: boolean) {
    if (closed) return;
    const when = performance.now() + delayMs;
    if (due && due.at <= when) {
      due.busy ||= busy;
      return;
    }
    if (due) clearTimeout(due.timer);
    due = { timer: setTimeout(start, delayMs), at: when, busy };
  }

  function start() {
    due = null;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        await o.run();
        failures = 0;
        lastError = null;
      } catch (e) {
        failures++;
        lastError = e instanceof Error ? e : new Error(String(e));
        const delay = backoffMs(failures, backoff);
        o.onFailure(lastError, failures, delay);
        again = false;
        running = null;
        at(delay, false);
        notifyIfIdle();
        return;
      }
      running = null;
      if (again) {
        again = false;
        at(0, true);
      } else if (o.pollMs > 0) at(o.pollMs, false);
      notifyIfIdle();
    })();
  }

  if (o.pollMs > 0) at(o.pollMs, false);
  return {
    wake(delayMs) {
      if (closed) return;
      if (running) again = true;
      // Backing off after a failure: the retry will see this change too; waking now would only fail again sooner.
      else if (!(failures > 0 && due)) at(delayMs, true);
    },
    idle() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        notifyIfIdle();
      });
    },
    get lastError() {
      return lastError;
    },
    get failures() {
      return failures;
    },
    async close() {
      closed = true;
      if (due) clearTimeout(due.timer);
      due = null;
      again = false;
      await running;
      for (const w of waiters.splice(0)) w();
    },
  };
}
