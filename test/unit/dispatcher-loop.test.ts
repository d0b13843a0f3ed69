/**
 * The dispatcher's loop on a manual clock, an in-memory outbox with the claim's lease rules
 * (src/queue/claim.ts) and a batch handler the test controls: batches in id order, lease
 * expiry, a wake-up while draining, stop during a drain, a failing batch, a failing drain,
 * events left waiting. Only the public loop is tested here (wake, stop, the OutboxStore and
 * EventHandler interfaces); what a batch does with the rules is test/integration/dispatcher.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher, type ClaimedEvent, type EventHandler, type HandledBatch, type NextClaim, type OutboxStore } from '../../src/dispatcher/processor.js';
import type { Logger } from '../../src/log.js';
import { manualClock, type ManualClock } from '../support/clock.js';
import { waitFor } from '../support/wait.js';

const LEASE = 60_000;
/** how long the handler keeps an event that waits for an earlier one (as src/dispatcher/batch.ts does) */
const WAIT = 1_000;

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

  async claim(limit: number, now: Date, leaseMs: number, heldHere: string[] = []): Promise<ClaimedEvent[]> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection terminated');
    }
    const rows = this.claimNow(limit, now, leaseMs, heldHere);
    this.claims.push(rows.map((c) => c.id));
    return rows;
  }

  /** claims made with a batch's commit (FakeHandler.commitClaims) */
  claimsWithCommit: string[][] = [];

  nextClaim(limit: number, leaseMs: number, now: () => Date, heldHere: () => string[] = () => []): NextClaim {
    return {
      statement: () => ({ text: 'the claim' }),
      read: () => {
        const rows = this.claimNow(limit, now(), leaseMs, heldHere());
        this.claimsWithCommit.push(rows.map((c) => c.id));
        return rows;
      },
    };
  }

  private claimNow(limit: number, now: Date, leaseMs: number, heldHere: string[]): ClaimedEvent[] {
    const t = now.getTime();
    // as the statement: none behind an earlier event of its ticket that another lane holds
    const behindHeld = (e: Event) => this.events.some((x) => x.ticketId === e.ticketId && !x.processed && x.id < e.id && heldHere.includes(String(x.id)));
    const rows = this.events.filter((e) => !e.processed && (e.lockedUntil === null || e.lockedUntil < t) && !behindHeld(e)).slice(0, limit);
    for (const e of rows) {
      e.lockedUntil = t + leaseMs;
      e.tries++;
    }
    return rows.map((e) => ({ id: String(e.id), ticketId: e.ticketId, lockedUntil: new Date(e.lockedUntil!) }));
  }

  releases: string[][] = [];

  async release(claims: ClaimedEvent[], untried = false): Promise<void> {
    this.releases.push(claims.map((c) => c.id));
    for (const c of claims) {
      const e = this.get(c.id);
      // as the statement: only an unprocessed event still under that claim
      if (!e.processed && e.lockedUntil === c.lockedUntil.getTime()) {
        e.lockedUntil = null;
        if (untried) e.tries--;
      }
    }
  }

  get(id: number | string): Event {
    return this.events.find((e) => e.id === Number(id))!;
  }
}

/** Marks a batch's events processed, as the real handler does in its transaction; can hold, fail, or leave events waiting. */
class FakeHandler implements EventHandler {
  batches: string[][] = [];
  handled: string[] = [];
  fail = false;
  /** thrown by the next batch */
  failOnce: Error | null = null;
  /** events answered as waiting (not processed) the next time they come */
  waitOnce = new Set<string>();
  /** how many of the next batches wait for release() */
  private holdNext = 0;
  /** the batches waiting, first held first */
  private held: (() => void)[] = [];

  constructor(
    private readonly outbox: FakeOutbox,
    private readonly clock: ManualClock,
  ) {}

  /** the next batch waits for release() (each call holds one more) */
  hold(): void {
    this.holdNext++;
  }

  /** lets the first batch held go on */
  release(): void {
    this.held.shift()?.();
  }

  get isHeld(): boolean {
    return this.held.length > 0;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** claims the next batch with its commit when the dispatcher offers it (NextClaim), as the real handler does on a plain connection */
  commitClaims = false;
  /** the next commit fails after its claim was asked for */
  failAtCommitOnce = false;
  /** called as a batch's commit asks for its claim (before it is sent) */
  atCommit: (() => void) | null = null;
  /** called once a batch's commit and its claim are done */
  afterCommit: (() => void) | null = null;

  async handle(events: ClaimedEvent[], _signal?: AbortSignal, next?: NextClaim): Promise<HandledBatch> {
    const handled = await this.handleBatch(events);
    if (!this.commitClaims || !next) return handled;
    this.atCommit?.();
    const statement = next.statement();
    if (this.failAtCommitOnce) {
      this.failAtCommitOnce = false;
      for (const id of this.handled.splice(-events.length)) this.outbox.get(id).processed = false;
      throw new Error('the commit failed');
    }
    if (!statement) return handled;
    const claimed = next.read([]);
    this.afterCommit?.();
    return { ...handled, next: claimed };
  }

  private async handleBatch(events: ClaimedEvent[]): Promise<HandledBatch> {
    const ids = events.map((e) => e.id);
    this.batches.push(ids);
    if (this.holdNext > 0) {
      this.holdNext--;
      await new Promise<void>((resolve) => this.held.push(resolve));
    }
    if (this.fail) throw new Error('the batch failed');
    if (this.failOnce) {
      const err = this.failOnce;
      this.failOnce = null;
      throw err;
    }
    let waiting = 0;
    for (const id of ids) {
      if (this.waitOnce.delete(id)) {
        this.outbox.get(id).lockedUntil = this.clock.t + WAIT;
        waiting++;
        continue;
      }
      this.handled.push(id);
      this.outbox.get(id).processed = true;
    }
    return { waiting };
  }
}

const errors: string[] = [];
const log: Logger = { info: () => {}, debug: () => {}, error: (m) => void errors.push(m) };

const dispatchers: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  errors.length = 0;
});

function setup(opts: { batchSize?: number; retryWaitingMs?: number; lanes?: number } = {}): { clock: ManualClock; outbox: FakeOutbox; handler: FakeHandler; d: Dispatcher } {
  const clock = manualClock();
  const outbox = new FakeOutbox();
  const handler = new FakeHandler(outbox, clock);
  const d = new Dispatcher({ outbox, events: handler, log, clock: clock.now, batchSize: opts.batchSize ?? 100, leaseMs: LEASE, retryWaitingMs: opts.retryWaitingMs, lanes: opts.lanes });
  dispatchers.push(d);
  return { clock, outbox, handler, d };
}

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe('dispatcher loop', () => {
  it('one wake-up handles every event once, in batches of the batch size, each in id order', async () => {
    const { outbox, handler, d } = setup({ batchSize: 5 });
    for (let i = 0; i < 4; i++) for (const t of ['a', 'b', 'c', 'd']) outbox.add(t);
    await d.wake();
    expect(handler.batches).toEqual([ids(1, 5), ids(6, 10), ids(11, 15), ids(16, 16)]);
    expect(handler.handled).toEqual(ids(1, 16));
    expect(outbox.events.every((e) => e.processed && e.tries === 1)).toBe(true);
  });

  it('a claim with nothing in it hands the handler nothing', async () => {
    const { outbox, handler, d } = setup();
    await d.wake();
    expect(outbox.claims).toEqual([[]]);
    expect(handler.batches).toEqual([]);
  });

  it('a wake-up while draining is not lost: the event it announces is handled by the same drain', async () => {
    const { outbox, handler, d } = setup();
    outbox.add('a');
    handler.hold();
    const drain = d.wake();
    await waitFor(() => handler.isHeld, { timeoutMs: 5_000, what: 'the first batch being handled' });
    outbox.add('b'); // committed after the drain's claim
    const again = d.wake();
    handler.release();
    await Promise.all([drain, again]);
    expect(handler.batches).toEqual([['1'], ['2']]);
    expect(outbox.claims).toEqual([['1'], ['2']]);
  });

  it('lease expiry: the events of a batch that failed are claimed again only once their lease ran out', async () => {
    const { clock, outbox, handler, d } = setup();
    outbox.add('a', 2);
    handler.fail = true;
    await d.wake();
    expect(errors).toEqual(['a batch of 2 ticket events failed; its events are retried when their lease ends']);

    handler.fail = false;
    clock.advance(LEASE);
    await d.wake();
    expect(handler.handled).toEqual([]);

    clock.advance(1);
    await d.wake();
    expect(handler.handled).toEqual(['1', '2']);
    expect(outbox.events.map((e) => e.tries)).toEqual([2, 2]);
  });

  it('a batch that failed because the database was out of reach: its events are given back and taken again soon, each try counted', async () => {
    const { outbox, handler, d } = setup({ retryWaitingMs: 20 });
    outbox.add('a', 2);
    handler.failOnce = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await d.wake();
    expect(errors).toEqual(['a batch of 2 ticket events failed: the database is out of reach; they are taken again once it answers']);
    // no wake-up and no time passing on the clock: the drain soon after gives them back and takes them
    await waitFor(() => handler.handled.length === 2, { timeoutMs: 5_000, what: 'the events handled again' });
    expect(outbox.releases).toEqual([['1', '2']]);
    expect(handler.batches).toEqual([['1', '2'], ['1', '2']]);
    expect(outbox.events.map((e) => e.tries)).toEqual([2, 2]);
  });

  it('a claim taken over meanwhile (its lease ended while the database was away) is not given back', async () => {
    const { clock, outbox, handler, d } = setup({ retryWaitingMs: 60_000 });
    outbox.add('a', 1);
    handler.failOnce = Object.assign(new Error('connection terminated'), { code: '57P01' });
    await d.wake();
    // another process claims the event after the lease
    clock.advance(LEASE + 1);
    const theirs = clock.t + LEASE;
    outbox.get(1).lockedUntil = theirs;
    await d.wake();
    expect(outbox.releases).toEqual([['1']]);
    expect(outbox.get(1).lockedUntil).toBe(theirs);
    expect(handler.batches).toEqual([['1']]);
  });

  it('the give-back fails while the database is still away: kept, and done by the drain after', async () => {
    const { outbox, handler, d } = setup({ retryWaitingMs: 60_000 });
    outbox.add('a', 1);
    handler.failOnce = new Error('timeout exceeded when trying to connect');
    await d.wake();
    const release = outbox.release.bind(outbox);
    outbox.release = async () => {
      throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    };
    await d.wake();
    expect(errors.at(-1)).toBe('dispatcher drain failed; the next wake-up retries it');
    outbox.release = release;
    await d.wake();
    expect(handler.handled).toEqual(['1']);
    expect(outbox.releases).toEqual([['1']]);
  });

  it('stop during a drain: the batch being handled finishes, no other is claimed, and no drain after it', async () => {
    const { outbox, handler, d } = setup({ batchSize: 1 });
    outbox.add('a', 3);
    handler.hold();
    void d.wake();
    await waitFor(() => handler.isHeld, { timeoutMs: 5_000, what: 'the first batch being handled' });

    let stopped = false;
    const stopping = d.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false); // waits for the batch being handled
    handler.release();
    await stopping;
    expect(handler.handled).toEqual(['1']);
    expect(outbox.claims).toEqual([['1']]);

    outbox.add('b');
    await d.wake();
    expect(outbox.claims).toHaveLength(1);
    expect(outbox.events.filter((e) => !e.processed).map((e) => e.tries)).toEqual([0, 0, 0]);
  });

  it('a failing drain (the claim) is reported and the next wake-up drains again', async () => {
    const { outbox, handler, d } = setup();
    outbox.add('a');
    outbox.failNext = true;
    await d.wake();
    expect(errors).toEqual(['dispatcher drain failed; the next wake-up retries it']);
    await d.wake();
    expect(handler.handled).toEqual(['1']);
  });

  it('events left waiting for an earlier event are drained again without a wake-up', async () => {
    const { clock, outbox, handler, d } = setup({ retryWaitingMs: 20 });
    outbox.add('a', 2);
    handler.waitOnce.add('2');
    await d.wake();
    expect(handler.handled).toEqual(['1']);
    // the handler keeps the waiting event for WAIT; the dispatcher drains again on its own
    clock.advance(WAIT + 1);
    await waitFor(() => handler.handled.length === 2, { timeoutMs: 5_000, what: 'the waiting event handled' });
    expect(handler.handled).toEqual(['1', '2']);
    expect(errors).toEqual([]);
  });
});

describe('dispatcher loop, the next batch claimed with each commit', () => {
  it('claims on its own once: every later batch, and the last empty claim, come with a commit', async () => {
    const { outbox, handler, d } = setup({ batchSize: 2 });
    handler.commitClaims = true;
    outbox.add('a', 5);
    await d.wake();
    expect(outbox.claims).toEqual([['1', '2']]);
    expect(outbox.claimsWithCommit).toEqual([['3', '4'], ['5'], []]);
    expect(handler.batches).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect(outbox.events.every((e) => e.processed && e.tries === 1)).toBe(true);
  });

  it('a wake-up before a commit sends its claim is answered by that claim; one after it, by a claim of its own', async () => {
    const { outbox, handler, d } = setup();
    handler.commitClaims = true;
    outbox.add('a');
    handler.atCommit = () => {
      handler.atCommit = null;
      outbox.add('b');
      void d.wake();
    };
    await d.wake();
    expect(handler.batches).toEqual([['1'], ['2']]);
    expect(outbox.claims).toEqual([['1']]);
    expect(outbox.claimsWithCommit).toEqual([['2'], []]);

    // committed after the commit's claim read the outbox
    outbox.add('c');
    handler.afterCommit = () => {
      handler.afterCommit = null;
      outbox.add('d');
      void d.wake();
    };
    await d.wake();
    expect(handler.batches.slice(2)).toEqual([['3'], ['4']]);
    expect(outbox.claims.slice(1)).toEqual([['3'], ['4']]);
    expect(outbox.claimsWithCommit.slice(2)).toEqual([[], []]);
  });

  it('a stop while a batch claimed with a commit waits: it is given back untried, and never handled; a stop before the commit sends no claim', async () => {
    const { outbox, handler, d } = setup({ batchSize: 1 });
    handler.commitClaims = true;
    outbox.add('a', 3);
    handler.afterCommit = () => void d.stop();
    await d.wake();
    expect(handler.batches).toEqual([['1']]);
    expect(outbox.claimsWithCommit).toEqual([['2']]);
    expect(outbox.releases).toEqual([['2']]);
    expect(outbox.get(2)).toMatchObject({ processed: false, lockedUntil: null, tries: 0 });

    const second = setup({ batchSize: 1 });
    second.handler.commitClaims = true;
    second.outbox.add('a', 2);
    second.handler.atCommit = () => void second.d.stop();
    await second.d.wake();
    expect(second.handler.batches).toEqual([['1']]);
    expect(second.outbox.claimsWithCommit).toEqual([]);
    expect(second.outbox.get(2)).toMatchObject({ processed: false, lockedUntil: null, tries: 0 });
  });

  it('a commit that failed after its claim was asked for: the drain claims again on its own, so no wake-up is lost', async () => {
    const { clock, outbox, handler, d } = setup();
    handler.commitClaims = true;
    outbox.add('a');
    handler.failAtCommitOnce = true;
    // announced while the first batch runs: its wake-up was taken by the claim that never committed
    handler.atCommit = () => {
      handler.atCommit = null;
      outbox.add('b');
      void d.wake();
    };
    await d.wake();
    expect(errors).toEqual(['a batch of 1 ticket events failed; its events are retried when their lease ends']);
    expect(handler.handled).toEqual(['2']);
    clock.advance(LEASE + 1);
    await d.wake();
    expect(handler.handled).toEqual(['2', '1']);
  });
});

describe('dispatcher loop in two lanes', () => {
  /** two lanes, one of them handling ticket a's first event (held until handler.release()) */
  async function oneLaneBusy() {
    const lanes = setup({ lanes: 2 });
    lanes.outbox.add('a');
    lanes.handler.hold();
    const running = lanes.d.wake();
    await waitFor(() => lanes.handler.isHeld, { what: 'the first lane’s batch to be under way' });
    return { ...lanes, running };
  }

  it('a wake-up while a lane’s batch is under way starts the idle lane; the events it passes over (behind that batch’s) are claimed by the busy lane after its batch', async () => {
    const { outbox, handler, d, running: first } = await oneLaneBusy();
    // committed after that lane claimed: its ticket's next event, and another ticket's
    outbox.add('a');
    outbox.add('b');
    const second = d.wake();
    await waitFor(() => handler.handled.includes('3'), { what: 'the idle lane to take the other ticket’s event' });
    expect(handler.batches).toEqual([['1'], ['3']]);
    handler.release();
    await Promise.all([first, second]);
    expect(handler.batches).toEqual([['1'], ['3'], ['2']]);
    expect(handler.handled).toEqual(['3', '1', '2']);
    expect(outbox.events.every((e) => e.processed && e.tries === 1)).toBe(true);
  });

  it('a wake-up for new tickets while a lane’s batch is under way starts the idle lane only: no earlier event of a new ticket can be held, so the busy lane does not claim again after its batch', async () => {
    const { outbox, handler, d, running } = await oneLaneBusy();
    outbox.add('b');
    expect(d.wakeForNewTickets()).toBe(true);
    await waitFor(() => handler.handled.includes('2'), { what: 'the idle lane to take the new ticket’s event' });
    handler.release();
    await running;
    expect(handler.handled).toContain('1');
    // the busy lane's claim and the idle lane's: none for nothing after the busy lane's batch
    expect(outbox.claims).toEqual([['1'], ['2']]);
  });

  it('a wake-up for new tickets with no lane idle wakes one lane under way, the one whose commit has yet to send its claim: that claim takes them, and the lane whose claim went before claims nothing more', async () => {
    const { outbox, handler, d } = setup({ lanes: 2 });
    handler.commitClaims = true;
    outbox.add('a');
    handler.hold();
    void d.wake();
    await waitFor(() => handler.heldCount === 1, { what: 'the first lane’s batch under way' });
    outbox.add('b');
    handler.hold();
    void d.wake();
    await waitFor(() => handler.heldCount === 2, { what: 'the second lane’s batch under way' });
    // the first lane's commit has sent its claim (it found nothing) when a new ticket's event comes
    handler.afterCommit = () => {
      handler.afterCommit = null;
      outbox.add('c');
      expect(d.wakeForNewTickets()).toBe(true);
    };
    handler.release();
    await waitFor(() => handler.handled.includes('1'), { what: 'the first lane’s batch' });
    handler.release();
    await waitFor(() => handler.handled.includes('3'), { what: 'the new ticket’s event' });
    expect(outbox.claims).toEqual([['1'], ['2']]);
    expect(outbox.claimsWithCommit).toContainEqual(['3']);
    expect(handler.handled.sort()).toEqual(['1', '2', '3']);
    expect(outbox.get(3).tries).toBe(1);
  });

  it('a wake-up for new tickets with its one lane under way wakes that lane: it takes the events after its batch', async () => {
    const { outbox, handler, d } = setup({ lanes: 1 });
    outbox.add('a');
    handler.hold();
    const running = d.wake();
    await waitFor(() => handler.isHeld, { what: 'the lane’s batch to be under way' });
    outbox.add('b');
    expect(d.wakeForNewTickets()).toBe(true);
    handler.release();
    await running;
    await waitFor(() => handler.handled.includes('2'), { what: 'the new ticket’s event, after the batch' });
    expect(handler.batches).toEqual([['1'], ['2']]);
  });

  it('a stop ends every lane: the batch under way is given up, the idle lane claims nothing more', async () => {
    const { outbox, handler, d, running } = await oneLaneBusy();
    const stopped = d.stop();
    handler.release();
    await Promise.all([stopped, running]);
    outbox.add('b');
    await d.wake();
    expect(outbox.claims).toEqual([['1']]);
    expect(d.wakeForNewTickets()).toBe(false);
  });
});
