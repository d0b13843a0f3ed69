/**
 * A webhook's breaker as the recording of attempts moves it (webhook_states; the claim's
 * side is scheduling.ts), in the recording transaction:
 *
 * - CLOSED → OPEN when, within the last 5 minutes and since the breaker last closed, the
 *   webhook has had at least 10 attempts and at least 70 % of them failed (attempts as
 *   delivery_attempts records them: `succeeded` is the retry policy's decision). Checked
 *   only when a batch has a failed attempt of the webhook; at most the latest 20,000
 *   attempts of the window are counted.
 * - a probe's outcome: success → CLOSED, a new window starts, and the held due deliveries
 *   are made due at this moment, so that they go in creation order (the claim's tie
 *   order); failure → OPEN, the next probe at the time the claim set.
 */
import { BREAKER_WINDOW_MS } from '../domain/index.js';
import type { Queryable } from '../queue/index.js';
import { OPEN } from './open-sql.js';

const BREAKER_MIN_ATTEMPTS = 10;
const BREAKER_FAILURE_RATIO = 0.7;
/** the most attempts of a window the opening check counts */
const WINDOW_SAMPLE = 20_000;



/** An attempt as the breaker sees it. */
export interface BreakerAttempt {
  deliveryId: string;
  webhookId: string;
  succeeded: boolean;
  /** claimed as the webhook's probe */
  probe: boolean;
}

export interface BreakerChange {
  webhookId: string;
  breaker: 'OPEN' | 'CLOSED';
  /** for a closing: the held deliveries released */
  released?: number;
}

/** Whether recordBreakerAttempts has anything to judge: a probe's outcome or a failed attempt. */
export function breakerHasWork(attempts: BreakerAttempt[]): boolean {
  return attempts.some((a) => a.probe || !a.succeeded);
}

/** The webhooks whose breakers recordBreakerAttempts moves, in webhook id order. */
function breakerWebhooks(attempts: BreakerAttempt[]): { probes: BreakerAttempt[]; failing: string[]; ids: string[] } {
  const probes = attempts.filter((a) => a.probe);
  const failing = [...new Set(attempts.filter((a) => !a.succeeded && !a.probe).map((a) => a.webhookId))];
  const ids = [...new Set([...probes.map((a) => a.webhookId), ...failing])].sort((a, b) => Number(a) - Number(b));
  return { probes, failing, ids };
}

/**
 * Locks the state rows of the webhooks whose breakers the attempts move, in webhook id
 * order. The recording transaction takes them before it touches any delivery row: the lock
 * order of the claims and of a webhook's delete or switch-off (its state row, then its
 * deliveries), so that recording a failure while the webhook's deliveries are cancelled
 * waits instead of deadlocking.
 */
export async function lockBreakerStates(db: Queryable, attempts: BreakerAttempt[]): Promise<void> {
  if (!breakerHasWork(attempts)) return;
  await db.query(`select 1 from webhook_states where webhook_id = any($1::bigint[]) order by webhook_id for update`, [breakerWebhooks(attempts).ids]);
}

/** Moves the breakers of the recorded attempts' webhooks; runs in the recording transaction, after lockBreakerStates. */
export async function recordBreakerAttempts(db: Queryable, attempts: BreakerAttempt[], now: Date): Promise<BreakerChange[]> {
  if (!breakerHasWork(attempts)) return [];
  const { probes, failing } = breakerWebhooks(attempts);
  const changes: BreakerChange[] = [];
  if (probes.length) {
    const { rows } = await db.query(
      `update webhook_states s
          set breaker = case when p.ok then 'CLOSED' else 'OPEN' end,
              opened_at = case when p.ok then null else s.opened_at end,
              window_started_at = case when p.ok then $3::timestamptz else s.window_started_at end,
              next_probe_at = case when p.ok then null else s.next_probe_at end,
              probe_delivery_id = null
         from unnest($1::uuid[], $2::boolean[]) as p(id, ok)
        where s.probe_delivery_id = p.id and s.breaker <> 'CLOSED'
        returning s.webhook_id::text as id, p.ok`,
      [probes.map((a) => a.deliveryId), probes.map((a) => a.succeeded), now],
    );
    const closed = rows.filter((r) => r.ok).map((r) => r.id as string);
    const released = new Map<string, number>();
    if (closed.length) {
      const { rows: held } = await db.query(
        `update deliveries set next_attempt_at = $2
          where webhook_id = any($1::bigint[]) and ${OPEN} and not awaits_turn and next_attempt_at <= $2 and (locked_until is null or locked_until < $2)
          returning webhook_id::text as id`,
        [closed, now],
      );
      for (const h of held) released.set(h.id, (released.get(h.id) ?? 0) + 1);
    }
    for (const r of rows) changes.push(r.ok ? { webhookId: r.id, breaker: 'CLOSED', released: released.get(r.id) ?? 0 } : { webhookId: r.id, breaker: 'OPEN' });
  }
  if (failing.length) {
    const { rows } = await db.query(
      `update webhook_states s set breaker = 'OPEN', opened_at = $2, next_probe_at = null, probe_delivery_id = null
        where s.webhook_id = any($1::bigint[]) and s.breaker = 'CLOSED'
          and (select count(*) >= $4::int and count(*) filter (where not r.succeeded) >= $5::double precision * count(*)
                 from (select a.succeeded from delivery_attempts a
                        where a.webhook_id = s.webhook_id and a.started_at <= $2
                          and a.started_at > greatest($2::timestamptz - $3 * interval '1 millisecond', coalesce(s.window_started_at, '-infinity'))
                        order by a.started_at desc limit ${WINDOW_SAMPLE}) r)
        returning s.webhook_id::text as id`,
      [failing, now, BREAKER_WINDOW_MS, BREAKER_MIN_ATTEMPTS, BREAKER_FAILURE_RATIO],
    );
    for (const r of rows) changes.push({ webhookId: r.id, breaker: 'OPEN' });
  }
  return changes;
}
