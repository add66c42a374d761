// Seeds every fast-check property in every test file (vitest setupFiles): one known seed per run, named on failure.
import fc from 'fast-check';
import { afterAll } from 'vitest';

/**
 * The seed: `FC_SEED` when set (to replay a failure, or to explore with a new one), else a fixed default, so a run
 * is repeatable and CI never flakes on a case a previous run did not draw. Must be a 32-bit integer.
 */
export const fastCheckSeed = readSeed(process.env.FC_SEED);

function readSeed(value: string | undefined): number {
  if (value === undefined || value === '') return 20_261_130;
  const seed = Number(value);
  if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 31) throw new Error(`FC_SEED must be a 32-bit integer, not "${value}".`);
  return seed;
}

let failed = false;

/** Throws fast-check's own report (counterexample, seed and path) under a first line that says how to replay it. */
function report(details: fc.RunDetails<unknown>) {
  if (!details.failed) return;
  failed = true;
  throw new Error(`fast-check failed with seed ${details.seed} (replay: FC_SEED=${details.seed} npx vitest run <file>)\n${fc.defaultReportMessage(details)}`);
}

fc.configureGlobal({ seed: fastCheckSeed, reporter: report });

afterAll(() => {
  if (failed) console.error(`fast-check seed of this run: ${fastCheckSeed}`);
});
