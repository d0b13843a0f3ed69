/**
 * The delivery hot path in SQL (no ORM): claim due deliveries in batches with
 * FOR UPDATE SKIP LOCKED, record attempts and state changes in one statement per batch,
 * and publish their events in the same transaction. Measured (ARCHITECTURE.md): one job
 * per delivery is bound at ~500/s; batches are not.
 */
import type pg from 'pg';
import type { DeliveryEventMessage, DeliveryStatus, RenderedRequest } from '../domain/index.js';

export const DELIVERY_EVENTS_CHANNEL = 'deskhooks_delivery_events';
export const DELIVERIES_CHANNEL = 'deskhooks_deliveries';

export interface ClaimedDelivery {
  id: string;
  webhookId: string | null;
  webhookName: string;
  ticketId: string | null;
  status: DeliveryStatus;
  request: RenderedRequest;
  authSealed: string | null;
  attemptCount: number;
  /** as it was before this claim: null when this is the first attempt (see claimDue) */
  firstAttemptAt: Date | null;
  lastError: string | null;
  /** true when success needs ticket work (mappings, comment, continuation) */
  needsProcessing: boolean;
}

export interface AttemptRow {
  deliveryId: string;
  number: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
}

export interface DeliveryUpdate {
  id: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  firstAttemptAt: Date;
  lastError: string | null;
  completedAt: Date | null;
  /** appended to the delivery's notes */
  note?: string | null;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/**
 * Claims up to `limit` due deliveries for `leaseMs`. A delivery claimed for its first
 * attempt gets `first_attempt_at` = now in the same statement, before anything is sent:
 * its retry window runs from here even if no outcome of it can ever be recorded (the
 * claim then expires, and once the window has passed the next claim fails it unsent).
 * The rows come back with `firstAttemptAt` as it was before the claim (null for a first
 * attempt), so that the recorded first attempt starts when it was sent.
 */
export async function claimDue(db: Queryable, limit: number, now: Date, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query(
    `with due as (
       select id, first_attempt_at from deliveries
        where status in ('PENDING', 'RETRYING') and next_attempt_at <= $2
          and (locked_until is null or locked_until < $2)
        order by next_attempt_at
        limit $1
        for update skip locked
     )
     update deliveries d set locked_until = $2::timestamptz + make_interval(secs => $3::double precision / 1000),
            first_attempt_at = coalesce(d.first_attempt_at, $2::timestamptz)
       from due where d.id = due.id
     returning d.id, d.webhook_id, d.webhook_name, d.ticket_id, d.status, d.request, d.auth_sealed, d.attempt_count, due.first_attempt_at, d.last_error,
       (d.continuation is not null or d.processing->>'successComment' <> '' or jsonb_array_length(d.processing->'responseMappings') > 0) as needs_processing`,
    [limit, now, leaseMs],
  );
  return rows.map((r) => ({
    id: r.id,
    webhookId: r.webhook_id,
    webhookName: r.webhook_name,
    ticketId: r.ticket_id,
    status: r.status,
    request: r.request,
    authSealed: r.auth_sealed,
    attemptCount: r.attempt_count,
    firstAttemptAt: r.first_attempt_at,
    lastError: r.last_error,
    needsProcessing: r.needs_processing,
  }));
}

/**
 * Gives claims back without counting an attempt (shutdown). An aborted first attempt
 * does not start the retry window: its claim's `first_attempt_at` is cleared.
 */
export async function releaseClaims(db: Queryable, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await db.query(
    `update deliveries set locked_until = null,
            first_attempt_at = case when attempt_count = 0 and status in ('PENDING', 'RETRYING') then null else first_attempt_at end
      where id = any($1::uuid[])`,
    [ids],
  );
}

export async function insertAttempts(db: Queryable, attempts: AttemptRow[]): Promise<void> {
  if (!attempts.length) return;
  await db.query(
    `insert into delivery_attempts (delivery_id, number, started_at, duration_ms, status_code, error, response_body)
     select * from unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[])
     on conflict (delivery_id, number) do nothing`,
    [
      attempts.map((a) => a.deliveryId),
      attempts.map((a) => a.number),
      attempts.map((a) => a.startedAt),
      attempts.map((a) => a.durationMs),
      attempts.map((a) => a.statusCode),
      attempts.map((a) => a.error),
      attempts.map((a) => a.responseBody),
    ],
  );
}

/**
 * Applies the updates to deliveries still PENDING/RETRYING (a delivery cancelled while
 * its attempt ran stays CANCELLED). Returns the ids that were updated.
 * `first_attempt_at` takes the update's value: the first attempt's real start replaces
 * the claim's time (claimDue).
 */
export async function updateDeliveries(db: Queryable, updates: DeliveryUpdate[]): Promise<Set<string>> {
  if (!updates.length) return new Set();
  const { rows } = await db.query(
    `update deliveries d set status = u.status, attempt_count = u.n, next_attempt_at = u.next,
            first_attempt_at = u.first, locked_until = null,
            last_error = u.err, completed_at = u.completed,
            notes = case when u.note is null then d.notes else d.notes || jsonb_build_array(u.note) end
       from unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::text[])
            as u(id, status, n, next, first, err, completed, note)
      where d.id = u.id and d.status in ('PENDING', 'RETRYING')
      returning d.id`,
    [
      updates.map((u) => u.id),
      updates.map((u) => u.status),
      updates.map((u) => u.attemptCount),
      updates.map((u) => u.nextAttemptAt),
      updates.map((u) => u.firstAttemptAt),
      updates.map((u) => u.lastError),
      updates.map((u) => u.completedAt),
      updates.map((u) => u.note ?? null),
    ],
  );
  return new Set(rows.map((r) => r.id as string));
}

const MAX_PAYLOAD = 7_800;

/** Events as JSON-array payloads, each under NOTIFY's 8,000-byte limit. */
export function eventPayloads(events: DeliveryEventMessage[]): string[] {
  const payloads: string[] = [];
  let chunk: string[] = [];
  let size = 2;
  for (const e of events) {
    const json = JSON.stringify(e);
    if (chunk.length && size + json.length + 1 > MAX_PAYLOAD) {
      payloads.push(`[${chunk.join(',')}]`);
      chunk = [];
      size = 2;
    }
    chunk.push(json);
    size += json.length + 1;
  }
  if (chunk.length) payloads.push(`[${chunk.join(',')}]`);
  return payloads;
}

export async function publishEvents(db: Queryable, events: DeliveryEventMessage[]): Promise<void> {
  if (!events.length) return;
  await db.query(`select pg_notify($1, p) from unnest($2::text[]) p`, [DELIVERY_EVENTS_CHANNEL, eventPayloads(events)]);
}

/** The same through a MikroORM EntityManager (inside its transaction, when it has one). */
export async function publishEventsWithEm(em: { execute(sql: string, params: unknown[]): Promise<unknown> }, events: DeliveryEventMessage[]): Promise<void> {
  for (const payload of eventPayloads(events)) await em.execute('select pg_notify(?, ?)', [DELIVERY_EVENTS_CHANNEL, payload]);
}

/** The earliest time a delivery is due, for scheduling the next drain. */
export async function nextDueAt(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query(`select min(next_attempt_at) as at from deliveries where status in ('PENDING', 'RETRYING')`);
  return rows[0]?.at ?? null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `id` names a delivery being attempted at this moment: claimed by a worker of
 * any process (claimDue: PENDING or RETRYING with a claim that has not expired). Only
 * then does an incoming request carrying `X-Deskhooks-Delivery: <id>` come from that
 * attempt's receiver (the seed's sub-ticket commenting on its parent). Anything that is
 * not a delivery id is simply not in flight. One primary-key lookup.
 */
export async function isAttemptInFlight(em: { execute(sql: string, params: unknown[]): Promise<unknown> }, id: string | undefined): Promise<boolean> {
  const value = id?.trim();
  if (!value || !UUID.test(value)) return false;
  const rows = (await em.execute(`select 1 from deliveries where id = ? and status in ('PENDING', 'RETRYING') and locked_until > now()`, [value])) as unknown[];
  return rows.length > 0;
}
