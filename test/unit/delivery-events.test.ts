/** The feed hub: filters on the server side, bounded queues per subscriber. */
import { describe, expect, it } from 'vitest';
import { createDeliveryEventHub, matches } from '../../src/delivery/events.js';
import type { DeliveryEventMessage } from '../../src/domain/index.js';

const ev = (n: number, over: Partial<DeliveryEventMessage> = {}): DeliveryEventMessage => ({
  t: 'ATTEMPTED', d: `d${n}`, w: '1', k: '7', s: 'RETRYING', n, at: new Date(0).toISOString(), ...over,
});

describe('delivery event hub', () => {
  it.each([
    [{}, ev(1), true],
    [{ webhookId: '1' }, ev(1), true],
    [{ webhookId: '2' }, ev(1), false],
    [{ ticketId: '7' }, ev(1), true],
    [{ ticketId: '8' }, ev(1), false],
    [{ status: 'RETRYING' }, ev(1), true],
    [{ status: 'SUCCEEDED' }, ev(1), false],
    [{ webhookId: '1', status: 'SUCCEEDED' }, ev(1, { s: 'SUCCEEDED' }), true],
  ])('filter %j on %j → %s', (filter, e, expected) => {
    expect(matches(filter, e)).toBe(expected);
  });

  it('loads each notification once for all subscribers, and only the events someone wants', async () => {
    const loaded: number[][] = [];
    const hub = createDeliveryEventHub(async (messages) => {
      loaded.push(messages.map((m) => m.n!));
      return messages.map((message) => ({ message, delivery: { id: message.d }, attempt: null }));
    });
    await hub.receive(JSON.stringify([ev(1)]));
    expect(loaded).toEqual([]); // nobody listens: nothing loaded
    const a = hub.subscribe({ webhookId: '1' });
    const b = hub.subscribe({});
    await hub.receive(JSON.stringify([ev(2), ev(3, { w: '9' })]));
    expect(loaded).toEqual([[2, 3]]);
    expect((await a.next()).value?.message.n).toBe(2);
    expect([(await b.next()).value?.message.n, (await b.next()).value?.message.n]).toEqual([2, 3]);
  });

  it('delivers in order to each subscriber', async () => {
    const hub = createDeliveryEventHub();
    const s = hub.subscribe({});
    void hub.receive(JSON.stringify([ev(1), ev(2)]));
    void hub.receive(JSON.stringify([ev(3)]));
    const got = [await s.next(), await s.next(), await s.next()].map((r) => r.value?.message.n);
    expect(got).toEqual([1, 2, 3]);
  });

  it('a subscriber that does not read keeps only the newest maxQueue events and counts the rest', async () => {
    const hub = createDeliveryEventHub();
    const slow = hub.subscribe({}, 100);
    const fast = hub.subscribe({});
    const received: number[] = [];
    const reading = (async () => {
      for await (const e of fast) {
        received.push(e.message.n!);
        if (received.length === 5_000) break;
      }
    })();
    for (let i = 0; i < 5_000; i += 50) await hub.receive(JSON.stringify(Array.from({ length: 50 }, (_, j) => ev(i + j))));
    await reading;
    expect(received).toHaveLength(5_000);
    expect(slow.dropped).toBe(4_900);
    const first = await slow.next();
    expect(first.value?.message.n).toBe(4_900);
    await slow.return!();
    expect(hub.subscriberCount).toBe(0);
  });
});

describe('a subscriber whose client is not reading (its flow gate is closed)', () => {
  it('costs no loads while gated; on reading again its queued events are loaded in one batch, in order', async () => {
    const loads: number[][] = [];
    const hub = createDeliveryEventHub(async (messages) => {
      loads.push(messages.map((m) => m.n!));
      return messages.map((message) => ({ message, delivery: { id: message.d }, attempt: null }));
    }, undefined, { batchMs: 0 });
    let open = false;
    let reopen: () => void = () => {};
    const gate = { get open() { return open; }, wait: () => (open ? Promise.resolve() : new Promise<void>((r) => (reopen = r))) };
    const stalled = hub.subscribe({}, 100, gate);
    const pending = stalled.next(); // waits at the gate
    for (let i = 0; i < 300; i += 50) await hub.receive(JSON.stringify(Array.from({ length: 50 }, (_, j) => ev(i + j))));
    expect(loads).toEqual([]);
    expect(stalled.dropped).toBe(200);
    open = true;
    reopen();
    const first = await pending;
    expect(first.value?.message.n).toBe(200);
    expect(first.value?.delivery).toEqual({ id: 'd200' });
    expect(loads).toEqual([Array.from({ length: 100 }, (_, i) => 200 + i)]);
    const second = await stalled.next();
    expect(second.value?.message.n).toBe(201);
    expect(loads).toHaveLength(1);
  });
});
