/**
 * Plain SQL: through a MikroORM EntityManager (sqlOf), on the pool's connections
 * (prepared statements, transactions), with failed statements named in the log.
 */
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import type { Queryable } from '../queue/index.js';

/**
 * Through `em`: in its transaction when it has one, with pg's `$n` parameters (turned into
 * knex's `?`, so statements must not use `?` operators). Arrays bind as PostgreSQL arrays.
 */
export function sqlOf(em: EntityManager): Queryable {
  return {
    async query(text, values = []) {
      const ordered: unknown[] = [];
      const sql = text.replace(/\$(\d+)/g, (_, n: string) => {
        ordered.push(values[Number(n) - 1]);
        return '?';
      });
      const query = em.getKnex().raw(sql, ordered as never[]);
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

/** Runs `work` in a transaction on one connection: committed when it resolves, rolled back when it throws. */
export type Transactions = <T>(work: (db: Queryable) => Promise<T>) => Promise<T>;

export function poolTransactions(pool: pg.Pool): Transactions {
  return async (work) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      const result = await work(withStatementOnError(client));
      await client.query('commit');
      return result;
    } catch (err) {
      // a connection that cannot even roll back is dropped, not handed out again
      await client.query('rollback').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.release(broken);
    }
  };
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
