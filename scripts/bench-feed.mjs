#!/usr/bin/env node
/**
 * Live-feed benchmark (not a test): does a subscriber that reads nothing slow deliveries
 * down? Runs deskhooks in-process (built code) on an embedded PostgreSQL with a local
 * receiver, queues N deliveries twice and times until all are SUCCEEDED:
 *   A. with no subscriber;
 *   B. with a graphql-ws subscriber to deliveryEvents whose socket stops reading for
 *      10 s (it receives nothing during the run; the server must not buffer without bound
 *      nor slow the workers).
 *
 * With --split, this process runs DESKHOOKS_ROLE=api (GraphQL, the feed) and a second
 * process runs DESKHOOKS_ROLE=worker, as "Scaling out" in the README describes: the feed's
 * cost then lands on the api process, not on the sends.
 *
 *   npm run build && node scripts/bench-feed.mjs [--n=2000] [--split] [--json]
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { loadConfig } from '../dist/config.js';
import { startDeskhooks } from '../dist/main.js';
import { startEmbeddedPostgres } from '../dist/db/embedded.js';
import pg from 'pg';
import { spawn } from 'node:child_process';
import { freePort } from '../dist/db/embedded.js';

const args = process.argv.slice(2);
const N = Number(args.find((a) => a.startsWith('--n='))?.split('=')[1] ?? 2000);
const asJson = args.includes('--json');
const split = args.includes('--split');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'deskhooks-feed-'));
const embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'pg') });
const receiver = createServer((req, res) => req.resume().on('end', () => res.end('ok')));
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const target = `http://127.0.0.1:${receiver.address().port}/hook`;

const KEY = 'feed-bench-admin-key-0123456789';
const env = {
  DATABASE_URL: embedded.url, DATA_DIR: dir, HOST: '127.0.0.1',
  BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: KEY, DESKHOOKS_SECRET_KEY: 'feed-bench-secret-0123456789',
  DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', DESKHOOKS_LOG_LEVEL: 'error',
};
const config = loadConfig({ ...env, PORT: '0', DESKHOOKS_ROLE: split ? 'api' : 'all' });
const app = await startDeskhooks(config);
let workerProc = null;
if (split) {
  workerProc = spawn(process.execPath, [new URL('../dist/cli.js', import.meta.url).pathname], {
    env: { ...process.env, ...env, PORT: String(await freePort()), DESKHOOKS_ROLE: 'worker', DESKHOOKS_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  workerProc.stdout.on('data', (d) => (out += d));
  while (!/listening on/.test(out)) await sleep(50);
}
const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 4 });
const gql = async (query, variables = {}) => {
  const r = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify({ query, variables }) });
  return (await r.json()).data;
};
const webhookId = (await gql(`mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`, { i: { name: 'feed', method: 'POST', url: target, format: 'JSON', body: '{"a": "b"}' } })).createWebhook.id;

async function run() {
  const ids = Array.from({ length: N }, () => randomUUID());
  const request = JSON.stringify({ method: 'POST', url: target, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: '{"a":"b"}' });
  const t0 = performance.now();
  await pool.query(
    `insert into deliveries (id, webhook_id, webhook_name, status, request, processing, notes, next_attempt_at, created_at, attempt_count)
     select id, $3, 'feed', 'PENDING', $2::jsonb, '{"responseMappings":[],"successComment":"","context":{}}'::jsonb, '[]'::jsonb, now(), now(), 0 from unnest($1::uuid[]) id`,
    [ids, request, webhookId],
  );
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { rows } = await pool.query(`select count(*)::int n from deliveries where id = any($1::uuid[]) and status = 'SUCCEEDED'`, [ids]);
    if (rows[0].n === N) break;
    await sleep(20);
  }
  return performance.now() - t0;
}

/** A graphql-ws subscriber that stops reading its socket right after subscribing. */
async function stalledSubscriber(pause = true, selection = 'type at delivery { id status request { url body headers } } attempt { number statusCode }', args = '') {
  const ws = new WebSocket(`${app.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${KEY}` } }));
  await new Promise((r) => ws.once('message', r));
  ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { deliveryEvents${args} { ${selection} } }` } }));
  while (app.services.deliveryEvents.subscriberCount < 1) await sleep(5);
  if (pause) ws._socket.pause();
  return ws;
}

await run(); // warm-up
const without = await run();
if (process.env.FEED_DEBUG) {
  const r = await stalledSubscriber(false);
  console.log('reading subscriber', Math.round(await run()));
  r.terminate();
  await sleep(500);
  const x = await stalledSubscriber(true, 'type', '(filter: { webhookId: "999" })');
  console.log('stalled, matching nothing', Math.round(await run()));
  x.terminate();
  await sleep(500);
  const m = await stalledSubscriber(true, 'type');
  console.log('stalled, minimal selection', Math.round(await run()));
  m.terminate();
  await sleep(500);
}
const ws = await stalledSubscriber();
const stallStart = performance.now();
const withStalled = await run();
const memory = process.memoryUsage().rss;
while (performance.now() - stallStart < 10_000) await sleep(50);
ws.terminate();
while (app.services.deliveryEvents.subscriberCount > 0) await sleep(5);
// A-B-A: the table grows with every run, so compare with the runs on both sides
const withoutAfter = await run();

const baseline = (without + withoutAfter) / 2;
const result = { topology: split ? 'api process + worker process' : 'one process (DESKHOOKS_ROLE=all)', deliveries: N, msWithoutSubscriber: Math.round(without), msWithStalledSubscriber: Math.round(withStalled), msWithoutSubscriberAfter: Math.round(withoutAfter), ratio: +(withStalled / baseline).toFixed(2), rssMiB: Math.round(memory / 2 ** 20) };
if (asJson) console.log(JSON.stringify(result));
else console.log(`${result.topology}, ${N} deliveries: ${result.msWithoutSubscriber} ms without a subscriber, ${result.msWithStalledSubscriber} ms with a subscriber that reads nothing, ${result.msWithoutSubscriberAfter} ms without again (×${result.ratio} of the mean without); RSS ${result.rssMiB} MiB`);
if (workerProc) {
  workerProc.kill('SIGTERM');
  await new Promise((r) => workerProc.once('exit', r));
}
await pool.end();
await app.stop();
receiver.close();
await embedded.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
