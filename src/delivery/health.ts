/**
 * A webhook's health (its breaker, its recent attempts, why the system switched it off)
 * and its statistics over the last hours. Every figure is read from an index alone
 * (Migration20261130000500WebhookStats): attempts by (webhook_id, started_at) carrying
 * succeeded and duration_ms, deliveries by (webhook_id, created_at) carrying status. An
 * attempt succeeded when the retry policy's decision was success (store.ts writes it).
 * The cost grows with the attempts in the period (each is read once for the buckets and
 * once for the percentiles), not with the webhook's history.
 */
import { badInput } from '../errors.js';
import { BREAKER_WINDOW_MS, type BreakerState, type DeliveryStatus } from '../domain/index.js';
import type { Queryable } from './store.js';

export interface WebhookHealthView {
  breaker: BreakerState;
  openedAt: Date | null;
  recentAttempts: number;
  /** 0..1; 0 without attempts */
  recentFailureRate: number;
  disabledReason: string | null;
  disabledAt: Date | null;
}

export interface StatsBucketView {
  start: Date;
  succeeded: number;
  failed: number;
}

export interface WebhookStatsView extends Record<Lowercase<DeliveryStatus>, number> {
  attempts: number;
  successRate: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  buckets: StatsBucketView[];
}

export interface WebhookHealthService {
  /** null when there is no such webhook */
  health(webhookId: string): Promise<WebhookHealthView | null>;
  /** `hours` 1–720 (`field` names the argument in the error) */
  stats(webhookId: string, hours: number, field?: string): Promise<WebhookStatsView>;
}

export const STATS_MAX_HOURS = 720;
const HOUR_MS = 3_600_000;

/** Whether stats answers for a period of `hours` (1–STATS_MAX_HOURS); it refuses any other. */
const statsHoursValid = (hours: number) => Number.isInteger(hours) && hours >= 1 && hours <= STATS_MAX_HOURS;

/**
 * The most buckets stats(hours) answers: one per clock hour overlapping the period, so one
 * more than `hours` when the period does not start on the hour; none for hours it refuses.
 */
export function statsBucketLimit(hours: number): number {
  return statsHoursValid(hours) ? hours + 1 : 0;
}

/**
 * The breaker's window: attempts started in the last 5 minutes, and since the breaker
 * last closed (a close starts a new window: webhook_states.window_started_at).
 * Percentiles are percentile_disc: a duration some attempt of the period really took.
 */
export function createWebhookHealthService(db: Queryable, clock: () => Date = () => new Date()): WebhookHealthService {
  return {
    async health(webhookId) {
      const now = clock();
      const { rows } = await db.query(
        `select coalesce(s.breaker, 'CLOSED') as breaker, s.opened_at, w.disabled_reason, w.disabled_at, r.n, r.failed
           from webhooks w
           left join webhook_states s on s.webhook_id = w.id
           cross join lateral (
             select count(*)::int as n, count(*) filter (where not a.succeeded)::int as failed
               from delivery_attempts a
              where a.webhook_id = w.id and a.started_at <= $2
                and a.started_at > greatest($2::timestamptz - $3 * interval '1 millisecond', coalesce(s.window_started_at, '-infinity'))
           ) r
          where w.id = $1`,
        [webhookId, now, BREAKER_WINDOW_MS],
      );
      const r = rows[0];
      if (!r) return null;
      return {
        breaker: r.breaker,
        openedAt: r.opened_at,
        recentAttempts: r.n,
        recentFailureRate: r.n ? r.failed / r.n : 0,
        disabledReason: r.disabled_reason,
        disabledAt: r.disabled_at,
      };
    },

    async stats(webhookId, hours, field = 'hours') {
      if (!statsHoursValid(hours)) throw badInput(field, `must be between 1 and ${STATS_MAX_HOURS}`);
      const until = clock();
      const since = new Date(until.getTime() - hours * HOUR_MS);
      // the period is [since, until); buckets are the clock hours (UTC) overlapping it, each
      // counting the attempts in its part of the period
      const starts: Date[] = [];
      for (let h = Math.floor(since.getTime() / HOUR_MS); h * HOUR_MS < until.getTime(); h++) starts.push(new Date(h * HOUR_MS));
      // three statements side by side on the pool: each reads one index range
      const [hourly, durations, created] = await Promise.all([
        db.query(
          `select c.ok, c.bad from unnest($4::timestamptz[]) with ordinality as h(start, i)
             cross join lateral (
               select count(*) filter (where succeeded)::int as ok, count(*) filter (where not succeeded)::int as bad
                 from delivery_attempts
                where webhook_id = $1 and started_at >= greatest(h.start, $2::timestamptz) and started_at < least(h.start + interval '1 hour', $3::timestamptz)
             ) c
            order by h.i`,
          [webhookId, since, until, starts],
        ),
        db.query(
          `select percentile_disc(array[0.5, 0.95]) within group (order by duration_ms) as p
             from delivery_attempts where webhook_id = $1 and started_at >= $2 and started_at < $3`,
          [webhookId, since, until],
        ),
        db.query(
          `select count(*) filter (where status = 'PENDING')::int as pending,
                  count(*) filter (where status = 'RETRYING')::int as retrying,
                  count(*) filter (where status = 'SUCCEEDED')::int as succeeded,
                  count(*) filter (where status = 'FAILED')::int as failed,
                  count(*) filter (where status = 'CANCELLED')::int as cancelled
             from deliveries where webhook_id = $1 and created_at >= $2 and created_at < $3`,
          [webhookId, since, until],
        ),
      ]);
      const buckets: StatsBucketView[] = starts.map((start, i) => ({ start, succeeded: hourly.rows[i].ok, failed: hourly.rows[i].bad }));
      const succeeded = buckets.reduce((n, b) => n + b.succeeded, 0);
      const attempts = succeeded + buckets.reduce((n, b) => n + b.failed, 0);
      const [p50, p95] = (durations.rows[0]?.p as number[] | null) ?? [null, null];
      const r = created.rows[0];
      return {
        pending: r.pending,
        retrying: r.retrying,
        succeeded: r.succeeded,
        failed: r.failed,
        cancelled: r.cancelled,
        attempts,
        successRate: attempts ? succeeded / attempts : null,
        p50DurationMs: p50 ?? null,
        p95DurationMs: p95 ?? null,
        buckets,
      };
    },
  };
}
