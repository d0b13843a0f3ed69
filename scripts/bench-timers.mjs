#!/usr/bin/env node
/**
 * TIMER rules benchmark (not a test). Uses the BUILT code (`npm run bench:timers` builds
 * first) on an embedded PostgreSQL (or BENCH_DATABASE_URL), one process of role `api`
 * (HTTP, the dispatcher and the timer loop).
 *
 * Set-up: --tickets open tickets (default 100,000), inserted set-based, created evenly
 * over the last --age seconds (default 3,600). Then --rules TIMER rules (default 5) are
 * created over GraphQL one after the other, rule k with "timeSinceCreated GREATER_THAN
 * (age + margin + 5·k) s" AND "priority EQUALS URGENT" (the tickets are NORMAL: the
 * dispatcher judges every TIMER event and runs no action, so what is measured is the
 * plan, the firing and the dispatcher's judging, not the actions). The durations are in
 * seconds; the timers come due at a steady rate (tickets × rules / age per second, about
 * 140/s by default) from --margin seconds (default 45) after the set-up began on.
 * `--age=60` makes every timer due within about 80 s (some 6,000 a second): an overload.
 *
 * Measured:
 * - planMs: the slowest createRule call (the save plans the rule over every open ticket in
 *   its transaction: all tickets × rules timers are planned); planMsTotal for all rules;
 * - for the timers due in the --window seconds (default 60) after the first due time:
 *   when each TIMER event was raised minus when it was due (or the rule's save, for a timer
 *   due before it): firedWithin5sShare, p50/p99/max lateness;
 * - the TIMER events the dispatcher had not yet judged when the window's last one fired.
 *
 *   npm run bench:timers                 human-readable report
 *   npm run bench:timers -- --json       {tickets, rules, planMs, firedWithin5sShare, p99LateMs, …}
 *   options: --tickets=100000 --rules=5 --age=3600 --margin=45 --window=60
 * Bounded: gives up after 10 minutes.
 */
import { cpus, loadavg } from 'node:os';
import { startBenchApp } from './bench-app.mjs';
import { asJson, now, opt, pct, say, sleep } from './bench-cli.mjs';

const TICKETS = opt('tickets', 100_000);
const RULES = opt('rules', 5);
const AGE_S = opt('age', 3_600);
const WINDOW_S = opt('window', 60);
const MARGIN_S = opt('margin', 45);
const STEP_S = 5;
const giveUp = setTimeout(() => {
  console.error('bench-timers: gave up after 10 minutes');
  process.exit(1);
}, 10 * 60_000);
giveUp.unref();

const { app, pool, gql, stop } = await startBenchApp('timers');

// ---------------------------------------------------------------- set-up
const t0 = Date.now();
await pool.query(
  `insert into tickets (title, description, status, priority, requester_id, custom_fields, created_at, updated_at)
   select 'bench ' || i, '', 'OPEN', 'NORMAL', (select min(id) from users), '{}'::jsonb, c, c
     from generate_series(1, $1::int) as i,
          lateral (select to_timestamp(($2::float8 - $3::float8 * 1000 * (1 - i::float8 / $1)) / 1000) as c) t`,
  [TICKETS, t0, AGE_S],
);
await pool.query('analyze tickets');
say(`${TICKETS} open tickets created over the last ${AGE_S} s (${Math.round(Date.now() - t0)} ms)`);

const saves = [];
for (let k = 0; k < RULES; k++) {
  const seconds = AGE_S + MARGIN_S + STEP_S * k;
  const started = now();
  const { createRule } = await gql(`mutation($i: RuleInput!) { createRule(input: $i) { id } }`, {
    i: {
      name: `bench ${k}`, events: ['TIMER'],
      conditions: [{ field: 'timeSinceCreated', operator: 'GREATER_THAN', value: `${seconds}s` }, { field: 'priority', operator: 'EQUALS', value: 'URGENT' }],
      actions: [{ type: 'ADD_COMMENT', value: 'never: the tickets are NORMAL' }],
    },
  });
  const ms = now() - started;
  saves.push({ id: createRule.id, ms, savedAt: now() });
  say(`rule ${k + 1}: timeSinceCreated > ${seconds}s planned over ${TICKETS} tickets in ${Math.round(ms)} ms`);
}
// every (rule, ticket) has its timer (the earliest may have fired already)
const planned = Number((await pool.query(`select count(*) from rule_timers`)).rows[0].count);
if (planned !== TICKETS * RULES) throw new Error(`planned ${planned} timers, expected ${TICKETS * RULES}`);

// ---------------------------------------------------------------- firing
const firstDue = t0 + MARGIN_S * 1000;
const windowEnd = new Date(firstDue + WINDOW_S * 1000);
const expected = Number((await pool.query(`select count(*) from rule_timers where due_at <= $1 or fired_start is not null`, [windowEnd])).rows[0].count);
say(`waiting for the ${expected} timers due from ${Math.round((firstDue - Date.now()) / 1000)} s to ${Math.round((windowEnd.getTime() - Date.now()) / 1000)} s from now …`);
const count = async (sql, values = []) => Number((await pool.query(sql, values)).rows[0].n);
const inWindow = `type = 'TIMER' and (payload->>'dueAt')::timestamptz <= $1`;
let raised = 0;
const deadline = windowEnd.getTime() + 120_000;
while (Date.now() < deadline) {
  raised = await count(`select count(*) as n from ticket_events where ${inWindow}`, [windowEnd]);
  if (raised >= expected) break;
  await sleep(500);
}
const unjudged = await count(`select count(*) as n from ticket_events where type = 'TIMER' and processed_at is null`);

const { rows } = await pool.query(
  `select (extract(epoch from e.created_at - greatest((e.payload->>'dueAt')::timestamptz, to_timestamp(s.saved_at / 1000))) * 1000)::float8 as late
     from ticket_events e join unnest($2::text[], $3::float8[]) as s(rule_id, saved_at) on s.rule_id = e.payload->>'ruleId'
    where e.${inWindow}
    order by 1`,
  [windowEnd, saves.map((s) => s.id), saves.map((s) => s.savedAt)],
);
const late = rows.map((r) => Number(r.late));
const within5s = late.filter((ms) => ms <= 5_000).length;
const duplicates = await count(`select count(*) as n from (select 1 from ticket_events where type = 'TIMER' group by ticket_id, payload->>'ruleId' having count(*) > 1) d`);

const result = {
  tickets: TICKETS,
  rules: RULES,
  planMs: Math.round(Math.max(...saves.map((s) => s.ms))),
  planMsTotal: Math.round(saves.reduce((a, s) => a + s.ms, 0)),
  firedWithin5sShare: expected ? Number((within5s / expected).toFixed(4)) : 0,
  p99LateMs: late.length ? Math.round(pct(late, 99)) : null,
  p50LateMs: late.length ? Math.round(pct(late, 50)) : null,
  maxLateMs: late.length ? Math.round(late.at(-1)) : null,
  planned,
  fired: raised,
  firedPerSecond: Math.round(raised / WINDOW_S),
  duplicates,
  unjudgedAtEnd: unjudged,
  cpus: cpus().length,
  loadavg: loadavg().map((l) => Number(l.toFixed(2))),
};
if (asJson) console.log(JSON.stringify(result));
say(`fired ${raised}/${expected} due in the window (${duplicates} fired twice); within 5 s of due: ${(result.firedWithin5sShare * 100).toFixed(2)} %; late p50 ${result.p50LateMs} ms, p99 ${result.p99LateMs} ms, max ${result.maxLateMs} ms`);
say(`${unjudged} TIMER events not yet judged by the dispatcher at the end; load average ${result.loadavg.join(' ')} on ${result.cpus} CPUs`);

await stop();
process.exit(raised >= expected && duplicates === 0 ? 0 : 1);
