/** src/db/coalesce.ts: which calls share a statement, and what each one gets back. */
import { describe, expect, it } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { coalesced } from '../../src/db/coalesce.js';

/** A run that records each batch and answers a key's double, or an Error of its own for a negative key. */
function recorder() {
  const batches: number[][] = [];
  const run = async (keys: readonly number[]) => {
    batches.push([...keys]);
    return keys.map((k) => (k < 0 ? new Error(`bad key ${k}`) : k * 2));
  };
  return { batches, run };
}

describe('coalesced', () => {
  it('the calls of one turn of the event loop go together, in their order, duplicates included; each gets its own answer or error', async () => {
    const { batches, run } = recorder();
    const call = coalesced(run);
    const results = await Promise.allSettled([call(1), call(2), call(-3), call(2)]);
    expect(batches).toEqual([[1, 2, -3, 2]]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'fulfilled', value: 4 },
      { status: 'rejected', reason: new Error('bad key -3') },
      { status: 'fulfilled', value: 4 },
    ]);
  });

  it('calls of later turns go in later statements, and nothing is cached', async () => {
    const { batches, run } = recorder();
    const call = coalesced(run);
    const first = call(1);
    await nextTurn();
    const second = call(1);
    expect(await Promise.all([first, second])).toEqual([2, 2]);
    expect(batches).toEqual([[1], [1]]);
  });

  it('at most maxBatch calls share a statement', async () => {
    const { batches, run } = recorder();
    const call = coalesced(run, 3);
    expect(await Promise.all([1, 2, 3, 4, 5, 6, 7].map(call))).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('a failed statement fails each of its calls, and only those', async () => {
    let fail = true;
    const call = coalesced(async (keys: readonly number[]) => {
      if (fail) throw new Error('connection lost');
      return keys.map((k) => k);
    });
    const failed = await Promise.allSettled([call(1), call(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await call(3)).toBe(3);
  });
});
