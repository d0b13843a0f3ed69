/**
 * A clock for startTestApp that runs with real time plus an offset the test moves: a retry
 * a minute away becomes due when the test moves the clock to it, not after a real minute.
 * The schedule is anchored on the first attempt's real start, which this clock equals as
 * long as the test has not moved it.
 */
export interface TestClock {
  /** what the app reads */
  now: () => Date;
  /** moves the clock forward to `at` (never backwards) */
  set(at: Date | string | number): void;
  advance(ms: number): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    set(at) {
      offset = Math.max(offset, new Date(at).getTime() - Date.now());
    },
    advance(ms) {
      offset += ms;
    },
  };
}

/**
 * A clock that stands still until the test moves it, for units given a `clock` option (the
 * delivery worker, the dispatcher): a lease or a retry time is reached by advance(), never
 * by waiting.
 */
export interface ManualClock {
  /** the time it reads, in ms */
  t: number;
  now: () => Date;
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2030, 0, 1)): ManualClock {
  const clock: ManualClock = {
    t: start,
    now: () => new Date(clock.t),
    advance(ms) {
      clock.t += ms;
    },
  };
  return clock;
}
