/**
 * Every hostile test file counts the cases it tried and checks that nothing was written
 * where it should not be; at the end of the file it prints one line:
 *   hostile <suite>: <n> cases tried, <m> write checks, nothing written where refused
 * Use: `const tally = hostileTally('graphql-limits')`, then `tally.tried(n)` per case and
 * `await tally.unchanged(() => countRows(...), async () => { ...attack... })` for a write check.
 */
import { afterAll, expect } from 'vitest';

export interface HostileTally {
  /** counts `n` attack cases (default 1) */
  tried(n?: number): void;
  /** runs `attack` and asserts `snapshot()` reads the same before and after (one case) */
  unchanged<T>(snapshot: () => Promise<T>, attack: () => Promise<void>, what?: string): Promise<void>;
}

export function hostileTally(suite: string): HostileTally {
  let cases = 0;
  let writeChecks = 0;
  afterAll(() => {
    // one line a reader (and CI's log) can find: grep '^hostile '
    console.log(`hostile ${suite}: ${cases} cases tried, ${writeChecks} write checks, nothing written where refused`);
  });
  return {
    tried(n = 1) {
      cases += n;
    },
    async unchanged(snapshot, attack, what = 'stored rows') {
      const before = await snapshot();
      await attack();
      expect(await snapshot(), `${suite}: ${what} changed by a refused request`).toEqual(before);
      cases += 1;
      writeChecks += 1;
    },
  };
}
