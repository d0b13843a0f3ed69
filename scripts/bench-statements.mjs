/**
 * Which statements took PostgreSQL's time in a benchmark phase, per unit of work: from
 * pg_stat_statements, between a reset at the phase's start and a read at its end, for one
 * database. Top-level statements only (a trigger's work counts in the statement that fired
 * it), their execution and planning time (not parsing or the round trips). The module must be
 * loaded when the server starts (STATEMENTS_SETTINGS), which costs every statement a little:
 * a run that measures statements is not the one to quote the latencies of.
 */
import { withClient } from './bench-db.mjs';

/** The server settings that load pg_stat_statements (the embedded server's `settings`). */
export const STATEMENTS_SETTINGS = { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'top', 'pg_stat_statements.track_planning': 'on' };

/** Starts a phase: `url`'s database gets the extension (the embedded server's superuser) and the counts start from nothing. */
export async function statementsReset(url) {
  await withClient(url, async (client) => {
    await client.query('create extension if not exists pg_stat_statements');
    await client.query('select pg_stat_statements_reset()');
  });
}

/**
 * Per unit (`count` of them) since statementsReset: statements run, their execution time in
 * ms, the plans made and their time in ms (a prepared statement planned once per connection
 * makes few), and the `top` statements by execution and planning time (calls, ms, plans and
 * planning ms per unit, rows per call, the text's beginning with its whitespace collapsed).
 */
export async function statementsPerUnit(url, count, top = 12) {
  const per = (x) => +(x / count).toFixed(3);
  return withClient(url, async (client) => {
    const { rows } = await client.query(
      `select calls::float8 as calls, total_exec_time as ms, plans::float8 as plans, total_plan_time as plan_ms, rows::float8 as rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as text
         from pg_stat_statements
        where dbid = (select oid from pg_database where datname = current_database()) and query not like '%pg_stat_statements%'
        order by total_exec_time + total_plan_time desc`,
    );
    return {
      statements: per(rows.reduce((n, r) => n + r.calls, 0)),
      execMs: per(rows.reduce((n, r) => n + r.ms, 0)),
      planMs: per(rows.reduce((n, r) => n + r.plan_ms, 0)),
      plans: per(rows.reduce((n, r) => n + r.plans, 0)),
      top: rows.slice(0, top).map((r) => ({ calls: per(r.calls), ms: per(r.ms), plans: per(r.plans), planMs: per(r.plan_ms), rowsPerCall: +(r.rows / r.calls).toFixed(1), text: r.text })),
    };
  });
}

/** Lines: the totals, then one per statement ("0.283 calls, 0.352 ms, 0.003 plans, 0 ms planning, 3.3 rows/call: insert into deliveries …"). */
export function describeStatements(s) {
  return [
    `${s.statements} statements, ${s.execMs} ms of execution, ${s.plans} plans and ${s.planMs} ms of planning per mutation; by time:`,
    ...s.top.map((t) => `  ${t.calls} calls, ${t.ms} ms, ${t.plans} plans, ${t.planMs} ms planning, ${t.rowsPerCall} rows/call: ${t.text}`),
  ];
}
