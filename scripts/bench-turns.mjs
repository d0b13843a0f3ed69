#!/usr/bin/env node
/**
 * PER_TICKET turns benchmark (not a test). Uses the BUILT code (`npm run bench:turns`
 * builds first) on a database of its own (embedded, or BENCH_DATABASE_URL's server).
 *
 * A ticket's chain of N PENDING deliveries of a PER_TICKET webhook waits behind its head,
 * RETRYING an hour later (a receiver that was down). Meanwhile another webhook's deliveries
 * come due, 5 at a time, and are claimed: the claim serves every webhook, so what the
 * blocked chain costs each claim is what every webhook waits. Also: what the insert costs
 * per 1,000 deliveries, of a PER_TICKET webhook (behind an open one) and of a NONE one
 * (the insert trigger of Migration20261201000300DeliveryTurns runs for both).
 *
 *   npm run bench:turns                 human-readable report
 *   npm run bench:turns -- --json       one JSON object
 *   options: --blocked=50000 --claims=12
 */
import pg from 'pg';
import { benchDatabase } from './bench-db.mjs';
import { asJson, now, opt, pct, say } from './bench-cli.mjs';
import { openOrm } from '../dist/db/orm.js';
import { createClaimer } from '../dist/delivery/scheduling.js';

const BLOCKED = opt('blocked', 50_000);
const CLAIMS = opt('claims', 12);
const SCHEDULING = { probeIntervalMs: 30_000, retryWindowMs: 86_400_000, startDeadlineMs: 86_405_000 };
const REQUEST = JSON.stringify({ method: 'POST', url: 'http://127.0.0.1:9/x', headers: {}, body: '' });

const database = await benchDatabase('turns');
const orm = await openOrm(database.url);
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  const q = (sql, params) => pool.query(sql, params);
  const webhook = async (name, ordering) =>
    (
      await q(
        `insert into webhooks (name, method, url, format, headers, response_mappings, created_at, updated_at, ordering, max_concurrency)
         values ($1, 'POST', 'http://127.0.0.1:9/x', 'JSON', '[]', '[]', now(), now(), $2, 1000) returning id`,
        [name, ordering],
      )
    ).rows[0].id;
  const ordered = await webhook('ordered', 'PER_TICKET');
  const other = await webhook('other', 'NONE');
  await q(`insert into webhook_states (webhook_id) values ($1), ($2) on conflict do nothing`, [ordered, other]);
  const user = (await q(`insert into users (name, email, role, api_key_hash, created_at) values ('bench', 'bench@example.com', 'ADMIN', 'x', now()) returning id`)).rows[0].id;
  const ticket = (await q(`insert into tickets (title, description, status, priority, requester_id, custom_fields, created_at, updated_at) values ('bench', '', 'OPEN', 'LOW', $1, '{}', now(), now()) returning id`, [user])).rows[0].id;
  /** n deliveries of `webhookId` for the ticket, in one statement; returns its milliseconds */
  const insert = async (webhookId, status, due, n) => {
    const t0 = now();
    await q(
      `insert into deliveries (id, webhook_id, webhook_name, ticket_id, event, status, request, next_attempt_at, notes, processing, created_at)
       select gen_random_uuid(), $1, 'bench', $2, 'TICKET_CREATED', $3, $4::jsonb, $5, '[]', '{"responseMappings": [], "successComment": ""}', now()
         from generate_series(1, $6)`,
      [webhookId, ticket, status, REQUEST, due, n],
    );
    return now() - t0;
  };

  await insert(ordered, 'RETRYING', new Date(Date.now() + 3_600_000), 1);
  const orderedMs = await insert(ordered, 'PENDING', new Date(), BLOCKED);
  // not due for two hours: they only make the table as big as the chain
  const unorderedMs = await insert(other, 'PENDING', new Date(Date.now() + 7_200_000), BLOCKED);
  const waiting = (await q(`select count(*)::int as n from deliveries where awaits_turn`)).rows[0].n;
  await q('vacuum analyze deliveries');

  const claim = createClaimer(pool, SCHEDULING);
  const times = [];
  for (let i = 0; i < CLAIMS; i++) {
    await insert(other, 'PENDING', new Date(), 5);
    const t0 = now();
    const claimed = (await claim(10, new Date(), 60_000)).deliveries;
    times.push(now() - t0);
    if (claimed.some((d) => d.webhookId === String(ordered))) throw new Error('a delivery waiting behind its ticket’s head was claimed');
    await q(`update deliveries set status = 'SUCCEEDED', locked_until = null, next_attempt_at = null where id = any($1::uuid[])`, [claimed.map((d) => d.id)]);
  }
  times.sort((a, b) => a - b);
  const result = {
    blocked: BLOCKED,
    waitingOutOfTheQueue: waiting,
    claimMedianMs: Number(pct(times, 50).toFixed(2)),
    claimMaxMs: Number(times[times.length - 1].toFixed(2)),
    insertPerThousandMs: { perTicketBehindOpen: Number(((orderedMs * 1000) / BLOCKED).toFixed(1)), none: Number(((unorderedMs * 1000) / BLOCKED).toFixed(1)) },
  };
  say(`PER_TICKET chain of ${BLOCKED} behind a retrying head (${waiting} waiting out of the claim's queue):`);
  say(`  claim of another webhook's 5 due deliveries: median ${result.claimMedianMs} ms, max ${result.claimMaxMs} ms (${CLAIMS} claims)`);
  say(`  insert per 1,000 deliveries: PER_TICKET behind an open one ${result.insertPerThousandMs.perTicketBehindOpen} ms, NONE ${result.insertPerThousandMs.none} ms`);
  if (asJson) console.log(JSON.stringify(result));
} finally {
  await pool.end();
  await orm.close();
  await database.stop();
}
