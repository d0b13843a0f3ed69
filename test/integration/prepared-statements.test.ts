/**
 * src/db/sql.ts's prepareStatementsOf: a pool's parameterised statements become named
 * prepared statements of each connection (parsed and planned once), within a bound on
 * distinct texts; statements without parameters run as before. And poolTransactions's
 * statement sent with `begin`, its values written in by withLiterals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { poolTransactions, prepareStatementsOf, sqlLiteral, withLiterals } from '../../src/db/index.js';
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

describe('a statement sent with begin (poolTransactions withBegin)', () => {
  it('runs in the transaction, hands its rows to the work, and commits with it', async () => {
    await pool.query('create table if not exists begun (id bigint primary key)');
    const seen = await poolTransactions(pool)(async (tx, begun) => {
      const inside = (await tx.query('select txid_current()::text as x')).rows[0].x as string;
      return { begun: begun?.rows, sameTransaction: begun?.rows[0].x === inside };
    }, `insert into begun (id) values (1) returning txid_current()::text as x`);
    expect(seen.sameTransaction).toBe(true);
    expect((await pool.query('select id::int from begun')).rows).toEqual([{ id: 1 }]);
  });

  it('a failing one rejects and leaves nothing; a later failure rolls it back; the connection goes on', async () => {
    await pool.query('create table if not exists begun2 (id bigint primary key)');
    let ran = false;
    await expect(poolTransactions(pool)(async () => void (ran = true), `insert into begun2 (id) values (1); select 1 / 0`)).rejects.toThrow(/division by zero/);
    expect(ran).toBe(false);
    await expect(
      poolTransactions(pool)(async (tx) => tx.query('select $1::int / 0 as n', [1]), withLiterals(`insert into begun2 (id) select unnest($1::bigint[])`, [['2', '3']])),
    ).rejects.toThrow(/division by zero/);
    expect((await pool.query('select count(*)::int as n from begun2')).rows).toEqual([{ n: 0 }]);
    expect((await pool.query('select $1::int + 1 as n', [1])).rows).toEqual([{ n: 2 }]);
  });

  it('values are written in only when they cannot carry SQL: numbers, dates, booleans, ids', () => {
    expect(withLiterals('select $1::bigint[], $2, $3, $4, $5', [['1', '22'], new Date('2026-11-30T00:00:00Z'), true, 1.5, null])).toBe(
      `select '{1,22}'::bigint[], '2026-11-30T00:00:00.000Z', true, 1.5, NULL`,
    );
    for (const bad of ["1'; drop table begun; --", '1 or 1=1', ['1', "2'"], {}, Number.NaN]) expect(() => sqlLiteral(bad)).toThrow();
    expect(() => withLiterals('select $2', [1])).toThrow(/no value for \$2/);
  });
});
