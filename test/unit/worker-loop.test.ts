/**
 * The delivery worker's loop on a manual clock (test/support/clock.ts), an in-memory store with the claim's lease
 * rules (scheduling.ts) and a sender the test answers for: concurrency, retries at
 * their time, lease expiry, a wake-up while draining, stop during a drain.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryWorker, type ClaimBatch, type ReservedClaim, type WorkerStore } from '../../src/delivery/worker.js';
import { createRetryPolicy } from '../../src/delivery/policy.js';
import type { ClaimedDelivery } from '../../src/delivery/store.js';
import { RECORDED_BODY_LIMIT, type Outcome } from '../../src/delivery/outcome.js';
import type { AttemptResult } from '../../src/delivery/types.js';
import { createSecretBox } from '../../src/crypto/index.js';
import { isOpenDelivery, type DeliveryStatus, type RenderedRequest } from '../../src/domain/index.js';
import type { Logger } from '../../src/log.js';
import { manualClock, type ManualClock } from '../support/clock.js';
import { waitFor } from '../support/wait.js';

const MINUTE = 60_000;
const LEASE = 30_000;

interface Row {
  id: string;
  status: DeliveryStatus;
  due: number | null;
  lockedUntil: number | null;
  attemptCount: number;
  firstAttemptAt: number | null;
  ticketId: string | null;
  needsProcessing: boolean;
  /** default '1' */
  webhookId?: string;
}

const isOpen = isOpenDelivery;

/** The store's rules in memory: open and due, not claimed or claim expired (strictly before now), oldest due first. */
class FakeStore implements WorkerStore {
  rows = new Map<string, Row>();
  claims: { at: number; ids: string[] }[] = [];
  released: string[] = [];
  recorded: Outcome[] = [];
  withTicketWork: Outcome[] = [];

  add(id: string, due: number, over: Partial<Row> = {}): void {
    this.rows.set(id, { id, status: 'PENDING', due, lockedUntil: null, attemptCount: 0, firstAttemptAt: null, ticketId: null, needsProcessing: false, ...over });
  }

  async claim(limit: number, now: Date, leaseMs: number, _finished?: string[], reserved?: ReservedClaim): Promise<ClaimedDelivery[] | ClaimBatch> {
    const t = now.getTime();
    const taken = new Set<string>();
    const ready = [...this.rows.values()]
      .filter((r) => isOpen(r.status) && r.due !== null && r.due <= t && (r.lockedUntil === null || r.lockedUntil < t))
      .sort((a, b) => a.due! - b.due!)
      // the reserved slots: one each of webhooks with nothing in flight in the worker (scheduling.ts)
      .filter((r) => !reserved || (!reserved.busy.includes(r.webhookId ?? '1') && !taken.has(r.webhookId ?? '1') && taken.add(r.webhookId ?? '1')))
      .slice(0, limit);
    return this.take(ready, t, leaseMs);
  }

  /** claims `ready` until `t + leaseMs` */
  protected take(ready: Row[], t: number, leaseMs: number): ClaimedDelivery[] {
    const claimed = ready.map((r): ClaimedDelivery => {
      const before = r.firstAttemptAt;
      r.lockedUntil = t + leaseMs;
      r.firstAttemptAt ??= t;
      return {
        id: r.id, webhookId: r.webhookId ?? '1', webhookName: 'W', ticketId: r.ticketId, status: r.status,
        request: { method: 'POST', url: `http://receiver.test/${r.id}`, headers: {}, body: '{}' } as RenderedRequest,
        authSealed: null, attemptCount: r.attemptCount, firstAttemptAt: before === null ? null : new Date(before),
        lastError: null, needsProcessing: r.needsProcessing,
      };
    });
    this.claims.push({ at: t, ids: claimed.map((d) => d.id) });
    return claimed;
  }

  async release(ids: string[]): Promise<void> {
    for (const id of ids) {
      const r = this.rows.get(id)!;
      r.lockedUntil = null;
      if (r.attemptCount === 0) r.firstAttemptAt = null;
    }
    this.released.push(...ids);
  }

  /** the next record() fails as when the database is out of reach */
  failRecord = false;

  async record(outcomes: Outcome[]): Promise<Outcome[]> {
    if (this.failRecord) {
      this.failRecord = false;
      throw new Error('Connection terminated unexpectedly');
    }
    for (const o of outcomes) this.apply(o);
    this.recorded.push(...outcomes);
    return outcomes;
  }

  async recordWithTicketWork(o: Outcome): Promise<boolean> {
    this.apply(o);
    this.withTicketWork.push(o);
    return true;
  }

  private apply(o: Outcome): void {
    const r = this.rows.get(o.update.id)!;
    if (!isOpen(r.status)) return;
    Object.assign(r, {
      status: o.update.status,
      attemptCount: o.update.attemptCount,
      due: o.update.nextAttemptAt?.getTime() ?? null,
      lockedUntil: null,
      firstAttemptAt: o.update.firstAttemptAt.getTime(),
    });
  }

  status(id: string): DeliveryStatus {
    return this.rows.get(id)!.status;
  }
}

/** Answers 200 at once, or what the test set for a delivery; a held send waits for finish() or its abort. */
class FakeSender {
  sent: { id: string; attempt: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  answers = new Map<string, number>();
  /** the answer's body per delivery (default empty) */
  bodies = new Map<string, string>();
  private held = new Map<string, (status: number) => void>();
  private holding = new Set<string>();

  constructor(private readonly clock: ManualClock) {}

  hold(id: string): void {
    this.holding.add(id);
  }

  finish(id: string, status = 200): void {
    this.holding.delete(id);
    this.held.get(id)?.(status);
  }

  isHeld(id: string): boolean {
    return this.held.has(id);
  }

  async send(_req: RenderedRequest, headers: Record<string, string>, signal?: AbortSignal): Promise<AttemptResult> {
    const id = headers['X-Deskhooks-Delivery']!;
    this.sent.push({ id, attempt: Number(headers['X-Deskhooks-Attempt']) });
    const startedAt = this.clock.now();
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      let status = this.answers.get(id) ?? 200;
      if (this.holding.has(id)) {
        status = await new Promise<number>((resolve) => {
          this.held.set(id, resolve);
          signal?.addEventListener('abort', () => resolve(0));
        });
        this.held.delete(id);
      } else {
        await new Promise((r) => setTimeout(r, 1));
      }
      const ok = status >= 200 && status < 300;
      return {
        startedAt, durationMs: 1, statusCode: status || null, error: ok ? null : `HTTP ${status}`,
        errorClass: ok ? 'none' : status ? 'http_status' : 'network', responseBody: this.bodies.get(id) ?? '', responseContentType: null, responseTruncated: false,
      };
    } finally {
      this.inFlight--;
    }
  }
}

const errors: string[] = [];
const debugs: string[] = [];
const log: Logger = { info: () => {}, debug: (m) => void debugs.push(m), error: (m) => void errors.push(m) };

const workers: DeliveryWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop(10)));
  errors.length = 0;
  debugs.length = 0;
});

function worker(store: FakeStore, sender: FakeSender, clock: ManualClock, over: { concurrency?: number; retries?: Date[]; leaseMs?: number; successorWaitMs?: number } = {}): DeliveryWorker {
  const w = new DeliveryWorker({
    store,
    sender,
    policy: createRetryPolicy({ intervalMs: MINUTE, windowMs: 5 * MINUTE }),
    box: createSecretBox(Buffer.alloc(32, 1)),
    log,
    concurrency: over.concurrency ?? 4,
    leaseMs: over.leaseMs ?? LEASE,
    scheduleRetry: (at) => over.retries?.push(at),
    clock: clock.now,
    ...(over.successorWaitMs === undefined ? {} : { successorWaitMs: over.successorWaitMs }),
  });
  workers.push(w);
  return w;
}

describe('delivery worker loop', () => {
  it('a webhook whose receiver hangs fills all but the reserved slots; they carry another webhook\'s delivery meanwhile, one per webhook with nothing in flight', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    for (let i = 0; i < 20; i++) {
      store.add(`a${i}`, clock.t - 100 + i, { webhookId: 'A' });
      sender.hold(`a${i}`);
    }
    const w = worker(store, sender, clock, { concurrency: 16 }); // 2 reserved slots
    void w.wake();
    await waitFor(() => sender.inFlight >= 14, { what: 'A to fill the open slots' });
    store.add('b1', clock.t, { webhookId: 'B' });
    store.add('b2', clock.t, { webhookId: 'B' });
    store.add('c1', clock.t, { webhookId: 'C' });
    void w.wake();
    await waitFor(() => store.status('b1') === 'SUCCEEDED' && store.status('c1') === 'SUCCEEDED', { timeoutMs: 2_000, what: 'B and C sent past the hanging A' });
    void w.wake();
    await waitFor(() => store.status('b2') === 'SUCCEEDED', { timeoutMs: 2_000, what: 'B\'s second delivery in a reserved slot' });
    expect(sender.sent.filter((s) => s.id.startsWith('a'))).toHaveLength(14);
    expect(w.busy).toBe(14);
    for (let i = 0; i < 20; i++) sender.finish(`a${i}`);
  });

  it('sends every due delivery once, never more than its concurrency at a time, and records each', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    for (let i = 0; i < 20; i++) store.add(`d${i}`, clock.t - i);
    store.add('later', clock.t + 1);
    await worker(store, sender, clock, { concurrency: 3 }).wake();
    await waitFor(() => store.recorded.length === 20, { timeoutMs: 5_000, what: '20 outcomes recorded' });
    expect(sender.maxInFlight).toBeLessThanOrEqual(3);
    expect(sender.sent.map((s) => s.id).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `d${i}`).sort());
    expect([...store.rows.values()].filter((r) => r.status === 'SUCCEEDED')).toHaveLength(20);
    expect(store.status('later')).toBe('PENDING'); // not due on this clock
  });

  it('a retry is handed to scheduleRetry and sent when the clock reaches it, not before', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    const retries: Date[] = [];
    const w = worker(store, sender, clock, { retries });
    const first = clock.t;
    store.add('d', first);
    sender.answers.set('d', 503);
    await w.wake();
    await waitFor(() => store.status('d') === 'RETRYING', { timeoutMs: 5_000, what: 'RETRYING' });
    expect(retries.map((d) => d.getTime())).toEqual([first + MINUTE]);

    clock.advance(MINUTE - 1);
    await w.wake();
    expect(sender.sent).toHaveLength(1);

    sender.answers.set('d', 200);
    clock.advance(1);
    await w.wake();
    await waitFor(() => store.status('d') === 'SUCCEEDED', { timeoutMs: 5_000, what: 'SUCCEEDED' });
    expect(sender.sent).toEqual([{ id: 'd', attempt: 1 }, { id: 'd', attempt: 2 }]);
  });

  it('lease expiry: a claim whose worker never finishes holds until its lease ends, then another worker takes the delivery over', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const stuck = new FakeSender(clock);
    const healthy = new FakeSender(clock);
    store.add('d', clock.t);
    stuck.hold('d');
    void worker(store, stuck, clock).wake();
    await waitFor(() => stuck.isHeld('d'), { timeoutMs: 5_000, what: 'the first worker to send' });

    const other = worker(store, healthy, clock);
    clock.advance(LEASE);
    await other.wake(); // the lease ends strictly after claim time + lease
    expect(healthy.sent).toEqual([]);

    clock.advance(1);
    await other.wake();
    await waitFor(() => store.status('d') === 'SUCCEEDED', { timeoutMs: 5_000, what: 'the delivery taken over' });
    expect(healthy.sent).toEqual([{ id: 'd', attempt: 1 }]);
  });

  it('an outcome that could not be recorded (the database out of reach): claimed again by this worker once its lease ends, without another wake-up', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    const lease = 50;
    const w = worker(store, sender, clock, { leaseMs: lease });
    store.add('d', clock.t);
    store.failRecord = true;
    await w.wake();
    await waitFor(() => sender.sent.length === 1 && !store.failRecord, { timeoutMs: 5_000, what: 'the attempt and its failed recording' });
    expect(store.status('d')).toBe('PENDING');
    clock.advance(lease + 1); // its claim has expired by the store's clock
    await waitFor(() => store.status('d') === 'SUCCEEDED', { timeoutMs: 5_000, what: 'the delivery claimed again' });
    // its first attempt was never recorded: made again as attempt 1
    expect(sender.sent).toEqual([{ id: 'd', attempt: 1 }, { id: 'd', attempt: 1 }]);
  });

  it('a delivery claimed again while its attempt still runs in this worker (its lease ran out by the clock) is not attempted twice at once', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    store.add('d', clock.t);
    sender.hold('d');
    const w = worker(store, sender, clock);
    const drained = w.wake();
    await waitFor(() => sender.isHeld('d'), { timeoutMs: 5_000, what: 'the first attempt to be sent' });
    clock.advance(LEASE + 1);
    void w.wake(); // the running drain claims again: the lease has run out by the clock
    await waitFor(() => store.claims.some((c) => c.ids.includes('d') && c.at === clock.t), { timeoutMs: 5_000, what: 'the second claim of d' });
    expect(store.claims.filter((c) => c.ids.includes('d'))).toHaveLength(2);
    sender.finish('d');
    await drained;
    await waitFor(() => store.status('d') === 'SUCCEEDED', { timeoutMs: 5_000, what: 'the attempt to be recorded' });
    expect(sender.sent).toEqual([{ id: 'd', attempt: 1 }]);
  });

  it('a delivery claimed again after its attempt ended, while its outcome waits to be recorded (its lease ran out by the clock), is not attempted again', async () => {
    const clock = manualClock();
    class GatedStore extends FakeStore {
      recordGate: Promise<void> | null = null;
      override async record(outcomes: Outcome[]): Promise<Outcome[]> {
        await this.recordGate;
        return super.record(outcomes);
      }
    }
    const store = new GatedStore();
    let openGate!: () => void;
    store.recordGate = new Promise<void>((r) => (openGate = r));
    const sender = new FakeSender(clock);
    store.add('d', clock.t);
    store.add('slow', clock.t);
    sender.hold('slow'); // keeps the drain running
    const w = worker(store, sender, clock);
    void w.wake();
    try {
      await waitFor(() => sender.isHeld('slow') && sender.sent.some((s) => s.id === 'd') && w.busy === 1, { timeoutMs: 5_000, what: "d's attempt to end, its outcome not recorded" });
      clock.advance(LEASE + 1);
      void w.wake(); // the running drain claims again: d's lease has run out by the clock
      await waitFor(() => store.claims.some((c) => c.ids.includes('d') && c.at === clock.t), { timeoutMs: 5_000, what: 'the second claim of d' });
      // the drain starts what a claim returned in the microtasks after it: by the next macrotask
      await new Promise((r) => setImmediate(r));
      expect(w.busy).toBe(1); // only 'slow': d is not started again
    } finally {
      openGate();
      sender.finish('slow');
    }
    await waitFor(() => store.status('d') === 'SUCCEEDED', { timeoutMs: 5_000, what: "d's outcome to be recorded" });
    expect(sender.sent.filter((s) => s.id === 'd')).toEqual([{ id: 'd', attempt: 1 }]);
  });

  it('a wake-up while draining claims at once: a send that does not finish holds back no other delivery', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    const w = worker(store, sender, clock);
    store.add('silent', clock.t);
    sender.hold('silent');
    const drain = w.wake();
    await waitFor(() => sender.isHeld('silent'), { timeoutMs: 5_000, what: 'the silent send' });

    store.add('next', clock.t);
    expect(w.wake()).toBe(drain); // one drain; the wake-up is handed to it
    await waitFor(() => store.status('next') === 'SUCCEEDED', { timeoutMs: 5_000, what: 'the next delivery sent while the first hangs' });
    expect(w.busy).toBe(1);
    expect(store.status('silent')).toBe('PENDING');

    sender.finish('silent');
    await drain;
    await waitFor(() => store.status('silent') === 'SUCCEEDED', { timeoutMs: 5_000, what: 'the silent one recorded' });
  });

  it('a recorded attempt claims again only when the last claim left due deliveries behind: after one that took every due one, nothing is claimed for nothing', async () => {
    const clock = manualClock();
    /** a claim that says what it held back (scheduling.ts): nothing, or held by an in-flight limit while `held` */
    class TellingStore extends FakeStore {
      held = false;
      /** claims and recordings in their order */
      log: string[] = [];
      override async claim(limit: number, now: Date, leaseMs: number) {
        const deliveries = (await super.claim(limit, now, leaseMs)) as ClaimedDelivery[];
        this.log.push(`claimed ${deliveries.map((d) => d.id).join(',')}`);
        return { deliveries, heldByInFlight: this.held };
      }
      override async record(outcomes: Outcome[]): Promise<Outcome[]> {
        const recorded = await super.record(outcomes);
        this.log.push(`recorded ${outcomes.map((o) => o.update.id).join(',')}`);
        return recorded;
      }
    }
    const store = new TellingStore();
    const sender = new FakeSender(clock);
    for (const id of ['a', 'b', 'c']) store.add(id, clock.t);
    const w = worker(store, sender, clock, { concurrency: 8 });
    void w.wake();
    await waitFor(() => store.recorded.length === 3, { timeoutMs: 5_000, what: 'three outcomes' });
    // a new delivery wakes the worker itself (its notification)
    store.add('d', clock.t);
    void w.wake();
    await waitFor(() => store.recorded.length === 4, { timeoutMs: 5_000, what: "'d' recorded" });
    expect(store.log).toEqual(['claimed a,b,c', 'recorded a,b,c', 'claimed d', 'recorded d']);

    // a claim that held deliveries back: the recorded attempt claims again
    store.held = true;
    store.add('e', clock.t);
    void w.wake();
    const claimedAfterE = () => {
      const recorded = store.log.indexOf('recorded e');
      return recorded >= 0 && store.log.slice(recorded + 1).some((l) => l.startsWith('claimed'));
    };
    await waitFor(claimedAfterE, { timeoutMs: 5_000, what: "a claim after 'e' was recorded" });
  });

  it("a webhook at its in-flight limit: an attempt ending claims its next delivery before the outcome is recorded, not after every attempt", async () => {
    const clock = manualClock();
    /** the webhook's in-flight limit as scheduling.ts counts it: claimed, less those the worker reports ended */
    class LimitedStore extends FakeStore {
      limit = 2;
      recordGate: Promise<void> | null = null;
      finishedSeen: string[][] = [];
      override async claim(limit: number, now: Date, leaseMs: number, finished: string[] = []) {
        this.finishedSeen.push(finished);
        const t = now.getTime();
        const inFlight = [...this.rows.values()].filter((r) => r.lockedUntil !== null && r.lockedUntil > t && !finished.includes(r.id)).length;
        const room = Math.max(0, this.limit - inFlight);
        const deliveries = (await super.claim(Math.min(limit, room), now, leaseMs)) as ClaimedDelivery[];
        const due = [...this.rows.values()].some((r) => isOpen(r.status) && r.due !== null && r.due <= t && (r.lockedUntil === null || r.lockedUntil < t));
        return { deliveries, heldByInFlight: due && room < limit };
      }
      override async record(outcomes: Outcome[]): Promise<Outcome[]> {
        await this.recordGate;
        return super.record(outcomes);
      }
    }
    const store = new LimitedStore();
    const sender = new FakeSender(clock);
    for (const id of ['a', 'b', 'c']) store.add(id, clock.t);
    sender.hold('a');
    sender.hold('b');
    let openGate!: () => void;
    store.recordGate = new Promise<void>((r) => (openGate = r));
    void worker(store, sender, clock, { concurrency: 8 }).wake();
    try {
      await waitFor(() => sender.isHeld('a') && sender.isHeld('b'), { timeoutMs: 5_000, what: 'two attempts in flight' });
      expect(sender.sent.map((s) => s.id)).not.toContain('c'); // held by the limit of 2

      sender.finish('a'); // its outcome waits for the record gate: not recorded yet
      await waitFor(() => sender.sent.some((s) => s.id === 'c'), { timeoutMs: 5_000, what: "'c' sent in the slot 'a' freed" });
      expect(store.recorded).toEqual([]);
      expect(store.finishedSeen.at(-1)).toEqual(['a']);
    } finally {
      sender.finish('b');
      openGate();
    }
    await waitFor(() => store.recorded.length === 3, { timeoutMs: 5_000, what: 'three outcomes' });
  });

  it('stop during a drain: nothing is claimed after it, a send finishing within the grace is recorded, the rest are aborted and released, which the log says', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    const infos: string[] = [];
    const w = new DeliveryWorker({
      store, sender, policy: createRetryPolicy({ intervalMs: MINUTE, windowMs: 5 * MINUTE }), box: createSecretBox(Buffer.alloc(32, 1)),
      log: { ...log, info: (m) => void infos.push(m) }, concurrency: 2, leaseMs: LEASE, scheduleRetry: () => {}, clock: clock.now,
    });
    for (const id of ['a', 'b', 'c']) {
      store.add(id, clock.t);
      sender.hold(id);
    }
    void w.wake();
    await waitFor(() => sender.isHeld('a') && sender.isHeld('b'), { timeoutMs: 5_000, what: 'two sends in flight' });
    const claimsBefore = store.claims.length;

    const stopped = w.stop(50); // 'b' finishes within it, 'a' never does
    sender.finish('b');
    await stopped;

    expect(store.status('b')).toBe('SUCCEEDED');
    expect(store.released).toEqual(['a']);
    expect(store.rows.get('a')).toMatchObject({ status: 'PENDING', lockedUntil: null, firstAttemptAt: null, attemptCount: 0 });
    expect(sender.sent.map((s) => s.id)).not.toContain('c');
    await w.wake();
    expect(store.claims.length).toBe(claimsBefore);
    expect(errors).toEqual([]);
    // the operator reads what the stop cut short
    expect(infos).toEqual(['stopping: 1 attempt still in flight after 50 ms aborted and released; it is sent again (a receiver may see the same X-Deskhooks-Delivery twice)']);
  });

  it('an outcome with ticket work is recorded on its own; the others in batches', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    store.add('plain', clock.t);
    store.add('mapped', clock.t, { ticketId: '7', needsProcessing: true });
    store.add('final', clock.t, { ticketId: '7' });
    // the window is over before 'final' could be retried: FAILED now, which the ticket is told about
    store.rows.get('final')!.firstAttemptAt = clock.t - 10 * MINUTE;
    await worker(store, sender, clock).wake();
    await waitFor(() => store.recorded.length + store.withTicketWork.length === 3, { timeoutMs: 5_000, what: 'three outcomes' });
    expect(store.recorded.map((o) => o.delivery.id)).toEqual(['plain']);
    expect(store.withTicketWork.map((o) => [o.delivery.id, o.update.status]).sort()).toEqual([['final', 'FAILED'], ['mapped', 'SUCCEEDED']]);
    expect(sender.sent.map((s) => s.id)).not.toContain('final'); // due after its window: failed unsent
  });

  it('an outcome waiting for its batch holds what the log records of the answer (64 KiB), not the answer as read (up to 1 MiB) nor the request', async () => {
    const clock = manualClock();
    const store = new FakeStore();
    const sender = new FakeSender(clock);
    const answer = 'a'.repeat(1024 * 1024);
    store.add('big', clock.t);
    store.add('mapped', clock.t, { ticketId: '7', needsProcessing: true });
    sender.bodies.set('big', answer);
    sender.bodies.set('mapped', answer);
    await worker(store, sender, clock).wake();
    await waitFor(() => store.recorded.length === 1 && store.withTicketWork.length === 1, { timeoutMs: 5_000, what: 'both outcomes recorded' });
    const [batched] = store.recorded;
    expect(batched!.attempt!.responseBody).toBe(answer.slice(0, RECORDED_BODY_LIMIT));
    expect(batched!.result.responseBody).toBeNull();
    expect(batched!.delivery.request.body).toBeNull();
    // ticket work reads the whole answer (write-back, the success comment): it keeps it
    expect(store.withTicketWork[0]!.result.responseBody).toBe(answer);
  });
});

/**
 * One webhook ('1') with an in-flight limit as scheduling.ts counts it (claimed rows less
 * those the worker reports not in flight), which tells the worker that its slots may be
 * handed over when the limit cut a claim.
 */
class HandOverStore extends FakeStore {
  constructor(readonly limit: number) {
    super();
  }
  counted: string[][] = [];
  override async claim(limit: number, now: Date, leaseMs: number, finished: string[] = []): Promise<ClaimBatch> {
    this.counted.push(finished);
    const t = now.getTime();
    const inFlight = [...this.rows.values()].filter((r) => r.lockedUntil !== null && r.lockedUntil > t && !finished.includes(r.id)).length;
    const room = Math.max(0, this.limit - inFlight);
    const deliveries = (await super.claim(Math.min(limit, room), now, leaseMs)) as ClaimedDelivery[];
    const due = [...this.rows.values()].some((r) => isOpen(r.status) && r.due !== null && r.due <= t && (r.lockedUntil === null || r.lockedUntil < t));
    const held = due && room < limit;
    return { deliveries, heldByInFlight: held, handOver: held ? ['1'] : [] };
  }
  claimedIds(): string[] {
    return this.claims.flatMap((c) => c.ids);
  }
}

/** Waits for each of `ids` to be sent and answers it, in turn; then for `outcomes` outcomes recorded in all. */
async function answerInTurn(store: FakeStore, sender: FakeSender, ids: string[], outcomes: number): Promise<void> {
  for (const id of ids) {
    await waitFor(() => sender.isHeld(id), { timeoutMs: 5_000, what: `'${id}' sent` });
    sender.finish(id);
  }
  await waitFor(() => store.recorded.length === outcomes, { timeoutMs: 5_000, what: 'every outcome' });
}

describe('slot hand-over', () => {
  it('a webhook at its limit: each attempt in flight gets a successor claimed beforehand, which starts the moment the attempt ends; never more than the limit at the receiver', async () => {
    const clock = manualClock();
    const store = new HandOverStore(2);
    const sender = new FakeSender(clock);
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const id of ids) {
      store.add(id, clock.t);
      sender.hold(id);
    }
    void worker(store, sender, clock, { concurrency: 8 }).wake();
    // a and b in flight; c and d claimed as their successors, not sent
    await waitFor(() => store.claimedIds().includes('d'), { timeoutMs: 5_000, what: 'the successors claimed' });
    expect(sender.sent.map((s) => s.id)).toEqual(['a', 'b']);
    expect(store.counted.at(-1)).toEqual(['a', 'b']); // counted out: their slots go to c and d
    const claims = store.claims.length;

    sender.finish('a');
    await waitFor(() => sender.isHeld('c'), { timeoutMs: 5_000, what: "'c' sent in 'a''s slot" });
    expect(store.claims.slice(claims).flatMap((c) => c.ids)).not.toContain('c'); // no claim between: it was claimed before
    // the others, ended in any order: one at a time in each slot
    for (const id of ['b', 'c', 'd', 'e', 'f', 'g', 'h']) {
      await waitFor(() => sender.isHeld(id), { timeoutMs: 5_000, what: `'${id}' sent` });
      sender.finish(id);
    }
    await waitFor(() => store.recorded.length === ids.length, { timeoutMs: 5_000, what: 'every outcome' });
    expect(sender.maxInFlight).toBe(2);
    expect(sender.sent.map((s) => s.id).sort()).toEqual(ids);
    expect(store.released).toEqual([]);
  });

  it('a successor whose predecessor fails is given back, not sent in its slot: the next claim decides (the breaker may have opened)', async () => {
    const clock = manualClock();
    const store = new HandOverStore(1);
    const sender = new FakeSender(clock);
    for (const id of ['a', 'b']) {
      store.add(id, clock.t);
      sender.hold(id);
    }
    void worker(store, sender, clock, { concurrency: 8 }).wake();
    await waitFor(() => store.claimedIds().includes('b'), { timeoutMs: 5_000, what: "'b' claimed as 'a''s successor" });
    sender.finish('a', 503);
    await waitFor(() => store.released.includes('b'), { timeoutMs: 5_000, what: "'b' given back" });
    // claimed again on its own, then sent
    await waitFor(() => sender.isHeld('b'), { timeoutMs: 5_000, what: "'b' sent after a claim of its own" });
    expect(store.claimedIds().filter((id) => id === 'b')).toHaveLength(2);
    sender.finish('b');
    await waitFor(() => store.recorded.length === 2, { timeoutMs: 5_000, what: 'both outcomes' });
    expect(store.recorded.map((o) => [o.delivery.id, o.update.status])).toEqual([['a', 'RETRYING'], ['b', 'SUCCEEDED']]);
  });

  it('an attempt that fails gives back the successors of its webhook’s other attempts too: its failure may open the breaker', async () => {
    const clock = manualClock();
    const store = new HandOverStore(2);
    const sender = new FakeSender(clock);
    for (const id of ['a', 'b', 'c', 'd']) {
      store.add(id, clock.t);
      sender.hold(id);
    }
    // successors that would wait a minute: only the failure gives them back here
    void worker(store, sender, clock, { concurrency: 8, successorWaitMs: 60_000 }).wake();
    await waitFor(() => store.claimedIds().includes('d'), { timeoutMs: 5_000, what: 'the successors claimed' });
    sender.finish('a', 503);
    await waitFor(() => store.released.length === 2, { timeoutMs: 5_000, what: 'both successors given back' });
    expect([...store.released].sort()).toEqual(['c', 'd']);
    // each goes after a claim of its own (the next claim consults the breaker), within the limit
    sender.finish('b');
    await answerInTurn(store, sender, ['c', 'd'], 4);
    expect(sender.maxInFlight).toBe(2);
  });

  it('a successor that waits longer than successorWaitMs is given back; its predecessor gets no other', async () => {
    const clock = manualClock();
    const store = new HandOverStore(1);
    const sender = new FakeSender(clock);
    for (const id of ['a', 'b', 'c']) {
      store.add(id, clock.t);
      sender.hold(id);
    }
    const w = worker(store, sender, clock, { concurrency: 8, successorWaitMs: 30 });
    void w.wake();
    await waitFor(() => store.released.includes('b'), { timeoutMs: 5_000, what: "'b' given back after 30 ms" });
    const claims = store.claims.length;
    void w.wake(); // a claim while 'a' still hangs
    await waitFor(() => store.claims.length > claims, { timeoutMs: 5_000, what: 'a claim after the wake-up' });
    expect(store.counted.at(-1)).toEqual([]); // 'a' counts as in flight again
    expect(store.claims.slice(claims).flatMap((c) => c.ids)).toEqual([]);
    expect(sender.sent.map((s) => s.id)).toEqual(['a']);
    sender.finish('a');
    await answerInTurn(store, sender, ['b', 'c'], 3);
    expect(sender.maxInFlight).toBe(1);
  });

  it('a successor that waits too long while a claim is on its way is given back once that claim returned: the claim counted its predecessor out', async () => {
    const clock = manualClock();
    /** its claims wait at `gate` before they read the rows, as a claim on its way to a busy database */
    class GatedStore extends HandOverStore {
      gate: Promise<void> | null = null;
      atGate = false;
      override async claim(limit: number, now: Date, leaseMs: number, finished: string[] = []): Promise<ClaimBatch> {
        if (this.gate) {
          this.atGate = true;
          await this.gate;
        }
        return super.claim(limit, now, leaseMs, finished);
      }
    }
    const store = new GatedStore(1);
    const sender = new FakeSender(clock);
    for (const id of ['a', 'b', 'c']) {
      store.add(id, clock.t);
      sender.hold(id);
    }
    const w = worker(store, sender, clock, { concurrency: 8, successorWaitMs: 50 });
    void w.wake();
    await waitFor(() => store.claimedIds().includes('b'), { timeoutMs: 5_000, what: "'b' claimed as 'a''s successor" });
    let openGate!: () => void;
    store.gate = new Promise<void>((r) => (openGate = r));
    void w.wake(); // a claim that counts 'a' out ('b' holds its slot), held on its way
    await waitFor(() => store.atGate, { timeoutMs: 5_000, what: 'the claim at the gate' });
    // 'b' has waited its 50 ms: not given back while that claim may still see it holding 'a''s slot
    await waitFor(() => debugs.some((m) => m.startsWith('delivery b: ') && m.includes('once the claim under way returns')) || store.released.includes('b'), { timeoutMs: 5_000, what: "'b''s wait over" });
    expect(store.released).toEqual([]);
    openGate();
    await waitFor(() => store.released.includes('b'), { timeoutMs: 5_000, what: "'b' given back after the claim" });
    expect(store.counted.at(-1)).toEqual(['a']);
    expect(sender.sent.map((s) => s.id)).toEqual(['a']);
    store.gate = null;
    sender.finish('a');
    await answerInTurn(store, sender, ['b', 'c'], 3);
    expect(sender.maxInFlight).toBe(1);
  });

  it('stop gives back the successors never started, with the attempts it aborts', async () => {
    const clock = manualClock();
    const store = new HandOverStore(2);
    const sender = new FakeSender(clock);
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      store.add(id, clock.t);
      sender.hold(id);
    }
    const w = worker(store, sender, clock, { concurrency: 8 });
    void w.wake();
    await waitFor(() => store.claimedIds().includes('d'), { timeoutMs: 5_000, what: 'the successors claimed' });
    await w.stop(10);
    expect([...store.released].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(sender.sent.map((s) => s.id)).toEqual(['a', 'b']);
    expect(store.rows.get('c')!.lockedUntil).toBeNull();
  });
});

describe('slot hand-over with two webhooks', () => {
  it('deliveries of another webhook that come with the successors, beyond the free slots, are given back at once: never more than the worker’s concurrency in flight', async () => {
    const clock = manualClock();
    /** webhook '1' holds one attempt at a time; '2' has no limit; after the first claim, another worker takes '1''s due delivery */
    class TwoWebhooks extends FakeStore {
      override async claim(limit: number, now: Date, leaseMs: number, finished: string[] = []): Promise<ClaimBatch> {
        const t = now.getTime();
        if (this.claims.length === 1) {
          this.rows.get('b')!.lockedUntil = t + leaseMs; // taken by another worker
          for (const id of ['x2', 'x3', 'x4']) this.rows.get(id)!.due = t; // due now
        }
        const live = (r: Row) => r.lockedUntil !== null && r.lockedUntil > t && !finished.includes(r.id);
        let room = 1 - [...this.rows.values()].filter((r) => r.webhookId === '1' && live(r)).length;
        let held = false;
        const ready: Row[] = [];
        for (const r of [...this.rows.values()].filter((r) => isOpen(r.status) && r.due !== null && r.due <= t && (r.lockedUntil === null || r.lockedUntil < t))) {
          if (ready.length >= limit) break;
          if (r.webhookId === '1' && room <= 0) {
            held = true;
            continue;
          }
          if (r.webhookId === '1') room--;
          ready.push(r);
        }
        return { deliveries: this.take(ready, t, leaseMs), heldByInFlight: held, handOver: held ? ['1'] : [] };
      }
    }
    const store = new TwoWebhooks();
    const sender = new FakeSender(clock);
    store.add('a', clock.t, { webhookId: '1' });
    store.add('b', clock.t, { webhookId: '1' });
    store.add('x1', clock.t, { webhookId: '2' });
    for (const id of ['x2', 'x3', 'x4']) store.add(id, clock.t + MINUTE, { webhookId: '2' });
    for (const id of ['a', 'x1', 'x2', 'x3', 'x4']) sender.hold(id);
    void worker(store, sender, clock, { concurrency: 4 }).wake();
    // first claim: a and x1 ('1' held at its limit); then one with a successor's slot for a (3 asked,
    // 2 slots free): '1''s b is gone, so '2''s x2, x3 and x4 come instead, one more than the free slots
    await waitFor(() => store.claims.length >= 2, { timeoutMs: 5_000, what: 'the successor claim' });
    expect(store.claims.map((c) => c.ids)).toEqual([['a', 'x1'], ['x2', 'x3', 'x4']]);
    await waitFor(() => sender.sent.length === 4 && store.released.length === 1, { timeoutMs: 5_000, what: 'four sent, one given back' });
    expect(sender.sent.map((s) => s.id)).toEqual(['a', 'x1', 'x2', 'x3']);
    expect(store.released).toEqual(['x4']); // no slot for it: not kept waiting on its lease
    sender.finish('x1');
    await waitFor(() => sender.isHeld('x4'), { timeoutMs: 5_000, what: "'x4' claimed again and sent in the slot 'x1' freed" });
    expect(store.claims.at(-1)!.ids).toEqual(['x4']);
    for (const id of ['a', 'x2', 'x3', 'x4']) {
      await waitFor(() => sender.isHeld(id) || store.status(id) === 'SUCCEEDED', { timeoutMs: 5_000, what: `'${id}' sent` });
      sender.finish(id);
    }
    await waitFor(() => store.recorded.length === 5, { timeoutMs: 5_000, what: 'every outcome but b' });
    expect(sender.maxInFlight).toBe(4);
  });
});
