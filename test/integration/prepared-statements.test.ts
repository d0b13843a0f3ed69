/**
 * src/db/sql.ts's prepareStatementsOf: a pool's parameterised statements become named
 * prepared statements of each connection (parsed and planned once), within a bound on
 * distinct texts; statements without parameters run as before. And poolTransactions's
 * statements sent with `begin` and `commit`, and the statements its work does not wait for,
 * on connections that pipeline and on ones that do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { poolTransactions, prepareStatementsOf, sqlLiteral } from '../../src/db/index.js';
import { startPgProxy } from '../support/pg-proxy.js';
import { waitFor } from '../support/wait.js';
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

describe('statements sent with begin (poolTransactions withBegin)', () => {
  it('run in the transaction, hand their results to the work in order, and commit with it', async () => {
    await pool.query('create table if not exists begun (id bigint primary key)');
    const seen = await poolTransactions(pool)(
      async (tx, begun) => {
        const inside = (await tx.query('select txid_current()::text as x')).rows[0].x as string;
        return { ids: begun.map((r) => r.rows[0].id), sameTransaction: begun.every((r) => r.rows[0].x === inside) };
      },
      { withBegin: [1, 2].map((id) => ({ text: 'insert into begun (id) values ($1) returning id::int, txid_current()::text as x', values: [id] })) },
    );
    expect(seen).toEqual({ ids: [1, 2], sameTransaction: true });
    expect((await pool.query('select id::int from begun order by id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('a failing one rejects and leaves nothing; a later failure rolls them back; the connection goes on', async () => {
    await pool.query('create table if not exists begun2 (id bigint primary key)');
    let ran = false;
    await expect(
      poolTransactions(pool)(async () => void (ran = true), { withBegin: [{ text: 'insert into begun2 (id) values ($1)', values: [1] }, { text: 'select 1 / 0' }] }),
    ).rejects.toThrow(/division by zero/);
    expect(ran).toBe(false);
    await expect(
      poolTransactions(pool)(async (tx) => tx.query('select $1::int / 0 as n', [1]), { withBegin: [{ text: 'insert into begun2 (id) select unnest($1::bigint[])', values: [['2', '3']] }] }),
    ).rejects.toThrow(/division by zero/);
    expect((await pool.query('select count(*)::int as n from begun2')).rows).toEqual([{ n: 0 }]);
    expect((await pool.query('select $1::int + 1 as n', [1])).rows).toEqual([{ n: 2 }]);
  });

  it('ids are written into SQL only when they cannot carry any: numbers, dates, booleans, ids', () => {
    expect(['1', '22', new Date('2026-11-30T00:00:00Z'), true, 1.5, null, ['1', null]].map(sqlLiteral)).toEqual(["'1'", "'22'", "'2026-11-30T00:00:00.000Z'", 'true', '1.5', 'NULL', "'{1,NULL}'"]);
    for (const bad of ["1'; drop table begun; --", '1 or 1=1', ['1', "2'"], {}, Number.NaN]) expect(() => sqlLiteral(bad)).toThrow();
  });
});

describe('a statement sent with commit (poolTransactions withCommit)', () => {
  it('runs last in the transaction, commits with it, and its rows are read once committed', async () => {
    await pool.query('create table if not exists committed1 (id bigint primary key)');
    const seen: string[] = [];
    let read: unknown[] = [];
    const x = await poolTransactions(pool)(
      async (tx) => {
        await tx.query('insert into committed1 (id) values ($1)', [1]);
        seen.push('work');
        return (await tx.query('select txid_current()::text as x')).rows[0].x as string;
      },
      {
        withCommit: {
          statement: () => (seen.push('asked'), { text: 'insert into committed1 (id) values ($1) returning id::int, txid_current()::text as x', values: [2] }),
          read: (r) => void (seen.push('read'), (read = r.rows)),
        },
      },
    );
    expect(seen).toEqual(['work', 'asked', 'read']);
    expect(read).toEqual([{ id: 2, x }]);
    expect((await pool.query('select id::int from committed1 order by id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('a failing one rolls the whole transaction back and is not read; null sends a plain commit', async () => {
    await pool.query('create table if not exists committed2 (id bigint primary key)');
    let read = false;
    await expect(
      poolTransactions(pool)(async (tx) => void (await tx.query('insert into committed2 (id) values ($1)', [1])), {
        withCommit: { statement: () => ({ text: 'insert into committed2 (id) values (1 / 0)' }), read: () => void (read = true) },
      }),
    ).rejects.toThrow(/division by zero/);
    expect(read).toBe(false);
    expect((await pool.query('select count(*)::int as n from committed2')).rows).toEqual([{ n: 0 }]);
    await poolTransactions(pool)(async (tx) => void (await tx.query('insert into committed2 (id) values ($1)', [3])), {
      withCommit: { statement: () => null, read: () => void (read = true) },
    });
    expect(read).toBe(false);
    expect((await pool.query('select id::int from committed2')).rows).toEqual([{ id: 3 }]);
  });

  it('statements the work did not wait for are answered with the commit: one that failed rolls everything back and is what the transaction rejects with', async () => {
    await pool.query('create table if not exists committed3 (id bigint primary key)');
    await pool.query('insert into committed3 (id) values (9)');
    const unanswered = (tx: { query: (t: string, v?: unknown[]) => Promise<unknown> }, ids: number[]) => {
      for (const id of ids) void tx.query('insert into committed3 (id) values ($1)', [id]).catch(() => {});
    };
    await poolTransactions(pool)(async (tx) => unanswered(tx, [1, 2]));
    expect((await pool.query('select id::int from committed3 order by id')).rows).toEqual([{ id: 1 }, { id: 2 }, { id: 9 }]);
    // 9 exists: its insert fails, the next one fails as the transaction is aborted, and the commit is answered ROLLBACK
    await expect(poolTransactions(pool)(async (tx) => unanswered(tx, [3, 9, 4]))).rejects.toThrow(/duplicate key/);
    expect((await pool.query('select id::int from committed3 order by id')).rows).toEqual([{ id: 1 }, { id: 2 }, { id: 9 }]);
  });

  it('a failure the work caught and went past rolls the transaction back, and is what it rejects with', async () => {
    await pool.query('create table if not exists committed4 (id bigint primary key)');
    await expect(
      poolTransactions(pool)(async (tx) => {
        await tx.query('insert into committed4 (id) values ($1)', [1]);
        await tx.query('select 1 / 0').catch(() => {});
      }),
    ).rejects.toThrow(/division by zero/);
    expect((await pool.query('select count(*)::int as n from committed4')).rows).toEqual([{ n: 0 }]);
  });
});

describe('a transaction on pipelining connections', () => {
  it('a statement that fails among unanswered ones: those after it fail too, nothing is kept, and it is what the transaction rejects with', async () => {
    const pipelined = new pg.Pool({ connectionString: db.url, max: 1, pipeline: true });
    prepareStatementsOf(pipelined);
    try {
      await pipelined.query('create table if not exists piped_failing (id bigint primary key)');
      await pipelined.query('insert into piped_failing (id) values (9)');
      let claimed = false;
      await expect(
        poolTransactions(pipelined)(
          async (tx) => {
            for (const id of [1, 9, 2]) void tx.query('insert into piped_failing (id) values ($1)', [id]).catch(() => {});
          },
          { withBegin: [{ text: 'select $1::int as n', values: [1] }], withCommit: { statement: () => ({ text: 'select 1 as n' }), read: () => void (claimed = true) } },
        ),
      ).rejects.toThrow(/duplicate key/);
      expect(claimed).toBe(false);
      expect((await pipelined.query('select id::int from piped_failing order by id')).rows).toEqual([{ id: 9 }]);
      // the connection goes on
      await poolTransactions(pipelined)(async (tx) => void tx.query('insert into piped_failing (id) values ($1)', [3]).catch(() => {}));
      expect((await pipelined.query('select id::int from piped_failing order by id')).rows).toEqual([{ id: 3 }, { id: 9 }]);
    } finally {
      await pipelined.end();
    }
  });

  it('sends the statements of begin in one go, and the unanswered ones with the claim and commit: none waits for the answer before it', async () => {
    const proxy = await startPgProxy(db.url);
    const pipelined = new pg.Pool({ connectionString: proxy.urlFor(db.url), max: 1, pipeline: true });
    prepareStatementsOf(pipelined);
    try {
      await pipelined.query('create table if not exists piped (id bigint primary key)');
      const second = proxy.count('/* second */');
      const commit = proxy.count('commit');
      // what the client sends from the first statement on is held back from the server: the
      // second can only reach the proxy if it was sent without waiting for the first's answer
      proxy.stall(['/* first */']);
      const begun = poolTransactions(pipelined)(async (_tx, results) => results.map((r) => r.rows[0].n), {
        withBegin: [{ text: 'select $1::int as n /* first */', values: [1] }, { text: 'select $1::int as n /* second */', values: [2] }],
      });
      await waitFor(() => second() === 1, { what: 'the second statement sent while the first is unanswered' });
      proxy.unstall();
      expect(await begun).toEqual([1, 2]);

      proxy.stall(['/* last */']);
      let claimed: unknown[] = [];
      const ending = poolTransactions(pipelined)(async (tx) => void tx.query('insert into piped (id) values ($1) /* last */', [1]).catch(() => {}), {
        withCommit: { statement: () => ({ text: 'select count(*)::int as n from piped /* claim */' }), read: (r) => void (claimed = r.rows) },
      });
      const commitsBefore = commit();
      await waitFor(() => commit() > commitsBefore, { what: 'the commit sent while the insert is unanswered' });
      proxy.unstall();
      await ending;
      expect(claimed).toEqual([{ n: 1 }]);
      expect((await pipelined.query('select id::int from piped')).rows).toEqual([{ id: 1 }]);
    } finally {
      proxy.unstall();
      await pipelined.end();
      await proxy.close();
    }
  });
});
