#!/usr/bin/env node
/**
 * Isolation benchmark (not a test). Uses the BUILT code (`npm run bench:isolation` builds
 * first). One machine: PostgreSQL (embedded, or BENCH_DATABASE_URL), this process (one
 * delivery worker, 64 slots, attempts time out at 2 s), two receivers on 127.0.0.1:
 * webhook A's never answers, webhook B's (its own process) answers at once.
 *
 * Webhook B's deliveries are measured alone, then interleaved with as many of webhook A's:
 *  - drain: N of B (and N of A) queued, then drained: B's deliveries per second, from the
 *    wake-up to B's last arrival;
 *  - offered load: N of B (and N of A), offered at `rate` per second each, interleaved:
 *    B's enqueue → arrival latency percentiles.
 * Before each phase A's breaker is closed and its deliveries cancelled, so that each phase
 * meets A fresh. The drains run `rounds` times, alone and with A in turn, and their
 * medians are reported (one machine's other work moves single runs a lot). Bounded in
 * count and time.
 *
 *   npm run bench:isolation                 human-readable report
 *   npm run bench:isolation -- --json       one JSON object
 *   options: --n=5000 --rate=500 --concurrency=64 --timeout-ms=2000 --rounds=3
 */
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openOrm } from '../dist/db/orm.js';
import { createSender } from '../dist/delivery/send.js';
import { createRetryPolicy } from '../dist/delivery/policy.js';
import { DeliveryWorker } from '../dist/delivery/worker.js';
import { createWorkerStore } from '../dist/delivery/recorder.js';
import { createSecretBox } from '../dist/crypto/secret-box.js';
import { createLogger } from '../dist/log.js';
import { createListener } from '../dist/db/listener.js';
import { DELIVERIES_CHANNEL } from '../dist/delivery/store.js';
import { benchDatabase, forkReceiver } from './bench-db.mjs';
import { asJson, now, opt, pct, say, sleep } from './bench-cli.mjs';

const N = opt('n', 5000);
const RATE = opt('rate', 500);
const CONCURRENCY = opt('concurrency', 64);
const TIMEOUT_MS = opt('timeout-ms', 2000);
const ROUNDS = opt('rounds', 3);

// ---------------------------------------------------------------- set-up
const database = await benchDatabase('isolation');
const url = database.url;

// B: answers at once, in its own process (scripts/bench-receiver.mjs)
const receiver = await forkReceiver();
const { ask } = receiver;
const portB = receiver.port;
// A: never answers (its requests end when the sender's timeout aborts them)
let arrivedA = 0;
const silent = createServer((req) => {
  arrivedA++;
  req.resume();
});
await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
const targetA = `http://127.0.0.1:${silent.address().port}/hang`;
const targetB = `http://127.0.0.1:${portB}/hook`;

const orm = await openOrm(url, { pool: { min: 0, max: 4 } });
const pool = new pg.Pool({ connectionString: url, max: 10 });
pool.on('error', () => {});
const log = createLogger('error');

// two webhooks with the defaults (no rate limit, ordering NONE)
const hooks = await pool.query(
  `insert into webhooks (name, method, url, format, body, headers, auth_type, response_mappings, success_comment, enabled, created_at, updated_at)
   values ('A (hangs)', 'POST', $1, 'JSON', '', '[]', 'NONE', '[]', '', true, now(), now()),
          ('B (answers)', 'POST', $2, 'JSON', '', '[]', 'NONE', '[]', '', true, now(), now())
   returning id`,
  [targetA, targetB],
);
const [hookA, hookB] = hooks.rows.map((r) => r.id);
// B may use every slot of the worker; A keeps the default maxConcurrency (10)
await pool.query(`update webhooks set max_concurrency = $2 where id = $1`, [hookB, CONCURRENCY]);

const worker = new DeliveryWorker({
  store: createWorkerStore(pool, orm, log),
  sender: createSender({ timeoutMs: TIMEOUT_MS, allowPrivateNetworks: true, connections: CONCURRENCY }),
  policy: createRetryPolicy({ intervalMs: 30 * 60_000, windowMs: 24 * 3_600_000 }),
  box: createSecretBox(Buffer.alloc(32, 1)),
  log,
  concurrency: CONCURRENCY,
  leaseMs: 2 * TIMEOUT_MS + 5_000,
  scheduleRetry: () => {},
});
const listener = createListener(url, log);
let wakeups = true;
listener.on(DELIVERIES_CHANNEL, () => wakeups && void worker.wake());
await listener.start();

/** Inserts `count` deliveries of B, each after one of A when `withA` (interleaved in creation order). */
async function enqueue(count, withA) {
  const t = String(now());
  const req = (target) => JSON.stringify({ method: 'POST', url: target, headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'deskhooks/bench', 'X-Bench-Enqueued': t }, body: '{"text":"hello"}' });
  const ids = [];
  const webhooks = [];
  const requests = [];
  for (let i = 0; i < count; i++) {
    if (withA) {
      ids.push(randomUUID());
      webhooks.push(hookA);
      requests.push(req(targetA));
    }
    ids.push(randomUUID());
    webhooks.push(hookB);
    requests.push(req(targetB));
  }
  await pool.query(
    `insert into deliveries (id, webhook_id, webhook_name, status, request, processing, notes, next_attempt_at, created_at, attempt_count)
     select u.id, u.w, 'bench', 'PENDING', u.r::jsonb, '{"responseMappings":[],"successComment":"","context":{}}'::jsonb, '[]'::jsonb, now(), now(), 0
       from unnest($1::uuid[], $2::bigint[], $3::text[]) with ordinality as u(id, w, r, n) order by u.n`,
    [ids, webhooks, requests],
  );
}
const succeededB = async () => Number((await pool.query(`select count(*)::int n from deliveries where webhook_id = $1 and status = 'SUCCEEDED'`, [hookB])).rows[0].n);
const waitArrivals = async (n, timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await ask('count');
    if (c.count >= n || Date.now() > deadline) return c;
    await sleep(10);
  }
};

/** A fresh start for A: its open deliveries cancelled, its breaker closed, nothing of it in flight. */
async function resetA() {
  await pool.query(`update deliveries set status = 'CANCELLED', next_attempt_at = null, completed_at = now() where webhook_id = $1 and status in ('PENDING', 'RETRYING')`, [hookA]);
  await pool.query(`update webhook_states set breaker = 'CLOSED', opened_at = null, next_probe_at = null, probe_delivery_id = null, window_started_at = now() where webhook_id = $1`, [hookA]);
  const deadline = Date.now() + 3 * TIMEOUT_MS;
  while (worker.busy > 0 && Date.now() < deadline) await sleep(20);
}

async function drain(withA) {
  await resetA();
  await ask('reset');
  wakeups = false;
  for (let i = 0; i < N; i += 1000) await enqueue(Math.min(1000, N - i), withA);
  const before = await succeededB();
  const t0 = now();
  wakeups = true;
  void worker.wake();
  const c = await waitArrivals(N, 120_000);
  const arrivedAt = now();
  while ((await succeededB()) - before < N && now() - t0 < 120_000) await sleep(10);
  const { arrivals } = await ask('take');
  const lat = arrivals.map(([, a]) => a - t0).sort((a, b) => a - b);
  return { rate: c.count / ((arrivedAt - t0) / 1000), arrived: c.count, duplicates: c.duplicates, p99: pct(lat, 99) };
}

/** Offers `RATE` per second of B (and as many of A) until N of B, in 10 ms ticks; B's latency percentiles. */
async function offered(withA) {
  await resetA();
  await ask('reset');
  const t0 = now();
  let sent = 0;
  let tick = 0;
  const seconds = N / RATE;
  while (sent < N && now() - t0 < seconds * 1000 + 2_000) {
    tick++;
    const due = Math.min(N, Math.round(((now() - t0) / 1000) * RATE));
    if (due > sent) {
      const k = due - sent;
      sent += k;
      void enqueue(k, withA).catch((e) => console.error('enqueue failed', e));
    }
    const wait = t0 + tick * 10 - now();
    if (wait > 0) await sleep(wait);
  }
  const c = await waitArrivals(N, 120_000);
  const doneAt = now();
  const { arrivals } = await ask('take');
  const lat = arrivals.map(([e, a]) => a - e).sort((a, b) => a - b);
  return { arrived: c.count, p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), perSec: c.count / ((doneAt - t0) / 1000) };
}

// ---------------------------------------------------------------- run
say(`deskhooks isolation benchmark — ${cpus().length} cores, Node ${process.version}, worker concurrency ${CONCURRENCY}, attempt timeout ${TIMEOUT_MS} ms, ${N} deliveries per webhook`);
await drain(false); // warm-up: JIT, connections, the planner's statistics
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const alone = [];
const withA = [];
const aAttemptsBefore = arrivedA;
for (let r = 0; r < ROUNDS; r++) {
  alone.push(await drain(false));
  withA.push(await drain(true));
  say(`round ${r + 1}: B alone ${alone.at(-1).rate.toFixed(0)}/s, B with A ${withA.at(-1).rate.toFixed(0)}/s (${withA.at(-1).arrived}/${N}, ${withA.at(-1).duplicates} duplicates)`);
}
const aloneDrain = { rate: median(alone.map((d) => d.rate)) };
const withDrain = { rate: median(withA.map((d) => d.rate)) };
say(`drain, median of ${ROUNDS}: B alone ${aloneDrain.rate.toFixed(0)}/s, B with A (hangs) ${withDrain.rate.toFixed(0)}/s`);
const aloneOffered = await offered(false);
say(`B alone, offered ${RATE}/s: p50 ${aloneOffered.p50.toFixed(1)} ms, p95 ${aloneOffered.p95.toFixed(1)} ms, p99 ${aloneOffered.p99.toFixed(1)} ms (${aloneOffered.arrived}/${N})`);
const withOffered = await offered(true);
say(`B with A, offered ${RATE}/s each: p50 ${withOffered.p50.toFixed(1)} ms, p95 ${withOffered.p95.toFixed(1)} ms, p99 ${withOffered.p99.toFixed(1)} ms (${withOffered.arrived}/${N})`);
const attemptsA = arrivedA - aAttemptsBefore;
say(`A's requests that reached its receiver: ${attemptsA} (of ${(ROUNDS + 1) * N} queued)`);

const result = {
  aloneDeliveriesPerSec: Math.round(aloneDrain.rate),
  withHangingDeliveriesPerSec: Math.round(withDrain.rate),
  throughputRatio: +(withDrain.rate / aloneDrain.rate).toFixed(2),
  aloneP99Ms: +aloneOffered.p99.toFixed(2),
  withHangingP99Ms: +withOffered.p99.toFixed(2),
  p99Ratio: +(withOffered.p99 / aloneOffered.p99).toFixed(2),
  hangingAttempts: attemptsA,
  offeredPerSec: RATE,
  n: N,
  cores: cpus().length,
  node: process.version,
};
say(`throughput ratio ${result.throughputRatio} (target ≥ 0.8), p99 ratio ${result.p99Ratio} (target ≤ 2)`);
if (asJson) console.log(JSON.stringify(result));

await worker.stop(TIMEOUT_MS);
await listener.stop();
await pool.end();
await orm.close();
silent.closeAllConnections();
silent.close();
receiver.exit();
await database.stop();
process.exit(0);
