/**
 * The batch claim both work queues use (deliveries, ticket events): up to `limit` ready
 * rows, oldest first, taken with FOR NO KEY UPDATE SKIP LOCKED so that processes never
 * wait on each other, and leased until `now + leaseMs`. NO KEY UPDATE, not UPDATE: a
 * transaction inserting a row that references a ready row (a foreign-key check holds KEY
 * SHARE on it until that transaction ends) must not hide it from the claim, whose wake-up
 * would be spent; two claims still exclude each other. A row whose lease has run out is ready
 * again: that is how the work of a process that died is taken over. One statement per
 * batch, never one per row (one query per row is what bounds Agenda at ~500 jobs/s).
 *
 * The claimed table needs an `id` primary key and a `locked_until timestamptz` column.
 */

/** A connection, a pool, or an adapter with pg's `query` (`$n` parameters). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

export interface ClaimSpec {
  table: string;
  /** rows that may be claimed, besides an expired lease; `$2` is `now`, `$4` on: the claim's `extra` values */
  ready: string;
  orderBy: string;
  /** more assignments made by the claim (the claimed row is `t`; `$2` is `now`) */
  set?: string;
  /** what comes back: `t` is the row after the claim, `due` carries the `before` columns as they were before it */
  returning: string;
  before?: string[];
}

export interface Claim<R> {
  /** `extra`: the values of `ready`'s `$4` on */
  (db: Queryable, limit: number, now: Date, leaseMs: number, extra?: unknown[]): Promise<R[]>;
  /** the statement, for a caller that sends it itself (in another statement's round trip); `$1` is the limit, `$2` now, `$3` the lease in ms, then `extra` */
  readonly sql: string;
  /** a returned row as the claim hands it out */
  readonly toRow: (row: any) => R;
}

/** Builds the claim statement once; `$1` is the limit, `$2` now, `$3` the lease in ms. */
export function defineClaim<R>(spec: ClaimSpec, toRow: (row: any) => R): Claim<R> {
  const sql = `with due as (
       select ${['id', ...(spec.before ?? [])].join(', ')} from ${spec.table}
        where ${spec.ready}
          and (locked_until is null or locked_until < $2)
        order by ${spec.orderBy}
        limit $1
        for no key update skip locked
     )
     update ${spec.table} t set locked_until = $2::timestamptz + make_interval(secs => $3::double precision / 1000)${spec.set ? `, ${spec.set}` : ''}
       from due where t.id = due.id
     returning ${spec.returning}`;
  const claim = async (db: Queryable, limit: number, now: Date, leaseMs: number, extra: unknown[] = []) => {
    const { rows } = await db.query(sql, [limit, now, leaseMs, ...extra]);
    return rows.map(toRow);
  };
  return Object.assign(claim, { sql, toRow });
}
