/**
 * src/queue/job-notifications.ts: a notification of a job due within the pickup interval
 * is handed to the job engine twice — at once, and again once the clock has reached the
 * job's time (the engine then runs a job its own early-firing timer left waiting). A timer
 * that fires before that time by the clock waits on; a job due later than the pickup
 * interval is handed over once; a disconnect drops what waits. On vitest's fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import type { JobNotification } from 'agenda';
import { ListenerJobNotifications, type NotificationSource } from '../../src/queue/job-notifications.js';

class FakeSource implements NotificationSource {
  handler: ((payload: string) => void) | null = null;
  async on(_channel: string, handler: (payload: string) => void): Promise<void> {
    this.handler = handler;
  }
  send(nextRunAt: number | null): void {
    this.handler!(JSON.stringify({ jobId: 'j1', jobName: 'wake', nextRunAt: nextRunAt === null ? null : new Date(nextRunAt).toISOString(), priority: 0, timestamp: new Date().toISOString() }));
  }
}

const channels: ListenerJobNotifications[] = [];
beforeEach(() => void vi.useFakeTimers());
afterEach(async () => {
  await Promise.all(channels.splice(0).map((c) => c.disconnect()));
  vi.useRealTimers();
});

/**
 * A channel, the times it handed notifications over, and its clock: at `speed` times the
 * timers' time (at half speed a timer set for the clock's 60 ms fires when the clock shows
 * 30: early by the clock, as a timer counted from a stale loop time is).
 */
async function channel(speed: number): Promise<{ source: FakeSource; handed: { at: number; nextRunAt: number | null }[]; now: () => number; disconnect: () => Promise<void> }> {
  const source = new FakeSource();
  const t0 = Date.now();
  const now = () => t0 + (Date.now() - t0) * speed;
  const c = new ListenerJobNotifications(source, {} as pg.Pool, 'agenda_jobs', { pickupMs: 1_000, now });
  channels.push(c);
  const handed: { at: number; nextRunAt: number | null }[] = [];
  c.subscribe(async (n: JobNotification) => void handed.push({ at: now(), nextRunAt: n.nextRunAt?.getTime() ?? null }));
  await c.connect();
  return { source, handed, now, disconnect: () => c.disconnect() };
}

describe('job notifications handed to the job engine', () => {
  it('a job due soon: at once, and again once the clock has reached its time, though the timer fires early by the clock', async () => {
    const { source, handed, now } = await channel(0.5);
    const due = now() + 60;
    source.send(due);
    expect(handed).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(61); // the first timer: the clock shows 30 of the 60
    expect(handed).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(handed).toHaveLength(2);
    expect(handed[1]!.at).toBeGreaterThanOrEqual(due);
    expect(handed[1]!.nextRunAt).toBe(due);
  });

  it('a job due now, or later than the pickup interval, is handed over once; a disconnect drops a hand-over that waits', async () => {
    const { source, handed, now, disconnect } = await channel(1);
    source.send(null);
    source.send(now() - 5);
    source.send(now() + 5_000);
    expect(handed).toHaveLength(3);
    source.send(now() + 100);
    expect(handed).toHaveLength(4);
    await disconnect();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(handed).toHaveLength(4);
  });
});
