// Test runner configuration: real databases and servers make tests slower than unit tests, so give them room.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Every fast-check property runs with a known seed, printed on failure (FC_SEED replays one).
    setupFiles: ['test/fast-check-seed.ts'],
  },
});
