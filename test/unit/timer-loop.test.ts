import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerLoop } from '../../src/dispatcher/timers.js';
import type { Logger } from '../../src/log.js';

const log = { error: vi.fn(), info: () => {}, debug: () => {}, warn: () => {} } as unknown as Logger;

/** A database that answers the loop's two statements from scripts: claimed counts, next due times. */
function fakeDb(fires: (number | Error)[], nexts: (number | null)[]) {
  const calls: string[] = [];
  return {
    calls,
    async query(text: string) {
      if (text.includes('for update skip locked')) {
        calls.push('fire');
        const n = fires.shift() ?? 0;
        if (n instanceof Error) throw n;
        return { rows: [{ claimed: n, raised: n }] };
      }
      calls.push('next');
      const next = nexts.shift() ?? null;
      return { rows: [{ next: next === null ? null : new Date(next) }] };
    },
  };
}

describe('TimerLoop', () => {
  beforeEach(() => void vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) }));
  afterEach(() => void vi.useRealTimers());

  it('fires full batches until one is short, then sleeps until just after the next due time', async () => {
    const db = fakeDb([3, 3, 1, 2], [Date.now() + 10_000]);
    const raised: number[] = [];
    const loop = new TimerLoop({ db, log, batchSize: 3, raised: (n) => raised.push(n) });
    await loop.wake();
    expect(db.calls).toEqual(['fire', 'fire', 'fire', 'next']);
    expect(raised).toEqual([3, 3, 1]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(db.calls).toHaveLength(4); // not yet: due means before now
    await vi.advanceTimersByTimeAsync(1);
    expect(db.calls.slice(4)).toEqual(['fire', 'next']);
    expect(raised).toEqual([3, 3, 1, 2]);
    await loop.stop();
  });

  it('with nothing planned it sleeps until woken; a nearer time (the notification) wakes it', async () => {
    const db = fakeDb([], [null, Date.now() + 500]);
    const loop = new TimerLoop({ db, log });
    await loop.wake();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(db.calls).toEqual(['fire', 'next']);
    await loop.wake();
    await vi.advanceTimersByTimeAsync(501);
    expect(db.calls).toEqual(['fire', 'next', 'fire', 'next', 'fire', 'next']);
    await loop.stop();
  });

  it('due times another process holds are looked at again shortly; a failure is retried in a second', async () => {
    const db = fakeDb([0, new Error('deadlock detected'), 1], [Date.now() - 5]);
    const loop = new TimerLoop({ db, log });
    await loop.wake();
    await vi.advanceTimersByTimeAsync(250);
    expect(db.calls).toEqual(['fire', 'next', 'fire']);
    expect(log.error).toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(999);
    expect(db.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(2);
    expect(db.calls).toEqual(['fire', 'next', 'fire', 'fire', 'next']);
    await loop.stop();
  });

  it('a clock set forward (a host resumed from suspend) fires what came due within a second, without asking the database meanwhile', async () => {
    let jumped = 0;
    const clock = () => new Date(Date.now() + jumped);
    const db = fakeDb([0, 1], [Date.now() + 2 * 3_600_000, null]);
    const loop = new TimerLoop({ db, log, clock });
    await loop.wake();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(db.calls).toEqual(['fire', 'next']);
    // the wall clock moves two hours on while the sleep has counted a minute
    jumped = 2 * 3_600_000;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(db.calls).toEqual(['fire', 'next', 'fire', 'next']);
    await loop.stop();
  });

  it('sleeps no more after stop()', async () => {
    const db = fakeDb([], [Date.now() + 1_000]);
    const loop = new TimerLoop({ db, log });
    await loop.wake();
    await loop.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(db.calls).toEqual(['fire', 'next']);
  });
});
