/**
 * src/db/sql.ts's prepareStatementsOf: a pool's parameterised statements become named
 * prepared statements of each connection (parsed and planned once), within a bound on
 * distinct texts; statements without parameters run as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { poolTransactions, prepareStatementsOf } from '../../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  pool = new pg.Pool({ connectionString: db.url, max: 1 });
  prepareStatementsOf(pool, 3);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const prepared = async (client: { query: pg.Pool['query'] }) =>
  (await client.query(`select statement from pg_prepared_statements order by statement`)).rows.map((r) => (r.statement as string).trim());

describe('prepared statements of a pool', () => {
  it('a statement with parameters is prepared once per connection and answers as before; one without stays unnamed', async () => {
    for (let i = 0; i < 3; i++) expect((await pool.query('select $1::int + 1 as n', [i])).rows).toEqual([{ n: i + 1 }]);
    expect((await pool.query('select 1 as a; select 2 as b')) as unknown).toHaveLength(2); // several statements, no parameters
    const client = await pool.connect();
    try {
      expect((await client.query('select $1::text as t', ['x'])).rows).toEqual([{ t: 'x' }]);
      expect(await prepared(client)).toEqual(['select $1::int + 1 as n', 'select $1::text as t']);
    } finally {
      client.release();
    }
  });

  it('in a transaction too; at most the bound of distinct texts is named, the rest run unnamed', async () => {
    const sums = await poolTransactions(pool)(async (tx) => {
      const out: number[] = [];
      for (let k = 0; k < 4; k++) out.push((await tx.query(`select $1::int * ${k + 2} as n`, [10])).rows[0].n as number);
      return out;
    });
    expect(sums).toEqual([20, 30, 40, 50]);
    // two texts from the first test, then one more of the bound of 3
    expect(await prepared(pool)).toEqual(['select $1::int * 2 as n', 'select $1::int + 1 as n', 'select $1::text as t']);
  });

  it('a failing statement fails as before, and the connection goes on', async () => {
    await expect(pool.query('select $1::int as n from no_such_table', [1])).rejects.toThrow(/no_such_table/);
    await expect(poolTransactions(pool)(async (tx) => tx.query('select $1::int / 0 as n', [1]))).rejects.toThrow(/division by zero/);
    expect((await pool.query('select $1::int + 1 as n', [41])).rows).toEqual([{ n: 42 }]);
  });
});
