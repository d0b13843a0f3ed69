/**
 * Settings of every session deskhooks opens for its work (its pool, the ORM's pool), sent
 * as the connection starts.
 *
 * idle_in_transaction_session_timeout: a process frozen inside a transaction (stopped by a
 * debugger, its container paused, its host suspended) keeps that transaction's row locks —
 * a claim holds its webhooks' webhook_states rows, and every other worker's claims for
 * those webhooks wait on them — until PostgreSQL ends the session. It does so once the
 * session has been idle in its transaction for 60 s, the dispatcher's claim lease (a
 * delivery's claim expires sooner): by then other processes have taken the frozen one's
 * claims over anyway. deskhooks' transactions wait on nothing but the database between
 * their statements.
 */
export const SESSION_SETTINGS = { idle_in_transaction_session_timeout: 60_000 } as const;

/**
 * The sessions of a process part that only delivers (DESKHOOKS_ROLE=worker, and the delivery
 * thread of role `all`): SESSION_SETTINGS, and every prepared statement runs its generic
 * plan. That part runs a few fixed statements (claims, recording outcomes, search texts, the
 * job engine's) whose plan does not depend on their values: index scans bounded by a limit,
 * and set-based writes over `unnest` of arrays. PostgreSQL would plan the statement that
 * records a batch of outcomes again for every batch (its custom plan looks cheaper than the
 * generic one only because it knows the arrays' lengths), which cost as much CPU as running it.
 * Their partial indexes' conditions are written in the statements' text, not given as
 * values, so generic plans use them too.
 */
export const DELIVERY_SESSION_SETTINGS = { ...SESSION_SETTINGS, options: '-c plan_cache_mode=force_generic_plan' } as const;

/**
 * The dispatcher's sessions (its claims of ticket events and its batches): SESSION_SETTINGS,
 * and their commits do not wait for the write-ahead log to reach the disk
 * (synchronous_commit = off), the largest part of a commit's round trip. The worker's
 * claims do not wait either (src/delivery/scheduling.ts, per transaction: its sessions also
 * record outcomes, which do wait).
 *
 * The database stays consistent. A crash of the database itself (not of a deskhooks
 * process) may lose the last of these commits, those of the last 3 × wal_writer_delay
 * (0.6 s by default): their events are unprocessed again and handled anew, as after a
 * process killed mid-batch, so no rule runs twice with effect and none is lost. A request
 * may have gone out for a delivery, or under a claim, such a crash took back: handling its
 * event again makes the delivery again with the same id (src/delivery/service.ts
 * DeliveryOrigin), and it is sent again — the receiver sees the same X-Deskhooks-Delivery
 * twice, possibly overlapping (no lease holds a claim taken back; README, Deliveries).
 * That holds because every ticket event is durable before the dispatcher can read it: the
 * transactions that raise events (the API's, the ORM's — the dispatcher's batches that run
 * the helpdesk's actions included —, the timers', the recording of outcomes) commit
 * synchronously, and a commit becomes visible only after its flush. People watching the
 * console could see in that moment a post that such a crash takes back and the handling
 * writes again.
 */
export const DISPATCH_SESSION_SETTINGS = { ...SESSION_SETTINGS, options: '-c synchronous_commit=off' } as const;
