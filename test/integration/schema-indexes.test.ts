/**
 * Every index of the migrated schema has a job of its own: no two indexes of a table cover
 * the same columns (or expressions) in the same order, with the same operator classes,
 * orderings, collations, included columns and predicate. Each index is written at every
 * insert, and at every update that moves the row: a repeated one costs every write and
 * serves no read.
 */
import { describe, expect, it } from 'vitest';
import { connectTestDatabase } from '../support/db.js';

describe('the schema’s indexes', () => {
  it('the migrated schema has indexes, and none repeats another of its table', async () => {
    const { client, close } = await connectTestDatabase();
    try {
      const { rows: counted } = await client.query(
        `select count(*)::int as n from pg_index x join pg_class c on c.oid = x.indrelid join pg_namespace s on s.oid = c.relnamespace
        where s.nspname = current_schema()`,
      );
      expect(counted[0].n).toBeGreaterThan(20);
      const { rows } = await client.query(
        `select c.relname as "table", array_agg(i.relname::text order by i.relname) as indexes
         from pg_index x
         join pg_class i on i.oid = x.indexrelid
         join pg_class c on c.oid = x.indrelid
         join pg_namespace s on s.oid = c.relnamespace
        where s.nspname = current_schema()
        group by c.relname, i.relam, x.indkey::text, x.indnkeyatts, x.indclass::text, x.indoption::text, x.indcollation::text,
                 coalesce(pg_get_expr(x.indexprs, x.indrelid), ''), coalesce(pg_get_expr(x.indpred, x.indrelid), '')
       having count(*) > 1
        order by 1`,
      );
      expect(rows).toEqual([]);
    } finally {
      await close();
    }
  });
});
