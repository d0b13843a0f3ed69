#!/usr/bin/env node
/**
 * Webhook.health and Webhook.stats benchmark (not a test). Uses the BUILT code
 * (`npm run bench:stats` builds first) on an embedded PostgreSQL (or BENCH_DATABASE_URL).
 *
 * Set-up, set-based (generate_series): one webhook with --attempts attempts (default
 * 1,000,000) spread evenly over the last 30 days, on half as many deliveries (three in four
 * with one succeeded attempt, one in four with five attempts: four failed, the last one
 * succeeded or failed), and a neighbour webhook with a fifth as many, interleaved in the
 * same tables. Then ANALYZE.
 *
 * Measured: the GraphQL query over HTTP (fetch to parsed JSON, --runs runs after 3
 * warm-ups; min, p50 and max) of the webhook alone (the baseline: what HTTP,
 * authentication and GraphQL cost), health, stats(hours: 24), both in one query, and
 * stats(168) and stats(720) for reference — twice: right after ANALYZE with the
 * visibility map not yet set (autovacuum off on the two tables), and after VACUUM, as
 * autovacuum leaves insert-only tables. The machine's load average is reported with the
 * timings. The plans of the statements the server ran (EXPLAIN ANALYZE without per-node
 * timing) show which indexes answer, how many heap pages they touched, and how long
 * PostgreSQL took.
 *
 *   npm run bench:stats                 human-readable report
 *   npm run bench:stats -- --json       one JSON object
 *   options: --attempts=1000000 --runs=20
 * Bounded: gives up after 15 minutes.
 */
import { cpus, loadavg } from 'node:os';
import { startBenchApp } from './bench-app.mjs';
import { createWebhookHealthService } from '../dist/delivery/index.js';
import { asJson, opt, say } from './bench-cli.mjs';

const ATTEMPTS = opt('attempts', 1_000_000);
const RUNS = opt('runs', 20);
const giveUp = setTimeout(() => {
  console.error('bench-stats: gave up after 15 minutes');
  process.exit(1);
}, 15 * 60_000);
giveUp.unref();

// ---------------------------------------------------------------- set-up
const { app, pool, gql, stop } = await startBenchApp('stats');
const createHook = async (name) =>
  (await gql(`mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`, { i: { name, method: 'POST', url: 'http://127.0.0.1:9/hook', format: 'JSON', body: '{}' } })).createWebhook.id;
const webhookId = await createHook('measured');
const neighbourId = await createHook('neighbour');

await pool.query(`alter table deliveries set (autovacuum_enabled = false)`);
await pool.query(`alter table delivery_attempts set (autovacuum_enabled = false)`);

/**
 * `attempts` attempts of the webhook over the 30 days before `end`: attempts/2 deliveries
 * evenly spaced; delivery i has 5 attempts when i % 4 = 0 (a minute apart; the last one
 * succeeded when i % 8 = 0), else one succeeded attempt. Durations 20–519 ms, one in
 * fifty 2–4 s.
 */
async function seed(webhook, attempts, end) {
  const deliveries = attempts / 2;
  await pool.query(
    `insert into deliveries (id, webhook_id, webhook_name, status, request, processing, notes, attempt_count, created_at, completed_at)
     select gen_random_uuid(), $1, 'bench',
            case when i % 4 <> 0 or i % 8 = 0 then 'SUCCEEDED' else 'FAILED' end,
            '{"method":"POST","url":"http://127.0.0.1:9/hook","headers":{},"body":"{}"}', '{"responseMappings":[],"successComment":"","context":{}}', '[]',
            case when i % 4 = 0 then 5 else 1 end,
            $2::timestamptz - interval '30 days' + i * (interval '30 days' / $3::int), $2::timestamptz
       from generate_series(0, $3::int - 1) i`,
    [webhook, end, deliveries],
  );
  await pool.query(
    `insert into delivery_attempts (delivery_id, number, started_at, duration_ms, status_code, webhook_id, succeeded)
     select d.id, n, d.created_at + (n - 1) * interval '1 minute',
            case when h % 50 = 0 then 2000 + h % 2000 else 20 + h % 500 end,
            case when n = d.attempt_count and d.status = 'SUCCEEDED' then 200 else 503 end,
            d.webhook_id, n = d.attempt_count and d.status = 'SUCCEEDED'
       from deliveries d, generate_series(1, d.attempt_count) n, lateral (select abs(hashtext(d.id::text || n)) as h) x
      where d.webhook_id = $1`,
    [webhook],
  );
}

const end = new Date();
let t0 = performance.now();
await seed(webhookId, ATTEMPTS, end);
await seed(neighbourId, Math.round(ATTEMPTS / 5 / 2) * 2, end);
const seedSeconds = (performance.now() - t0) / 1000;
t0 = performance.now();
await pool.query('analyze deliveries, delivery_attempts');
const analyzeSeconds = (performance.now() - t0) / 1000;
const counts = (await pool.query(`select (select count(*) from delivery_attempts where webhook_id = $1)::int as attempts, (select count(*) from deliveries where webhook_id = $1)::int as deliveries,
  (select count(*) from delivery_attempts)::int as "allAttempts", pg_size_pretty(pg_total_relation_size('delivery_attempts')) as "attemptsSize"`, [webhookId])).rows[0];
say(`seeded ${counts.attempts} attempts on ${counts.deliveries} deliveries of webhook ${webhookId} (${counts.allAttempts} attempts in all, ${counts.attemptsSize}) in ${seedSeconds.toFixed(1)} s; ANALYZE ${analyzeSeconds.toFixed(1)} s`);

// ---------------------------------------------------------------- timing
const QUERIES = {
  // the same request without health or stats: what HTTP, authentication and GraphQL cost alone
  baseline: `query($id: ID!) { webhook(id: $id) { id name } }`,
  health: `query($id: ID!) { webhook(id: $id) { health { breaker openedAt recentAttempts recentFailureRate disabledReason disabledAt } } }`,
  stats24: `query($id: ID!) { webhook(id: $id) { stats(hours: 24) { pending retrying succeeded failed cancelled attempts successRate p50DurationMs p95DurationMs buckets { start succeeded failed } } } }`,
  healthAndStats24: `query($id: ID!) { webhook(id: $id) { health { breaker recentAttempts recentFailureRate } stats(hours: 24) { attempts successRate p50DurationMs p95DurationMs buckets { start succeeded failed } } } }`,
  stats168: `query($id: ID!) { webhook(id: $id) { stats(hours: 168) { attempts successRate p50DurationMs p95DurationMs buckets { start succeeded failed } } } }`,
  stats720: `query($id: ID!) { webhook(id: $id) { stats(hours: 720) { attempts successRate p50DurationMs p95DurationMs buckets { start succeeded failed } } } }`,
};

const round = (x) => Math.round(x * 10) / 10;
async function time(query) {
  for (let i = 0; i < 3; i++) await gql(query, { id: webhookId });
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    await gql(query, { id: webhookId });
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  return { minMs: round(ms[0]), p50Ms: round(ms[Math.floor((ms.length - 1) / 2)]), maxMs: round(ms.at(-1)) };
}
async function timeAll() {
  const out = { loadAverage1m: round(loadavg()[0]) };
  for (const [name, q] of Object.entries(QUERIES)) out[name] = await time(q);
  return out;
}

/** The statements the server runs (the same service, its queries captured), explained. */
async function plans() {
  const captured = [];
  const capture = { query: async (text, values) => (captured.push({ text, values }), pool.query(text, values)) };
  const service = createWebhookHealthService(capture, () => new Date());
  await service.health(webhookId);
  const named = [['health', captured[0]]];
  await service.stats(webhookId, 24);
  // stats runs its statements side by side: hourly buckets, percentiles, deliveries by status
  for (const [i, c] of captured.slice(1).entries()) named.push([`stats24 #${i + 1}`, c]);
  const out = {};
  for (const [name, { text, values }] of named) {
    const { rows } = await pool.query(`explain (analyze, buffers, timing off, format json) ${text}`, values);
    const nodes = [];
    const walk = (n) => {
      if (n['Index Name']) nodes.push({ node: n['Node Type'], index: n['Index Name'], rows: n['Actual Rows'], heapFetches: n['Heap Fetches'] ?? null });
      else if (/Scan/.test(n['Node Type'])) nodes.push({ node: n['Node Type'], relation: n['Relation Name'] ?? null, rows: n['Actual Rows'] });
      for (const c of n.Plans ?? []) walk(c);
    };
    const plan = rows[0]['QUERY PLAN'][0];
    walk(plan.Plan);
    out[name] = { executionMs: round(plan['Execution Time']), scans: nodes };
  }
  return out;
}

const analyzed = { timings: await timeAll(), plans: await plans() };
t0 = performance.now();
await pool.query('vacuum (analyze) deliveries, delivery_attempts');
const vacuumSeconds = (performance.now() - t0) / 1000;
const vacuumed = { timings: await timeAll(), plans: await plans() };

const result = {
  attempts: counts.attempts,
  deliveries: counts.deliveries,
  allAttempts: counts.allAttempts,
  attemptsTableSize: counts.attemptsSize,
  seedSeconds: round(seedSeconds),
  vacuumSeconds: round(vacuumSeconds),
  runs: RUNS,
  afterAnalyze: analyzed,
  afterVacuum: vacuumed,
  percentile: 'percentile_disc',
};
if (asJson) console.log(JSON.stringify(result));
else {
  for (const [label, r] of [['after ANALYZE (visibility map not set)', analyzed], [`after VACUUM (${vacuumSeconds.toFixed(1)} s)`, vacuumed]]) {
    say(`\n${label}: GraphQL over HTTP, ${RUNS} runs (load average ${r.timings.loadAverage1m} on ${cpus().length} CPUs)`);
    for (const [name, t] of Object.entries(r.timings)) if (typeof t === 'object') say(`  ${name.padEnd(18)} min ${String(t.minMs).padStart(7)} ms   p50 ${String(t.p50Ms).padStart(7)} ms   max ${String(t.maxMs).padStart(7)} ms`);
    for (const [name, p] of Object.entries(r.plans)) {
      say(`  plan ${name}: ${p.executionMs} ms in PostgreSQL`);
      for (const s of p.scans) say(`    ${s.node}${s.index ? ` using ${s.index}` : ` on ${s.relation}`}: ${s.rows} rows${s.heapFetches === null || s.heapFetches === undefined ? '' : `, heap fetches ${s.heapFetches}`}`);
    }
  }
}

await stop();
process.exit(0);
