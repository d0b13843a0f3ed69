/**
 * Hostile receivers: answers whose bytes
 * PostgreSQL cannot store as they are (U+0000, invalid UTF-8, lone surrogates in JSON
 * escapes) in bodies, parsed values and headers, through every place an answer is
 * stored (attempt rows, responseData, notes, custom fields, temporary fields, success
 * comments, rule continuations); and recordings that fail outright (database triggers
 * that raise for marker values): one row that cannot be recorded never rolls back or
 * re-sends the others, and no delivery is attempted after its retry window.
 *
 * Timings are startTestApp's: interval 1 s, window 4 s, request timeout 2 s (a claim's
 * lease is 2 × 2 s + 5 s = 9 s). Every receiver listens on 127.0.0.1 and counts requests.
 */
import { createServer, type ServerResponse } from 'node:http';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { startReceiver, type Receiver, type ReceivedRequest, type Reply } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { createTicket, createWebhook, testWebhook } from '../support/fixtures.js';
import { hostileTally } from './tally.js';
import { isStorableText } from '../../src/delivery/storable.js';

const tally = hostileTally('receiver-answers');
const R = '\uFFFD';
const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
const WINDOW_MS = 4000;
/** the retry policy's pickup grace (min(interval, 5 s)) */
const GRACE_MS = 1000;

let app: TestApp;
let db: pg.Pool;
const closers: (() => Promise<unknown>)[] = [];
const errorLines: string[] = [];

interface DeliveryRow {
  status: string;
  attempt_count: number;
  last_error: string | null;
  notes: string[];
  response_data: Record<string, unknown> | null;
  first_attempt_at: Date | null;
  completed_at: Date | null;
}
interface AttemptRow {
  number: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  started_at: Date;
}

const deliveryRow = async (id: string): Promise<DeliveryRow> => (await db.query(`select * from deliveries where id = $1`, [id])).rows[0];
const attemptRows = async (id: string): Promise<AttemptRow[]> =>
  (await db.query(`select number, status_code, error, response_body, started_at from delivery_attempts where delivery_id = $1 order by number`, [id])).rows;

async function final(id: string, timeoutMs = 25_000): Promise<DeliveryRow> {
  return waitFor(async () => {
    const d = await deliveryRow(id);
    return FINAL.includes(d.status) && d;
  }, { timeoutMs, intervalMs: 50, what: `delivery ${id} to be final` });
}

async function ticketView(id: string): Promise<{ customFields: Record<string, unknown>; posts: { kind: string; text: string }[] }> {
  return (await app.ok(`query($id: ID!) { ticket(id: $id) { customFields posts { kind text } } }`, { id })).ticket;
}

async function receiver(handler?: (req: ReceivedRequest) => Reply | undefined): Promise<Receiver> {
  const r = await startReceiver(handler);
  closers.push(() => r.close());
  return r;
}

/** A receiver that writes `answer` as raw bytes (status line and headers included) and closes. */
async function rawReceiver(answer: Buffer): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = net.createServer((socket) => {
    let seen = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(seen.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (seen.length < end + 4 + length) return;
      requests++;
      socket.end(answer);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests: () => requests };
}

const bytes = (...parts: (string | number[] | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.isBuffer(p) ? p : Buffer.from(p))));

const hook = (name: string, url: string, more: Record<string, unknown> = {}) =>
  createWebhook(app, { name, method: 'POST', url, format: 'JSON', body: '{"t": "{{ ticket.id }}"}', ...more });

beforeAll(async () => {
  // the worker logs recording failures on console.error (level "error"): kept to prove a batch was mixed
  const original = console.error.bind(console);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    errorLines.push(args.map(String).join(' '));
    if (process.env.DESKHOOKS_TEST_LOG) original(...args);
  });
  app = await startTestApp();
  db = new pg.Pool({ connectionString: app.databaseUrl, max: 4 });
  for (const input of [
    { key: 'ans_text', name: 'Answer text', type: 'TEXT' },
    { key: 'ans_num', name: 'Answer number', type: 'NUMBER' },
  ]) {
    await app.ok(`mutation($input: CustomFieldInput!) { createCustomField(input: $input) { key } }`, { input });
  }
  // Recordings that fail for marker values, as a database that refuses a row would:
  // - an attempt row whose body holds POISONED-ROW, or of a delivery to /no-attempt-rows;
  // - any recording of a delivery to /unrecordable but its move to FAILED (claims pass);
  // - a post whose text holds TICKET-WORK-FAILS.
  await db.query(`
    create function hostile_attempts() returns trigger language plpgsql as $$
    begin
      if new.response_body like '%POISONED-ROW%' then raise exception 'hostile test: poisoned attempt row'; end if;
      if exists (select 1 from deliveries d where d.id = new.delivery_id and d.request->>'url' like '%/no-attempt-rows%') then
        raise exception 'hostile test: attempt rows of this delivery are refused';
      end if;
      return new;
    end $$;
    create trigger hostile_attempts before insert on delivery_attempts for each row execute function hostile_attempts();
    create function hostile_deliveries() returns trigger language plpgsql as $$
    begin
      if new.request->>'url' like '%/unrecordable%' and new.status <> 'FAILED'
         and (new.status is distinct from old.status or new.attempt_count is distinct from old.attempt_count) then
        raise exception 'hostile test: this delivery''s outcome is refused';
      end if;
      return new;
    end $$;
    create trigger hostile_deliveries before update on deliveries for each row execute function hostile_deliveries();
    create function hostile_posts() returns trigger language plpgsql as $$
    begin
      if new.text like '%TICKET-WORK-FAILS%' then raise exception 'hostile test: this comment is refused'; end if;
      return new;
    end $$;
    create trigger hostile_posts before insert on posts for each row execute function hostile_posts();
  `);
});

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await db?.end();
  await app?.stop();
  vi.restoreAllMocks();
});

describe.concurrent('receivers answering bytes PostgreSQL cannot store as they are', () => {
  it('200 and 500 bodies with NUL, invalid UTF-8 and surrogate bytes are recorded with U+FFFD; one request per attempt', async ({ expect }) => {
    const cases: { name: string; reply: Reply; body: string; status: string; attempts: number }[] = [
      { name: 'accepted NUL', reply: { status: 200, body: 'accepted\0', headers: { 'content-type': 'text/plain' } }, body: `accepted${R}`, status: 'SUCCEEDED', attempts: 1 },
      {
        name: 'binary 200',
        // 0xC3 0x28: a cut two-byte sequence; 0xFF: never UTF-8; 0xED 0xA0 0x80: an encoded surrogate (CESU-8)
        reply: { status: 200, body: bytes('ok ', [0xc3, 0x28], ' ', [0xff, 0x00, 0xed, 0xa0, 0x80], ' 😀'), headers: { 'content-type': 'application/octet-stream' } },
        body: `ok ${R}( ${R}${R}${R}${R}${R} 😀`,
        status: 'SUCCEEDED',
        attempts: 1,
      },
      { name: 'JSON-typed NUL', reply: { status: 200, body: '{"ok":true}\0', headers: { 'content-type': 'application/json' } }, body: `{"ok":true}${R}`, status: 'SUCCEEDED', attempts: 1 },
      { name: 'NUL only', reply: { status: 201, body: '\0\0\0' }, body: R.repeat(3), status: 'SUCCEEDED', attempts: 1 },
      {
        name: 'binary error page',
        reply: { status: 500, body: bytes('<h1>boom', [0x00], '</h1>', [0xff, 0xfe]), headers: { 'content-type': 'text/html' } },
        body: `<h1>boom${R}</h1>${R}${R}`,
        status: 'FAILED',
        attempts: 5, // at 0, 1, 2, 3 and 4 s (the window is 4 s); fewer when a loaded machine picks retries up late
      },
    ];
    const sent = await Promise.all(
      cases.map(async (c) => {
        const rx = await receiver(() => c.reply);
        const ticketId = await createTicket(app, `answer: ${c.name}`);
        const id = await testWebhook(app, await hook(`Answer ${c.name}`, `${rx.url}/in`), ticketId);
        return { c, rx, ticketId, id };
      }),
    );
    for (const { c, rx, ticketId, id } of sent) {
      const d = await final(id);
      tally.tried();
      expect([c.name, d.status]).toEqual([c.name, c.status]);
      expect(d.attempt_count).toBeGreaterThanOrEqual(Math.min(2, c.attempts));
      expect(d.attempt_count).toBeLessThanOrEqual(c.attempts);
      const attempts = await attemptRows(id);
      expect(attempts.map((a) => [a.number, a.response_body])).toEqual(Array.from({ length: d.attempt_count }, (_, i) => [i + 1, c.body]));
      // a final delivery is never claimed again: these are all the requests it will get
      expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(attempts.map((a) => String(a.number)));
      const { data } = await app.gql(`query($id: ID!) { delivery(id: $id) { attempts { responseBody } } }`, { id });
      expect(data.delivery.attempts.map((a: { responseBody: string }) => a.responseBody)).toEqual(attempts.map(() => c.body));
      if (c.status === 'FAILED') {
        const { posts } = await ticketView(ticketId);
        expect(posts.map((p) => p.text)).toEqual([expect.stringMatching(/^Webhook "Answer binary error page" failed after \d attempts: retry window of 4s exhausted/)]);
      }
    }
  });

  it('JSON answers with \\u0000 and \\ud800 escapes: custom field, temporary field, responseData, notes and success comment hold U+FFFD', async ({ expect }) => {
    const cut = `x${'😀'.repeat(40)}`; // its conversion note is cut at 57 characters, between the halves of a pair
    const answers = [
      // escapes in the JSON text
      { label: 'escapes', body: `{"result":{"id":"A\\u0000B","s":"x\\ud800y","n":"7\\u0000","\\u0000key":"k"},"cut":${JSON.stringify(cut)}}`, id: `A${R}B`, s: `x${R}y`, n: `7${R}` },
      // raw bytes inside JSON strings: NUL, a lone low surrogate's bytes, 0xFF
      { label: 'raw', body: bytes('{"result":{"id":"A', [0x00], 'B","s":"x', [0xed, 0xb0, 0x80], 'y","n":"', [0xff], '"},"cut":"-"}'), id: `A${R}B`, s: `x${R}${R}${R}y`, n: R },
    ];
    for (const a of answers) {
      const rx = await receiver(() => ({ status: 200, body: a.body, headers: { 'content-type': 'application/json; charset=utf-8' } }));
      const webhookId = await hook(`JSON ${a.label}`, `${rx.url}/json`, {
        responseMappings: [
          { path: 'result.id', target: 'CUSTOM_FIELD', field: 'ans_text' },
          { path: 'result.s', target: 'TEMPORARY', field: 's' },
          { path: 'result.n', target: 'CUSTOM_FIELD', field: 'ans_num' },
          { path: 'cut', target: 'CUSTOM_FIELD', field: 'ans_num' },
        ],
        successComment: 'temp={{ temp.s }} field={{ ticket.custom.ans_text }} status={{ response.status }} body={{ response.body }}',
      });
      const ticketId = await createTicket(app, `json ${a.label}`);
      const id = await testWebhook(app, webhookId, ticketId);
      const d = await final(id);
      tally.tried();
      expect(d.status, a.label).toBe('SUCCEEDED');
      expect(d.attempt_count).toBe(1);
      expect(rx.requests).toHaveLength(1);
      expect(d.response_data).toEqual({ ans_text: a.id, s: a.s, ans_num: a.label === 'raw' ? '-' : cut });
      expect(d.notes).toHaveLength(2);
      expect(d.notes[0]).toContain('custom field "ans_num" is NUMBER');
      for (const note of d.notes) expect(isStorableText(note), note).toBe(true);
      const view = await ticketView(ticketId);
      expect(view.customFields).toEqual({ ans_text: a.id });
      const storedBody = (await attemptRows(id))[0]!.response_body!;
      expect(view.posts.map((p) => p.text)).toEqual([`temp=${a.s} field=${a.id} status=200 body=${storedBody}`]);
      expect(storedBody.includes('\0')).toBe(false);
    }
  });

  it('XML and form answers with NUL, %00 and invalid UTF-8 reach fields and comments as U+FFFD', async ({ expect }) => {
    const answers = [
      { label: 'xml', type: 'text/xml', body: bytes('<reply><id>X', [0x00], 'Y</id><s a="', [0xff], '">s', [0xc3, 0x28], '</s></reply>'), id: `X${R}Y`, s: `s${R}(`, idPath: 'reply.id', sPath: 'reply.s' },
      { label: 'form', type: 'application/x-www-form-urlencoded', body: 'id=X%00Y&s=s%ED%A0%80%FF', id: `X${R}Y`, s: `s${R}${R}${R}${R}`, idPath: 'id', sPath: 's' },
      { label: 'text', type: 'text/plain', body: bytes('plain', [0x00], 'text'), id: null, s: null, idPath: 'id', sPath: 's' },
    ];
    for (const a of answers) {
      const rx = await receiver(() => ({ status: 200, body: a.body, headers: { 'content-type': a.type } }));
      const webhookId = await hook(`Parsed ${a.label}`, `${rx.url}/p`, {
        responseMappings: [
          { path: a.idPath, target: 'CUSTOM_FIELD', field: 'ans_text' },
          { path: a.sPath, target: 'TEMPORARY', field: 's' },
        ],
        successComment: '{{ temp.s }}|{{ ticket.custom.ans_text }}|{{ response.body }}',
      });
      const ticketId = await createTicket(app, `parsed ${a.label}`);
      const id = await testWebhook(app, webhookId, ticketId);
      const d = await final(id);
      tally.tried();
      expect(d.status, a.label).toBe('SUCCEEDED');
      expect(rx.requests).toHaveLength(1);
      const view = await ticketView(ticketId);
      const body = (await attemptRows(id))[0]!.response_body!;
      if (a.id === null) {
        expect(body).toBe(`plain${R}text`);
        expect(view.customFields).toEqual({});
        expect(view.posts.map((p) => p.text)).toEqual([`||plain${R}text`]);
      } else {
        expect(d.response_data).toEqual({ ans_text: a.id, s: a.s });
        expect(view.customFields).toEqual({ ans_text: a.id });
        expect(view.posts.map((p) => p.text)).toEqual([`${a.s}|${a.id}|${body}`]);
      }
    }
  });

  it('a rule continuation after an awaited webhook carries the answer\'s temporary values as U+FFFD', async ({ expect }) => {
    const rx = await receiver(() => ({ status: 200, body: '{"deal":"D\\u0000-\\udc00-1"}', headers: { 'content-type': 'application/json' } }));
    const webhookId = await hook('CRM with NUL', `${rx.url}/crm`, { responseMappings: [{ path: 'deal', target: 'TEMPORARY', field: 'deal' }] });
    await app.ok(`mutation($input: RuleInput!) { createRule(input: $input) { id } }`, {
      input: {
        name: 'NUL CRM',
        events: ['TICKET_CREATED'],
        conditions: [{ field: 'title', operator: 'CONTAINS', value: '[nul-crm]' }],
        actions: [
          { type: 'SEND_WEBHOOK', webhookId, awaitResponse: true },
          { type: 'SET_CUSTOM_FIELD', field: 'ans_text', value: 'deal {{ temp.deal }}' },
          { type: 'ADD_COMMENT', value: 'Deal {{ temp.deal }}' },
        ],
      },
    });
    const ticketId = await createTicket(app, '[nul-crm] lead');
    // both continuation actions (one transaction); one read may see the ticket row before
    // the commit and its posts after it, so wait for both
    const view = await waitFor(async () => {
      const v = await ticketView(ticketId);
      return v.posts.length > 0 && Object.keys(v.customFields).length > 0 && v;
    }, { what: 'the continuation comment and field' });
    tally.tried();
    expect(view.posts.map((p) => p.text)).toEqual([`Deal D${R}-${R}-1`]);
    expect(view.customFields).toEqual({ ans_text: `deal D${R}-${R}-1` });
    expect(rx.requests).toHaveLength(1);
    const { rows } = await db.query(`select payload from ticket_events where ticket_id = $1 and kind = 'CONTINUATION'`, [ticketId]);
    expect(rows.map((r) => r.payload.temp)).toEqual([{ deal: `D${R}-${R}-1` }]);
  });

  it('NUL and odd bytes in the status line and headers: a refused header is a failed attempt with a storable error; odd bytes elsewhere are read', async ({ expect }) => {
    const head = (...lines: (string | number[])[]) => bytes(...lines, '\r\nConnection: close\r\n');
    const cases = [
      { name: 'NUL in a header', answer: bytes(head('HTTP/1.1 200 OK\r\nContent-Type: text/plain', [0x00]), 'Content-Length: 2\r\n\r\nok'), status: 'FAILED', error: /Invalid header value char/ },
      { name: 'NUL in the reason phrase', answer: bytes(head('HTTP/1.1 200 O', [0x00], 'K'), 'Content-Type: application/json\r\nContent-Length: 19\r\n\r\n{"result":{"id":7}}'), status: 'SUCCEEDED', error: null },
      {
        name: 'Latin-1 and broken UTF-8 in headers',
        answer: bytes(head('HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=', [0xff, 0xc3, 0x28], '\r\nX-Reason: ', [0xed, 0xa0, 0x80]), 'Content-Length: 19\r\n\r\n{"result":{"id":7}}'),
        status: 'SUCCEEDED',
        error: null,
      },
    ];
    for (const c of cases) {
      const rx = await rawReceiver(c.answer);
      const webhookId = await hook(`Raw ${c.name}`, `${rx.url}/raw`, { responseMappings: [{ path: 'result.id', target: 'CUSTOM_FIELD', field: 'ans_text' }] });
      const ticketId = await createTicket(app, `raw ${c.name}`);
      const fieldsOf = async () => (await ticketView(ticketId)).customFields;
      let id = '';
      const check = async () => {
        id = await testWebhook(app, webhookId, ticketId);
        await final(id);
      };
      // an answer refused at the protocol level writes nothing to the ticket's fields
      if (c.status === 'FAILED') await tally.unchanged(fieldsOf, check, `custom fields after "${c.name}"`);
      else {
        await check();
        tally.tried();
      }
      const d = await deliveryRow(id);
      expect([c.name, d.status]).toEqual([c.name, c.status]);
      const attempts = await attemptRows(id);
      expect(rx.requests()).toBe(attempts.length);
      if (c.error) {
        expect(attempts.length).toBeGreaterThanOrEqual(2);
        for (const a of attempts) expect([a.status_code, a.error]).toEqual([null, expect.stringMatching(c.error)]);
      } else {
        expect(await fieldsOf()).toEqual({ ans_text: '7' });
      }
    }
  });
});

describe.concurrent('recordings that fail', () => {
  it('a batch with one row that cannot be recorded records the others exactly once, and that one without its body', async ({ expect }) => {
    const N = 8;
    // answers all N at once, so that their outcomes are recorded in one batch
    const gateRx = await startGate(N, (path) => (path.endsWith('/poison') ? 'POISONED-ROW' : `fine ${path}`));
    const webhookOk = await hook('Batch fine', `${gateRx.url}/fine`);
    const webhookPoison = await hook('Batch poisoned', `${gateRx.url}/poison`);
    const tickets = await Promise.all(Array.from({ length: N }, (_, i) => createTicket(app, `batch ${i}`)));
    const ids = await Promise.all(tickets.map((t, i) => testWebhook(app, i === 3 ? webhookPoison : webhookOk, t)));
    const done = await Promise.all(ids.map((id) => final(id)));
    tally.tried(N);
    expect(done.map((d) => [d.status, d.attempt_count])).toEqual(ids.map(() => ['SUCCEEDED', 1]));
    expect(gateRx.requests()).toBe(N);
    const attempts = await Promise.all(ids.map((id) => attemptRows(id)));
    expect(attempts.map((a) => a.length)).toEqual(ids.map(() => 1));
    attempts.forEach((a, i) => {
      if (i === 3) {
        expect(a[0]!.response_body).toBeNull();
        expect(a[0]!.error).toMatch(/^outcome could not be recorded: .*hostile test: poisoned attempt row/);
      } else {
        expect([a[0]!.response_body, a[0]!.error]).toEqual(['fine /fine', null]);
      }
    });
    expect(done[3]!.notes).toEqual([expect.stringMatching(/^outcome could not be recorded: .*hostile test: poisoned attempt row/)]);
    // the poisoned row shared its batch with others (the test proves what it claims)
    const together = errorLines.map((l) => /recording (\d+) delivery outcomes together failed/.exec(l)?.[1]).filter(Boolean).map(Number);
    expect(Math.max(0, ...together)).toBeGreaterThan(1);
  });

  it('a delivery none of whose outcomes can be recorded is sent once and FAILED after its retry window, unsent', async ({ expect }) => {
    const rx = await receiver(() => ({ status: 200, body: 'accepted' }));
    const ticketId = await createTicket(app, 'unrecordable');
    const id = await testWebhook(app, await hook('Unrecordable', `${rx.url}/unrecordable`), ticketId);
    const d = await final(id, 35_000);
    tally.tried();
    expect(d.status).toBe('FAILED');
    expect(rx.requests).toHaveLength(1);
    // claimed for its first attempt → the window runs from the claim, recorded or not
    const firstAt = d.first_attempt_at!.getTime();
    expect(rx.requests[0]!.at).toBeGreaterThanOrEqual(firstAt);
    expect(rx.requests.every((r) => r.at <= firstAt + WINDOW_MS + GRACE_MS)).toBe(true);
    expect(d.last_error).toMatch(/^retry window of 4 s passed before attempt 1 could start \(an earlier try was sent but its outcome could not be recorded/);
    expect(await attemptRows(id)).toEqual([]);
    const { posts } = await ticketView(ticketId);
    expect(posts.map((p) => p.text)).toEqual([expect.stringMatching(/^Webhook "Unrecordable" failed after 0 attempts: retry window of 4 s passed/)]);
  }, 45_000); // the claim's lease (9 s) must expire before the window closes it

  it('a delivery whose attempt rows cannot be stored still counts its attempts and ends FAILED at the end of its window', async ({ expect }) => {
    const rx = await receiver(() => ({ status: 503, body: 'busy' }));
    const ticketId = await createTicket(app, 'no attempt rows');
    const id = await testWebhook(app, await hook('No attempt rows', `${rx.url}/no-attempt-rows`), ticketId);
    const d = await final(id);
    tally.tried();
    // 5 attempts at 0, 1, 2, 3, 4 s (fewer when a loaded machine picks retries up late), each counted
    expect(d.status).toBe('FAILED');
    expect(d.attempt_count).toBeGreaterThanOrEqual(2);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(Array.from({ length: d.attempt_count }, (_, i) => String(i + 1)));
    expect(await attemptRows(id)).toEqual([]);
    expect(d.notes.length).toBeGreaterThanOrEqual(d.attempt_count);
    expect(d.notes.every((n) => /outcome could not be recorded: .*hostile test: attempt rows of this delivery are refused/.test(n))).toBe(true);
    const firstAt = rx.requests[0]!.at;
    expect(rx.requests.every((r) => r.at <= firstAt + WINDOW_MS + GRACE_MS)).toBe(true);
  });

  it('a success whose ticket work cannot be done is recorded SUCCEEDED with a note and not sent again', async ({ expect }) => {
    const rx = await receiver(() => ({ status: 200, body: '{"id":"42"}', headers: { 'content-type': 'application/json' } }));
    const webhookId = await hook('Ticket work fails', `${rx.url}/tw`, {
      responseMappings: [{ path: 'id', target: 'CUSTOM_FIELD', field: 'ans_text' }],
      successComment: 'TICKET-WORK-FAILS {{ response.status }}',
    });
    const ticketId = await createTicket(app, 'ticket work fails');
    const id = await testWebhook(app, webhookId, ticketId);
    const d = await final(id);
    tally.tried();
    expect([d.status, d.attempt_count]).toEqual(['SUCCEEDED', 1]);
    expect(rx.requests).toHaveLength(1);
    expect((await attemptRows(id)).map((a) => [a.status_code, a.response_body])).toEqual([[200, '{"id":"42"}']]);
    expect(d.notes).toEqual([expect.stringMatching(/^the answer could not be applied to the ticket .*: .*P0001.*hostile test: this comment is refused/)]);
    expect(d.notes[0]).not.toMatch(/values \([^)]*'/i); // the statement's shape only, never its values
    // the write-back was part of the transaction that failed: nothing of it is left
    expect(await ticketView(ticketId)).toEqual({ customFields: {}, posts: [] });
  });
});

/** Holds every request until `n` have arrived, then answers them all at once (200, text). */
async function startGate(n: number, body: (path: string) => string): Promise<{ url: string; requests: () => number }> {
  const held: { path: string; res: ServerResponse }[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      held.push({ path: req.url ?? '', res });
      if (held.length >= n) for (const h of held.splice(0)) h.res.writeHead(200, { 'content-type': 'text/plain' }).end(body(h.path));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests: () => count };
}

describe('the retry window starts when the first attempt is claimed', () => {
  it('first_attempt_at is written before the request goes out, and cleared when a stop aborts that first attempt', async () => {
    // a database of the test's own: it is read after the app has stopped
    const database = await createTestDatabase();
    const own = await startTestApp({}, { databaseUrl: database.url });
    const ownDb = new pg.Pool({ connectionString: own.databaseUrl, max: 1 });
    let stopped = false;
    try {
      const rx = await receiver(() => 'hang');
      const webhookId = await createWebhook(own, { name: 'Hangs', method: 'POST', url: `${rx.url}/hang`, format: 'JSON', body: '{}' });
      const id = await testWebhook(own, webhookId, await createTicket(own, 'hangs'));
      await rx.waitForRequests(1);
      const row = async () => (await ownDb.query(`select status, attempt_count, first_attempt_at, locked_until from deliveries where id = $1`, [id])).rows[0];
      const during = await row();
      tally.tried();
      expect(during.attempt_count).toBe(0);
      expect(during.first_attempt_at.getTime()).toBeLessThanOrEqual(rx.requests[0]!.at);
      await own.stop(); // aborts the hanging attempt and gives its claim back
      stopped = true;
      expect(await row()).toEqual({ status: 'PENDING', attempt_count: 0, first_attempt_at: null, locked_until: null });
    } finally {
      if (!stopped) await own.stop();
      await ownDb.end();
      await database.drop();
    }
  });
});
