/**
 * Unexpected database errors reach the log as the statement's shape, the SQLSTATE and
 * the names involved: never the ticket text, the e-mail or any other value of the
 * statement. Provoked for real: check constraints added to the test database make
 * PostgreSQL refuse rows that GraphQL and REST would otherwise store.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { createLogger } from '../../src/log.js';
import { User } from '../../src/db/entities/index.js';
import { ADMIN_EMAIL, ADMIN_KEY, basic, startTestApp, type TestApp } from '../support/app.js';
import { createTicket } from '../support/fixtures.js';
import { FxCreateTicketDocument, FxCreateUserDocument } from '../generated/graphql.js';

const MARK = 'SECRET-MARK';
const TICKET_TEXT = `${MARK} Jane Roe cannot log in since her divorce`;
const EMAIL = 'jane.roe@private.example';
const PHONE = '+1 555 0199';
const VALUES = [MARK, 'Jane Roe', 'divorce', EMAIL, 'jane.roe', PHONE, '555 0199'];

let app: TestApp;
let databaseUrl: string;
const lines: string[] = [];
const consoleLines: string[] = [];

/** what the log holds: the logger's lines and anything written to the console meanwhile */
function logged(): string {
  return [...lines, ...consoleLines].join('\n');
}

function expectNoValues(text: string) {
  for (const v of VALUES) expect(text, `the log holds "${v}"`).not.toContain(v);
  // no single-quoted literal other than the placeholder
  expect(text).not.toMatch(/'[^?'\n][^'\n]*'/);
}

beforeAll(async () => {
  const capture = (line: string) => void lines.push(line);
  app = await startTestApp({ DESKHOOKS_LOG_LEVEL: 'debug' }, { log: createLogger('debug', 'deskhooks', { out: capture, err: capture }) });
  databaseUrl = app.databaseUrl;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`alter table tickets add constraint test_no_marked_tickets check (position('${MARK}' in description) = 0)`);
    await client.query(`alter table posts add constraint test_no_marked_posts check (position('${MARK}' in text) = 0)`);
    await client.query(`alter table users add constraint test_no_private_emails check (email not like '%@private.example')`);
  } finally {
    await client.end();
  }
  for (const method of ['error', 'warn', 'log'] as const) vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleLines.push(args.map(String).join(' ')));
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await app?.stop();
});

describe('an unexpected database error in the log', () => {
  it('GraphQL createTicket refused by PostgreSQL: INTERNAL_SERVER_ERROR, the log has the shape and no ticket text', async () => {
    lines.length = 0;
    const r = await app.gql(FxCreateTicketDocument, { input: { title: `About ${EMAIL}`, description: TICKET_TEXT } });
    expect(r.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(r.errors?.[0]?.message).toBe('internal server error');
    const text = logged();
    expect(text).toContain('unexpected error in a GraphQL operation');
    expect(text).toContain('SQLSTATE 23514 check_violation; table public.tickets; constraint test_no_marked_tickets');
    // the statement's shape: its columns, and placeholders where its values were
    expect(text).toMatch(/statement: .*insert into tickets \([^)]*title[^)]*description[^)]*\) values \(\$1, \$2/);
    expectNoValues(text);
  });

  it('GraphQL createUser refused: the e-mail, name and phone stay out of the log', async () => {
    lines.length = 0;
    const r = await app.gql(FxCreateUserDocument, { input: { name: 'Jane Roe', email: EMAIL, role: 'CLIENT', phone: PHONE } });
    expect(r.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const text = logged();
    expect(text).toContain('constraint test_no_private_emails');
    expect(text).toMatch(/statement: insert into "users" \(/);
    expectNoValues(text);
  });

  it('REST comment refused: the express error handler logs the shape, not the text', async () => {
    const ticketId = await createTicket(app, { title: 'plain', description: 'plain' });
    lines.length = 0;
    const res = await fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic(ADMIN_EMAIL, ADMIN_KEY) },
      body: JSON.stringify({ text: TICKET_TEXT }),
    });
    expect(res.status).toBe(500);
    const text = logged();
    expect(text).toContain('unexpected HTTP error');
    expect(text).toContain('constraint test_no_marked_posts');
    expect(text).toMatch(/statement: insert into "posts" \(/);
    expectNoValues(text);
  });

  it('errors raised by pg and by MikroORM directly, logged by any call site: no value, no detail', async () => {
    lines.length = 0;
    const log = createLogger('error', 'deskhooks', { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    try {
      // pg: the value is in the message and in `where`/`detail`
      const pgError = await pool.query(`select $1::int`, [TICKET_TEXT]).catch((e: unknown) => e);
      log.error('a worker step failed', pgError);
      const jsonError = await pool.query(`select $1::jsonb`, [`{"text": "${TICKET_TEXT}\\u0000"}`]).catch((e: unknown) => e);
      log.error('recording failed', jsonError);
      // MikroORM: the statement with its parameters inlined, and PostgreSQL's detail (Key (email)=(…))
      const em = app.services.orm.em.fork();
      em.create(User, { name: 'Jane Roe', email: ADMIN_EMAIL, role: 'AGENT', apiKeyHash: `hash-of-${EMAIL}`, phone: PHONE });
      const ormError = await em.flush().catch((e: unknown) => e);
      expect(String((ormError as Error).message)).toContain(ADMIN_EMAIL); // the raw error does hold the values
      log.error('a dispatcher step failed', ormError);
      // the same, when a call site passes only the message
      log.error('job engine error', (ormError as Error).message);
    } finally {
      await pool.end();
    }
    const text = lines.join('\n');
    expect(text).toContain('SQLSTATE 22P02 invalid_text_representation; invalid input syntax for type integer: "?"');
    expect(text).toContain('SQLSTATE 22P05 untranslatable_character');
    expect(text).toContain('SQLSTATE 23505 unique_violation; table public.users; constraint users_email_unique');
    expect(text).toMatch(/job engine error: duplicate key value violates unique constraint "users_email_unique"; statement: insert into "users"/);
    expectNoValues(text);
    expect(text).not.toContain(ADMIN_EMAIL);
    expect(text).not.toContain('hash-of');
  });
});
