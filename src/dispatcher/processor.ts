/**
 * The dispatcher drains the outbox of ticket events (src/helpdesk/events.ts): it claims a
 * batch with the claim helper of src/queue (FOR NO KEY UPDATE SKIP LOCKED, with a lease so
 * that a process that died has its events taken over) and hands it to the event handler,
 * which handles the whole batch in one transaction (batch.ts) and may claim the next batch
 * in it, with its commit (NextClaim): a drain of many batches then claims on its own once.
 * Like the delivery worker it never polls: it drains when woken (src/queue/drain.ts).
 */
import type { Logger } from '../log.js';
import { connectionLost, type Statement } from '../db/index.js';
import { defineClaim, DrainLoop, type Queryable } from '../queue/index.js';

export interface ClaimedEvent {
  id: string;
  ticketId: string;
  /** the end of this claim's lease */
  lockedUntil: Date;
  /**
   * What the claim read of the event for loading its ticket in the round trip that marks it
   * (batch.ts): its kind and type, and the post it is judged as of. Absent: loaded after the mark.
   */
  seen?: { kind: 'EVENT' | 'CONTINUATION'; type: string; asOfPostId: string | null };
}

/** What the dispatcher needs of the outbox. */
export interface OutboxStore {
  /** claims up to `limit` unprocessed events until `now + leaseMs`, counting a try for each */
  claim(limit: number, now: Date, leaseMs: number): Promise<ClaimedEvent[]>;
  /**
   * Gives back these claims: each event still unprocessed and still under this claim (same
   * lease end; not taken over meanwhile) is claimable at once. Its try stays counted, so
   * that an event whose batch breaks the connection each time is still given up; with
   * `untried` (a batch given up at stop, no failure) it is taken back.
   */
  release(claims: ClaimedEvent[], untried?: boolean): Promise<void>;
  /** the claim as a statement that rides in a batch's commit (NextClaim); its time is `now()` as it is sent */
  nextClaim?(limit: number, leaseMs: number, now: () => Date): NextClaim;
}

/**
 * The claim of the next batch, run last in a batch's transaction and sent with its commit:
 * one round trip for both, and the claim commits with the batch or not at all. `statement`
 * is asked for as the batch commits (null: none, the dispatcher stops); `read` turns the
 * rows it returned into claims.
 */
export interface NextClaim {
  statement(): Statement | null;
  read(rows: unknown[]): ClaimedEvent[];
}

const claimEvents = defineClaim<ClaimedEvent>(
  {
    table: 'ticket_events',
    ready: 'processed_at is null',
    orderBy: 'id',
    set: 'tries = t.tries + 1',
    returning: `t.id, t.ticket_id, t.locked_until, t.kind, t.type,
                case when t.kind = 'CONTINUATION' then t.payload->>'asOfPostId' else t.payload->>'postId' end as as_of_post_id`,
  },
  (r) => ({
    id: String(r.id),
    ticketId: String(r.ticket_id),
    lockedUntil: r.locked_until as Date,
    seen: { kind: r.kind, type: r.type, asOfPostId: r.as_of_post_id ?? null },
  }),
);

// rows another transaction holds (a batch that took them over) are left alone, not waited for
const RELEASE_SQL = `update ticket_events t set locked_until = null, tries = case when $3::boolean then greatest(t.tries - 1, 0) else t.tries end
  where t.id in (select e.id from ticket_events e join unnest($1::bigint[], $2::timestamptz[]) c(id, until) on e.id = c.id
                  where e.locked_until = c.until and e.processed_at is null
                    for no key update skip locked)`;

export function outboxStore(db: Queryable): OutboxStore {
  return {
    claim: (limit, now, leaseMs) => claimEvents(db, limit, now, leaseMs),
    release: async (claims, untried = false) => void (await db.query(RELEASE_SQL, [claims.map((c) => c.id), claims.map((c) => c.lockedUntil), untried])),
    nextClaim: (limit, leaseMs, now) => ({ statement: () => ({ text: claimEvents.sql, values: [limit, now(), leaseMs] }), read: (rows) => rows.map(claimEvents.toRow) }),
  };
}

/** What handling a batch left for later. */
export interface HandledBatch {
  /** events that wait for an earlier event of their ticket (claimed elsewhere); they come back shortly */
  waiting: number;
  /** the next batch, claimed with this one's commit (NextClaim); absent: not claimed */
  next?: ClaimedEvent[];
}

/**
 * Handles a claimed batch (in id order); resolves once its outcome is committed. Once
 * `signal` aborts (the dispatcher stops), it starts no further event: it rolls the batch
 * back and rejects with DispatchStopped. `next`: the claim it may run with its commit.
 */
export interface EventHandler {
  handle(events: ClaimedEvent[], signal?: AbortSignal, next?: NextClaim): Promise<HandledBatch>;
}

/** A batch given up because its dispatcher stops: nothing of it was kept. */
export class DispatchStopped extends Error {
  constructor() {
    super('the dispatcher stops: the batch was given up and its events given back');
  }
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
  /** aborted by stop(): the running batch is given up after its event under way, so that a stop never waits for a whole batch */
  private readonly stopping = new AbortController();
  /** claims of batches that failed because the database was out of reach: given back at the next drain */
  private readonly toRelease = new Map<string, ClaimedEvent>();

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
    this.stopping.abort();
    return this.loop.stop();
  }

  private async drain(): Promise<void> {
    const { outbox, events } = this.opts;
    const limit = this.opts.batchSize ?? 500;
    const leaseMs = this.opts.leaseMs ?? 60_000;
    const loop = this.loop;
    /** claimed with the last batch's commit: the wake-ups before that claim was sent are answered by it */
    let claimedWithCommit: ClaimedEvent[] | null = null;
    try {
      while (!loop.stopping) {
        if (!claimedWithCommit) loop.takeWake();
        if (this.toRelease.size) {
          // throws while the database is still away: kept for the drain after
          const claims = [...this.toRelease.values()];
          await outbox.release(claims);
          for (const c of claims) this.toRelease.delete(c.id);
        }
        const batch: ClaimedEvent[] = claimedWithCommit ?? (await outbox.claim(limit, this.clock(), leaseMs));
        claimedWithCommit = null;
        if (batch.length) {
          const next = this.nextClaim(limit, leaseMs);
          const handled: HandledBatch = await events.handle(batch, this.stopping.signal, next).catch((err) => (err instanceof DispatchStopped ? this.givenBack(batch) : this.failed(batch, err)));
          if (handled.waiting || this.toRelease.size) this.drainAgainSoon();
          // the database is out of reach: the drain soon after (or the one the listener's
          // reconnection wakes) goes on
          if (this.toRelease.size) return;
          if (handled.next) {
            if (handled.next.length) claimedWithCommit = handled.next;
            else if (!loop.woken) return;
            continue;
          }
          // the next claim was asked for (its wake-ups taken) but did not commit: claim again
          if (next?.asked) continue;
        }
        if (batch.length < limit && !loop.woken) return;
      }
    } finally {
      // claimed as a stop began: given back, no try of theirs
      if (claimedWithCommit?.length) await this.givenBack(claimedWithCommit);
    }
  }

  /** The next claim a batch sends with its commit, unless the dispatcher stops by then (NextClaim). */
  private nextClaim(limit: number, leaseMs: number): (NextClaim & { asked: boolean }) | undefined {
    const claim = this.opts.outbox.nextClaim?.(limit, leaseMs, this.clock);
    if (!claim) return undefined;
    const loop = this.loop;
    const next = {
      asked: false,
      statement() {
        if (loop.stopping) return null;
        next.asked = true;
        loop.takeWake();
        return claim.statement();
      },
      read: claim.read,
    };
    return next;
  }

  /**
   * A failed batch's events are retried when their lease ends (an event that fails every
   * time is tried every lease, not in a tight loop), unless the database was out of reach:
   * then they are given back at the next drain (their tries still count: an event that
   * breaks the connection itself is given up after MAX_TRIES, batch.ts).
   */
  private failed(batch: ClaimedEvent[], err: unknown): HandledBatch {
    if (!connectionLost(err)) {
      this.opts.log.error(`a batch of ${batch.length} ticket events failed; its events are retried when their lease ends`, err);
    } else {
      this.opts.log.error(`a batch of ${batch.length} ticket events failed: the database is out of reach; they are taken again once it answers`, err);
      for (const e of batch) this.toRelease.set(e.id, e);
    }
    return { waiting: 0 };
  }

  /** A batch given up by a stop: its claims are given back, so that another process takes its events at once; a stop is no try of theirs. */
  private async givenBack(batch: ClaimedEvent[]): Promise<HandledBatch> {
    await this.opts.outbox.release(batch, true).catch((err) => this.opts.log.error(`giving back the ${batch.length} ticket events of a batch given up at stop failed; they are taken over when their lease ends`, err));
    return { waiting: 0 };
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
