/**
 * The one owner of delivery rows: every change of a delivery row is made here, as a
 * transition of one state machine, and publishes its feed message here, in the same
 * transaction (NOTIFY is delivered at commit, so the feed never shows a change that was
 * rolled back).
 *
 *   insert ──────────────▶ PENDING                    QUEUED (by the insert trigger, below)
 *   insert, unrenderable ─▶ FAILED                     QUEUED, FAILED
 *   PENDING | RETRYING ─── attempt ──▶ RETRYING | SUCCEEDED | FAILED
 *                                                      ATTEMPTED (+ SUCCEEDED or FAILED)
 *   PENDING | RETRYING ─── fail unsent ──▶ FAILED      FAILED (window passed, unreadable credentials)
 *   PENDING | RETRYING ─── cancel ──▶ CANCELLED        CANCELLED
 *
 * PENDING and RETRYING are the open states (src/domain): only they are claimed, and a
 * transition out of them applies only to a row still open (a delivery cancelled while
 * its attempt ran stays CANCELLED; its attempt is recorded and counted, its claim ends,
 * ATTEMPTED is published, nothing else).
 *
 * QUEUED alone is published by the database: the statement trigger `deliveries_notify`
 * (src/db/migrations/Migration20261129000100Notify.ts) sends it with the workers'
 * wake-up, in the inserting transaction, for every inserted row whatever made the insert
 * (the caller's unit of work flushed when it chooses, a batch), in the message shape of
 * feedMessages(). Nothing here publishes QUEUED. Another statement trigger,
 * `deliveries_texts` (src/db/migrations/Migration20261130000700DeliverySearch.ts), makes
 * every inserted delivery's row of searchable texts; its last answer is written with the
 * attempt (insertAttempts).
 *
 * The worker's path is plain SQL in batches: one claim statement per batch (src/queue),
 * one transaction per batch of outcomes. Writes made inside a MikroORM transaction (the
 * ticket write-back, cancel) run the same statements through sqlOf(em).
 */
import type pg from 'pg';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Delivery, sqlOf, UUID_PATTERN } from '../db/index.js';
import type { Queryable } from '../queue/index.js';
import { type Continuation, type Decision, type DeliveryEventMessage, type DeliveryStatus, type MappingTarget, type RenderedRequest } from '../domain/index.js';
import type { TemplateContext } from '../templates/index.js';
import { breakerHasWork, lockBreakerStates, recordBreakerAttempts, type BreakerAttempt } from './breaker.js';
import { OPEN } from './open-sql.js';

export type { Queryable } from '../queue/index.js';

export const DELIVERY_EVENTS_CHANNEL = 'deskhooks_delivery_events';
export const DELIVERIES_CHANNEL = 'deskhooks_deliveries';

// ---------------------------------------------------------------- the state machine

/** The state an attempt leaves its delivery in. */
export function statusAfter(decision: Decision): DeliveryStatus {
  return decision.kind === 'succeeded' ? 'SUCCEEDED' : decision.kind === 'retry' ? 'RETRYING' : 'FAILED';
}

/** A transition out of an open state, as the feed tells it. */
export type Transition =
  | { kind: 'attempted'; attempt: number; status: DeliveryStatus }
  | { kind: 'failed' }
  | { kind: 'cancelled' };

export interface DeliveryIds {
  id: string;
  webhookId: string | null;
  ticketId: string | null;
}

/** The feed messages of a transition: identifiers and state only. */
export function feedMessages(row: DeliveryIds, t: Transition, at: Date): DeliveryEventMessage[] {
  const base = { d: row.id, w: row.webhookId, k: row.ticketId, at: at.toISOString() };
  switch (t.kind) {
    case 'attempted': {
      const out: DeliveryEventMessage[] = [{ ...base, t: 'ATTEMPTED', s: t.status, n: t.attempt }];
      if (t.status === 'SUCCEEDED' || t.status === 'FAILED') out.push({ ...base, t: t.status, s: t.status, n: null });
      return out;
    }
    case 'failed':
      return [{ ...base, t: 'FAILED', s: 'FAILED', n: null }];
    case 'cancelled':
      return [{ ...base, t: 'CANCELLED', s: 'CANCELLED', n: null }];
  }
}

// ---------------------------------------------------------------- rows

export interface ClaimedDelivery extends DeliveryIds {
  webhookName: string;
  status: DeliveryStatus;
  request: RenderedRequest;
  authSealed: string | null;
  attemptCount: number;
  /** as it was before this claim: null when this is the first attempt (see scheduling.ts) */
  firstAttemptAt: Date | null;
  lastError: string | null;
  /** true when success needs ticket work (mappings, comment, continuation) */
  needsProcessing: boolean;
  /** claimed as its webhook's breaker probe (src/delivery/scheduling.ts) */
  probe?: boolean;
  /** claimed, not to be attempted, because its retry window passed while its webhook's breaker held it (scheduling.ts) */
  heldPastWindow?: boolean;
  /**
   * the end of the lease of an earlier claim of this attempt that was neither recorded nor
   * released (its worker stopped during the attempt, or its outcome could not be stored):
   * the attempt may have been sent; null when this claim is the attempt's first
   */
  lostClaimUntil?: Date | null;
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

/** What recording one outcome writes: its attempt row (if one was made), the delivery's new state, its feed messages. */
export interface OutcomeRows {
  attempt: AttemptRow | null;
  update: DeliveryUpdate;
  events: DeliveryEventMessage[];
  /** the claimed delivery: whether it went as its webhook's breaker probe */
  delivery?: { probe?: boolean };
}

/** What a success does to the ticket, stored with the delivery when it was queued. */
export interface Processing {
  responseMappings: { path: string; target: MappingTarget; field: string }[];
  successComment: string;
  /** the context the request was rendered with; null when there is no success comment to render from it */
  context: TemplateContext | null;
}

// ---------------------------------------------------------------- the worker's path

/** What a claim returns of a row (claimed as `t`, its columns before the claim as `due`), as claimedFromRow reads it. */
export const CLAIMED_COLUMNS = `t.id, t.webhook_id, t.webhook_name, t.ticket_id, t.status, t.request, t.auth_sealed, t.attempt_count, due.first_attempt_at, t.last_error,
       due.locked_until as lost_claim_until,
       (t.continuation is not null or t.processing->>'successComment' <> '' or jsonb_array_length(t.processing->'responseMappings') > 0) as needs_processing`;

export function claimedFromRow(r: any): ClaimedDelivery {
  return {
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
    lostClaimUntil: r.lost_claim_until ?? null,
  };
}

/**
 * Gives claims back without counting an attempt (shutdown). An aborted first attempt
 * does not start the retry window: its claim's `first_attempt_at` is cleared.
 */
export async function releaseClaims(db: Queryable, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await db.query(
    `update deliveries set locked_until = null,
            first_attempt_at = case when attempt_count = 0 and ${OPEN} then null else first_attempt_at end
      where id = any($1::uuid[])`,
    [ids],
  );
}

/**
 * Attempt rows, each with its delivery's webhook and whether it succeeded (what
 * Webhook.health and Webhook.stats count, src/delivery/health.ts); a delivery that got an
 * answer is queued for the text indexer (text-indexer.ts), which makes the answer its
 * `last_response` for the log's `search` (filter.ts). One statement.
 */
const INSERT_ATTEMPTS = `inserted as (
       insert into delivery_attempts (delivery_id, number, started_at, duration_ms, status_code, error, response_body, succeeded, webhook_id)
       select u.*, (select d.webhook_id from deliveries d where d.id = u.delivery_id)
         from unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[], $8::boolean[])
              as u(delivery_id, number, started_at, duration_ms, status_code, error, response_body, succeeded)
       on conflict (delivery_id, number) do nothing
       returning delivery_id, response_body)`;

async function insertAttempts(db: Queryable, attempts: (AttemptRow & { succeeded: boolean })[]): Promise<void> {
  if (!attempts.length) return;
  await db.query(
    `with ${INSERT_ATTEMPTS}
     insert into delivery_text_queue (delivery_id) select i.delivery_id from inserted i where i.response_body is not null`,
    attemptValues(attempts),
  );
}

/** insertAttempts's $1..$8 */
function attemptValues(attempts: (AttemptRow & { succeeded: boolean })[]): unknown[] {
  return [
    attempts.map((a) => a.deliveryId),
    attempts.map((a) => a.number),
    attempts.map((a) => a.startedAt),
    attempts.map((a) => a.durationMs),
    attempts.map((a) => a.statusCode),
    attempts.map((a) => a.error),
    attempts.map((a) => a.responseBody),
    attempts.map((a) => a.succeeded),
  ];
}

/**
 * Applies the updates to deliveries still open; returns the ids that were updated.
 * `first_attempt_at` takes the update's value: the first attempt's real start replaces
 * the claim's time (scheduling.ts).
 */
async function updateDeliveries(db: Queryable, updates: DeliveryUpdate[]): Promise<Set<string>> {
  if (!updates.length) return new Set();
  const { rows } = await db.query(updateDeliveriesSql(1), updateValues(updates));
  const updated = new Set(rows.map((r) => r.id as string));
  await countClosedAttempts(db, updates.filter((u) => !updated.has(u.id)));
  return updated;
}

/**
 * For deliveries the update of their outcome found no longer open (cancelled while their
 * attempt ran): the attempt is counted and the claim ends (it no longer holds a slot of
 * its webhook); nothing else changes. A statement of its own, after the update: that one
 * may have waited for the cancel, and only a later statement's snapshot sees it.
 */
async function countClosedAttempts(db: Queryable, updates: readonly DeliveryUpdate[]): Promise<void> {
  if (!updates.length) return;
  await db.query(
    `update deliveries d set attempt_count = greatest(d.attempt_count, u.n), locked_until = null
       from unnest($1::uuid[], $2::int[]) as u(id, n)
      where d.id = u.id and not d.${OPEN} and (d.attempt_count < u.n or d.locked_until is not null)`,
    [updates.map((u) => u.id), updates.map((u) => u.attemptCount)],
  );
}

/** The update of updateDeliveries, its parameters numbered from $`from`. */
const updateDeliveriesSql = (from: number) => {
  const $ = (i: number) => `$${from + i}`;
  return `update deliveries d set status = u.status, attempt_count = u.n, next_attempt_at = u.next,
            first_attempt_at = u.first, locked_until = null,
            last_error = u.err, completed_at = u.completed,
            notes = case when u.note is null then d.notes else d.notes || jsonb_build_array(u.note) end
       from unnest(${$(0)}::uuid[], ${$(1)}::text[], ${$(2)}::int[], ${$(3)}::timestamptz[], ${$(4)}::timestamptz[], ${$(5)}::text[], ${$(6)}::timestamptz[], ${$(7)}::text[])
            as u(id, status, n, next, first, err, completed, note)
      where d.id = u.id and d.${OPEN}
      returning d.id`;
};

function updateValues(updates: DeliveryUpdate[]): unknown[] {
  return [
    updates.map((u) => u.id),
    updates.map((u) => u.status),
    updates.map((u) => u.attemptCount),
    updates.map((u) => u.nextAttemptAt),
    updates.map((u) => u.firstAttemptAt),
    updates.map((u) => u.lastError),
    updates.map((u) => u.completedAt),
    updates.map((u) => u.note ?? null),
  ];
}

/**
 * Records outcomes: attempt rows, the deliveries' new states, their feed messages —
 * ATTEMPTED always, the state's own message only for deliveries that were still open.
 * Returns the ids whose state changed. Runs in the caller's transaction.
 */
export async function writeOutcomes(db: Queryable, outcomes: OutcomeRows[]): Promise<Set<string>> {
  const judged = breakerAttempts(outcomes);
  await lockBreakerStates(db, judged);
  await insertAttempts(db, attemptsOf(outcomes));
  const updated = await updateDeliveries(db, outcomes.map((o) => o.update));
  await recordBreakerAttempts(db, judged, outcomeTime(outcomes));
  await publish(db, outcomes.flatMap((o) => o.events.filter((e) => !isStateMessage(e) || updated.has(e.d))));
  return updated;
}

/** The attempt rows of outcomes; an attempt succeeded when it leaves its delivery SUCCEEDED (statusAfter: the policy's decision). */
const attemptsOf = (outcomes: OutcomeRows[]) => outcomes.flatMap((o) => (o.attempt ? [{ ...o.attempt, succeeded: o.update.status === 'SUCCEEDED' }] : []));

/** A message of a delivery's state (any but ATTEMPTED): published only if the delivery was still open and took the new state. */
const isStateMessage = (e: DeliveryEventMessage) => e.t !== 'ATTEMPTED';

/** The attempts of webhooks' deliveries, as the breaker (breaker.ts) judges them. */
function breakerAttempts(outcomes: OutcomeRows[]): BreakerAttempt[] {
  return outcomes.flatMap((o) => {
    const webhookId = o.events[0]?.w;
    if (!o.attempt || !webhookId) return [];
    return [{ deliveryId: o.attempt.deliveryId, webhookId, succeeded: o.update.status === 'SUCCEEDED', probe: o.delivery?.probe === true }];
  });
}

/** When the outcomes were decided (their feed messages' time, from the worker's clock). */
function outcomeTime(outcomes: OutcomeRows[]): Date {
  const at = outcomes.flatMap((o) => o.events.map((e) => Date.parse(e.at)));
  return at.length ? new Date(Math.max(...at)) : new Date();
}

/**
 * writeOutcomes in one statement, for outcomes the breaker has nothing to judge (a batch
 * with a probe's outcome or a failed attempt goes through writeOutcomes in a transaction):
 * the attempts, the states and the feed messages, in order, each state message only if its
 * delivery took the state. Chunks are cut in advance; leaving messages out only shrinks them.
 */
async function writeOutcomesAtOnce(db: Queryable, outcomes: OutcomeRows[]): Promise<void> {
  const messages = eventChunks(outcomes.flatMap((o) => o.events)).flatMap((c, chunk) => c.events.map((e, i) => ({ e, json: c.json[i]!, chunk })));
  const { rows } = await db.query(
    `with ${INSERT_ATTEMPTS},
     queued as (insert into delivery_text_queue (delivery_id) select i.delivery_id from inserted i where i.response_body is not null),
     updated as (${updateDeliveriesSql(9)}),
     published as (
       select pg_notify($17, c.payload) from (
         select m.chunk, '[' || string_agg(m.json, ',' order by m.i) || ']' as payload
           from unnest($18::text[], $19::uuid[], $20::boolean[], $21::int[]) with ordinality as m(json, d, state, chunk, i)
          where not m.state or m.d in (select id from updated)
          group by m.chunk order by m.chunk) c)
     select (select count(*)::int from published) as published, coalesce((select array_agg(id) from updated), '{}') as updated`,
    [
      ...attemptValues(attemptsOf(outcomes)),
      ...updateValues(outcomes.map((o) => o.update)),
      DELIVERY_EVENTS_CHANNEL,
      messages.map((m) => m.json),
      messages.map((m) => m.e.d),
      messages.map((m) => isStateMessage(m.e)),
      messages.map((m) => m.chunk),
    ],
  );
  // the outcomes whose delivery was no longer open (the common case: none)
  const updated = new Set<string>(rows[0].updated);
  try {
    await countClosedAttempts(db, outcomes.map((o) => o.update).filter((u) => !updated.has(u.id)));
  } catch (err) {
    throw new OutcomesRecordedError(err);
  }
}

/**
 * The outcomes were recorded (committed), but counting the attempts of deliveries
 * cancelled while they ran failed after them: recording them again would repeat their
 * notes and feed messages. Those deliveries are CANCELLED either way; their claims expire.
 */
export class OutcomesRecordedError extends Error {
  constructor(readonly failure: unknown) {
    super(`the outcomes were recorded, but counting the attempts of deliveries cancelled meanwhile failed: ${(failure as Error)?.message ?? String(failure)}`);
  }
}

/** writeOutcomes in one transaction of its own (one statement when the breaker has nothing to judge). */
export async function recordBatch(client: pg.PoolClient, outcomes: OutcomeRows[]): Promise<void> {
  if (!breakerHasWork(breakerAttempts(outcomes))) return writeOutcomesAtOnce(client, outcomes);
  await client.query('begin');
  try {
    await writeOutcomes(client, outcomes);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}

/** What the ticket write-back of a delivery needs (stored when it was queued). */
export async function ticketWorkOf(db: Queryable, id: string): Promise<{ webhookName: string; processing: Processing; continuation: Continuation | null }> {
  const { rows } = await db.query(`select webhook_name, processing, continuation from deliveries where id = $1`, [id]);
  const r = rows[0];
  if (!r) throw new Error(`delivery ${id} not found`);
  return { webhookName: r.webhook_name, processing: r.processing, continuation: r.continuation };
}

/** Stores what a success made of the answer (`responseData` when mappings ran) and appends notes. */
export async function annotate(db: Queryable, id: string, { responseData, notes }: { responseData?: unknown; notes: string[] }): Promise<void> {
  if (responseData === undefined && !notes.length) return;
  await db.query(
    `update deliveries set response_data = case when $2::boolean then $3::jsonb else response_data end, notes = notes || $4::jsonb where id = $1`,
    [id, responseData !== undefined, JSON.stringify(responseData ?? null), JSON.stringify(notes)],
  );
}

// ---------------------------------------------------------------- the service's path

export type DeliveryFields = Pick<Delivery, 'id' | 'webhookId' | 'webhookName' | 'ticketId' | 'ruleId' | 'event' | 'request' | 'processing' | 'continuation'> &
  Partial<Pick<Delivery, 'authSealed' | 'redeliveryOf'>>;

/** A new delivery in the caller's unit of work (inserted with it): PENDING, due now. */
export function queueDelivery(em: EntityManager, fields: DeliveryFields, now: Date): Delivery {
  return em.create(Delivery, { ...fields, status: 'PENDING', nextAttemptAt: now, createdAt: now, notes: [] });
}

/**
 * A delivery queued in this unit of work whose request cannot be sent (it cannot be
 * rendered): FAILED with the reason, inserted now (its QUEUED message first), then FAILED
 * published — all in the caller's transaction.
 */
export async function failUnsendable(em: EntityManager, delivery: Delivery, reason: string, now: Date): Promise<void> {
  Object.assign(delivery, { status: 'FAILED' as DeliveryStatus, nextAttemptAt: null, completedAt: now, lastError: reason, notes: [reason] });
  await em.flush();
  await publish(sqlOf(em), feedMessages(delivery, { kind: 'failed' }, now));
}

/** A delivery to insert: queued (PENDING, due at its creation) or, with `failure`, FAILED at once. */
export interface NewDeliveryRow {
  fields: DeliveryFields;
  createdAt: Date;
  /** why its request cannot be sent (it cannot be rendered) */
  failure: string | null;
}

/**
 * Inserts many deliveries in one statement, in the caller's transaction: the insert
 * trigger publishes their QUEUED messages and wakes the workers at commit; the FAILED
 * ones are published here, after their QUEUED.
 */
export function insertDeliveries(db: Queryable, rows: readonly NewDeliveryRow[]): Promise<void> {
  // sends its statements before it returns, or throws (BatchRun.flush sends writes it does not wait for)
  if (!rows.length) return Promise.resolve();
  const records = rows.map(({ fields: f, createdAt, failure }) => ({
    id: f.id,
    webhook_id: f.webhookId,
    webhook_name: f.webhookName,
    ticket_id: f.ticketId,
    rule_id: f.ruleId,
    event: f.event,
    status: failure ? 'FAILED' : 'PENDING',
    request: f.request,
    auth_sealed: f.authSealed ?? null,
    next_attempt_at: failure ? null : createdAt,
    completed_at: failure ? createdAt : null,
    last_error: failure,
    notes: failure ? [failure] : [],
    continuation: f.continuation ?? null,
    processing: f.processing,
    redelivery_of: f.redeliveryOf ?? null,
    created_at: createdAt,
  }));
  // sent together (neither needs the other's answer); the server runs them in this order
  const inserted = db.query(
    `insert into deliveries (id, webhook_id, webhook_name, ticket_id, rule_id, event, status, request, auth_sealed, next_attempt_at, completed_at,
                             last_error, notes, continuation, processing, redelivery_of, created_at)
     select id, webhook_id, webhook_name, ticket_id, rule_id, event, status, request, auth_sealed, next_attempt_at, completed_at,
            last_error, notes, continuation, processing, redelivery_of, created_at
       from jsonb_to_recordset($1::jsonb) as r(id uuid, webhook_id bigint, webhook_name text, ticket_id bigint, rule_id bigint, event text,
            status text, request jsonb, auth_sealed text, next_attempt_at timestamptz, completed_at timestamptz, last_error text, notes jsonb,
            continuation jsonb, processing jsonb, redelivery_of uuid, created_at timestamptz)`,
    [JSON.stringify(records)],
  );
  inserted.catch(() => {}); // answered below; a failure to publish must not leave it unhandled
  const published = publish(db, rows.filter((r) => r.failure).flatMap((r) => feedMessages(r.fields, { kind: 'failed' }, r.createdAt)));
  return Promise.all([inserted, published]).then(() => undefined);
}

/**
 * A webhook's ordering changed: its open deliveries for tickets are marked for the new one,
 * in the caller's transaction. PER_TICKET: each gives the turn to the next of its ticket
 * when it is final (Migration20261201000300DeliveryTurns); the claim keeps their order
 * meanwhile. Not PER_TICKET: none waits for its turn any longer.
 */
export async function markDeliveryOrdering(db: Queryable, webhookId: string, perTicket: boolean): Promise<void> {
  await db.query(
    `update deliveries set per_ticket = $2, awaits_turn = false
      where webhook_id = $1 and ticket_id is not null and ${OPEN} and (per_ticket <> $2 or awaits_turn)`,
    [webhookId, perTicket],
  );
}

/**
 * The sweep's part of PER_TICKET turns (Migration20261201000300DeliveryTurns): a delivery
 * waiting for its turn gets it when no earlier delivery of its ticket and webhook is open,
 * or when its webhook is no longer PER_TICKET. The triggers give each turn as the earlier
 * delivery becomes final; this gives those they could not (an insert under way as the turn
 * was passed, a webhook's ordering changed under an insert). Returns how many got their turn.
 */
export async function releaseWaitingTurns(db: Queryable): Promise<number> {
  const { rows } = await db.query(
    `with unordered as (
       update deliveries d set awaits_turn = false, per_ticket = false
         from webhooks w
        where d.awaits_turn and d.${OPEN} and w.id = d.webhook_id and w.ordering <> 'PER_TICKET'
       returning d.id
     ), first_waiting as (
       select distinct on (webhook_id, ticket_id) id, ticket_id, webhook_id, seq from deliveries
        where awaits_turn and ${OPEN} order by webhook_id, ticket_id, seq
     ), turned as (
       update deliveries d set awaits_turn = false
         from first_waiting f
        where d.id = f.id and d.id not in (select id from unordered)
          and not exists (select 1 from deliveries e where e.ticket_id = f.ticket_id and e.webhook_id = f.webhook_id and e.${OPEN} and e.seq < f.seq)
       returning d.id
     )
     select (select count(*) from unordered)::int + (select count(*) from turned)::int as n`,
  );
  return rows[0].n as number;
}

/**
 * SQL: the notes of a delivery cancelled at `now` (an SQL expression): with a note when an
 * attempt of it is being sent (its claim is live): an answer to it, if one comes (the
 * worker sending it may be stopped first), is still recorded but leads nowhere.
 */
const cancelNotes = (now: string) =>
  `case when locked_until > ${now}
        then notes || jsonb_build_array('cancelled while attempt ' || (attempt_count + 1) || ' was being sent: if an answer to it comes, it is recorded, and nothing follows from it (no retry, no ticket update, no rule continuation)')
        else notes end`;

/**
 * SQL: cancels the open deliveries `where` picks at `now` (SQL expressions), each with its
 * notes (cancelNotes and `extraNotes`, a jsonb expression), and leaves an internal comment on
 * the ticket of each one a rule's run was awaiting (it carried a continuation): the rest of
 * that rule will not run. One statement; it returns each cancelled delivery's ids.
 */
const cancelSql = (where: string, now: string, extraNotes = `'[]'::jsonb`) => `with cancelled as (
       update deliveries set status = 'CANCELLED', next_attempt_at = null, completed_at = ${now}, notes = ${cancelNotes(now)} || ${extraNotes}
        where ${where} and ${OPEN}
        returning id, webhook_id, ticket_id, webhook_name, continuation
     ), stopped as (
       insert into posts (ticket_id, kind, text, author_id, created_at)
       select c.ticket_id, 'COMMENT', format('Webhook "%s" was cancelled. The remaining actions of rule "%s" were not run.', c.webhook_name, c.continuation->>'ruleName'), null, ${now}
         from cancelled c where c.continuation is not null and c.ticket_id is not null
     )
     select id, webhook_id::text as "webhookId", ticket_id::text as "ticketId" from cancelled`;

/** Cancels a delivery still open; returns false when it no longer was. */
export async function cancelDelivery(db: Queryable, id: string, now: Date): Promise<boolean> {
  const { rows } = await db.query(cancelSql('id = $1', '$2::timestamptz'), [id, now]);
  if (!rows[0]) return false;
  await publish(db, feedMessages(rows[0], { kind: 'cancelled' }, now));
  return true;
}

/**
 * Switches a webhook off (its receiver is gone) and cancels its open deliveries but
 * `exceptId` (the one whose outcome says so, recorded by its own transition), each with a
 * note saying why, with their feed messages, in one transaction of the caller's. Returns
 * how many were cancelled.
 */
export async function switchOffWebhook(db: Queryable, webhookId: string, exceptId: string, reason: string, now: Date): Promise<number> {
  await db.query(`update webhooks set enabled = false, disabled_reason = $2, disabled_at = $3 where id = $1`, [webhookId, reason, now]);
  return cancelWebhookDeliveries(db, webhookId, now, { exceptId, note: `cancelled: its webhook was switched off (${reason}); enableWebhook switches it back on, and redeliver sends this again` });
}

/**
 * Cancels the open deliveries of a webhook (but `exceptId`), with their feed messages and,
 * given, a note on each, in the caller's transaction. Returns how many were cancelled.
 */
export async function cancelWebhookDeliveries(db: Queryable, webhookId: string, now: Date, { exceptId = null, note = null }: { exceptId?: string | null; note?: string | null } = {}): Promise<number> {
  const { rows } = await db.query(
    cancelSql('webhook_id = $1 and id is distinct from $2::uuid', '$3::timestamptz', `case when $4::text is null then '[]'::jsonb else jsonb_build_array($4::text) end`),
    [webhookId, exceptId, now, note],
  );
  await publish(db, rows.flatMap((r) => feedMessages(r, { kind: 'cancelled' }, now)));
  return rows.length;
}

// ---------------------------------------------------------------- bulk runs (bulk.ts)

/** The deliveries a bulk run acts on: a condition on `deliveries d` and its `$n` parameters. */
export interface RowSelection {
  where: string;
  params: unknown[];
}

/**
 * A redelivery of every delivery `selection` picks, inserted by one statement in the
 * caller's transaction in the originals' creation order (so PER_TICKET ordering sends
 * them in it). Each is a new PENDING delivery, due now, carrying its original's webhook,
 * ticket, rule, event, rendered request, credentials and response processing, but not
 * its continuation (as a single redelivery, service.ts). The insert trigger publishes
 * their QUEUED messages and wakes the workers at commit. Returns how many were queued.
 */
export async function redeliverSelected(db: Queryable, selection: RowSelection, now: Date): Promise<number> {
  const at = `$${selection.params.length + 1}::timestamptz`;
  const { rows } = await db.query(
    `with queued as (
       insert into deliveries (id, webhook_id, webhook_name, ticket_id, rule_id, event, status, request, auth_sealed, next_attempt_at,
                               notes, continuation, processing, redelivery_of, created_at)
       select gen_random_uuid(), d.webhook_id, d.webhook_name, d.ticket_id, d.rule_id, d.event, 'PENDING', d.request, d.auth_sealed, ${at},
              '[]'::jsonb, null, d.processing, d.id, ${at}
         from deliveries d
        where ${selection.where}
        order by d.created_at, d.seq, d.id
       returning 1)
     select count(*)::int as n from queued`,
    [...selection.params, now],
  );
  return rows[0].n as number;
}

/**
 * Cancels every delivery `selection` picks that is still open, by one statement in the
 * caller's transaction, with their CANCELLED messages. Returns how many were cancelled.
 * The ids are picked first (an array), then updated by primary key: whatever the
 * statistics say (rows inserted a moment ago), no join of the selection with the table.
 */
export async function cancelSelected(db: Queryable, selection: RowSelection, now: Date): Promise<number> {
  const at = `$${selection.params.length + 1}::timestamptz`;
  const { rows } = await db.query(cancelSql(`id = any(array(select d.id from deliveries d where ${selection.where}))`, at), [...selection.params, now]);
  await publish(db, rows.flatMap((r) => feedMessages(r, { kind: 'cancelled' }, now)));
  return rows.length;
}

// ---------------------------------------------------------------- reads


/**
 * Whether `id` names a delivery being attempted at this moment: claimed by a worker of
 * any process (open, with a claim that has not expired). Only then does an incoming
 * request carrying `X-Deskhooks-Delivery: <id>` come from that attempt's receiver (the
 * seed's sub-ticket commenting on its parent). Anything that is not a delivery id is
 * simply not in flight. One primary-key lookup.
 */
export async function isAttemptInFlight(db: Queryable, id: string | undefined): Promise<boolean> {
  const value = id?.trim();
  if (!value || !UUID_PATTERN.test(value)) return false;
  const { rows } = await db.query(`select 1 from deliveries where id = $1 and ${OPEN} and locked_until > now()`, [value]);
  return rows.length > 0;
}

// ---------------------------------------------------------------- the feed

const MAX_PAYLOAD = 7_800;

/** Messages as JSON-array payloads, each under NOTIFY's 8,000-byte limit. */
export function eventPayloads(events: DeliveryEventMessage[]): string[] {
  return eventChunks(events).map((c) => `[${c.json.join(',')}]`);
}

/** Messages in order, cut into chunks whose JSON array stays under NOTIFY's 8,000-byte limit. */
function eventChunks(events: DeliveryEventMessage[]): { events: DeliveryEventMessage[]; json: string[] }[] {
  const chunks: { events: DeliveryEventMessage[]; json: string[] }[] = [];
  let chunk = { events: [] as DeliveryEventMessage[], json: [] as string[] };
  let size = 2;
  for (const e of events) {
    const text = JSON.stringify(e);
    if (chunk.json.length && size + text.length + 1 > MAX_PAYLOAD) {
      chunks.push(chunk);
      chunk = { events: [], json: [] };
      size = 2;
    }
    chunk.events.push(e);
    chunk.json.push(text);
    size += text.length + 1;
  }
  if (chunk.json.length) chunks.push(chunk);
  return chunks;
}

/** Sends its statement before it returns, or throws (insertDeliveries). */
function publish(db: Queryable, events: DeliveryEventMessage[]): Promise<void> {
  if (!events.length) return Promise.resolve();
  return db.query(`select pg_notify($1, p) from unnest($2::text[]) p`, [DELIVERY_EVENTS_CHANNEL, eventPayloads(events)]).then(() => undefined);
}
