/**
 * The dispatcher drains the outbox of ticket events (src/helpdesk/events.ts): it claims a
 * batch with the claim helper of src/queue (FOR NO KEY UPDATE SKIP LOCKED, with a lease so
 * that a process that died has its events taken over) and hands it to the event handler,
 * which handles the whole batch in one transaction (batch.ts) and may claim the next batch
 * in it, with its commit (NextClaim): a drain of many batches then claims on its own once.
 * Like the delivery worker it never polls: it drains when woken (src/queue/drain.ts).
 *
 * A process's dispatcher drains in lanes, one batch at a time each, as separate processes
 * would: an event committed while one lane's batch is under way is taken at once by an idle
 * lane rather than wait for that batch to commit. A ticket's events still run in id order:
 * a lane's claim passes over an event behind an earlier one of its ticket that another lane
 * holds (that lane, woken too, claims it after its commit), and the batch's mark makes an
 * event behind one that another process holds wait (batch.ts).
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
  /**
   * claims up to `limit` unprocessed events until `now + leaseMs`, counting a try for each;
   * none behind an earlier event of its ticket among `heldHere` (the events this process's
   * other lanes hold)
   */
  claim(limit: number, now: Date, leaseMs: number, heldHere?: string[]): Promise<ClaimedEvent[]>;
  /**
   * Gives back these claims: each event still unprocessed and still under this claim (same
   * lease end; not taken over meanwhile) is claimable at once. Its try stays counted, so
   * that an event whose batch breaks the connection each time is still given up; with
   * `untried` (a batch given up at stop, no failure) it is taken back.
   */
  release(claims: ClaimedEvent[], untried?: boolean): Promise<void>;
  /** the claim as a statement that rides in a batch's commit (NextClaim); its time is `now()`, and the held events `heldHere()`, as it is sent */
  nextClaim?(limit: number, leaseMs: number, now: () => Date, heldHere?: () => string[]): NextClaim;
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
    // not behind an earlier event of its ticket that another lane of this process holds ($4):
    // that lane claims it after its commit (a batch's transaction sees its own events processed)
    ready: `processed_at is null
            and not exists (select 1 from ticket_events earlier
                             where earlier.ticket_id = ticket_events.ticket_id and earlier.processed_at is null
                               and earlier.id < ticket_events.id and earlier.id = any($4::bigint[]))`,
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
    claim: (limit, now, leaseMs, heldHere = []) => claimEvents(db, limit, now, leaseMs, [heldHere]),
    release: async (claims, untried = false) => void (await db.query(RELEASE_SQL, [claims.map((c) => c.id), claims.map((c) => c.lockedUntil), untried])),
    nextClaim: (limit, leaseMs, now, heldHere = () => []) => ({
      statement: () => ({ text: claimEvents.sql, values: [limit, now(), leaseMs, heldHere()] }),
      read: (rows) => rows.map(claimEvents.toRow),
    }),
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

/**
 * The lanes of a process's dispatcher. Two: a batch is two round trips, and an event that
 * waits for the batch under way waits about half of one; a second lane takes it at once. More
 * lanes split the same events into smaller batches, each with its own round trips.
 */
export const DISPATCH_LANES = 2;

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
  /** drains side by side, one batch at a time each (default 1) */
  lanes?: number;
}

export class Dispatcher {
  private readonly clock: () => Date;
  private readonly lanes: DrainLoop[];
  /** the events of each lane's batch under way */
  private readonly held = new Map<DrainLoop, string[]>();
  /** the lanes whose batch under way offers the next claim to its commit, not sent yet (nextClaim) */
  private readonly rideToCome = new Set<DrainLoop>();
  private retryTimer: NodeJS.Timeout | null = null;
  /** aborted by stop(): the running batch is given up after its event under way, so that a stop never waits for a whole batch */
  private readonly stopping = new AbortController();
  /** claims of batches that failed because the database was out of reach: given back at the next drain */
  private readonly toRelease = new Map<string, ClaimedEvent>();

  constructor(private readonly opts: DispatcherOptions) {
    this.clock = opts.clock ?? (() => new Date());
    this.lanes = Array.from({ length: Math.max(1, opts.lanes ?? 1) }, () => {
      const lane: DrainLoop = new DrainLoop(() => this.drain(lane), (err) => opts.log.error('dispatcher drain failed; the next wake-up retries it', err));
      return lane;
    });
  }

  /**
   * Processes every pending event; resolves once the drains that take it have ended. An
   * idle lane claims what is pending now, and the lanes under way claim again after their
   * batches (a wake-up during a drain is never lost, src/queue/drain.ts): an event behind
   * one they hold is theirs to take.
   */
  wake(): Promise<void> {
    const busy = this.lanes.filter((l) => l.draining);
    const idle = this.lanes.find((l) => !l.draining);
    return Promise.all([...busy, ...(idle ? [idle] : [])].map((l) => l.wake())).then(() => undefined);
  }

  /** the events the lanes other than `lane` hold */
  private heldBesides(lane: DrainLoop): string[] {
    return [...this.held].flatMap(([l, ids]) => (l === lane ? [] : ids));
  }

  /**
   * Wakes it for the TICKET_CREATED events of tickets just created, unless it is stopping;
   * tells whether it was woken (it takes them). No lane can hold an earlier event of a new
   * ticket, so one lane takes them: an idle one, or else one under way, which claims them
   * after its batch — with its commit when that claim is still to be sent. The other lanes
   * are not woken to claim again after their batches (that claim would find them taken).
   */
  wakeForNewTickets(): boolean {
    if (this.stopping.signal.aborted) return false;
    // an idle lane, or else one lane under way, preferably one whose next claim rides on its
    // batch's commit and is not sent yet (it answers the wake-up in the same round trip)
    const lane = this.lanes.find((l) => !l.draining) ?? this.lanes.find((l) => this.rideToCome.has(l)) ?? this.lanes[0]!;
    void lane.wake();
    return true;
  }

  /** No event is started after this; resolves when the running drains have ended. */
  stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopping.abort();
    return Promise.all(this.lanes.map((l) => l.stop())).then(() => undefined);
  }

  private async drain(loop: DrainLoop): Promise<void> {
    const { outbox, events } = this.opts;
    const limit = this.opts.batchSize ?? 500;
    const leaseMs = this.opts.leaseMs ?? 60_000;
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
        const batch: ClaimedEvent[] = claimedWithCommit ?? (await outbox.claim(limit, this.clock(), leaseMs, this.heldBesides(loop)));
        claimedWithCommit = null;
        if (batch.length) {
          const next = this.nextClaim(loop, limit, leaseMs);
          this.held.set(loop, batch.map((e) => e.id));
          const handled: HandledBatch = await events
            .handle(batch, this.stopping.signal, next)
            .catch((err) => (err instanceof DispatchStopped ? this.givenBack(batch) : this.failed(batch, err)))
            .finally(() => this.rideToCome.delete(loop));
          // what it holds now: the batch its commit claimed
          if (handled.next?.length) this.held.set(loop, handled.next.map((e) => e.id));
          else this.held.delete(loop);
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
      this.held.delete(loop);
      // claimed as a stop began: given back, no try of theirs
      if (claimedWithCommit?.length) await this.givenBack(claimedWithCommit);
    }
  }

  /** The next claim a batch sends with its commit, unless the dispatcher stops by then (NextClaim). */
  private nextClaim(loop: DrainLoop, limit: number, leaseMs: number): (NextClaim & { asked: boolean }) | undefined {
    const claim = this.opts.outbox.nextClaim?.(limit, leaseMs, this.clock, () => this.heldBesides(loop));
    if (!claim) return undefined;
    const rideToCome = this.rideToCome;
    const next = {
      asked: false,
      statement() {
        rideToCome.delete(loop);
        if (loop.stopping) return null;
        next.asked = true;
        loop.takeWake();
        return claim.statement();
      },
      read: claim.read,
    };
    rideToCome.add(loop);
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
    if (this.retryTimer || this.stopping.signal.aborted) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.wake();
    }, this.opts.retryWaitingMs ?? 1_000);
    this.retryTimer.unref();
  }
}
