/**
 * Writes the delivery log's search texts (delivery_texts: the rendered URL and body, and
 * the last answer, trigram-indexed; filter.ts) from the queue that the transactions
 * creating deliveries and recording answers fill (delivery_text_queue, a row per delivery
 * and per recorded answer). The trigram index is thus written in batches here, outside
 * the dispatcher's and the recorder's transactions.
 *
 * - A delivery is searchable a moment after it is created or answered: the indexer runs
 *   `delayMs` after a wake-up (new deliveries, recorded answers, the periodic sweep), and
 *   goes on while whole batches come.
 * - Several processes may index at once: each takes queued rows with SKIP LOCKED, and a
 *   text never goes back to an older answer (`last_response_number`). A delivery queued
 *   twice (created, then answered) may be in two processes' batches at once: each batch
 *   writes its texts in delivery id order, so that two batches lock their common rows in
 *   the same order and never deadlock.
 * - A failed run is reported; the queue keeps its rows for the next wake-up.
 */
import type { Logger } from '../log.js';
import { DrainLoop, type Queryable } from '../queue/index.js';

const INDEX_SQL = `with picked as (
    select id, delivery_id from delivery_text_queue order by id limit $1 for update skip locked
  ), gone as (
    delete from delivery_text_queue q using picked p where q.id = p.id returning q.delivery_id
  ), texts as (
    insert into delivery_texts as t (delivery_id, created_at, url, body, last_response, last_response_number)
    select d.id, d.created_at, coalesce(d.request->>'url', ''), d.request->>'body', a.response_body, a.number
      from deliveries d
      left join lateral (select x.response_body, x.number from delivery_attempts x
                          where x.delivery_id = d.id and x.response_body is not null order by x.number desc limit 1) a on true
     where d.id in (select delivery_id from gone)
     order by d.id
    on conflict (delivery_id) do update set last_response = excluded.last_response, last_response_number = excluded.last_response_number
     where excluded.last_response_number > coalesce(t.last_response_number, 0)
  )
  select count(*)::int as n from picked`;

/** Writes the texts of up to `limit` queued deliveries; returns how many queue rows it took. */
export async function indexDeliveryTexts(db: Queryable, limit: number): Promise<number> {
  const { rows } = await db.query(INDEX_SQL, [limit]);
  return rows[0].n as number;
}

export interface TextIndexerOptions {
  db: Queryable;
  log: Logger;
  /** how long after a wake-up the indexer runs (the wake-ups meanwhile join that run) */
  delayMs?: number;
  /** queue rows per statement */
  batchSize?: number;
}

export class DeliveryTextIndexer {
  private readonly loop: DrainLoop;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: TextIndexerOptions) {
    this.loop = new DrainLoop(() => this.drain(), (err) => opts.log.error("writing the deliveries' search texts failed; the next wake-up retries", err));
  }

  /** Drains the queue `delayMs` from now (wake-ups meanwhile join that drain, or the one running). */
  wake(): void {
    if (this.timer || this.loop.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.loop.wake();
    }, this.opts.delayMs ?? 200);
    this.timer.unref();
  }

  /** No drain starts after this; resolves once the running one has ended. */
  stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.loop.stop();
  }

  private async drain(): Promise<void> {
    const limit = this.opts.batchSize ?? 1_000;
    for (;;) {
      this.loop.takeWake();
      const taken = await indexDeliveryTexts(this.opts.db, limit);
      if (this.loop.stopping || (taken < limit && !this.loop.woken)) return;
    }
  }
}
