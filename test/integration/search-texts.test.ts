/**
 * The delivery log's search texts are written by the indexer (src/delivery/text-indexer.ts),
 * not in the transactions that create deliveries or record their answers: those only
 * queue the delivery. Here on a migrated database of its own, with no app running, so that
 * no other indexer takes the queue's rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { indexDeliveryTexts } from '../../src/delivery/index.js';
import { connectTestDatabase } from '../support/db.js';

let database: Awaited<ReturnType<typeof connectTestDatabase>>;
let client: pg.Client;

beforeAll(async () => {
  database = await connectTestDatabase();
  client = database.client;
});

afterAll(async () => {
  await database?.close();
});

/** A delivery row as the dispatcher writes it (final, so that nothing would send it). */
async function insertDelivery(q: pg.Client, url: string, body: string): Promise<string> {
  const id = randomUUID();
  await q.query(
    `insert into deliveries (id, webhook_name, status, request, processing, notes, attempt_count, created_at)
     values ($1, 'crm', 'SUCCEEDED', jsonb_build_object('method', 'POST', 'url', $2::text, 'headers', '{}'::jsonb, 'body', $3::text),
             '{"responseMappings":[],"successComment":"","context":{}}', '[]', 1, now())`,
    [id, url, body],
  );
  return id;
}

const attempt = (id: string, n: number, answer: string) =>
  client.query(`insert into delivery_attempts (delivery_id, number, started_at, duration_ms, status_code, response_body, succeeded)
                values ($1, $2, now(), 5, 200, $3, true)`, [id, n, answer]);
const queue = (id: string) => client.query(`insert into delivery_text_queue (delivery_id) values ($1)`, [id]);
const textOf = async (id: string) =>
  (await client.query(`select url, body, last_response, last_response_number from delivery_texts where delivery_id = $1`, [id])).rows[0] ?? null;
const queued = async () => Number((await client.query(`select count(*) from delivery_text_queue`)).rows[0].count);
const drainQueue = async () => {
  while ((await indexDeliveryTexts(client, 100)) > 0);
};

describe('search texts', () => {
  it('a new delivery is queued in its own transaction, and its texts are written by the indexer', async () => {
    await client.query('begin');
    const id = await insertDelivery(client, 'https://crm.example.com/hooks/new', '{"order": "A-1001"}');
    // in the inserting transaction: queued, no text written (no trigram index work there)
    expect((await client.query(`select count(*)::int as n from delivery_text_queue where delivery_id = $1`, [id])).rows[0].n).toBe(1);
    expect(await textOf(id)).toBeNull();
    await client.query('commit');

    await drainQueue();
    expect(await textOf(id)).toEqual({ url: 'https://crm.example.com/hooks/new', body: '{"order": "A-1001"}', last_response: null, last_response_number: null });
    expect(await queued()).toBe(0);
  });

  it("an answer becomes the delivery's last_response; an older answer never replaces a newer one", async () => {
    const id = await insertDelivery(client, 'https://sms.example.com/send', 'hello');
    await drainQueue();
    await attempt(id, 1, 'Receipt-OLD1');
    await queue(id);
    await drainQueue();
    expect(await textOf(id)).toMatchObject({ last_response: 'Receipt-OLD1', last_response_number: 1 });

    // an indexer that read before attempt 2 was stored (a concurrent one) leaves attempt 2's text alone
    await client.query(`update delivery_texts set last_response = 'Receipt-NEW2', last_response_number = 2 where delivery_id = $1`, [id]);
    await queue(id);
    await drainQueue();
    expect(await textOf(id)).toMatchObject({ last_response: 'Receipt-NEW2', last_response_number: 2 });

    await attempt(id, 3, 'Receipt-NEWEST3');
    await queue(id);
    await drainQueue();
    expect(await textOf(id)).toMatchObject({ last_response: 'Receipt-NEWEST3', last_response_number: 3 });
  });

  it('works through the queue in batches of the given size, oldest first; a delivery queued twice is written once', async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await insertDelivery(client, `https://crm.example.com/${i}`, `b${i}`));
    await queue(ids[0]!);
    expect(await queued()).toBe(5);
    expect(await indexDeliveryTexts(client, 2)).toBe(2);
    expect(await textOf(ids[0]!)).not.toBeNull();
    expect(await textOf(ids[3]!)).toBeNull();
    expect(await indexDeliveryTexts(client, 2)).toBe(2);
    expect(await indexDeliveryTexts(client, 2)).toBe(1);
    expect(await indexDeliveryTexts(client, 2)).toBe(0);
    for (const id of ids) expect(await textOf(id)).not.toBeNull();
  });

  it('a batch writes its texts in delivery id order, whatever the order they were queued in (two batches sharing deliveries lock them in one order)', async () => {
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await insertDelivery(client, `https://crm.example.com/order/${i}`, `o${i}`));
    await drainQueue();
    // answered in the reverse of their id order: queued in that order
    const reversed = [...ids].sort().reverse();
    for (const id of reversed) {
      await attempt(id, 1, `answer ${id}`);
      await queue(id);
    }
    // every row the indexer writes fires BEFORE INSERT first (an existing row's then takes the ON CONFLICT update)
    await client.query(`create temporary table written (n serial, delivery_id uuid)`);
    await client.query(`create function pg_temp.log_written() returns trigger language plpgsql as $$
      begin insert into written (delivery_id) values (new.delivery_id); return new; end $$`);
    await client.query(`create trigger log_written before insert on delivery_texts for each row execute function pg_temp.log_written()`);
    try {
      await drainQueue();
      const written = (await client.query(`select delivery_id::text as id from written order by n`)).rows.map((r) => r.id as string);
      expect(written).toEqual([...ids].sort());
    } finally {
      await client.query(`drop trigger log_written on delivery_texts`);
    }
  });
});
