// The shared fast-check setup: every property runs with the run's known seed, and a failure names it with a replay line.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastCheckSeed } from './fast-check-seed.ts';

describe('seeded fast-check', () => {
  it('runs every property with the run seed, so two runs draw the same cases', () => {
    const draws = () => {
      const seen: number[] = [];
      fc.assert(fc.property(fc.integer(), (n) => void seen.push(n)), { numRuns: 20 });
      return seen;
    };
    expect(fc.readConfigureGlobal().seed).toBe(fastCheckSeed);
    expect(draws()).toEqual(draws());
  });

  it('names the seed and how to replay it when a property fails, sync or async', async () => {
    expect(() => fc.assert(fc.property(fc.nat(), (n) => n < 5))).toThrow(new RegExp(`seed ${fastCheckSeed} \\(replay: FC_SEED=${fastCheckSeed} `));
    await expect(fc.assert(fc.asyncProperty(fc.nat(), async (n) => n < 5))).rejects.toThrow(/Counterexample: \[5\]/);
  });
});
