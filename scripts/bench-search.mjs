#!/usr/bin/env node
/**
 * Delivery-log search benchmark (not a test). Uses the BUILT code (`npm run bench:search`
 * builds first) on an embedded PostgreSQL (or BENCH_DATABASE_URL), API role only (no
 * worker: nothing is sent).
 *
 * Set-up, set-based (generate_series): --deliveries deliveries (default 1,000,000) of five
 * webhooks over the last 30 days, each with a rendered URL naming its ticket, a JSON body
 * with an order number, a customer's e-mail and a subject word (one of 100), and the body
 * of its last answer (three in four `{"status":"ok","receipt":"R-<hex>"}`, the rest
 * `503 Service Unavailable`). The search index (deliveries_search_idx, as the migration
 * makes it) is dropped during the load and made again after it, then VACUUM ANALYZE.
 *
 * Measured, over HTTP (fetch to parsed JSON; --runs runs after 2 warm-ups; min, p50,
 * max): `deliveries(filter: { search }, first: 50)` (nodes and pageInfo) for searches that
 * match one delivery (an order number, a receipt in the answer), ~20 (an e-mail, written
 * in capitals: case-insensitive), ~1 % (a subject word), ~25 % (text of the answer), every
 * delivery (the receivers' host) and none; the same with `totalCount` (counting every
 * match); the next page through the cursor; search with a webhook filter. The plans of
 * the page and count statements (EXPLAIN ANALYZE, BUFFERS) show which index answers.
 * Then a bulk run: redeliverMany and cancelMany over 10,000 deliveries (dry run and run),
 * each one statement plus its count.
 *
 *   npm run bench:search                 human-readable report
 *   npm run bench:search -- --json       one JSON object
 *   options: --deliveries=1000000 --runs=15
 * Bounded: gives up after 15 minutes.
 */
import { cpus, loadavg } from 'node:os';
import { startBenchApp } from './bench-app.mjs';
import { createSearchWindows, listStatements } from '../dist/delivery/index.js';
import { asJson, opt, say } from './bench-cli.mjs';

const DELIVERIES = opt('deliveries', 1_000_000);
const RUNS = opt('runs', 15);
const giveUp = setTimeout(() => {
  console.error('bench-search: gave up after 15 minutes');
  process.exit(1);
}, 15 * 60_000);
giveUp.unref();

// ---------------------------------------------------------------- set-up
const { app, pool, gql, stop } = await startBenchApp('search');
const hooks = [];
for (let i = 0; i < 5; i++) {
  hooks.push((await gql(`mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`, {
    i: { name: `crm ${i}`, method: 'POST', url: `https://crm${i}.example.com/api/tickets/{{ ticket.id }}/notify`, format: 'JSON', body: '{}' },
  })).createWebhook.id);
}

/** subject words: each in 1 % of the deliveries */
const WORDS = Array.from({ length: 100 }, (_, i) => ['refund', 'invoice', 'password', 'upgrade'][i] ?? `topic${i}`);
const end = new Date();
const { rows: [index] } = await pool.query(`select pg_get_indexdef('delivery_texts_search_idx'::regclass) as def`);
await pool.query(`drop index delivery_texts_search_idx`);
let t0 = performance.now();
const seedClient = await pool.connect();
await seedClient.query(`create temp table seed as
   select i, gen_random_uuid() as id, w.id as webhook_id, w.name,
          'https://crm' || (i % 5) || '.example.com/api/tickets/' || (i / 3 + 1) || '/notify' as url,
          json_build_object('ticket', i / 3 + 1, 'order', 'Order #' || (1000000 + i), 'email', 'customer' || (i % 50000) || '@example.org',
                            'subject', ($3::text[])[abs(hashtext(i::text)) % 100 + 1] || ' request')::text as body,
          date_trunc('milliseconds', $1::timestamptz - interval '30 days' + i * (interval '30 days' / $2::int)) as created_at,
          case when i % 4 = 0 then '503 Service Unavailable: upstream maintenance'
               else '{"status":"ok","receipt":"R-' || md5(i::text) || '"}' end as last_response
     from generate_series(0, $2::int - 1) i
     join (select id, name, row_number() over (order by id) - 1 as k from webhooks) w on w.k = i % 5`, [end, DELIVERIES, WORDS]);
// the texts are written with their answers below, as the trigger and the recorder would
await seedClient.query(`alter table deliveries disable trigger deliveries_texts`);
await seedClient.query(
  `insert into deliveries (id, webhook_id, webhook_name, status, request, processing, notes, attempt_count, created_at, completed_at)
   select id, webhook_id, name, case when i % 4 = 0 then 'FAILED' else 'SUCCEEDED' end,
          jsonb_build_object('method', 'POST', 'url', url, 'headers', '{}'::jsonb, 'body', body),
          '{"responseMappings":[],"successComment":"","context":{}}', '[]', 1, created_at, $1::timestamptz
     from seed`,
  [end],
);
await seedClient.query(`alter table deliveries enable trigger deliveries_texts`);
await seedClient.query(`insert into delivery_texts (delivery_id, created_at, url, body, last_response) select id, created_at, url, body, last_response from seed`);
await seedClient.query(`drop table seed`);
seedClient.release();
const seedSeconds = (performance.now() - t0) / 1000;
t0 = performance.now();
await pool.query(`set maintenance_work_mem = '256MB'`);
await pool.query(index.def);
const indexSeconds = (performance.now() - t0) / 1000;
await pool.query('vacuum (analyze) deliveries, delivery_texts');
const sizes = (await pool.query(`select count(*)::int as deliveries, pg_size_pretty(pg_total_relation_size('deliveries')) as "tableSize",
  pg_size_pretty(pg_total_relation_size('delivery_texts')) as "textsSize", pg_size_pretty(pg_relation_size('delivery_texts_search_idx')) as "indexSize" from deliveries`)).rows[0];
say(`seeded ${sizes.deliveries} deliveries (${sizes.tableSize} with indexes; their texts ${sizes.textsSize}) in ${seedSeconds.toFixed(1)} s; search index ${sizes.indexSize} built in ${indexSeconds.toFixed(1)} s`);

// ---------------------------------------------------------------- timing
const n = DELIVERIES;
const SEARCHES = {
  orderNumber: `Order #${1000000 + Math.floor(n / 2) + 1}`,
  receipt: (await pool.query(`select md5($1::text) as h`, [Math.floor(n / 8) * 4 + 1])).rows[0].h.slice(0, 12),
  emailInCapitals: `CUSTOMER${12345 % 50000}@EXAMPLE.ORG`,
  subjectWord: 'refund request',
  answerText: 'service unavailable',
  everyDelivery: 'example.com/api',
  noMatch: 'no such text',
};
const PAGE = `query($f: DeliveryFilter, $after: String) { deliveries(filter: $f, first: 50, after: $after) { nodes { id status createdAt } pageInfo { endCursor hasNextPage } } }`;
const COUNTED = `query($f: DeliveryFilter) { deliveries(filter: $f, first: 50) { totalCount nodes { id status createdAt } pageInfo { endCursor hasNextPage } } }`;

const round = (x) => Math.round(x * 10) / 10;
async function time(run) {
  for (let i = 0; i < 2; i++) await run();
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const s = performance.now();
    await run();
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  return { minMs: round(ms[0]), p50Ms: round(ms[Math.floor((ms.length - 1) / 2)]), maxMs: round(ms.at(-1)) };
}

/** The page and count statements the server runs for `filter` (listDeliveries), explained. */
const windows = createSearchWindows();
async function plan(filter) {
  const indexText = await windows.windowOf(pool, filter.search);
  const statements = listStatements(filter, 50, indexText);
  const out = { indexText };
  for (const [name, [text, values]] of Object.entries(statements)) {
    const { rows } = await pool.query(`explain (analyze, buffers, format json) ${text}`, values);
    const p = rows[0]['QUERY PLAN'][0];
    const scans = [];
    const walk = (node) => {
      if (node['Index Name']) scans.push(`${node['Node Type']} using ${node['Index Name']} (${node['Actual Rows']} rows)`);
      else if (/Scan/.test(node['Node Type'])) scans.push(`${node['Node Type']} on ${node['Relation Name']} (${node['Actual Rows']} rows)`);
      for (const c of node.Plans ?? []) walk(c);
    };
    walk(p.Plan);
    out[name] = { executionMs: round(p['Execution Time']), sharedBuffers: (p.Plan['Shared Hit Blocks'] ?? 0) + (p.Plan['Shared Read Blocks'] ?? 0), scans };
  }
  return out;
}

const searches = {};
for (const [name, search] of Object.entries(SEARCHES)) {
  const f = { search };
  const first = (await gql(COUNTED, { f })).deliveries;
  searches[name] = {
    search,
    matches: first.totalCount,
    page: await time(() => gql(PAGE, { f })),
    withTotalCount: await time(() => gql(COUNTED, { f })),
    nextPage: first.pageInfo.endCursor ? await time(() => gql(PAGE, { f, after: first.pageInfo.endCursor })) : null,
    plan: await plan(f),
  };
}
const withWebhook = { webhookId: hooks[2], search: SEARCHES.subjectWord };
const combined = { filter: withWebhook, page: await time(() => gql(PAGE, { f: withWebhook })), plan: await plan(withWebhook) };

// ---------------------------------------------------------------- bulk runs over 10,000
// the first 50,000 deliveries' time: 10,000 of the first webhook (every fifth)
const bulk = {};
const tenThousand = { webhookId: hooks[0], until: new Date(end.getTime() - 30 * 86_400_000 + Math.ceil((30 * 86_400_000 * 50_000) / n)).toISOString() };
const matched = (await gql(`query($f: DeliveryFilter) { deliveries(filter: $f, first: 1) { totalCount } }`, { f: tenThousand })).deliveries.totalCount;
for (const [name, q, variables] of [
  ['redeliverManyDryRun', `mutation($f: DeliveryFilter!) { redeliverMany(filter: $f) { matched queued } }`, { f: tenThousand }],
  ['redeliverMany', `mutation($f: DeliveryFilter!) { redeliverMany(filter: $f, dryRun: false) { matched queued } }`, { f: tenThousand }],
  ['cancelManyDryRun', `mutation($f: DeliveryFilter!) { cancelMany(filter: $f) { matched queued } }`, { f: { webhookId: hooks[0], status: 'PENDING' } }],
  ['cancelMany', `mutation($f: DeliveryFilter!) { cancelMany(filter: $f, dryRun: false) { matched queued } }`, { f: { webhookId: hooks[0], status: 'PENDING' } }],
]) {
  const s = performance.now();
  const data = await gql(q, variables);
  bulk[name] = { ...Object.values(data)[0], ms: round(performance.now() - s) };
}

const result = {
  deliveries: sizes.deliveries,
  tableSize: sizes.tableSize,
  searchIndexSize: sizes.indexSize,
  seedSeconds: round(seedSeconds),
  indexSeconds: round(indexSeconds),
  runs: RUNS,
  loadAverage1m: round(loadavg()[0]),
  cpus: cpus().length,
  searches,
  searchWithWebhook: combined,
  bulk: { filterMatches: matched, ...bulk },
};
if (asJson) console.log(JSON.stringify(result));
else {
  say(`\nGraphQL over HTTP, ${RUNS} runs each (load average ${result.loadAverage1m} on ${result.cpus} CPUs: a shared machine)`);
  const line = (label, t) => t && say(`  ${label.padEnd(16)} min ${String(t.minMs).padStart(7)} ms   p50 ${String(t.p50Ms).padStart(7)} ms   max ${String(t.maxMs).padStart(7)} ms`);
  for (const [name, r] of [...Object.entries(searches), ['withWebhook', { ...combined, search: JSON.stringify(withWebhook) }]]) {
    say(`\n${name}: search ${JSON.stringify(r.search)}${r.matches === undefined ? '' : `, ${r.matches} matches`}`);
    line('page of 50', r.page);
    line('+ totalCount', r.withTotalCount);
    line('next page', r.nextPage);
    say(`  the index looks up ${JSON.stringify(r.plan.indexText)}`);
    for (const [k, p] of Object.entries(r.plan)) if (typeof p === 'object') say(`  plan ${k}: ${p.executionMs} ms in PostgreSQL, ${p.sharedBuffers} buffers; ${p.scans.join(', ')}`);
  }
  say(`\nbulk over ${matched} deliveries:`);
  for (const [name, b] of Object.entries(bulk)) say(`  ${name.padEnd(20)} matched ${b.matched}, queued ${b.queued}: ${b.ms} ms`);
}

await stop();
process.exit(0);
