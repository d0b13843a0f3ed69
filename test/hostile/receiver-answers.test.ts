/**
 * Hostile receivers: answers whose bytes
 * PostgreSQL cannot store as they are (U+0000, invalid UTF-8, lone surrogates in JSON
 * escapes) in bodies, parsed values and headers, through every place an answer is
 * stored (attempt rows, responseData, notes, custom fields, temporary fields, success
 * comments, rule continuations); and recordings that fail outright (database triggers
 * that raise for marker values, poisonRows): one row that cannot be recorded never rolls
 * back or re-sends the others, and no delivery is attempted after its retry window.
 *
 * Each test has an app, a database and a clock of its own (test/support/fixtures.ts):
 * retries a minute apart in a four-minute window, attempted when the test moves the clock
 * to them (retryUntilFinal); a request times out after 2 s of real time, and a claim's
 * lease is 2 × 2 s + 5 s = 9 s of clock time. Every receiver listens on 127.0.0.1 and
 * counts requests.
 */
import { createServer, type ServerResponse } from 'node:http';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, vi } from 'vitest';
import { startTestApp } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { startRawReceiver, type ReceivedRequest, type Reply } from '../support/receiver.js';
import type { TestClock } from '../support/clock.js';
import { waitFor } from '../support/wait.js';
import {
  createCustomFields, createTicket, createWebhook, drainWorker, retryUntilFinal, test, testWebhook, type Receiver, type TestApp,
} from '../support/fixtures.js';
import type { WebhookInput } from '../generated/graphql.js';
import { hostileTally } from './tally.js';
import { isStorableText } from '../../src/delivery/storable.js';

const tally = hostileTally('receiver-answers');
const R = '\uFFFD';
const FINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
/** the fixture app's retry window (clock time), and the policy's pickup grace past it (min(interval, 5 s)) */
const WINDOW_MS = 4 * 60_000;
const GRACE_MS = 5_000;
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

/** What the tests use, bound to the test's app, clock and database. */
interface Hostile {
  app: TestApp;
  clock: TestClock;
  db: pg.Pool;
  receiver(handler?: (req: ReceivedRequest) => Reply | undefined): Promise<Receiver>;
  /** a receiver that writes `answer` as raw bytes (status line and headers included) and closes */
  rawReceiver(answer: Buffer): Promise<{ url: string; requests: () => number }>;
  /** holds every request until `n` have arrived, then answers them all at once (200, text) */
  gate(n: number, body: (path: string) => string): Promise<{ url: string; requests: () => number }>;
  /** a JSON POST webhook to `url` whose body names the ticket; returns its id */
  hook(name: string, url: string, more?: Partial<WebhookInput>): Promise<string>;
  row(id: string): Promise<DeliveryRow>;
  attempts(id: string): Promise<AttemptRow[]>;
  /** waits until the delivery is final without moving the clock: for one that needs no retry */
  final(id: string): Promise<DeliveryRow>;
  /** serves the delivery's retries by moving the clock to each (retryUntilFinal); the announced retry times with it */
  finalByClock(id: string): Promise<DeliveryRow & { slots: number[] }>;
  ticketView(id: string): Promise<{ customFields: Record<string, unknown>; posts: { kind: string; text: string }[] }>;
  /**
   * Makes the database refuse rows as a hostile one would: a trigger `before <on>` on
   * `table` that raises "hostile test: <message>" for the rows `when` matches (plpgsql,
   * `new` and `old`). Dropped when the test ends.
   */
  poisonRows(table: string, on: 'insert' | 'update', when: string, message: string): Promise<void>;
}

const it = test.extend<{ h: Hostile }>({
  h: async ({ app, clock, startReceiver }, use) => {
    const db = new pg.Pool({ connectionString: app.databaseUrl, max: 4 });
    const closers: (() => Promise<unknown>)[] = [];
    const triggers: string[] = [];
    const listen = async (server: net.Server) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    };
    const row = async (id: string): Promise<DeliveryRow> => (await db.query(`select * from deliveries where id = $1`, [id])).rows[0];
    await createCustomFields(app, [
      { key: 'ans_text', name: 'Answer text', type: 'TEXT' },
      { key: 'ans_num', name: 'Answer number', type: 'NUMBER' },
    ]);
    const h: Hostile = {
      app,
      clock,
      db,
      receiver: (handler) => startReceiver(handler),
      async rawReceiver(answer) {
        const rx = await startRawReceiver(answer, { endAfterAnswer: true });
        closers.push(rx.close);
        return rx;
      },
      async gate(n, body) {
        const held: { path: string; res: ServerResponse }[] = [];
        let count = 0;
        const server = createServer((req, res) => {
          req.resume();
          req.on('end', () => {
            count++;
            held.push({ path: req.url ?? '', res });
            if (held.length >= n) for (const x of held.splice(0)) x.res.writeHead(200, { 'content-type': 'text/plain' }).end(body(x.path));
          });
        });
        closers.push(() => {
          server.closeAllConnections();
          return new Promise((resolve) => server.close(resolve));
        });
        return { url: await listen(server), requests: () => count };
      },
      hook: (name, url, more = {}) => createWebhook(app, { name, method: 'POST', url, format: 'JSON', body: '{"t": "{{ ticket.id }}"}', ...more }),
      row,
      attempts: async (id) =>
        (await db.query(`select number, status_code, error, response_body, started_at from delivery_attempts where delivery_id = $1 order by number`, [id])).rows,
      final: (id) =>
        waitFor(async () => {
          const d = await row(id);
          return FINAL.includes(d.status) && d;
        }, { intervalMs: 50, what: `delivery ${id} to be final` }),
      async finalByClock(id) {
        const { slots } = await retryUntilFinal(app, clock, id);
        return { ...(await row(id)), slots };
      },
      ticketView: async (id) => (await app.ok(`query($id: ID!) { ticket(id: $id) { customFields posts { kind text } } }`, { id })).ticket,
      async poisonRows(table, on, when, message) {
        const name = `hostile_${triggers.length + 1}`;
        await db.query(`
          create function ${name}() returns trigger language plpgsql as $$
          begin
            if ${when} then raise exception 'hostile test: ${message.replaceAll("'", "''")}'; end if;
            return new;
          end $$;
          create trigger ${name} before ${on} on ${table} for each row execute function ${name}();`);
        triggers.push(`drop trigger ${name} on ${table}; drop function ${name}();`);
      },
    };
    try {
      await use(h);
    } finally {
      await Promise.all(closers.map((close) => close()));
      // the app may serve the next test: it gets the database without them
      if (triggers.length) await db.query(triggers.join('\n')).catch(() => {});
      await db.end();
    }
  },
});

const bytes = (...parts: (string | number[] | Buffer)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.isBuffer(p) ? p : Buffer.from(p))));

beforeAll(() => {
  // the worker logs recording failures on console.error (level "error"): kept to prove a batch was mixed
  const original = console.error.bind(console);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    errorLines.push(args.map(String).join(' '));
    if (process.env.DESKHOOKS_TEST_LOG) original(...args);
  });
});

afterAll(() => {
  vi.restoreAllMocks();
});

describe.concurrent('receivers answering bytes PostgreSQL cannot store as they are', () => {
  it('200 and 500 bodies with NUL, invalid UTF-8 and surrogate bytes are recorded with U+FFFD; one request per attempt', async ({ h, expect }) => {
    const cases: { name: string; reply: Reply; body: string; status: string; attempts: number }[] = [
      // (NULs a whole body ends in are padding, dropped: delivery.test.ts; these are inside)
      { name: 'accepted NUL', reply: { status: 200, body: 'acc\0epted', headers: { 'content-type': 'text/plain' } }, body: `acc${R}epted`, status: 'SUCCEEDED', attempts: 1 },
      {
        name: 'binary 200',
        // 0xC3 0x28: a cut two-byte sequence; 0xFF: never UTF-8; 0xED 0xA0 0x80: an encoded surrogate (CESU-8)
        reply: { status: 200, body: bytes('ok ', [0xc3, 0x28], ' ', [0xff, 0x00, 0xed, 0xa0, 0x80], ' 😀'), headers: { 'content-type': 'application/octet-stream' } },
        body: `ok ${R}( ${R}${R}${R}${R}${R} 😀`,
        status: 'SUCCEEDED',
        attempts: 1,
      },
      { name: 'JSON-typed NUL', reply: { status: 200, body: '\0{"ok":true}', headers: { 'content-type': 'application/json' } }, body: `${R}{"ok":true}`, status: 'SUCCEEDED', attempts: 1 },
      { name: 'NULs before a space', reply: { status: 201, body: '\0\0\0 ' }, body: `${R.repeat(3)} `, status: 'SUCCEEDED', attempts: 1 },
      {
        name: 'binary error page',
        reply: { status: 500, body: bytes('<h1>boom', [0x00], '</h1>', [0xff, 0xfe]), headers: { 'content-type': 'text/html' } },
        body: `<h1>boom${R}</h1>${R}${R}`,
        status: 'FAILED',
        attempts: 5, // at 0, 1, 2, 3 and 4 minutes (the window is 4 minutes)
      },
    ];
    const sent = await Promise.all(
      cases.map(async (c) => {
        const rx = await h.receiver(() => c.reply);
        const ticketId = await createTicket(h.app, `answer: ${c.name}`);
        const id = await testWebhook(h.app, await h.hook(`Answer ${c.name}`, `${rx.url}/in`), ticketId);
        return { c, rx, ticketId, id };
      }),
    );
    // the ones answered at once first, then the retried one by the clock
    for (const { c, rx, ticketId, id } of sent) {
      const d = c.attempts > 1 ? await h.finalByClock(id) : await h.final(id);
      tally.tried();
      expect([c.name, d.status, d.attempt_count]).toEqual([c.name, c.status, c.attempts]);
      const attempts = await h.attempts(id);
      expect(attempts.map((a) => [a.number, a.response_body])).toEqual(Array.from({ length: d.attempt_count }, (_, i) => [i + 1, c.body]));
      // a final delivery is never claimed again: these are all the requests it will get
      expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(attempts.map((a) => String(a.number)));
      const { data } = await h.app.gql(`query($id: ID!) { delivery(id: $id) { attempts { responseBody } } }`, { id });
      expect(data.delivery.attempts.map((a: { responseBody: string }) => a.responseBody)).toEqual(attempts.map(() => c.body));
      if (c.status === 'FAILED') {
        const { posts } = await h.ticketView(ticketId);
        expect(posts.map((p) => p.text)).toEqual([expect.stringMatching(/^Webhook "Answer binary error page" failed after 5 attempts: retry window of 4m exhausted/)]);
      }
    }
  });

  it('JSON answers with \\u0000 and \\ud800 escapes: custom field, temporary field, responseData, notes and success comment hold U+FFFD', async ({ h, expect }) => {
    const cut = `x${'😀'.repeat(40)}`; // its conversion note is cut at 57 characters, between the halves of a pair
    const answers = [
      // escapes in the JSON text
      { label: 'escapes', body: `{"result":{"id":"A\\u0000B","s":"x\\ud800y","n":"7\\u0000","\\u0000key":"k"},"cut":${JSON.stringify(cut)}}`, id: `A${R}B`, s: `x${R}y`, n: `7${R}` },
      // raw bytes inside JSON strings: NUL, a lone low surrogate's bytes, 0xFF
      { label: 'raw', body: bytes('{"result":{"id":"A', [0x00], 'B","s":"x', [0xed, 0xb0, 0x80], 'y","n":"', [0xff], '"},"cut":"-"}'), id: `A${R}B`, s: `x${R}${R}${R}y`, n: R },
    ];
    for (const a of answers) {
      const rx = await h.receiver(() => ({ status: 200, body: a.body, headers: { 'content-type': 'application/json; charset=utf-8' } }));
      const webhookId = await h.hook(`JSON ${a.label}`, `${rx.url}/json`, {
        responseMappings: [
          { path: 'result.id', target: 'CUSTOM_FIELD', field: 'ans_text' },
          { path: 'result.s', target: 'TEMPORARY', field: 's' },
          { path: 'result.n', target: 'CUSTOM_FIELD', field: 'ans_num' },
          { path: 'cut', target: 'CUSTOM_FIELD', field: 'ans_num' },
        ],
        successComment: 'temp={{ temp.s }} field={{ ticket.custom.ans_text }} status={{ response.status }} body={{ response.body }}',
      });
      const ticketId = await createTicket(h.app, `json ${a.label}`);
      const id = await testWebhook(h.app, webhookId, ticketId);
      const d = await h.final(id);
      tally.tried();
      expect(d.status, a.label).toBe('SUCCEEDED');
      expect(d.attempt_count).toBe(1);
      expect(rx.requests).toHaveLength(1);
      expect(d.response_data).toEqual({ ans_text: a.id, s: a.s, ans_num: a.label === 'raw' ? '-' : cut });
      expect(d.notes).toHaveLength(2);
      expect(d.notes[0]).toContain('custom field "ans_num" is NUMBER');
      for (const note of d.notes) expect(isStorableText(note), note).toBe(true);
      const view = await h.ticketView(ticketId);
      expect(view.customFields).toEqual({ ans_text: a.id });
      const storedBody = (await h.attempts(id))[0]!.response_body!;
      expect(view.posts.map((p) => p.text)).toEqual([`temp=${a.s} field=${a.id} status=200 body=${storedBody}`]);
      expect(storedBody.includes('\0')).toBe(false);
    }
  });

  it('XML and form answers with NUL, %00 and invalid UTF-8 reach fields and comments as U+FFFD', async ({ h, expect }) => {
    const answers = [
      { label: 'xml', type: 'text/xml', body: bytes('<reply><id>X', [0x00], 'Y</id><s a="', [0xff], '">s', [0xc3, 0x28], '</s></reply>'), id: `X${R}Y`, s: `s${R}(`, idPath: 'reply.id', sPath: 'reply.s' },
      { label: 'form', type: 'application/x-www-form-urlencoded', body: 'id=X%00Y&s=s%ED%A0%80%FF', id: `X${R}Y`, s: `s${R}${R}${R}${R}`, idPath: 'id', sPath: 's' },
      { label: 'text', type: 'text/plain', body: bytes('plain', [0x00], 'text'), id: null, s: null, idPath: 'id', sPath: 's' },
    ];
    for (const a of answers) {
      const rx = await h.receiver(() => ({ status: 200, body: a.body, headers: { 'content-type': a.type } }));
      const webhookId = await h.hook(`Parsed ${a.label}`, `${rx.url}/p`, {
        responseMappings: [
          { path: a.idPath, target: 'CUSTOM_FIELD', field: 'ans_text' },
          { path: a.sPath, target: 'TEMPORARY', field: 's' },
        ],
        successComment: '{{ temp.s }}|{{ ticket.custom.ans_text }}|{{ response.body }}',
      });
      const ticketId = await createTicket(h.app, `parsed ${a.label}`);
      const id = await testWebhook(h.app, webhookId, ticketId);
      const d = await h.final(id);
      tally.tried();
      expect(d.status, a.label).toBe('SUCCEEDED');
      expect(rx.requests).toHaveLength(1);
      const view = await h.ticketView(ticketId);
      const body = (await h.attempts(id))[0]!.response_body!;
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

  it('a rule continuation after an awaited webhook carries the answer\'s temporary values as U+FFFD', async ({ h, expect }) => {
    const rx = await h.receiver(() => ({ status: 200, body: '{"deal":"D\\u0000-\\udc00-1"}', headers: { 'content-type': 'application/json' } }));
    const webhookId = await h.hook('CRM with NUL', `${rx.url}/crm`, { responseMappings: [{ path: 'deal', target: 'TEMPORARY', field: 'deal' }] });
    await h.app.ok(`mutation($input: RuleInput!) { createRule(input: $input) { id } }`, {
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
    const ticketId = await createTicket(h.app, '[nul-crm] lead');
    // both continuation actions (one transaction); one read may see the ticket row before
    // the commit and its posts after it, so wait for both
    const view = await waitFor(async () => {
      const v = await h.ticketView(ticketId);
      return v.posts.length > 0 && Object.keys(v.customFields).length > 0 && v;
    }, { what: 'the continuation comment and field' });
    tally.tried();
    expect(view.posts.map((p) => p.text)).toEqual([`Deal D${R}-${R}-1`]);
    expect(view.customFields).toEqual({ ans_text: `deal D${R}-${R}-1` });
    expect(rx.requests).toHaveLength(1);
    const { rows } = await h.db.query(`select payload from ticket_events where ticket_id = $1 and kind = 'CONTINUATION'`, [ticketId]);
    expect(rows.map((r) => r.payload.temp)).toEqual([{ deal: `D${R}-${R}-1` }]);
  });

  it('NUL and odd bytes in the status line and headers: a header the HTTP client refuses is read leniently (the status decides, a storable note says why); odd bytes elsewhere are read', async ({ h, expect }) => {
    const head = (...lines: (string | number[])[]) => bytes(...lines, '\r\nConnection: close\r\n');
    const json = 'Content-Type: application/json\r\nContent-Length: 19\r\n\r\n{"result":{"id":7}}';
    const cases = [
      { name: 'NUL in a header', answer: bytes(head('HTTP/1.1 200 OK\r\nX-Reason: a', [0x00], 'b'), json), notes: [/^attempt 1: the answer is not valid HTTP\/1\.1 \(Invalid header value char\); it was read leniently$/] },
      { name: 'NUL in the reason phrase', answer: bytes(head('HTTP/1.1 200 O', [0x00], 'K'), json), notes: [] },
      {
        name: 'Latin-1 and broken UTF-8 in headers',
        answer: bytes(head('HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=', [0xff, 0xc3, 0x28], '\r\nX-Reason: ', [0xed, 0xa0, 0x80]), 'Content-Length: 19\r\n\r\n{"result":{"id":7}}'),
        notes: [],
      },
    ];
    for (const c of cases) {
      const rx = await h.rawReceiver(c.answer);
      const webhookId = await h.hook(`Raw ${c.name}`, `${rx.url}/raw`, { responseMappings: [{ path: 'result.id', target: 'CUSTOM_FIELD', field: 'ans_text' }] });
      const ticketId = await createTicket(h.app, `raw ${c.name}`);
      const id = await testWebhook(h.app, webhookId, ticketId);
      await h.final(id);
      tally.tried();
      const d = await h.row(id);
      expect([c.name, d.status]).toEqual([c.name, 'SUCCEEDED']);
      expect(d.notes, c.name).toEqual(c.notes.map((n) => expect.stringMatching(n)));
      for (const n of d.notes) expect(isStorableText(n)).toBe(true);
      expect(rx.requests()).toBe(1);
      expect((await h.ticketView(ticketId)).customFields, c.name).toEqual({ ans_text: '7' });
    }
  });
});

describe.concurrent('recordings that fail', () => {
  it('a batch with one row that cannot be recorded records the others exactly once, and that one without its body', async ({ h, expect }) => {
    const N = 8;
    await h.poisonRows('delivery_attempts', 'insert', `new.response_body like '%POISONED-ROW%'`, 'poisoned attempt row');
    // answers all N at once, so that their outcomes are recorded in one batch
    const gateRx = await h.gate(N, (path) => (path.endsWith('/poison') ? 'POISONED-ROW' : `fine ${path}`));
    const webhookOk = await h.hook('Batch fine', `${gateRx.url}/fine`);
    const webhookPoison = await h.hook('Batch poisoned', `${gateRx.url}/poison`);
    const tickets = await Promise.all(Array.from({ length: N }, (_, i) => createTicket(h.app, `batch ${i}`)));
    const ids = await Promise.all(tickets.map((t, i) => testWebhook(h.app, i === 3 ? webhookPoison : webhookOk, t)));
    const done = await Promise.all(ids.map((id) => h.final(id)));
    tally.tried(N);
    expect(done.map((d) => [d.status, d.attempt_count])).toEqual(ids.map(() => ['SUCCEEDED', 1]));
    expect(gateRx.requests()).toBe(N);
    const attempts = await Promise.all(ids.map((id) => h.attempts(id)));
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

  it('a delivery none of whose outcomes can be recorded is sent once and FAILED after its retry window, its attempt recorded as of unknown outcome', async ({ h, expect }) => {
    // every recording of a delivery to /unrecordable but its move to FAILED (claims pass)
    await h.poisonRows(
      'deliveries',
      'update',
      `new.request->>'url' like '%/unrecordable%' and new.status <> 'FAILED'
       and (new.status is distinct from old.status or new.attempt_count is distinct from old.attempt_count)`,
      "this delivery's outcome is refused",
    );
    const rx = await h.receiver(() => ({ status: 200, body: 'accepted' }));
    const ticketId = await createTicket(h.app, 'unrecordable');
    const id = await testWebhook(h.app, await h.hook('Unrecordable', `${rx.url}/unrecordable`), ticketId);
    // sent, and its outcome refused every way (the recorder gave up: after the attempt left the
    // worker's slots, its batched recording still runs): the delivery stays claimed until its lease (9 s) expires
    await waitFor(() => rx.requests.length === 1 && h.app.worker!.busy === 0 && errorLines.some((l) => l.includes(`delivery ${id}: its outcome could not be recorded`)), {
      what: 'the attempt sent and its outcome refused',
    });
    expect((await h.row(id)).status).toBe('PENDING');
    // past its window, and so past its lease: claimed again, and found too late to be sent
    h.clock.advance(WINDOW_MS + GRACE_MS + 1_000);
    await drainWorker(h.app);
    const d = await h.final(id);
    tally.tried();
    expect(d.status).toBe('FAILED');
    expect(rx.requests).toHaveLength(1);
    // claimed for its first attempt → the window runs from the claim, recorded or not
    expect(rx.requests[0]!.at).toBeGreaterThanOrEqual(d.first_attempt_at!.getTime());
    // the attempt that went out is on the record, its outcome unknown, started when it was claimed
    const unknown = `outcome unknown: the worker that claimed this attempt at ${d.first_attempt_at!.toISOString()} stopped before recording its outcome, so the request may have reached the receiver`;
    expect(d.attempt_count).toBe(1);
    expect(d.last_error).toBe(`retry window of 240 s passed before attempt 2 could start; attempt 1's ${unknown}`);
    expect((await h.attempts(id)).map((a) => [a.number, a.status_code, a.error, a.started_at.getTime()])).toEqual([[1, null, unknown, d.first_attempt_at!.getTime()]]);
    const { posts } = await h.ticketView(ticketId);
    expect(posts.map((p) => p.text)).toEqual([`Webhook "Unrecordable" failed after 1 attempt: ${d.last_error}.`]);
  });

  it('a delivery whose attempt rows cannot be stored still counts its attempts and ends FAILED at the end of its window', async ({ h, expect }) => {
    await h.poisonRows(
      'delivery_attempts',
      'insert',
      `exists (select 1 from deliveries d where d.id = new.delivery_id and d.request->>'url' like '%/no-attempt-rows%')`,
      'attempt rows of this delivery are refused',
    );
    const rx = await h.receiver(() => ({ status: 503, body: 'busy' }));
    const ticketId = await createTicket(h.app, 'no attempt rows');
    const id = await testWebhook(h.app, await h.hook('No attempt rows', `${rx.url}/no-attempt-rows`), ticketId);
    const d = await h.finalByClock(id);
    tally.tried();
    // 5 attempts at 0, 1, 2, 3, 4 minutes, each counted
    expect([d.status, d.attempt_count]).toEqual(['FAILED', 5]);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(Array.from({ length: d.attempt_count }, (_, i) => String(i + 1)));
    expect(await h.attempts(id)).toEqual([]);
    expect(d.notes.length).toBeGreaterThanOrEqual(d.attempt_count);
    expect(d.notes.every((n) => /outcome could not be recorded: .*hostile test: attempt rows of this delivery are refused/.test(n))).toBe(true);
    // none after the window: every retry was due within it
    const firstAt = d.first_attempt_at!.getTime();
    expect(d.slots).toHaveLength(4);
    expect(d.slots.every((at) => at <= firstAt + WINDOW_MS + GRACE_MS)).toBe(true);
  });

  it('a success whose ticket work cannot be done is recorded SUCCEEDED with a note and not sent again', async ({ h, expect }) => {
    await h.poisonRows('posts', 'insert', `new.text like '%TICKET-WORK-FAILS%'`, 'this comment is refused');
    const rx = await h.receiver(() => ({ status: 200, body: '{"id":"42"}', headers: { 'content-type': 'application/json' } }));
    const webhookId = await h.hook('Ticket work fails', `${rx.url}/tw`, {
      responseMappings: [{ path: 'id', target: 'CUSTOM_FIELD', field: 'ans_text' }],
      successComment: 'TICKET-WORK-FAILS {{ response.status }}',
    });
    const ticketId = await createTicket(h.app, 'ticket work fails');
    const id = await testWebhook(h.app, webhookId, ticketId);
    const d = await h.final(id);
    tally.tried();
    expect([d.status, d.attempt_count]).toEqual(['SUCCEEDED', 1]);
    expect(rx.requests).toHaveLength(1);
    expect((await h.attempts(id)).map((a) => [a.status_code, a.response_body])).toEqual([[200, '{"id":"42"}']]);
    expect(d.notes).toEqual([expect.stringMatching(/^the answer could not be applied to the ticket .*: .*P0001.*hostile test: this comment is refused/)]);
    expect(d.notes[0]).not.toMatch(/values \([^)]*'/i); // the statement's shape only, never its values
    // the write-back was part of the transaction that failed: nothing of it is left
    expect(await h.ticketView(ticketId)).toEqual({ customFields: {}, posts: [] });
  });
});

describe('the retry window starts when the first attempt is claimed', () => {
  it('first_attempt_at is written before the request goes out, and cleared when a stop aborts that first attempt', async ({ startReceiver, expect }) => {
    // a database of the test's own: it is read after the app has stopped
    const database = await createTestDatabase();
    const own = await startTestApp({}, { databaseUrl: database.url });
    const ownDb = new pg.Pool({ connectionString: own.databaseUrl, max: 1 });
    let stopped = false;
    try {
      const rx = await startReceiver(() => 'hang');
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
