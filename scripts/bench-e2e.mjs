#!/usr/bin/env node
/**
 * End-to-end benchmark (not a test): from a createTicket mutation to the webhook's request
 * arriving at a receiver, the path users run. Uses the BUILT server (`npm run bench:e2e`
 * builds first) through its public surface only: `node dist/cli.js` configured by its
 * environment (src/config.ts), set up and driven over GraphQL. One process tree, one run:
 * an embedded PostgreSQL in a temp folder (removed at the end) with a database per part,
 * the receiver (scripts/bench-e2e-receiver.mjs) and every server as child processes, all on
 * 127.0.0.1. Every phase is bounded in count and time.
 *
 *  a. anchor: the minimal server on the same stack (scripts/bench-anchor-server.mjs);
 *     createTicket/s under CLIENTS concurrent clients, closed loop, for SECONDS: half of it
 *     before (b) and half after (b) (startAnchor).
 *  b. deskhooks (DESKHOOKS_ROLE=all) with one webhook to the receiver and 10 enabled rules
 *     on TICKET_CREATED of which only the 10th (position 10) matches:
 *     - closed loop as in (a) → mutationsPerSec (mutations / first sent → last answered);
 *       arrivalsPerSec = those tickets' arrivals / (first mutation sent → last arrival);
 *       backlogDrainMs = last mutation answered → last arrival;
 *     - open loop at half the measured mutation rate for SECONDS, sent on schedule whatever
 *       the answers: per ticket, arrival − its mutation's answer → p50/p95/p99.
 *     For each loop (and c's drain), the share of the cores' time the host took (steal: a
 *     virtual machine's cores waiting while its host runs something else), printed and in the
 *     JSON as hostStealPercent: what tells a slow host from slow code.
 *  c. dispatcher alone (DESKHOOKS_ROLE=api: no delivery worker) on a fresh database with the
 *     same rules: EVENTS TICKET_CREATED events committed while no deskhooks runs (copies of
 *     one ticket and its outbox row exactly as the server wrote them, captured by a
 *     trigger), then deskhooks starts while this script holds an EXCLUSIVE lock on
 *     ticket_events; the lock is released once the dispatcher waits on it, and the drain is
 *     timed from that release until no event is unprocessed (process start and migrations
 *     excluded) → eventsPerSec; each event must have made exactly one delivery.
 *
 * Targets are printed next to the figures; they are judged by people. The exit code is
 * non-zero only on a failure (errors, arrivals missing or events unprocessed after the
 * bounded wait, deliveries not matching the events); the figures are printed all the same.
 *
 *   npm run bench:e2e                 human-readable report
 *   npm run bench:e2e -- --json       one JSON object on stdout
 *   options: --seconds=10 --clients=32 --events=20000 --warmup=10 --wait=60 (s, bound on each wait)
 *            --warmup: each server's closed loop before its measured one, the same for the anchor and
 *                   deskhooks; the figures are of servers in their steady state (see WARMUP)
 *            --max-concurrency=N: the bench webhook's maxConcurrency (default: the webhook default, 10)
 *            --rate=N: the open loop at N mutations/s instead of half the measured rate (to compare latencies
 *                   at one rate across runs or versions; the targets are for the default)
 *            --cpu: where the closed loops' CPU went (Linux /proc; scripts/bench-cpu.mjs), in ms per
 *                   mutation by process (the server and its threads, PostgreSQL, the receiver, this
 *                   script as the load generator, the rest of the machine), for deskhooks until the
 *                   loop's last request arrived, and the same for deskhooks' open loop (smaller
 *                   batches cost more per mutation); in the JSON as cpuMsPerMutation
 *            --wal: what the closed loops wrote to PostgreSQL's write-ahead log per mutation (records,
 *                   the most frequent kinds, bytes; scripts/bench-wal.mjs), over the same spans as --cpu;
 *                   in the JSON as walPerMutation
 *            --stages: where the open loop's latency went, per ticket from the times deskhooks recorded
 *                   (latencyStages); in the JSON as latencyStagesMs
 *            --statements: the statements PostgreSQL ran in deskhooks' open loop until its last request
 *                   arrived, per mutation: how many, their execution and planning time, the top ones by time
 *                   (pg_stat_statements, loaded for the run: it slows every statement a little;
 *                   scripts/bench-statements.mjs); in the JSON as openLoopStatementsPerMutation
 */
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { startEmbeddedPostgres, freePort } from '../dist/db/embedded.js';
import { asJson, flag, now, opt, pct, say, sleep, text } from './bench-cli.mjs';
import { cpuPerUnit, cpuSnapshot, describeCpu, mergeCpuPerUnit, stealMeter, waitForQuiet } from './bench-cpu.mjs';
import { describeWal, mergeWalPerUnit, walPerUnit, walSnapshot } from './bench-wal.mjs';
import { describeStatements, statementsPerUnit, statementsReset, STATEMENTS_SETTINGS } from './bench-statements.mjs';
import { createDatabase, withClient } from './bench-db.mjs';

const SECONDS = opt('seconds', 10);
const CLIENTS = Math.round(opt('clients', 32));
const EVENTS = Math.round(opt('events', 20_000));
// Under this load V8 goes on compiling deskhooks' code (optimizing compiles on its helper
// threads) for about the first 10 s; the anchor's few functions settle within a second.
// Those threads' CPU per mutation in the measured loop: 0.36 ms after a 2 s warm-up, 0.12
// after 10 s, 0.10 after 20 s. A measured loop that starts earlier measures the JIT.
const WARMUP = opt('warmup', 10);
/** the anchor's warm-up again before its second half (its code is compiled; its connections may have lapsed while it was idle) */
const RESUME_WARMUP = Math.min(2, WARMUP);
const WAIT_MS = opt('wait', 60) * 1000;
// the bench webhook's maxConcurrency (delivery-policy); default: the contract's default (10)
const CPU = flag('cpu');
const WAL = flag('wal');
const STAGES = flag('stages');
const STATEMENTS = flag('statements');
const MAX_CONCURRENCY = text('max-concurrency') === undefined ? null : Math.round(opt('max-concurrency', 10));
// the open loop's rate: half the closed loop's measured rate unless given
const OPEN_RATE = text('rate') === undefined ? null : opt('rate', 100);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const KEY = 'bench-e2e-admin-key-0123456789';
const failures = [];

// ---------------------------------------------------------------- processes and databases
const dir = mkdtempSync(join(tmpdir(), 'deskhooks-bench-e2e-'));
const children = new Set();
let embedded = null;

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.on('error', () => {}); // a send to a child that is gone fails its own call
  return child;
}
const exited = (child, ms) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(true)
    : new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        child.once('exit', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
async function stopChild(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (!(await exited(child, 15_000))) {
    child.kill('SIGKILL');
    await exited(child, 5_000);
  }
}

/** Forks a helper that reports { port } over IPC once it listens. */
async function forkServer(script, env = {}) {
  const child = track(fork(here(script), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const first = await Promise.race([
    new Promise((resolve) => child.once('message', resolve)),
    exited(child, 30_000).then(() => null),
  ]);
  if (!first?.port) throw new Error(`${script} did not start`);
  return { child, port: first.port };
}

/** BENCH_NODE_ARGS (space-separated) are given to each deskhooks process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p` to see where time goes. */
const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];

/** `node dist/cli.js` as users start it; resolves once it logs where it listens. */
async function startDeskhooks(databaseUrl, role, name) {
  const port = await freePort();
  const child = track(
    spawn(process.execPath, [...nodeArgs, here('../dist/cli.js')], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        DATA_DIR: join(dir, name),
        HOST: '127.0.0.1',
        PORT: String(port),
        DESKHOOKS_ROLE: role,
        BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
        BOOTSTRAP_ADMIN_API_KEY: KEY,
        DESKHOOKS_SECRET_KEY: 'bench-e2e-secret-0123456789',
        DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
        DESKHOOKS_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  const collect = (d) => {
    out += d;
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  child.stdout.on('data', collect);
  // its errors stay visible; its info lines are read for "listening on" only
  child.stderr.on('data', (d) => {
    collect(d);
    process.stderr.write(d);
  });
  const deadline = Date.now() + 60_000;
  while (!/listening on/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`deskhooks (${role}) did not start:\n${out.slice(-2000)}`);
    }
    await sleep(20);
  }
  return { child, origin: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

// ---------------------------------------------------------------- GraphQL client
const CREATE = JSON.stringify({
  query: 'mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }',
  variables: { i: { title: 'bench ticket', description: 'bench:e2e', priority: 'LOW' } },
});

function graphql(origin, connections) {
  const pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
  async function post(body) {
    const res = await pool.request({ path: '/graphql', method: 'POST', headers, body });
    const text = await res.body.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    }
    if (res.statusCode !== 200 || json.errors) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(json.errors ?? json).slice(0, 500)}`);
    return json.data;
  }
  return {
    call: (query, variables = {}) => post(JSON.stringify({ query, variables })),
    createTicket: async () => (await post(CREATE)).createTicket.id,
    close: () => pool.close(),
  };
}

/**
 * closedLoop, and with --cpu `cpuSoFar()`: the CPU spent from the loop's start until the
 * call, per mutation of the loop (cpuPerUnit, with `server`'s threads), and with --wal
 * `walSoFar()`: the WAL written meanwhile, per mutation (walPerUnit, `url` the server's
 * database); called once the loop's work is done (for deskhooks: once its requests have arrived).
 */
async function measuredClosedLoop(client, server, url, seconds = SECONDS) {
  const wal = WAL ? await walSnapshot(url) : null;
  const cpu = cpuMeter(server);
  const run = await closedLoop(client, seconds);
  return {
    ...run,
    cpuSoFar: () => cpu.perUnit(run.records.length),
    walSoFar: async () => (WAL ? walPerUnit(wal, await walSnapshot(url), run.records.length, 10) : null),
  };
}

/**
 * With --cpu: the CPU spent from now until `perUnit(count)` is called, per unit (cpuPerUnit,
 * with `server`'s threads, the receiver and this script as the load generator); null without.
 */
function cpuMeter(server) {
  const before = CPU ? cpuSnapshot([server]) : null;
  return { perUnit: (count) => (CPU ? cpuPerUnit(before, cpuSnapshot([server]), count, { server, receiver: receiver.child.pid, loadGenerator: process.pid }) : null) };
}

/** CLIENTS clients, each sending its next createTicket when the previous one answered. */
async function closedLoop(client, seconds, clients = CLIENTS) {
  const records = [];
  let errors = 0;
  let lastError = null;
  const t0 = now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (now() < end && errors < 100) {
        const sent = now();
        try {
          const id = await client.createTicket();
          records.push({ id, sent, answered: now() });
        } catch (err) {
          errors++;
          lastError = err;
        }
      }
    }),
  );
  const lastAnswered = records.reduce((m, r) => Math.max(m, r.answered), t0);
  return { records, errors, lastError, t0, lastAnswered, perSec: records.length / ((lastAnswered - t0) / 1000) };
}

/** createTicket at `rate` per second for `seconds`, each sent on schedule (to the timer's millisecond) whatever the answers. */
async function openLoop(client, rate, seconds) {
  const total = Math.max(1, Math.round(rate * seconds));
  const records = [];
  const pending = [];
  let errors = 0;
  let lastError = null;
  const t0 = now();
  let sent = 0;
  while (sent < total && now() - t0 < seconds * 1000 + 5_000) {
    const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const at = now();
      pending.push(
        client.createTicket().then(
          (id) => void records.push({ id, sent: at, answered: now() }),
          (err) => {
            errors++;
            lastError = err;
          },
        ),
      );
    }
    // asleep until the next one is due: the load generator shares the cores with what it
    // measures, so it never polls
    if (sent < total) await sleep(Math.max(1, t0 + (sent / rate) * 1000 - now()));
  }
  await Promise.all(pending);
  return { records, errors, lastError, offered: total, sent };
}

// ---------------------------------------------------------------- receiver
const arrivals = new Map(); // ticket id → arrival time
let receiver = null;
let duplicates = 0;
async function collect() {
  const msg = await new Promise((resolve, reject) => {
    receiver.child.once('message', resolve);
    receiver.child.send('take', (err) => err && reject(new Error('the receiver is gone')));
  });
  for (const [id, at] of msg.arrivals) arrivals.set(id, at);
  duplicates = msg.duplicates;
}
/** Waits (bounded) until every id has arrived; returns how many did. */
async function waitArrivals(ids, timeoutMs = WAIT_MS) {
  const deadline = now() + timeoutMs;
  for (;;) {
    await collect();
    const arrived = ids.filter((id) => arrivals.has(id)).length;
    if (arrived === ids.length || now() > deadline) return arrived;
    await sleep(20);
  }
}


/** The bench's webhook and its 10 rules: the first nine are false for its LOW tickets titled "bench ticket". */
async function setUpRules(client, target) {
  const { createWebhook } = await client.call('mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }', {
    i: { name: 'bench receiver', method: 'POST', url: target, format: 'JSON', body: '{"id": "{{ ticket.id }}"}', ...(MAX_CONCURRENCY ? { maxConcurrency: MAX_CONCURRENCY } : {}) },
  });
  const never = [
    { field: 'priority', operator: 'EQUALS', value: 'URGENT' },
    { field: 'priority', operator: 'EQUALS', value: 'HIGH' },
    { field: 'status', operator: 'EQUALS', value: 'CLOSED' },
    { field: 'title', operator: 'CONTAINS', value: 'no-match-4' },
    { field: 'description', operator: 'CONTAINS', value: 'no-match-5' },
    { field: 'requester.role', operator: 'EQUALS', value: 'CLIENT' },
    { field: 'assignee.email', operator: 'IS_NOT_EMPTY' },
    { field: 'parent', operator: 'IS_NOT_EMPTY' },
    { field: 'title', operator: 'EQUALS', value: 'no-match-9' },
  ];
  const conditions = [...never.map((c) => [c]), [{ field: 'priority', operator: 'EQUALS', value: 'LOW' }]];
  for (const [k, conds] of conditions.entries()) {
    await client.call('mutation($i: RuleInput!) { createRule(input: $i) { id } }', {
      i: {
        name: `bench rule ${k + 1}`,
        enabled: true,
        position: k + 1,
        events: ['TICKET_CREATED'],
        match: 'ALL',
        conditions: conds,
        actions: [{ type: 'SEND_WEBHOOK', webhookId: createWebhook.id }],
      },
    });
  }
}

// ---------------------------------------------------------------- a. anchor
/**
 * Starts the anchor, warms it up and measures the first half of its SECONDS of closed loop;
 * `finish()` measures the second half (called once deskhooks' part has ended), stops it and
 * sums both: the machine's speed drifts through a run, and measured before and after
 * deskhooks (A-B-A) a drift moves the anchor's figure roughly as it moves deskhooks' (only
 * roughly: the halves are not centred on deskhooks' closed loop). The second half waits for
 * the machine to be quiet (what deskhooks' part leaves behind, autovacuum of its tables, is
 * not the anchor's to carry), then warms the anchor up again for RESUME_WARMUP seconds (its
 * pool's and the clients' connections may have lapsed while it was idle).
 */
async function startAnchor(adminUrl) {
  const url = await createDatabase(adminUrl, 'e2e_anchor');
  const anchor = await forkServer('./bench-anchor-server.mjs', { ANCHOR_DATABASE_URL: url, ANCHOR_API_KEY: KEY });
  const client = graphql(`http://127.0.0.1:${anchor.port}`, CLIENTS);
  const halves = [];
  const measureHalf = async () => {
    const run = await measuredClosedLoop(client, anchor.child.pid, url, SECONDS / 2);
    if (run.errors) failures.push(`anchor: ${run.errors} createTicket errors (last: ${run.lastError?.message})`);
    halves.push({ perSec: run.perSec, count: run.records.length, seconds: (run.lastAnswered - run.t0) / 1000, cpu: run.cpuSoFar(), wal: await run.walSoFar() });
  };
  const stop = async () => {
    await client.close();
    anchor.child.send('exit');
    await exited(anchor.child, 10_000);
  };
  try {
    await closedLoop(client, WARMUP);
    await measureHalf();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    async finish() {
      try {
        if (!(await waitForQuiet())) say("   (the machine was not quiet within 30 s before the anchor's second half)");
        await closedLoop(client, RESUME_WARMUP);
        await measureHalf();
      } finally {
        await stop();
      }
      const count = halves.reduce((n, h) => n + h.count, 0);
      const seconds = halves.reduce((n, h) => n + h.seconds, 0);
      return { perSec: count / seconds, count, halves: halves.map((h) => h.perSec), cpu: CPU ? mergeCpuPerUnit(halves) : null, wal: WAL ? mergeWalPerUnit(halves) : null };
    },
  };
}

// ---------------------------------------------------------------- b. deskhooks as users run it
async function deskhooksPart(adminUrl, target) {
  // what the anchor's part leaves behind (autovacuum of its tables) is not deskhooks' to carry
  if (!(await waitForQuiet())) say("   (the machine was not quiet within 30 s before deskhooks' part)");
  const url = await createDatabase(adminUrl, 'e2e_deskhooks');
  const app = await startDeskhooks(url, 'all', 'b');
  const client = graphql(app.origin, CLIENTS);
  try {
    await setUpRules(client, target);
    // warm-up (JIT, connections, the planner): its tickets arrive before the run starts
    const warm = await closedLoop(client, WARMUP);
    await waitArrivals(warm.records.map((r) => r.id));

    const closedSteal = stealMeter();
    const run = await measuredClosedLoop(client, app.child.pid, url);
    if (run.errors) failures.push(`deskhooks closed loop: ${run.errors} createTicket errors (last: ${run.lastError?.message})`);
    const ids = run.records.map((r) => r.id);
    const arrived = await waitArrivals(ids);
    const steal = closedSteal();
    const cpu = run.cpuSoFar(); // the loop and the backlog it left
    const wal = await run.walSoFar();
    if (arrived < ids.length) failures.push(`deskhooks closed loop: ${ids.length - arrived} of ${ids.length} tickets' requests had not arrived ${WAIT_MS / 1000} s after the last answer`);
    const lastArrival = ids.reduce((m, id) => Math.max(m, arrivals.get(id) ?? m), run.t0);
    // the webhook's breaker and recent failures after the closed loop (the report shows them)
    const health = (await client.call('{ webhooks { health { breaker recentAttempts recentFailureRate } } }')).webhooks[0]?.health ?? null;
    const closed = {
      mutationsPerSec: run.perSec,
      count: ids.length,
      arrived,
      arrivalsPerSec: arrived / ((lastArrival - run.t0) / 1000),
      backlogDrainMs: Math.max(0, lastArrival - run.lastAnswered),
      steal,
      health,
      cpu,
      wal,
    };

    const rate = OPEN_RATE ?? run.perSec / 2;
    // connections to spare: a request waits for its time, never for a free connection
    const openClient = graphql(app.origin, 4 * CLIENTS);
    if (STATEMENTS) await statementsReset(url);
    const openCpu = cpuMeter(app.child.pid);
    const openSteal = stealMeter();
    const open = await openLoop(openClient, rate, SECONDS).finally(() => openClient.close());
    if (open.errors) failures.push(`deskhooks open loop: ${open.errors} createTicket errors (last: ${open.lastError?.message})`);
    const openIds = open.records.map((r) => r.id);
    const openArrived = await waitArrivals(openIds);
    // the open loop's CPU: its mutations until their requests arrived
    const openCpuPerMutation = openCpu.perUnit(open.records.length);
    const openStealPercent = openSteal();
    const statements = STATEMENTS ? await statementsPerUnit(url, open.records.length) : null;
    if (openArrived < openIds.length) failures.push(`deskhooks open loop: ${openIds.length - openArrived} of ${openIds.length} tickets' requests had not arrived after ${WAIT_MS / 1000} s`);
    const lat = open.records.filter((r) => arrivals.has(r.id)).map((r) => arrivals.get(r.id) - r.answered).sort((a, b) => a - b);
    const stages = STAGES ? await latencyStages(url, open.records) : null;
    return {
      closed,
      open: { rate, offered: open.offered, answered: openIds.length, arrived: openArrived, p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), max: lat[lat.length - 1], stages, cpu: openCpuPerMutation, statements, steal: openStealPercent },
    };
  } finally {
    await client.close();
    await app.stop();
  }
}

/**
 * The open loop's latency by stage, per ticket that arrived, from the times deskhooks
 * recorded (one machine, one clock; deskhooks' to the millisecond): the mutation's answer →
 * `marked` (ticket_events.processed_at: a dispatcher batch took the event, after the batch
 * under way and the claim) → `queued` (deliveries.created_at: the batch had loaded and judged
 * it, and drafted the delivery) → `sent` (delivery_attempts.started_at: the batch wrote and
 * committed, the worker was woken, claimed it and started the attempt) → the arrival at the
 * receiver. p50 and p90 of each, in ms.
 */
async function latencyStages(url, records) {
  return withClient(url, async (db) => {
    const { rows } = await db.query(
      `select e.ticket_id::text as id, extract(epoch from e.processed_at)::float8 * 1000 as marked, extract(epoch from d.created_at)::float8 * 1000 as queued,
              extract(epoch from a.started_at)::float8 * 1000 as sent
         from ticket_events e join deliveries d on d.ticket_id = e.ticket_id join delivery_attempts a on a.delivery_id = d.id and a.number = 1
        where e.ticket_id = any($1::bigint[]) and e.type = 'TICKET_CREATED'`,
      [records.map((r) => r.id)],
    );
    // ticket ids are the API's strings, here and in `arrivals`
    const answered = new Map(records.map((r) => [r.id, r.answered]));
    const spans = { answeredToMarked: [], markedToQueued: [], queuedToSent: [], sentToArrived: [] };
    for (const r of rows) {
      const arrived = arrivals.get(r.id);
      if (arrived === undefined) continue;
      spans.answeredToMarked.push(r.marked - answered.get(r.id));
      spans.markedToQueued.push(r.queued - r.marked);
      spans.queuedToSent.push(r.sent - r.queued);
      spans.sentToArrived.push(arrived - r.sent);
    }
    const percentiles = (v) => {
      const sorted = v.sort((x, y) => x - y);
      return { p50: +pct(sorted, 50).toFixed(1), p90: +pct(sorted, 90).toFixed(1) };
    };
    return Object.fromEntries(Object.entries(spans).map(([k, v]) => [k, v.length ? percentiles(v) : null]));
  });
}

// ---------------------------------------------------------------- c. the dispatcher alone
/** The columns an insert writes (not the generated ones). */
async function insertableColumns(db, table) {
  const { rows } = await db.query(
    `select column_name from information_schema.columns
      where table_schema = current_schema() and table_name = $1 and is_identity = 'NO' and is_generated = 'NEVER'
        and coalesce(column_default, '') not like 'nextval(%'
      order by ordinal_position`,
    [table],
  );
  return rows.map((r) => r.column_name);
}

async function dispatcherPart(adminUrl) {
  const url = await createDatabase(adminUrl, 'e2e_dispatcher');
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    // 1. deskhooks migrates and takes the rules; one ticket is created through the API and
    //    its rows are captured as inserted, before the dispatcher touches them
    let app = await startDeskhooks(url, 'api', 'c');
    const client = graphql(app.origin, 1);
    let template;
    try {
      await setUpRules(client, 'http://127.0.0.1:9/unused');
      await db.query(`
        create table bench_captured_tickets as select * from tickets with no data;
        create table bench_captured_events as select * from ticket_events with no data;
        create function bench_capture() returns trigger language plpgsql as $$ begin
          if tg_table_name = 'tickets' then insert into bench_captured_tickets select new.*;
          else insert into bench_captured_events select new.*; end if;
          return null; end $$;
        create trigger bench_capture after insert on tickets for each row execute function bench_capture();
        create trigger bench_capture after insert on ticket_events for each row execute function bench_capture();
      `);
      template = await client.createTicket();
      // its event processed before the stop, so that the copies are all that is pending
      const until = now() + WAIT_MS;
      while (now() < until && (await db.query(`select 1 from ticket_events where ticket_id = $1 and processed_at is null`, [template])).rowCount) await sleep(10);
    } finally {
      await client.close();
      await app.stop();
    }
    await db.query(`drop trigger bench_capture on tickets; drop trigger bench_capture on ticket_events; drop function bench_capture()`);
    const captured = await db.query(`select (select count(*)::int from bench_captured_tickets) t, (select count(*)::int from bench_captured_events) e`);
    if (captured.rows[0].t !== 1 || captured.rows[0].e !== 1) {
      throw new Error(`createTicket wrote ${captured.rows[0].t} ticket rows and ${captured.rows[0].e} ticket_events rows; the bench copies exactly one of each`);
    }

    // 2. EVENTS copies of that ticket and its event, the event's ticket id and snapshot pointed at its copy
    const tcols = await insertableColumns(db, 'tickets');
    const ecols = await insertableColumns(db, 'ticket_events');
    const q = (c) => `"${c}"`;
    const eventValue = (c) =>
      c === 'ticket_id'
        ? 't.id'
        : c === 'payload'
          ? `case when jsonb_typeof(e.payload #> '{ticket,id}') = 'number' then jsonb_set(e.payload, '{ticket,id}', to_jsonb(t.id))
                  when e.payload #> '{ticket,id}' is not null then jsonb_set(e.payload, '{ticket,id}', to_jsonb(t.id::text)) else e.payload end`
          : `e.${q(c)}`;
    const before = (await db.query(`select count(*)::int n from deliveries`)).rows[0].n;
    for (let done = 0; done < EVENTS; done += 5_000) {
      await db.query(
        `with t as (insert into tickets (${tcols.map(q).join(', ')})
                    select ${tcols.map((c) => `c.${q(c)}`).join(', ')} from bench_captured_tickets c, generate_series(1, $1)
                    returning id)
         insert into ticket_events (${ecols.map(q).join(', ')})
         select ${ecols.map(eventValue).join(', ')} from (select id from t order by id) t, bench_captured_events e order by t.id`,
        [Math.min(5_000, EVENTS - done)],
      );
    }
    await db.query('analyze tickets; analyze ticket_events');
    const pendingAtStart = Number((await db.query(`select count(*) n from ticket_events where processed_at is null`)).rows[0].n);

    // 3. deskhooks starts while the dispatcher's claim waits on this lock; the drain is timed from its release
    await lock.query('begin');
    await lock.query('lock table ticket_events in exclusive mode');
    app = await startDeskhooks(url, 'api', 'c');
    let sawWaiter = false;
    const waitUntil = now() + 15_000;
    while (!sawWaiter && now() < waitUntil) {
      const { rows } = await db.query(`select count(*)::int n from pg_locks
          where database = (select oid from pg_database where datname = current_database()) and relation = 'ticket_events'::regclass and not granted`);
      sawWaiter = rows[0].n > 0;
      if (!sawWaiter) await sleep(10);
    }
    const t0 = now();
    const drainSteal = stealMeter();
    await lock.query('commit');
    // polled cheaply (the first unprocessed row through the partial index), counted at the end
    const deadline = t0 + WAIT_MS;
    let left = true;
    while (left && now() < deadline) {
      await sleep(10);
      left = (await db.query(`select 1 from ticket_events where processed_at is null limit 1`)).rowCount > 0;
    }
    const drainMs = now() - t0;
    const steal = drainSteal();
    const pending = left ? Number((await db.query(`select count(*) n from ticket_events where processed_at is null`)).rows[0].n) : 0;
    const processed = pendingAtStart - pending;
    // counted once it has stopped: an unfinished drain goes on until then
    await app.stop();
    const { rows } = await db.query(
      `select (select count(*)::int from deliveries) - $1 deliveries,
              (select count(*)::int from ticket_events where processed_at is not null and ticket_id <> $2) processed,
              (select extract(epoch from max(processed_at) - min(processed_at)) * 1000 from ticket_events where ticket_id <> $2) span_ms`,
      [before, template],
    );
    if (pending > 0) failures.push(`dispatcher: ${pending} of ${pendingAtStart} events still unprocessed ${(drainMs / 1000).toFixed(0)} s after the lock's release (events/s is over those processed)`);
    if (rows[0].deliveries !== rows[0].processed) failures.push(`dispatcher: ${rows[0].processed} events processed but ${rows[0].deliveries} deliveries created (one each expected)`);
    return { events: pendingAtStart, processed, drainMs, perSec: processed / (drainMs / 1000), deliveries: rows[0].deliveries, spanMs: Number(rows[0].span_ms ?? 0), sawWaiter, steal };
  } finally {
    await lock.end().catch(() => {});
    await db.end().catch(() => {});
  }
}

/** Stops every child, then the PostgreSQL (in a process group of its own), and removes the temp folder; once. */
let cleaning = null;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const child of [...children]) {
      if (child === receiver?.child) child.connected && child.send('exit');
      else await stopChild(child);
    }
    if (receiver) await exited(receiver.child, 5_000);
    await embedded?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  })());
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void cleanup().finally(() => process.exit(130)));

// ---------------------------------------------------------------- run
const started = now();
let result = null;
try {
  embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), ...(STATEMENTS ? { settings: STATEMENTS_SETTINGS } : {}) });
  receiver = await forkServer('./bench-e2e-receiver.mjs');
  const target = `http://127.0.0.1:${receiver.port}/hook`;
  const ratio = (x, of) => `${(x / of).toFixed(2)}×`;
  say(`deskhooks end-to-end benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${CLIENTS} clients, ${SECONDS} s per phase`);

  const anchor = await startAnchor(embedded.url);
  const b = await deskhooksPart(embedded.url, target);
  const a = await anchor.finish();
  say(`a. anchor (Apollo + express + pg, 1 insert transaction):  ${a.perSec.toFixed(0)} createTicket/s (${a.count} in 2 × ${SECONDS / 2} s: ${a.halves.map((r) => r.toFixed(0)).join('/s before and ')}/s after deskhooks' part)`);
  const c1 = b.closed;
  say(`b. deskhooks, 10 rules (the 10th matches) → SEND_WEBHOOK:`);
  say(`   mutations      ${c1.mutationsPerSec.toFixed(0)}/s = ${ratio(c1.mutationsPerSec, a.perSec)} anchor        (target ≥ 0.70×)`);
  say(`   arrivals       ${c1.arrivalsPerSec.toFixed(0)}/s = ${ratio(c1.arrivalsPerSec, c1.mutationsPerSec)} mutations     (target ≥ 0.95×; ${c1.arrived}/${c1.count} arrived, counted from the first mutation sent to the last arrival)`);
  say(`   backlog drain  ${c1.backlogDrainMs.toFixed(0)} ms from the last answer to the last arrival   (target ≤ 1000 ms)`);
  if (c1.steal !== null) say(`   the host took ${c1.steal} % of this machine's core time (steal) from the closed loop's start to its last arrival`);
  if (c1.health) say(`   the webhook after the closed loop: breaker ${c1.health.breaker}, ${c1.health.recentAttempts} attempts in 5 min, ${(100 * c1.health.recentFailureRate).toFixed(1)} % failed`);
  if (CPU) {
    say(`   CPU per mutation in the closed loops, deskhooks' until the last request arrived (ms; the anchor's path has no rules and no deliveries):`);
    say(`     anchor     ${describeCpu(a.cpu)}`);
    say(`     deskhooks  ${describeCpu(c1.cpu)}`);
    say(`     deskhooks' open loop (below), until its requests arrived: ${describeCpu(b.open.cpu)}`);
  }
  if (WAL) {
    say(`   PostgreSQL's write-ahead log per mutation in the closed loops (the same spans as CPU):`);
    say(`     anchor     ${describeWal(a.wal)}`);
    say(`     deskhooks  ${describeWal(c1.wal)}`);
  }
  const o = b.open;
  say(`   open loop at ${o.rate.toFixed(0)}/s for ${SECONDS} s, mutation answered → request arrived (${o.arrived}/${o.answered} arrived, ${o.offered} offered):`);
  const ms = (x) => (x === undefined ? '–' : x.toFixed(1));
  say(`                  p50 ${ms(o.p50)} ms (target ≤ 25), p95 ${ms(o.p95)} ms, p99 ${ms(o.p99)} ms (target ≤ 150), max ${ms(o.max)} ms`);
  if (o.steal !== null) say(`     the host took ${o.steal} % of this machine's core time (steal) meanwhile, until the last arrival`);
  if (o.stages) {
    const st = (k) => (o.stages[k] ? `${ms(o.stages[k].p50)} (p90 ${ms(o.stages[k].p90)})` : '–');
    say(`     by stage, p50 ms: answered → marked ${st('answeredToMarked')}, marked → queued ${st('markedToQueued')}, queued → sent ${st('queuedToSent')}, sent → arrived ${st('sentToArrived')}`);
  }
  if (o.statements) for (const line of describeStatements(o.statements)) say(`     ${line}`);

  const c = await dispatcherPart(embedded.url);
  say(`c. dispatcher alone, ${c.events} TICKET_CREATED events × 10 rules, committed while it was stopped:`);
  say(`   ${c.perSec.toFixed(0)} events/s (target ≥ 3000): ${c.processed}/${c.events} processed${c.processed < c.events ? ' (INCOMPLETE: the wait is bounded by --wait)' : ''} in ${c.drainMs.toFixed(0)} ms from the release of the start lock${c.sawWaiter ? '' : ' (the dispatcher was not seen waiting on it within 15 s)'}; ${c.deliveries} deliveries by its stop; first to last processed_at ${c.spanMs.toFixed(0)} ms`);
  if (c.steal !== null) say(`   the host took ${c.steal} % of this machine's core time (steal) during the drain`);
  if (duplicates) say(`   the receiver saw ${duplicates} duplicate arrivals`);

  result = {
    anchorMutationsPerSec: Math.round(a.perSec),
    mutationsPerSec: Math.round(c1.mutationsPerSec),
    arrivalsPerSec: Math.round(c1.arrivalsPerSec),
    backlogDrainMs: Math.round(c1.backlogDrainMs),
    p50Ms: o.p50 === undefined ? null : +o.p50.toFixed(1),
    p95Ms: o.p95 === undefined ? null : +o.p95.toFixed(1),
    p99Ms: o.p99 === undefined ? null : +o.p99.toFixed(1),
    eventsPerSec: Math.round(c.perSec),
    ...(CPU ? { cpuMsPerMutation: { anchor: a.cpu, deskhooks: c1.cpu, deskhooksOpenLoop: o.cpu } } : {}),
    ...(WAL ? { walPerMutation: { anchor: a.wal, deskhooks: c1.wal } } : {}),
    ...(o.stages ? { latencyStagesMs: o.stages } : {}),
    ...(o.statements ? { openLoopStatementsPerMutation: o.statements } : {}),
    ...(o.steal !== null ? { hostStealPercent: { closedLoop: c1.steal, openLoop: o.steal, dispatcherDrain: c.steal } } : {}),
  };
} catch (err) {
  failures.push(`the run stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await cleanup();
}
say(`total ${((now() - started) / 1000).toFixed(0)} s; the machine is shared, figures move with its load`);
if (asJson && result) console.log(JSON.stringify(result));
for (const f of failures) console.error(`bench:e2e FAILED: ${f}`);
process.exit(failures.length ? 1 : 0);
