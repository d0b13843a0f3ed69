/**
 * The dispatcher drains the outbox of ticket events (src/helpdesk/events.ts): it claims a
 * batch with the claim helper of src/queue (FOR UPDATE SKIP LOCKED, with a lease so that
 * a process that died has its events taken over) and hands it to the event handler, which
 * handles the whole batch in one transaction (batch.ts). Like the delivery worker it
 * never polls: it drains when woken (src/queue/drain.ts).
 */
import type { Logger } from '../log.js';
import { defineClaim, DrainLoop, type Queryable } from '../queue/index.js';

export interface ClaimedEvent {
  id: string;
  ticketId: string;
}

/** What the dispatcher needs of the outbox. */
export interface OutboxStore {
  /** claims up to `limit` unprocessed events until `now + leaseMs`, counting a try for each */
  claim(limit: number, now: Date, leaseMs: number): Promise<ClaimedEvent[]>;
}

const claimEvents = defineClaim<ClaimedEvent>(
  {
    table: 'ticket_events',
    ready: 'processed_at is null',
    orderBy: 'id',
    set: 'tries = t.tries + 1',
    returning: 't.id, t.ticket_id',
  },
  (r) => ({ id: String(r.id), ticketId: String(r.ticket_id) }),
);

export function outboxStore(db: Queryable): OutboxStore {
  return { claim: (limit, now, leaseMs) => claimEvents(db, limit, now, leaseMs) };
}

/** What handling a batch left for later. */
export interface HandledBatch {
  /** events that wait for an earlier event of their ticket (claimed elsewhere); they come back shortly */
  waiting: number;
}

/** Handles a claimed batch (in id order); resolves once its outcome is committed. */
export interface EventHandler {
  handle(events: ClaimedEvent[]): Promise<HandledBatch>;
}

export interface DispatcherOptions {
  outbox: OutboxStore;
  events: EventHandler;
  log: Logger;
  clock?: () => Date;
  batchSize?: number;
  /** how long a claim holds before another process may take the event over */
  leaseMs?: number;
  /** when events wait for an earlier event of their ticket: how soon to drain again */
  retryWaitingMs?: number;
}

export class Dispatcher {
  private readonly clock: () => Date;
  private readonly loop: DrainLoop;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: DispatcherOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.loop = new DrainLoop(() => this.drain(), (err) => opts.log.error('dispatcher drain failed; the next wake-up retries it', err));
  }

  /** Processes every pending event; concurrent calls share one drain. */
  wake(): Promise<void> {
    return this.loop.wake();
  }

  /** Wakes it unless it is stopping; tells whether it was woken (it takes work). */
  wakeIfRunning(): boolean {
    if (this.loop.stopping) return false;
    void this.wake();
    return true;
  }

  /** No event is started after this; resolves when the running drain has ended. */
  stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    return this.loop.stop();
  }

  private async drain(): Promise<void> {
    const { outbox, events, log } = this.opts;
    const limit = this.opts.batchSize ?? 500;
    const loop = this.loop;
    while (!loop.stopping) {
      loop.takeWake();
      const batch = await outbox.claim(limit, this.clock(), this.opts.leaseMs ?? 60_000);
      if (batch.length) {
        const handled = await events.handle(batch).catch((err) => {
          log.error(`a batch of ${batch.length} ticket events failed; its events are retried when their lease ends`, err);
          return { waiting: 0 };
        });
        if (handled.waiting) this.drainAgainSoon();
      }
      if (batch.length < limit && !loop.woken) return;
    }
  }

  private drainAgainSoon(): void {
    if (this.retryTimer || this.loop.stopping) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.wake();
    }, this.opts.retryWaitingMs ?? 1_000);
    this.retryTimer.unref();
  }
}
