#!/usr/bin/env node
/**
 * Delivery throughput benchmark (not a test). Uses the BUILT code (`npm run bench` builds
 * first). One machine: PostgreSQL (embedded, or BENCH_DATABASE_URL), this process (the
 * delivery worker), and a receiver process on 127.0.0.1.
 *
 * Phases, each bounded in count and time:
 *  1. raw undici POST rate to the receiver (the HTTP ceiling);
 *  2. Agenda with one job per delivery (the design the engine must beat), drain of N jobs;
 *  3. deskhooks drain: N deliveries queued, then the worker drains them (after a warm-up drain of 1,000);
 *  4. offered load: 500 deliveries/s for 10 s, enqueue→arrival latency percentiles;
 *  5. overload: twice the drain rate for 10 s; completion rate and that all arrive.
 *
 *   npm run bench                 human-readable report
 *   npm run bench -- --json       one JSON object
 *   options: --n=5000 --agenda-n=2000 --seconds=10 --concurrency=64
 *   --signing=on|off: the deliveries belong to one webhook (maxConcurrency 1000, no rate
 *   limit) that signs every attempt (Standard Webhooks) or not; compare the two drains.
 *   Without it the deliveries belong to no webhook.
 */
import { cpus } from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Agent, request } from 'undici';
import { Agenda } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import { openOrm } from '../dist/db/orm.js';
import { createSender } from '../dist/delivery/send.js';
import { createRetryPolicy } from '../dist/delivery/policy.js';
import { DeliveryWorker } from '../dist/delivery/worker.js';
import { createWorkerStore } from '../dist/delivery/recorder.js';
import { createSecretBox } from '../dist/crypto/secret-box.js';
import { createLogger } from '../dist/log.js';
import { createListener } from '../dist/db/listener.js';
import { DELIVERIES_CHANNEL } from '../dist/delivery/store.js';
import { newSigningSecret } from '../dist/delivery/signing.js';
import { benchDatabase, forkReceiver } from './bench-db.mjs';
import { asJson, now, opt, pct, say, sleep, text } from './bench-cli.mjs';

const N = opt('n', 5000);
const AGENDA_N = opt('agenda-n', 2000);
const SECONDS = opt('seconds', 10);
const CONCURRENCY = opt('concurrency', 64);
const SIGNING = text('signing') ?? null;
if (SIGNING !== null && SIGNING !== 'on' && SIGNING !== 'off') throw new Error('--signing takes on or off');

// ---------------------------------------------------------------- set-up
const database = await benchDatabase('main');
const url = database.url;

const receiver = await forkReceiver();
const { ask } = receiver;
const port = receiver.port;
const target = `http://127.0.0.1:${port}/hook`;
const waitArrivals = async (n, timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await ask('count');
    if (c.count >= n || Date.now() > deadline) return c;
    await sleep(20);
  }
};

// ---------------------------------------------------------------- 1. raw undici
async function rawUndici(n) {
  await ask('reset');
  const agent = new Agent({ connections: CONCURRENCY, pipelining: 1 });
  let next = 0;
  const t0 = now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) {
      const i = next++;
      const res = await request(target, { method: 'POST', dispatcher: agent, body: '{"i":' + i + '}', headers: { 'content-type': 'application/json', 'x-bench-id': String(i) } });
      await res.body.dump();
    }
  }));
  const rate = n / ((now() - t0) / 1000);
  await agent.close();
  return rate;
}

// ---------------------------------------------------------------- 2. Agenda, one job per delivery
async function agendaPerJob(n) {
  await ask('reset');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {});
  const agent = new Agent({ connections: CONCURRENCY });
  const agenda = new Agenda({ backend: new PostgresBackend({ pool, tableName: 'bench_agenda_jobs' }), processEvery: 100, defaultConcurrency: CONCURRENCY, maxConcurrency: CONCURRENCY, defaultLockLimit: 0, lockLimit: 0 });
  agenda.on('error', () => {});
  agenda.define('send', async (job) => {
    const res = await request(target, { method: 'POST', dispatcher: agent, body: JSON.stringify(job.attrs.data), headers: { 'content-type': 'application/json', 'x-bench-id': job.attrs.data.id } });
    await res.body.dump();
  });
  await agenda.ready;
  // queue first (as for deskhooks), then start and time the drain
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => agenda.create('send', { id: `a${i + j}` }).save()));
  }
  const t0 = now();
  await agenda.start();
  const c = await waitArrivals(n, 120_000);
  const rate = c.count / ((now() - t0) / 1000);
  await agenda.stop();
  await agent.close();
  await pool.end();
  return { rate, arrived: c.count };
}

// ---------------------------------------------------------------- deskhooks
const orm = await openOrm(url, { pool: { min: 0, max: 4 } });
const pool = new pg.Pool({ connectionString: url, max: 10 });
pool.on('error', () => {});
const log = createLogger('error');
const box = createSecretBox(Buffer.alloc(32, 1));
// --signing: one webhook owns the deliveries, its limits out of the way
const webhookId = SIGNING === null ? null : (await pool.query(
  `insert into webhooks (name, method, url, format, headers, response_mappings, created_at, updated_at, signing_enabled, signing_secret_sealed, max_concurrency)
   values ('bench', 'POST', $1, 'JSON', '[]', '[]', now(), now(), $2, $3, 1000) returning id::text as id`,
  [target, SIGNING === 'on', box.seal(newSigningSecret())],
)).rows[0].id;
const worker = new DeliveryWorker({
  store: createWorkerStore(pool, orm, log),
  sender: createSender({ timeoutMs: 15_000, allowPrivateNetworks: true, connections: CONCURRENCY }),
  policy: createRetryPolicy({ intervalMs: 30 * 60_000, windowMs: 24 * 3_600_000 }),
  box,
  log,
  concurrency: CONCURRENCY,
  leaseMs: 60_000,
  scheduleRetry: () => {},
});
const listener = createListener(url, log);
let wakeups = true;
listener.on(DELIVERIES_CHANNEL, () => wakeups && void worker.wake());
await listener.start();

/** Inserts deliveries the way the service stores them (rendered request, no ticket work). */
async function enqueue(count) {
  const ids = Array.from({ length: count }, () => randomUUID());
  const t = String(now());
  const request = JSON.stringify({ method: 'POST', url: target, headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'deskhooks/bench', 'X-Bench-Enqueued': t }, body: '{"text":"hello"}' });
  await pool.query(
    `insert into deliveries (id, webhook_id, webhook_name, status, request, processing, notes, next_attempt_at, created_at, attempt_count)
     select id, $3::bigint, 'bench', 'PENDING', $2::jsonb, '{"responseMappings":[],"successComment":"","context":{}}'::jsonb, '[]'::jsonb, now(), now(), 0
       from unnest($1::uuid[]) id`,
    [ids, request, webhookId],
  );
  return ids;
}
const succeeded = async () => Number((await pool.query(`select count(*)::int n from deliveries where status = 'SUCCEEDED'`)).rows[0].n);

async function drain(n) {
  await ask('reset');
  wakeups = false;
  for (let i = 0; i < n; i += 1000) await enqueue(Math.min(1000, n - i));
  const before = await succeeded();
  const t0 = now();
  wakeups = true;
  await worker.wake();
  const c = await waitArrivals(n, 120_000);
  while ((await succeeded()) - before < n && now() - t0 < 120_000) await sleep(10);
  const rate = n / ((now() - t0) / 1000);
  return { rate, arrived: c.count, duplicates: c.duplicates };
}

/** Offers `perSecond` for `seconds` in 10 ms ticks; returns latency percentiles and rates. */
async function offered(perSecond, seconds) {
  await ask('reset');
  const total = Math.round(perSecond * seconds);
  const t0 = now();
  let sent = 0;
  let tick = 0;
  while (sent < total && now() - t0 < seconds * 1000 + 2_000) {
    tick++;
    const due = Math.min(total, Math.round(((now() - t0) / 1000) * perSecond));
    if (due > sent) {
      const k = due - sent;
      sent += k;
      void enqueue(k).catch((e) => console.error('enqueue failed', e));
    }
    const wait = t0 + tick * 10 - now();
    if (wait > 0) await sleep(wait);
  }
  const offeredFor = (now() - t0) / 1000;
  const c = await waitArrivals(total, 120_000);
  const doneAt = now();
  const { arrivals } = await ask('take');
  const lat = arrivals.map(([e, a]) => a - e).sort((a, b) => a - b);
  // completion rate while load was offered: arrivals within the offered window / its length
  const inWindow = arrivals.filter(([, a]) => a - t0 <= offeredFor * 1000).length;
  return {
    offered: total,
    arrived: c.count,
    duplicates: c.duplicates,
    p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), max: lat[lat.length - 1],
    completedPerSecDuringLoad: inWindow / offeredFor,
    completedPerSecOverall: c.count / ((doneAt - t0) / 1000),
  };
}

// ---------------------------------------------------------------- run
say(`deskhooks delivery benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, worker concurrency ${CONCURRENCY}${SIGNING === null ? '' : `, one webhook, signing ${SIGNING}`}`);
const rawUndiciPerSec = await rawUndici(N);
say(`1. raw undici POST:                 ${rawUndiciPerSec.toFixed(0)} requests/s (${N} requests)`);
const ag = await agendaPerJob(AGENDA_N);
say(`2. Agenda, one job per delivery:    ${ag.rate.toFixed(0)} deliveries/s (${ag.arrived}/${AGENDA_N} drained)`);
await drain(Math.min(1000, N)); // warm-up: JIT, connections, the planner's statistics
const d = await drain(N);
say(`3. deskhooks drain:                 ${d.rate.toFixed(0)} deliveries/s (${d.arrived}/${N} arrived, ${d.duplicates} duplicates) = ${(d.rate / ag.rate).toFixed(1)}× Agenda per job`);
const o = await offered(500, SECONDS);
say(`4. offered 500/s for ${SECONDS} s:         p50 ${o.p50.toFixed(1)} ms, p95 ${o.p95.toFixed(1)} ms, p99 ${o.p99.toFixed(1)} ms, max ${o.max.toFixed(1)} ms (${o.arrived}/${o.offered} arrived)`);
const overloadRate = Math.round(2 * d.rate);
const ov = await offered(overloadRate, SECONDS);
say(`5. offered ${overloadRate}/s (2× drain) for ${SECONDS} s: completing ${ov.completedPerSecDuringLoad.toFixed(0)}/s during the load (${((ov.completedPerSecDuringLoad / d.rate) * 100).toFixed(0)} % of the drain rate), ${ov.arrived}/${ov.offered} arrived, ${ov.duplicates} duplicates, p99 ${ov.p99.toFixed(0)} ms`);

const result = {
  deliveriesPerSec: Math.round(d.rate),
  p50Ms: +o.p50.toFixed(2),
  p95Ms: +o.p95.toFixed(2),
  p99Ms: +o.p99.toFixed(2),
  agendaPerJobPerSec: Math.round(ag.rate),
  rawUndiciPerSec: Math.round(rawUndiciPerSec),
  speedupOverAgenda: +(d.rate / ag.rate).toFixed(2),
  overload: { offeredPerSec: overloadRate, completingPerSec: Math.round(ov.completedPerSecDuringLoad), fractionOfDrain: +(ov.completedPerSecDuringLoad / d.rate).toFixed(2), arrived: ov.arrived, offered: ov.offered },
  cores: cpus().length,
  node: process.version,
  ...(SIGNING === null ? {} : { signing: SIGNING }),
};
if (asJson) console.log(JSON.stringify(result));

await worker.stop(1000);
await listener.stop();
await pool.end();
await orm.close();
receiver.exit();
await database.stop();
process.exit(0);
