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
