// The one seam for time: services take a clock so tests and benchmarks can set the hour.
export interface Clock {
  now(): Date;
}

/**
 * The machine's clock. Besides being the production clock of every service, it is the one to read for file names
 * and file ages, which are compared with the file system's mtimes: a test clock would not move those.
 */
export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can move by hand. */
export function manualClock(start: Date | string): Clock & { set(at: Date | string): void; advance(ms: number): void } {
  let current = new Date(start);
  return {
    now: () => new Date(current),
    set: (at) => {
      current = new Date(at);
    },
    advance: (ms) => {
      current = new Date(current.getTime() + ms);
    },
  };
}
