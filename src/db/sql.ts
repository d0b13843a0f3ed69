/**
 * Plain SQL: through a MikroORM EntityManager (sqlOf), on the pool's connections
 * (prepared statements, transactions), with failed statements named in the log.
 */
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Queryable } from '../queue/index.js';

/**
 * The bound of one set-based statement an admin's request runs over a whole table (a bulk
 * run over the delivery log, a TIMER rule's plan over every open ticket), instead of a
 * request's bound on the database (DESKHOOKS_DATABASE_TIMEOUT): its time grows with the data.
 */
export const SET_BASED_STATEMENT_TIMEOUT_MS = 300_000;

/**
 * Through `em`: in its transaction when it has one, with pg's `$n` parameters (turned into
 * knex's `?`, so statements must not use `?` operators). Arrays bind as PostgreSQL arrays.
 */
export function sqlOf(em: EntityManager, opts: { queryTimeoutMs?: number } = {}): Queryable {
  return {
    async query(text, values = []) {
      const ordered: unknown[] = [];
      const sql = text.replace(/\$(\d+)/g, (_, n: string) => {
        ordered.push(values[Number(n) - 1]);
        return '?';
      });
      const query = em.getKnex().raw(sql, ordered as never[]);
      // pg's own bound for this statement, instead of its connection's query_timeout
      if (opts.queryTimeoutMs) query.options({ query_timeout: opts.queryTimeoutMs });
      const trx = em.getTransactionContext();
      if (trx) query.transacting(trx);
      const res = (await query) as { rows: any[] };
      return { rows: res.rows };
    },
  };
}

/**
 * A pool (or client) whose failed statements carry their text as `statement` (parameters
 * are `$n`, so it holds no values): the log shows which statement failed (src/log-redact.ts).
 */
export function withStatementOnError(db: Queryable): Queryable {
  return {
    async query(text, values) {
      try {
        return await db.query(text, values);
      } catch (err) {
        if (err && typeof err === 'object') Object.defineProperty(err, 'statement', { value: text, enumerable: false, configurable: true });
        throw err;
      }
    },
  };
}

/**
 * Every parameterised statement the pool's connections run becomes a named prepared
 * statement of that connection: PostgreSQL parses and plans it once per connection
 * instead of at every call (the hot statements are a few fixed texts). A statement with parameters is always a single
 * one, so the rule is safe for any text; at most `maxTexts` distinct texts are named per
 * process, so that generated texts cannot grow the connections' statement caches without
 * bound (the rest run unnamed, as before).
 */
export function prepareStatementsOf(pool: pg.Pool, maxTexts = 500): void {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < maxTexts) {
      name = `dh_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      names.set(text, name);
    }
    return name;
  };
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
      if (typeof config === 'string' && Array.isArray(values) && values.length) {
        const name = nameOf(config);
        if (name) return typeof callback === 'function' ? query({ name, text: config, values }, callback) : query({ name, text: config, values });
      }
      return query(config, values, callback);
    }) as typeof client.query;
  });
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A value as an SQL literal: numbers, dates, booleans, ids (digits or a UUID) and arrays of them, checked; anything else throws. */
export function sqlLiteral(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return `'${v.toISOString()}'`;
  if (typeof v === 'string' && (/^\d+$/.test(v) || UUID_PATTERN.test(v))) return `'${v}'`;
  if (Array.isArray(v)) return `'{${v.map((e) => (e === null ? 'NULL' : sqlLiteral(e).replace(/'/g, ''))).join(',')}}'`;
  throw new Error(`not a value to write into SQL: ${typeof v}`);
}

/** A statement and its parameters. */
export interface Statement {
  text: string;
  values?: unknown[];
}

/**
 * - `withBegin`, `withCommit`: statements that ride in the round trips a transaction makes
 *   anyway, on a pool of pipelining connections (`pipeline: true`; elsewhere they are sent
 *   one after the other, with the same outcome). `withBegin` go with `begin`, their results
 *   handed to the work; `withCommit` goes with `commit`, last in the transaction (it commits
 *   with the work or nothing does), asked for once the work is done (null: none), its
 *   result handed to `read` once committed.
 * - `stop`: once its signal aborts, the statement the transaction's session runs then, up
 *   to its commit, is cancelled (cancelledOnAbort).
 */
export interface TransactionOptions {
  withBegin?: readonly Statement[];
  withCommit?: { statement: () => Statement | null; read: (result: pg.QueryResult) => void };
  stop?: { signal: AbortSignal; cancel: CancelStatement; cancelled: (session: number) => void };
}

/**
 * Runs `work` in a transaction on one connection: committed when it resolves, rolled back
 * when it throws (with everything of `options`). The statements the work sent and did
 * not wait for are answered with the commit. The transaction commits only if every
 * statement of it succeeded (PostgreSQL answers the commit of one in which a statement
 * failed with ROLLBACK, and no error): it rejects with the first that failed, in the order
 * they were sent, even one the work caught.
 */
export type Transactions = <T>(work: (db: Queryable, begun: readonly pg.QueryResult[], session: number | null) => Promise<T>, options?: TransactionOptions) => Promise<T>;

/** Waits for every statement sent; throws the first failure in the order they were sent. */
async function answersInOrder(sent: readonly Promise<pg.QueryResult | { rows: any[] }>[]): Promise<pg.QueryResult[]> {
  const answers = await Promise.allSettled(sent);
  const failed = answers.find((a) => a.status === 'rejected');
  if (failed) throw failed.reason;
  return answers.map((a) => (a as PromiseFulfilledResult<pg.QueryResult>).value);
}

export function poolTransactions(pool: pg.Pool): Transactions {
  return async (work, { withBegin = [], withCommit, stop } = {}) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    const db = withStatementOnError(client);
    const sent: Promise<{ rows: any[] }>[] = [];
    const send = (s: Statement) => {
      const answer = db.query(s.text, s.values);
      // answered in order below; a failure is thrown from there, not left unhandled
      answer.catch(() => {});
      sent.push(answer);
      return answer;
    };
    const run = async () => {
      // after a failed statement PostgreSQL runs the rest of the transaction's statements as failed too
      const begun = (await answersInOrder([client.query('begin'), ...withBegin.map(send)])).slice(1);
      const result = await work({ query: (text, values) => send({ text, values }) }, begun, sessionOf(client));
      const last = withCommit?.statement() ?? null;
      const ending = [...sent, ...(last ? [send(last)] : []), client.query('commit')];
      const answers = await answersInOrder(ending);
      if (last) withCommit!.read(answers.at(-2)!);
      return result;
    };
    try {
      return await (stop ? cancelledOnAbort(stop.signal, sessionOf(client), stop.cancel, stop.cancelled, run) : run());
    } catch (err) {
      // a connection that cannot even roll back is dropped, not handed out again
      await client.query('rollback').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.release(broken);
    }
  };
}

/** pg's error for a statement without an answer within its query_timeout. */
const QUERY_TIMED_OUT = /^Query read timeout$/;

/**
 * A connection whose statement got no answer within its query_timeout is closed. pg would
 * keep it, the statement still under way, and queue the next statements behind it; closed,
 * it is dropped by its pool, and the server rolls its unfinished transaction back as soon
 * as it reads from it again (a frozen server, once it runs again).
 */
export function closeOnQueryTimeout(client: pg.ClientBase): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const closeIf = (err: unknown) => {
    if (!(err instanceof Error) || !QUERY_TIMED_OUT.test(err.message)) return;
    // ending first: the socket's close is then no error event of the connection
    void (client as unknown as { end?: () => Promise<void> }).end?.().catch(() => {});
    (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
  };
  client.query = ((...args: unknown[]) => {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (err: unknown, res: unknown) => {
        closeIf(err);
        callback(err, res);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) result.catch(closeIf);
    return result;
  }) as typeof client.query;
}

/** The PostgreSQL session (backend pid) of a pg connection, or null before it has started. */
export function sessionOf(client: pg.ClientBase): number | null {
  const pid = (client as unknown as { processID?: unknown }).processID;
  return typeof pid === 'number' ? pid : null;
}

/** Cancels the statement a PostgreSQL session runs; resolves whether the session was there to signal. */
export type CancelStatement = (session: number) => Promise<boolean>;

/**
 * pg_cancel_backend on a connection of its own to `url` (the pool's connections may all be
 * taken, or waiting themselves), closed once it has answered.
 */
export function statementCanceller(url: string, connectTimeoutMs = 2_000): CancelStatement {
  return async (session) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.query('select pg_cancel_backend($1) as sent', [session])).rows[0].sent === true;
    } finally {
      await client.end().catch(() => {});
    }
  };
}

/**
 * Runs `work`, statements of a transaction on `session`. Once `signal` aborts, the
 * statement the session runs then (one waiting on a lock) is cancelled, so that it fails
 * at once and the transaction rolls back; `cancelled` is told the session. It settles only
 * after the cancel has been answered: the connection, handed on after the transaction, never
 * meets a cancel meant for this work.
 */
export async function cancelledOnAbort<T>(signal: AbortSignal | undefined, session: number | null, cancel: CancelStatement | undefined, cancelled: (session: number) => void, work: () => Promise<T>): Promise<T> {
  // aborted before it starts: the work is to check the signal before its first statement
  if (!signal || signal.aborted || session === null || !cancel) return work();
  let sent: Promise<unknown> = Promise.resolve();
  const onAbort = () => {
    cancelled(session);
    sent = cancel(session).catch(() => false);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await work();
  } finally {
    signal.removeEventListener('abort', onAbort);
    await sent;
  }
}

/** The statement was cancelled (pg_cancel_backend, or a client's cancel request): SQLSTATE 57014. */
export function statementCancelled(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '57014';
}

/**
 * A connection error must never end the process. pg-pool listens for errors of idle
 * connections only (`pool.on('error')`); a connection a caller holds between two
 * statements (a transaction waiting on other work) emits its error with no listener —
 * an uncaught exception — when the database restarts or its session is terminated. Every
 * connection gets a listener of its own: the error is reported, and the holder's next
 * statement fails as it would anyway.
 */
export function reportConnectionErrors(pool: pg.Pool, report: (err: Error) => void): void {
  pool.on('error', report);
  pool.on('connect', (client) => void client.on('error', report));
}

/**
 * The pool's end, to call instead of `pool.end()` (from before its first connection): it
 * resolves once the pool's connections have closed, within `boundMs`. pg-pool's end()
 * resolves as soon as it has asked them to close, and a database stopped right after (the
 * embedded one, at the process's stop) would terminate them first, an error for each.
 */
export function poolEnd(pool: pg.Pool, boundMs = 3_000): () => Promise<void> {
  const open = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
  });
  return async () => {
    await pool.end();
    if (!open.size) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...open].map((c) => new Promise((resolve) => c.once('end', resolve)))),
      new Promise((resolve) => (timer = setTimeout(resolve, boundMs))),
    ]);
    clearTimeout(timer);
  };
}

/**
 * The database is out of reach (not the statement's fault): running other statements one
 * by one cannot do better now. SQLSTATE classes 08 and 57P (connection, shutdown), Node's
 * socket errors, pg's errors for a closed connection, a connect that timed out or a statement
 * without an answer within its query_timeout, and pg-pool's and knex's timeouts waiting for a
 * connection (every one of the pool's is taken: each statement run one by one would wait as
 * long again).
 */
export function connectionLost(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(08|57P)/.test(code) || /^E[A-Z]+$/.test(code)) return true;
  return typeof e?.message === 'string' && /connection terminated|not queryable|connection error|timeout exceeded when trying to connect|query read timeout|timeout acquiring a connection/i.test(e.message);
}

/** connectionLost, for an error as a request meets it: pg's own, or wrapped by MikroORM (`previous`) or as a `cause`. */
export function databaseOutOfReach(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { previous?: unknown; cause?: unknown }).previous ?? (e as { cause?: unknown }).cause, depth++) {
    if (connectionLost(e)) return true;
  }
  return false;
}
