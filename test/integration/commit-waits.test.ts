/**
 * Which commits wait for the disk (src/db/session-settings.ts, COMMIT_WITHOUT_WAITING):
 * the dispatcher's batches and the records of attempts do not; a ticket written by the API
 * and a delivery's claim (after which the request leaves) do. Read from inside each
 * transaction: triggers note the session's synchronous_commit as each kind of row is
 * written, and are dropped when the test ends.
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { waitFor } from '../support/wait.js';
import { createRule, createTicket, createWebhook, deliveryReaches, jsonHook, test, type TestApp } from '../support/fixtures.js';
import type { TicketEvent } from '../generated/graphql.js';

const NOTE_MODES = `
  create table test_commit_modes (n bigserial primary key, what text not null, mode text not null);
  create function test_note_mode() returns trigger language plpgsql as $$
  begin
    insert into test_commit_modes (what, mode) values (tg_argv[0], current_setting('synchronous_commit'));
    return null;
  end $$;
  create trigger test_ticket_written after insert on tickets for each row execute function test_note_mode('ticket written by the API');
  create trigger test_events_dispatched after update on ticket_events for each row
    when (old.processed_at is null and new.processed_at is not null) execute function test_note_mode('dispatcher batch');
  create trigger test_delivery_queued after insert on deliveries for each row execute function test_note_mode('delivery queued');
  create trigger test_delivery_claimed after update on deliveries for each row
    when (new.locked_until is not null and new.locked_until is distinct from old.locked_until) execute function test_note_mode('claim');
  create trigger test_attempt_recorded after insert on delivery_attempts for each row execute function test_note_mode('attempt recorded');`;

const DROP_NOTES = `
  drop trigger if exists test_ticket_written on tickets;
  drop trigger if exists test_events_dispatched on ticket_events;
  drop trigger if exists test_delivery_queued on deliveries;
  drop trigger if exists test_delivery_claimed on deliveries;
  drop trigger if exists test_attempt_recorded on delivery_attempts;
  drop function if exists test_note_mode();
  drop table if exists test_commit_modes;`;

/** Runs `fn` with the notes in place; returns each kind of write with the modes it was written in. */
async function commitModes(app: TestApp, fn: () => Promise<void>): Promise<Record<string, string[]>> {
  const db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
  try {
    await db.query(NOTE_MODES);
    await fn();
    const { rows } = await db.query<{ what: string; mode: string }>(`select what, mode from test_commit_modes order by n`);
    const modes: Record<string, string[]> = {};
    for (const r of rows) (modes[r.what] ??= []).includes(r.mode) || modes[r.what]!.push(r.mode);
    return modes;
  } finally {
    await db.query(DROP_NOTES).finally(() => db.end());
  }
}

async function sendOnNewTickets(app: TestApp, url: string): Promise<void> {
  const hook = await createWebhook(app, jsonHook('new tickets', url));
  await createRule(app, { name: 'new tickets', events: ['TICKET_CREATED' as TicketEvent], conditions: [], actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }] });
}

async function onlyDelivery(app: TestApp): Promise<string> {
  return waitFor(async () => (await app.services.orm.em.fork().getConnection().execute(`select id from deliveries`))[0]?.id as string | undefined, { what: 'the delivery' });
}

describe('commits that wait for the disk', () => {
  test('a ticket and a claim wait; the dispatcher batch and the recorded attempt do not (a success)', async ({ startApp, startReceiver }) => {
    const app = await startApp();
    const receiver = await startReceiver();
    await sendOnNewTickets(app, receiver.url);
    const modes = await commitModes(app, async () => {
      await createTicket(app, 'printer on fire');
      await deliveryReaches(app, await onlyDelivery(app), 'SUCCEEDED');
    });
    expect(modes).toEqual({
      'ticket written by the API': ['on'],
      'dispatcher batch': ['off'],
      'delivery queued': ['off'],
      claim: ['on'],
      'attempt recorded': ['off'],
    });
  });

  test('a failed attempt (judged by the breaker, in a transaction of its own) is recorded without waiting too', async ({ startApp, startReceiver }) => {
    const app = await startApp();
    const receiver = await startReceiver();
    receiver.fallback = { status: 500, body: 'down' };
    await sendOnNewTickets(app, receiver.url);
    const modes = await commitModes(app, async () => {
      await createTicket(app, 'printer on fire');
      await deliveryReaches(app, await onlyDelivery(app), 'RETRYING');
    });
    expect(modes['claim']).toEqual(['on']);
    expect(modes['attempt recorded']).toEqual(['off']);
  });
});
