/**
 * Migrations that repair what an earlier version left: each is run over rows written as
 * that version wrote them (the schema migrated up to the migration before it).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions } from '../../src/db/index.js';
import { createTestDatabase } from '../support/db.js';

async function migratedTo(last: string, run: (sql: (query: string, params?: unknown[]) => Promise<any[]>, rest: () => Promise<void>) => Promise<void>): Promise<void> {
  const database = await createTestDatabase({ empty: true });
  const orm = await MikroORM.init(ormOptions(database.url));
  try {
    await orm.getMigrator().up({ to: last });
    const conn = orm.em.fork().getConnection();
    await run((query, params = []) => conn.execute(query, params), async () => void (await orm.getMigrator().up()));
  } finally {
    await orm.close();
    await database.drop();
  }
}

describe('Migration20261201000200CancelDeletedWebhookDeliveries', () => {
  it('cancels the open deliveries of webhooks deleted before, with a note; the others are untouched', async () => {
    await migratedTo('Migration20261201000100TimersOnStatus', async (sql, rest) => {
      await sql(`insert into webhooks (id, name, method, url, format, headers, response_mappings, created_at, updated_at) values (7, 'kept', 'POST', 'http://x', 'JSON', '[]', '[]', now(), now())`);
      const rows: [string, number | null, string][] = [
        [randomUUID(), null, 'RETRYING'],
        [randomUUID(), null, 'PENDING'],
        [randomUUID(), null, 'SUCCEEDED'],
        [randomUUID(), 7, 'PENDING'],
      ];
      for (const [id, webhookId, status] of rows) {
        await sql(`insert into deliveries (id, webhook_id, webhook_name, status, request, processing, notes, created_at) values (?, ?, ?, ?, '{}', '{}', '[]', now())`, [id, webhookId, webhookId ? 'kept' : 'Gone', status]);
      }
      await rest();
      const got = await sql(`select id, status, notes from deliveries`);
      const of = (id: string) => got.find((r) => r.id === id);
      expect(rows.map(([id]) => of(id)?.status)).toEqual(['CANCELLED', 'CANCELLED', 'SUCCEEDED', 'PENDING']);
      expect(of(rows[0]![0])?.notes).toEqual(['cancelled: its webhook "Gone" was deleted']);
      expect(of(rows[2]![0])?.notes).toEqual([]);
    });
  });
});

describe('Migration20261201000100TimersOnStatus', () => {
  it('plans again the timers that a reopen left unplanned', async () => {
    await migratedTo('Migration20261201000000DropDuplicateAttemptIndex', async (sql, rest) => {
      const [user] = await sql(`insert into users (name, email, role, api_key_hash, created_at) values ('a', 'a@example.com', 'ADMIN', 'x', now()) returning id`);
      const [ticket] = await sql(`insert into tickets (title, description, status, priority, requester_id, custom_fields, created_at, updated_at) values ('t', 'd', 'OPEN', 'LOW', ?, '{}', now(), now()) returning id`, [user.id]);
      const [rule] = await sql(`insert into rules (name, description, enabled, position, continue_after_match, events, match, conditions, actions, created_at, updated_at) values ('r', '', true, 0, false, '["TIMER"]', 'ALL', '[]', '[]', now(), now()) returning id`);
      await sql(`insert into timer_rules (rule_id, match, clocks, millis) values (?, 'ALL', '{created}', '{3600000}')`, [rule.id]);
      // as the old trigger order left it: reopened, its timer unplanned
      await sql(`insert into rule_timers (rule_id, ticket_id, due_at, clock_start) select ?, id, null, created_at from tickets where id = ?`, [rule.id, ticket.id]);
      await rest();
      const [timer] = await sql(`select due_at is not null as due from rule_timers where ticket_id = ?`, [ticket.id]);
      expect(timer).toEqual({ due: true });
    });
  });
});

describe('Migration20261202000100TimersOnNewTickets', () => {
  it('plans the open tickets created without an event (by an automated call) before it; a CLOSED one stays unplanned', async () => {
    await migratedTo('Migration20261201000500TimerAnyOnce', async (sql, rest) => {
      const [user] = await sql(`insert into users (name, email, role, api_key_hash, created_at) values ('a', 'a@example.com', 'ADMIN', 'x', now()) returning id`);
      const [rule] = await sql(`insert into rules (name, description, enabled, position, continue_after_match, events, match, conditions, actions, created_at, updated_at) values ('r', '', true, 0, false, '["TIMER"]', 'ALL', '[]', '[]', now(), now()) returning id`);
      await sql(`insert into timer_rules (rule_id, match, clocks, millis) values (?, 'ALL', '{created}', '{3600000}')`, [rule.id]);
      // as an automated createTicket wrote them: the ticket alone, no TICKET_CREATED, no timer
      const insert = (status: string) => sql(`insert into tickets (title, description, status, priority, requester_id, custom_fields, created_at, updated_at) values ('t', 'd', ?, 'LOW', ?, '{}', now(), now()) returning id`, [status, user.id]);
      const [open] = await insert('OPEN');
      await insert('CLOSED');
      expect(await sql(`select count(*)::int as n from rule_timers`)).toEqual([{ n: 0 }]);
      await rest();
      expect(await sql(`select ticket_id::text as ticket, (extract(epoch from r.due_at - t.created_at))::int as s from rule_timers r join tickets t on t.id = r.ticket_id order by ticket_id`)).toEqual([{ ticket: String(open.id), s: 3600 }]);
    });
  });
});

describe('Migration20261201000300DeliveryTurns', () => {
  it('marks the open chains of PER_TICKET webhooks: the earliest open one has the turn, the later ones wait and get it in order', async () => {
    await migratedTo('Migration20261201000200CancelDeletedWebhookDeliveries', async (sql, rest) => {
      const [user] = await sql(`insert into users (name, email, role, api_key_hash, created_at) values ('a', 'a@example.com', 'ADMIN', 'x', now()) returning id`);
      const [ticket] = await sql(`insert into tickets (title, description, status, priority, requester_id, custom_fields, created_at, updated_at) values ('t', 'd', 'OPEN', 'LOW', ?, '{}', now(), now()) returning id`, [user.id]);
      await sql(`insert into webhooks (id, name, method, url, format, headers, response_mappings, ordering, created_at, updated_at) values (7, 'ordered', 'POST', 'http://x', 'JSON', '[]', '[]', 'PER_TICKET', now(), now())`);
      await sql(`insert into webhooks (id, name, method, url, format, headers, response_mappings, created_at, updated_at) values (8, 'any', 'POST', 'http://x', 'JSON', '[]', '[]', now(), now())`);
      const rows: [string, number, string][] = [
        [randomUUID(), 7, 'SUCCEEDED'],
        [randomUUID(), 7, 'RETRYING'],
        [randomUUID(), 7, 'PENDING'],
        [randomUUID(), 7, 'PENDING'],
        [randomUUID(), 8, 'PENDING'],
        [randomUUID(), 8, 'PENDING'],
      ];
      for (const [id, webhookId, status] of rows) {
        await sql(`insert into deliveries (id, webhook_id, webhook_name, ticket_id, status, request, processing, notes, next_attempt_at, created_at) values (?, ?, 'w', ?, ?, '{}', '{}', '[]', now(), now())`, [id, webhookId, ticket.id, status]);
      }
      await rest();
      const flags = async () => {
        const got = await sql(`select id, per_ticket, awaits_turn from deliveries`);
        return rows.map(([id]) => got.find((r) => r.id === id)).map((r) => [r.per_ticket, r.awaits_turn]);
      };
      expect(await flags()).toEqual([[false, false], [true, false], [true, true], [true, true], [false, false], [false, false]]);
      await sql(`update deliveries set status = 'FAILED', next_attempt_at = null, completed_at = now() where id = ?`, [rows[1]![0]]);
      expect((await flags()).slice(1, 4)).toEqual([[true, false], [true, false], [true, true]]);
    });
  });
});
