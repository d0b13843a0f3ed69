/** The feed hub: filters on the server side, bounded queues per subscriber. */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { createDeliveryEventHub, matches, matchesLoaded, type DeliveryFeedItem } from '../../src/delivery/events.js';
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

  it('queued events that cannot be loaded when it reads again (the database out of reach) are dropped and counted, not handed out as deliveries that are gone', async () => {
    let failing = true;
    const errors: string[] = [];
    const hub = createDeliveryEventHub(
      async (messages) => {
        if (failing) throw new Error('connection terminated');
        return messages.map((message) => ({ message, delivery: { id: message.d }, attempt: null }));
      },
      (msg) => errors.push(msg),
      { batchMs: 0 },
    );
    let open = false;
    let reopen: () => void = () => {};
    const gate = { get open() { return open; }, wait: () => (open ? Promise.resolve() : new Promise<void>((r) => (reopen = r))) };
    const stalled = hub.subscribe({}, 100, gate);
    const pending = stalled.next();
    await hub.receive(JSON.stringify([ev(1), ev(2), ev(3)]));
    open = true;
    reopen();
    // the three cannot be loaded; the next event, loaded once the database answers, is the first handed out
    await waitFor(() => stalled.dropped === 3, { what: 'the three queued events dropped' });
    failing = false;
    await hub.receive(JSON.stringify([ev(4)]));
    const first = await pending;
    expect(first.value?.message.n).toBe(4);
    expect(first.value?.delivery).toEqual({ id: 'd4' });
    expect(stalled.dropped).toBe(3);
    expect(errors).toEqual(['loading queued delivery events for the feed failed; they are dropped']);
  });
});

describe('the row filter (ruleId, since, until, search): judged on the loaded delivery', () => {
  const row = (n: number) => ({ id: `d${n}`, ruleId: n % 2 ? '5' : null, createdAt: new Date(Date.UTC(2030, 0, 1, n)), request: { url: `https://h.example/N${n}`, body: n === 3 ? '{"x":"Needle"}' : null } });
  const item = (n: number, lastResponse?: string | null): DeliveryFeedItem => ({ message: ev(n), delivery: row(n), attempt: null, lastResponse });

  it.each([
    [{ ruleId: '5' }, item(1), true],
    [{ ruleId: '5' }, item(2), false],
    [{ since: new Date(Date.UTC(2030, 0, 1, 2)) }, item(2), true],
    [{ since: new Date(Date.UTC(2030, 0, 1, 2)) }, item(1), false],
    [{ until: new Date(Date.UTC(2030, 0, 1, 2)) }, item(1), true],
    [{ until: new Date(Date.UTC(2030, 0, 1, 2)) }, item(2), false],
    [{ search: 'h.example/n4' }, item(4), true],
    [{ search: 'NEEDLE' }, item(3), true],
    [{ search: 'needle' }, item(4, 'a needle in the answer'), true],
    [{ search: 'needle' }, item(4, null), false],
    [{ ruleId: '5' }, { message: ev(1), delivery: null, attempt: null }, false],
    [{}, { message: ev(1), delivery: null, attempt: null }, true],
  ])('%j on delivery %#', (filter, it, expected) => {
    expect(matchesLoaded(filter, it)).toBe(expected);
  });

  it.each([
    [{ search: 'x'.repeat(1001) }, 'filter.search'],
    [{ ruleId: 'abc' }, 'filter.ruleId'],
    [{ since: new Date('2030-01-02'), until: new Date('2030-01-01') }, 'filter.until'],
  ])('a feed filtered by %j is refused naming %s, as the log refuses it', (filter, field) => {
    const hub = createDeliveryEventHub(async () => []);
    expect(() => hub.subscribe(filter)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', field }));
    expect(hub.subscriberCount).toBe(0);
  });

  it('an open subscriber gets only what passes; the last answers are loaded only while someone searches them', async () => {
    const asked: boolean[] = [];
    const hub = createDeliveryEventHub(async (messages, opts) => {
      asked.push(!!opts?.lastResponse);
      return messages.map((message) => ({ message, delivery: row(message.n!), attempt: null, ...(opts?.lastResponse ? { lastResponse: message.n === 2 ? 'the NEEDLE' : null } : {}) }));
    }, undefined, { batchMs: 0 });
    const byRule = hub.subscribe({ ruleId: '5' });
    await hub.receive(JSON.stringify([ev(1), ev(2), ev(3)]));
    const bySearch = hub.subscribe({ search: 'needle' });
    await hub.receive(JSON.stringify([ev(4), ev(2), ev(3), ev(5)]));
    expect(asked).toEqual([false, true]);
    const take = async (s: typeof byRule, n: number) => { const got: number[] = []; for (let i = 0; i < n; i++) got.push((await s.next()).value!.message.n!); return got; };
    expect(await take(byRule, 4)).toEqual([1, 3, 3, 5]);
    expect(await take(bySearch, 2)).toEqual([2, 3]);
  });

  it('a gated subscriber loads its queued events with their last answers and skips what does not pass', async () => {
    const asked: boolean[] = [];
    const hub = createDeliveryEventHub(async (messages, opts) => {
      asked.push(!!opts?.lastResponse);
      return messages.map((message) => ({ message, delivery: row(message.n!), attempt: null, ...(opts?.lastResponse ? { lastResponse: message.n === 6 ? 'NEEDLE' : null } : {}) }));
    }, undefined, { batchMs: 0 });
    let open = false;
    let reopen: () => void = () => {};
    const gate = { get open() { return open; }, wait: () => (open ? Promise.resolve() : new Promise<void>((r) => (reopen = r))) };
    const gated = hub.subscribe({ search: 'needle' }, 100, gate);
    const plain = hub.subscribe({});
    const pending = gated.next();
    await hub.receive(JSON.stringify([ev(1), ev(3), ev(6)]));
    expect(asked).toEqual([false]); // loaded for the open subscriber only, without answers
    expect((await plain.next()).value?.message.n).toBe(1);
    open = true;
    reopen();
    expect((await pending).value?.message.n).toBe(3);
    expect((await gated.next()).value?.message.n).toBe(6);
    expect(asked).toEqual([false, true]);
  });
});
