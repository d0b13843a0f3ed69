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
 * Bookkeeping commits that do not wait for the disk (synchronous_commit off, for that
 * transaction only): the dispatcher's batches and the records of webhook attempts. Nothing
 * leaves deskhooks on the strength of such a commit alone: a delivery is sent only after
 * its claim, a commit that waits, and a commit that waits makes every earlier commit
 * durable with it (the write-ahead log is flushed in order). What a crash of PostgreSQL
 * or of its host can undo is therefore the last fraction of a second of this bookkeeping
 * (at most three wal_writer_delay, 0.6 s by default), and that is done again: ticket
 * events are dispatched again from their outbox, and an attempt whose outcome is undone is
 * taken over when its claim's lease ends (at-least-once, with the note README
 * describes). Claims, and everything an API request writes, wait for the disk.
 *
 * COMMIT_WITHOUT_WAITING is a statement for a transaction's first round trip;
 * COMMITS_WITHOUT_WAITING an expression for a statement run as a transaction of its own.
 */
export const COMMIT_WITHOUT_WAITING = `set local synchronous_commit = off`;
export const COMMITS_WITHOUT_WAITING = `set_config('synchronous_commit', 'off', true)`;
