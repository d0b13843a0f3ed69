/**
 * The dispatcher's loop on a fake clock, an in-memory outbox with the claim's lease rules
 * (src/queue/claim.ts) and a handler the test controls: order per ticket, batches, lease
 * expiry, a wake-up while draining, stop during a drain, a failing drain.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher, type ClaimedEvent, type EventHandler, type OutboxStore } from '../../src/dispatcher/processor.js';
import type { Logger } from '../../src/log.js';
import { waitFor } from '../support/wait.js';

const LEASE = 60_000;

class FakeClock {
  t = Date.UTC(2030, 0, 1);
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

interface Event {
  id: number;
  ticketId: string;
  processed: boolean;
  lockedUntil: number | null;
  tries: number;
}

class FakeOutbox implements OutboxStore {
  events: Event[] = [];
  claims: string[][] = [];
  failNext = false;

  add(ticketId: string, count = 1): void {
    for (let i = 0; i < count; i++) this.events.push({ id: this.events.length + 1, ticketId, processed: false, lockedUntil: null, tries: 0 });
  }

  async claim(limit: number, now: Date, leaseMs: number): Promise<ClaimedEvent[]> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection terminated');
    }
    const t = now.getTime();
    const rows = this.events.filter((e) => !e.processed && (e.lockedUntil === null || e.lockedUntil < t)).slice(0, limit);
    for (const e of rows) {
      e.lockedUntil = t + leaseMs;
      e.tries++;
    }
    this.claims.push(rows.map((e) => String(e.id)));
    // handed over out of order: the dispatcher sorts them
    return rows.map((e) => ({ id: String(e.id), ticketId: e.ticketId })).reverse();
  }

  get(id: number | string): Event {
    return this.events.find((e) => e.id === Number(id))!;
  }
}

/** Marks an event processed when handled, as the real handler does in its transaction; can hold or fail an event. */
class FakeHandler implements EventHandler {
  handled: string[] = [];
  batches = 0;
  active = 0;
  maxActive = 0;
  failing = new Set<string>();
  private holding = new Set<string>();
  private held = new Map<string, () => void>();

  constructor(private readonly outbox: FakeOutbox) {}

  hold(id: number): void {
    this.holding.add(String(id));
  }

  release(id: number): void {
    this.holding.delete(String(id));
    this.held.get(String(id))?.();
  }

  isHeld(id: number): boolean {
    return this.held.has(String(id));
  }

  async begin() {
    this.batches++;
    return async (id: string) => {
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      try {
        if (this.holding.has(id)) await new Promise<void>((resolve) => this.held.set(id, resolve));
        else await new Promise((r) => setTimeout(r, 1));
        if (this.failing.has(id)) throw new Error(`rule failed on ${id}`);
        this.handled.push(id);
        this.outbox.get(id).processed = true;
      } finally {
        this.active--;
      }
    };
  }
}

const errors: string[] = [];
const log: Logger = { info: () => {}, debug: () => {}, error: (m) => void errors.push(m) };

const dispatchers: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  errors.length = 0;
});

function dispatcher(outbox: FakeOutbox, handler: FakeHandler, clock: FakeClock, batchSize = 100): Dispatcher {
  const d = new Dispatcher({ outbox, events: handler, log, clock: clock.now, batchSize, concurrency: 3, leaseMs: LEASE });
  dispatchers.push(d);
  return d;
}

const byTicket = (outbox: FakeOutbox, handled: string[]) => {
  const out: Record<string, number[]> = {};
  for (const id of handled) (out[outbox.get(id).ticketId] ??= []).push(Number(id));
  return out;
};

describe('dispatcher loop', () => {
  it('handles every event once, in batches, each ticket’s events in order and tickets side by side', async () => {
    const clock = new FakeClock();
    const outbox = new FakeOutbox();
    const handler = new FakeHandler(outbox);
    for (let i = 0; i < 4; i++) for (const t of ['a', 'b', 'c', 'd']) outbox.add(t);
    await dispatcher(outbox, handler, clock, 5).wake();
    expect(handler.handled.sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 16 }, (_, i) => String(i + 1)));
    const order = byTicket(outbox, handler.handled);
    for (const ids of Object.values(order)) expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(outbox.claims.map((c) => c.length)).toEqual([5, 5, 5, 1]);
    expect(handler.batches).toBe(4);
    expect(handler.maxActive).toBeGreaterThan(1);
    expect(handler.maxActive).toBeLessThanOrEqual(3);
  });

  it('a claim with nothing in it loads no rules', async () => {
    const outbox = new FakeOutbox();
    const handler = new FakeHandler(outbox);
    await dispatcher(outbox, handler, new FakeClock()).wake();
    expect(outbox.claims).toEqual([[]]);
    expect(handler.batches).toBe(0);
  });

  it('a wake-up while draining is not lost: the event it announces is handled by the same drain', async () => {
    const clock = new FakeClock();
    const outbox = new FakeOutbox();
    const handler = new FakeHandler(outbox);
    const d = dispatcher(outbox, handler, clock);
    outbox.add('a');
    handler.hold(1);
    const drain = d.wake();
    await waitFor(() => handler.isHeld(1), { timeoutMs: 5_000, what: 'event 1 being handled' });
    outbox.add('b'); // committed after the drain's claim
    expect(d.wake()).toBe(drain);
    handler.release(1);
    await drain;
    expect(handler.handled).toEqual(['1', '2']);
    expect(outbox.claims).toEqual([['1'], ['2']]);
  });

  it('lease expiry: an event that failed is claimed again only once its lease ran out', async () => {
    const clock = new FakeClock();
    const outbox = new FakeOutbox();
    const handler = new FakeHandler(outbox);
    const d = dispatcher(outbox, handler, clock);
    outbox.add('a');
    handler.failing.add('1');
    await d.wake();
    expect(errors).toEqual(['ticket event 1 failed; it is retried']);

    handler.failing.clear();
    clock.advance(LEASE);
    await d.wake();
    expect(handler.handled).toEqual([]);

    clock.advance(1);
    await d.wake();
    expect(handler.handled).toEqual(['1']);
    expect(outbox.get(1).tries).toBe(2);
  });

  it('stop during a drain: the event being handled finishes, no other starts, and no drain after it', async () => {
    const clock = new FakeClock();
    const outbox = new FakeOutbox();
    const handler = new FakeHandler(outbox);
    const d = dispatcher(outbox, handler, clock);
    outbox.add('a', 3);
    handler.hold(1);
    void d.wake();
    await waitFor(() => handler.isHeld(1), { timeoutMs: 5_000, what: 'event 1 being handled' });

    let stopped = false;
    const stopping = d.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false); // waits for the event being handled
    handler.release(1);
    await stopping;
    expect(handler.handled).toEqual(['1']);

    outbox.add('b');
    await d.wake();
    expect(outbox.claims).toHaveLength(1);
    expect(outbox.get(2)).toMatchObject({ processed: false, tries: 1 }); // claimed, left to its lease
  });

  it('a failing drain is reported and the next wake-up drains again', async () => {
    const clock = new FakeClock();
    const outbox = new FakeOutbox();
    const handler = new FakeHandler(outbox);
    const d = dispatcher(outbox, handler, clock);
    outbox.add('a');
    outbox.failNext = true;
    await d.wake();
    expect(errors).toEqual(['dispatcher drain failed; the next wake-up retries it']);
    await d.wake();
    expect(handler.handled).toEqual(['1']);
  });
});
