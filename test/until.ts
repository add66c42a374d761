// Waiting on a condition instead of sleeping: polls until it holds, or fails naming what it waited for.

/**
 * Resolves once `condition` (sync or async) returns true, checking every `everyMs`; throws after `timeoutMs` with
 * `what` in the message, so a hang reads as a failure that says what never happened.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
