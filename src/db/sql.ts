/**
 * Plain SQL through a MikroORM EntityManager: in its transaction when it has one, with
 * pg's `$n` parameters (turned into knex's `?`, so statements must not use `?` operators).
 * Arrays bind as PostgreSQL arrays.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Queryable } from '../queue/index.js';

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
