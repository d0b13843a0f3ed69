/**
 * The delivery engine through the public GraphQL API against real HTTP receivers on
 * 127.0.0.1. Retries are driven by the clock (test/support/clock.ts): the interval is a
 * minute and the window four, so a retry is attempted when the test moves the clock to it,
 * and "not before its slot" and "none after the window" are checked by moving the clock
 * and waking the worker — never by real time passing.
 *
 * Every test has a deskhooks, a database and receivers of its own, so the tests run
 * concurrently (the file is bound by the longest one, not their sum).
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import type { TestClock } from '../support/clock.js';
import { waitFor } from '../support/wait.js';
import { comments, createCustomFields, createRule, createTicket, createWebhook, drainWorker, settled, test, testWebhook, type Receiver, type TestApp } from '../support/fixtures.js';
import {
  DlCancelDeliveryDocument, DlCreateTicketDocument, DlCreateWebhookDocument,
  DlDeliveriesDocument, DlDeliveryDocument, DlPreviewWebhookDocument, DlRedeliverDocument, DlTestWebhookDocument,
  DlTicketDocument, DlUpdateTicketDocument, DlWebhookDocument,
  type DlDeliveryFieldsFragment, type WebhookInput,
} from '../generated/graphql.js';

type Delivery = DlDeliveryFieldsFragment;

/** the fixture app's retry interval and window (clock time; test/support/fixtures.ts) */
const INTERVAL = 60_000;
const WINDOW = 4 * INTERVAL;
/** the request timeout (real time) of the app that times an attempt out */
const TIMEOUT = 2000;
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const JSON_REPLY = { 'content-type': 'application/json' };

const at = (iso: string) => Date.parse(iso);
const codes = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.map((e) => e.extensions?.code);

/** The calls the tests make, on one app. */
function deliveryApi(app: TestApp) {
  const delivery = async (id: string): Promise<Delivery> => {
    const d = (await app.ok(DlDeliveryDocument, { id })).delivery;
    if (!d) throw new Error(`delivery ${id} not found`);
    return d;
  };
  return {
    app,
    ticket: async (title: string, customFields?: Record<string, unknown>): Promise<string> =>
      (await app.ok(DlCreateTicketDocument, { input: { title, description: `about ${title}`, customFields } })).createTicket.id,
    webhook: async (input: WebhookInput) => (await app.ok(DlCreateWebhookDocument, { input })).createWebhook,
    send: async (webhookId: string, ticketId: string): Promise<Delivery> => (await app.ok(DlTestWebhookDocument, { id: webhookId, ticketId })).testWebhook,
    delivery,
    /** waits until the delivery is in one of `statuses` (default: any final state) */
    until: async (id: string, statuses?: string[]): Promise<Delivery> => {
      const want = statuses ? new Set(statuses) : FINAL;
      return waitFor(async () => {
        const d = await delivery(id);
        return want.has(d.status) && d;
      }, { timeoutMs: 20_000, intervalMs: 20, what: `delivery ${id} to be ${[...want].join(' or ')}` });
    },
    /** the fields outside the contract, read with a plain string query */
    extras: async (id: string): Promise<{ notes: string[]; webhookName: string; redeliveryOf: string | null }> =>
      (await app.ok(`query ($id: ID!) { delivery(id: $id) { notes webhookName redeliveryOf } }`, { id })).delivery,
    posts: async (ticketId: string) => (await app.ok(DlTicketDocument, { id: ticketId })).ticket!,
  };
}
type DeliveryApi = ReturnType<typeof deliveryApi>;

const it = test.extend<{ app: TestApp; api: DeliveryApi }>({
  app: async ({ startApp, clock }, use) => {
    const app = await startApp({}, { clock: clock.now });
    await createCustomFields(app, [
      { key: 'message_id', name: 'Message id', type: 'NUMBER' },
      { key: 'sms_id', name: 'SMS id', type: 'TEXT' },
      { key: 'port', name: 'Port', type: 'TEXT' },
      { key: 'route', name: 'Route', type: 'TEXT' },
    ]);
    await use(app);
  },
  api: async ({ app }, use) => use(deliveryApi(app)),
});

/**
 * Serves the delivery's retry after `attempts` attempts: it is RETRYING, announced at the
 * first attempt + attempts × INTERVAL; nothing is sent half an interval before that; once
 * the clock is there, attempt attempts + 1 reaches the receiver. `busy`: another send is
 * in flight, which a drain waits for — the worker is woken without waiting for its drain,
 * and the check before the slot is left out.
 */
async function serveRetry(api: DeliveryApi, clock: TestClock, rx: Receiver, id: string, attempts: number, opts: { busy?: boolean } = {}): Promise<Delivery> {
  const d = await waitFor(async () => {
    const x = await api.delivery(id);
    return x.status === 'RETRYING' && x.attemptCount === attempts && x;
  }, { what: `delivery ${id} RETRYING after ${attempts} attempts` });
  const slot = at(d.nextAttemptAt!);
  expect(slot - at(d.attempts[0]!.startedAt), `retry ${attempts} announced at its slot`).toBe(attempts * INTERVAL);
  const seen = rx.requests.length;
  if (!opts.busy) {
    clock.set(slot - INTERVAL / 2);
    await drainWorker(api.app);
    expect(rx.requests, `nothing sent before slot ${attempts}`).toHaveLength(seen);
  }
  clock.set(slot);
  if (opts.busy) void api.app.worker!.wake();
  else await drainWorker(api.app);
  await rx.waitForRequests(seen + 1);
  return d;
}

describe.concurrent('deliveries through the API against real receivers', () => {
  it('500, 500, 200 → SUCCEEDED after 3 attempts, each at its slot; one delivery id, attempts 1, 2, 3', async ({ api, clock, startReceiver }) => {
    const { app, webhook, ticket, send, until } = api;
    const rx = await startReceiver();
    rx.script({ status: 500, body: 'boom' }, { status: 500, body: 'boom again' }, { status: 200, body: '{"ok":true}', headers: JSON_REPLY });
    const wh = await webhook({ name: 'Retry me', method: 'POST', url: `${rx.url}/hook?t={{ ticket.id }}`, format: 'JSON', body: '{"text": "{{ ticket.title }}"}' });
    const t = await ticket('Printer "2nd" floor');

    const queued = await send(wh.id, t);
    // testWebhook creates a delivery with the request rendered once, before any attempt
    expect(queued).toMatchObject({ status: 'PENDING', attemptCount: 0, attempts: [], webhook: { id: wh.id, name: 'Retry me' }, ticket: { id: t }, rule: null, event: null, completedAt: null });
    expect(queued.request).toMatchObject({ method: 'POST', url: `${rx.url}/hook?t=${t}`, body: '{"text": "Printer \\"2nd\\" floor"}' });
    expect(queued.request.headers).toMatchObject({ 'Content-Type': 'application/json; charset=utf-8' });
    const listed = (await app.ok(DlDeliveriesDocument, { filter: { webhookId: wh.id } })).deliveries;
    expect(listed.nodes.map((n) => n.id)).toEqual([queued.id]);

    // between attempts it is RETRYING with the next slot announced; each attempt waits for its slot
    await rx.waitForRequests(1);
    await serveRetry(api, clock, rx, queued.id, 1);
    const second = await serveRetry(api, clock, rx, queued.id, 2);

    const d = await until(queued.id);
    expect(d.status).toBe('SUCCEEDED');
    expect(d.attemptCount).toBe(3);
    expect(d.attempts.map((x) => [x.number, x.statusCode, x.error])).toEqual([
      [1, 500, 'HTTP 500 Internal Server Error'],
      [2, 500, 'HTTP 500 Internal Server Error'],
      [3, 200, null],
    ]);
    expect(d.attempts.map((x) => x.responseBody)).toEqual(['boom', 'boom again', '{"ok":true}']);
    expect(d.nextAttemptAt).toBeNull();
    expect(at(d.completedAt!)).toBeGreaterThanOrEqual(at(second.nextAttemptAt!));

    expect(rx.requests).toHaveLength(3);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-delivery'])).toEqual([d.id, d.id, d.id]);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(['1', '2', '3']);
    for (const r of rx.requests) {
      expect(r).toMatchObject({ method: 'POST', url: `/hook?t=${t}`, body: '{"text": "Printer \\"2nd\\" floor"}' });
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.headers['user-agent']).toMatch(/^deskhooks\/\d+\.\d+\.\d+/);
    }
  });

  it('always 503 → FAILED after 5 attempts, when the window ends; none after; a comment names the webhook', async ({ api, clock, startReceiver }) => {
    const { app, webhook, ticket, send, until, extras, posts, delivery } = api;
    const rx = await startReceiver();
    rx.fallback = { status: 503, body: 'down for maintenance' };
    const wh = await webhook({ name: 'Flaky CRM', method: 'PUT', url: `${rx.url}/crm`, format: 'FORM', body: 'ticket={{ ticket.id }}&title={{ ticket.title }}' });
    const t = await ticket('Always down');

    const { id } = await send(wh.id, t);
    await rx.waitForRequests(1);
    for (let n = 1; n <= 4; n++) await serveRetry(api, clock, rx, id, n);
    const d = await until(id);
    expect(d.status).toBe('FAILED');
    expect(d.attemptCount).toBe(5);
    expect(d.attempts.map((x) => x.statusCode)).toEqual([503, 503, 503, 503, 503]);
    expect(d.attempts.every((x) => x.error === 'HTTP 503 Service Unavailable')).toBe(true);
    expect(d.nextAttemptAt).toBeNull();
    const first = at(d.attempts[0]!.startedAt);
    expect(at(d.completedAt!)).toBeGreaterThanOrEqual(first + WINDOW);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(['1', '2', '3', '4', '5']);
    expect(rx.requests.every((r) => r.method === 'PUT' && r.body === `ticket=${t}&title=Always+down`)).toBe(true);
    expect((await extras(d.id)).notes.join('\n')).toContain('retry window of 4m exhausted after 5 attempts; last error: HTTP 503 Service Unavailable');

    const comments = (await posts(t)).posts.filter((p) => p.kind === 'COMMENT');
    expect(comments).toHaveLength(1);
    expect(comments[0]!.author).toBeNull();
    expect(comments[0]!.text).toContain('Webhook "Flaky CRM" failed after 5 attempts');
    expect(comments[0]!.text).toContain('HTTP 503');

    // the clock past where a sixth and a seventh attempt would be due: nothing is sent
    clock.set(first + 7 * INTERVAL);
    await drainWorker(app);
    expect(rx.requests).toHaveLength(5);
    expect((await delivery(d.id)).attemptCount).toBe(5);
  });

  it('302 → SUCCEEDED, the Location is not requested', async ({ api: { webhook, send, until, ticket }, startReceiver }) => {
    const elsewhere = await startReceiver();
    const rx = await startReceiver();
    rx.script({ status: 302, headers: { location: `${elsewhere.url}/moved` } });
    const wh = await webhook({ name: 'Redirecting', method: 'POST', url: `${rx.url}/old`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const d = await until((await send(wh.id, await ticket('Redirect'))).id);
    expect(d.status).toBe('SUCCEEDED');
    expect(d.attempts.map((x) => [x.statusCode, x.error])).toEqual([[302, null]]);
    // the attempt is over: a followed redirect would already have reached `elsewhere`
    expect(rx.requests.map((r) => r.url)).toEqual(['/old']);
    expect(elsewhere.requests).toHaveLength(0);
  });


  it('a receiver that never answers → an attempt without status code, ended by the request timeout; then retried at its slot', async ({ startApp, clock, startReceiver }) => {
    const api = deliveryApi(await startApp({ DESKHOOKS_REQUEST_TIMEOUT: `${TIMEOUT}ms` }, { clock: clock.now }));
    const { webhook, ticket, send, until } = api;
    const rx = await startReceiver();
    rx.script('hang');
    const wh = await webhook({ name: 'Silent', method: 'POST', url: `${rx.url}/silent`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const { id } = await send(wh.id, await ticket('Hang'));
    await rx.waitForRequests(1);
    await serveRetry(api, clock, rx, id, 1);
    const d = await until(id);
    expect(d.status).toBe('SUCCEEDED');
    expect(d.attemptCount).toBe(2);
    const [first, second] = d.attempts;
    expect(first).toMatchObject({ number: 1, statusCode: null, responseBody: null });
    expect(first!.error).toBe(`timed out after ${TIMEOUT} ms`);
    // the request timeout is real time (AbortSignal.timeout)
    expect(first!.durationMs).toBeGreaterThanOrEqual(TIMEOUT - 10);
    expect(first!.durationMs).toBeLessThan(TIMEOUT + 1000);
    expect(second).toMatchObject({ number: 2, statusCode: 200, error: null });
    expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(['1', '2']);
  });

  it('attempts that outlast the interval: the next one starts at once, and none starts after the retry window', async ({ api, clock, startReceiver }) => {
    const { app, webhook, ticket, send, delivery, posts, extras } = api;
    // each attempt takes one and a half intervals (by the clock) before it fails
    const starts: number[] = [];
    const rx = await startReceiver(() => {
      starts.push(clock.now().getTime());
      clock.advance(1.5 * INTERVAL);
      return { status: 500 };
    });
    const wh = await webhook({ name: 'Slow receiver', method: 'POST', url: `${rx.url}/slow`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const t = await ticket('Slow');
    const { id } = await send(wh.id, t);
    // the test does not move the clock: each retry's slot has passed when it is decided
    const d = await waitFor(async () => {
      await drainWorker(app);
      const x = await delivery(id);
      return FINAL.has(x.status) && x;
    }, { what: 'the delivery to be final' });
    expect(d.status).toBe('FAILED');
    // attempts start at about 0, 1.5 and 3 intervals; a fourth would start after the window
    expect(d.attemptCount).toBe(3);
    expect(rx.requests).toHaveLength(3);
    starts.slice(1).forEach((start, i) => {
      expect(start - starts[0]!, `attempt ${i + 2} later than its slot: at once`).toBeGreaterThan((i + 1) * INTERVAL);
      expect(start - starts[0]!, `attempt ${i + 2} within the window`).toBeLessThanOrEqual(WINDOW);
    });
    expect((await extras(id)).notes.join('\n')).toContain('retry window of 4m exhausted after 3 attempts');
    const comment = (await posts(t)).posts.find((p) => p.kind === 'COMMENT');
    expect(comment?.text).toContain('Webhook "Slow receiver" failed after 3 attempts');
  });

  it('a receiver that does not answer does not hold back other deliveries or their retries', async ({ startApp, clock, startReceiver }) => {
    // a request timeout far beyond the test: the slow attempt stays open until released
    const api = deliveryApi(await startApp({ DESKHOOKS_REQUEST_TIMEOUT: '2m' }, { clock: clock.now }));
    const { webhook, ticket, send, until, delivery } = api;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const slow = await startReceiver(() => released.then(() => ({ status: 200 })));
    const fast = await startReceiver();
    fast.script({ status: 500 });
    const slowWh = await webhook({ name: 'Slow', method: 'POST', url: `${slow.url}/slow`, format: 'JSON', body: '{}' });
    const fastWh = await webhook({ name: 'Fast', method: 'POST', url: `${fast.url}/fast`, format: 'JSON', body: '{}' });
    const t = await ticket('Head of line');
    const slowD = await send(slowWh.id, t);
    await slow.waitForRequests(1);

    // sent while the slow attempt is open: its first attempt and its retry both finish
    const fastD = await send(fastWh.id, t);
    await fast.waitForRequests(1);
    await serveRetry(api, clock, fast, fastD.id, 1, { busy: true });
    const fastDone = await until(fastD.id);
    expect(fastDone.status).toBe('SUCCEEDED');
    expect(fastDone.attempts.map((x) => x.statusCode)).toEqual([500, 200]);
    expect(await delivery(slowD.id)).toMatchObject({ status: 'PENDING', attemptCount: 0 });

    release();
    const slowDone = await until(slowD.id);
    expect(slowDone.attempts.map((x) => [x.number, x.statusCode])).toEqual([[1, 200]]);
    expect(slow.requests).toHaveLength(1);
  });

  it('{{ ticket.url }} and {{ parent.url }} link the tickets at DESKHOOKS_PUBLIC_URL, in previews, sends, rule sends and rule comments; empty without it', async ({ startApp, startReceiver }) => {
    const rx = await startReceiver();
    const body = '{"u": "{{ ticket.url }}", "p": "{{ parent.url }}"}';
    for (const [env, base] of [[{ DESKHOOKS_PUBLIC_URL: 'https://desk.example.com/' }, 'https://desk.example.com'], [{}, null]] as const) {
      const app = await startApp(env);
      const hook = await createWebhook(app, { name: 'links', method: 'POST', url: `${rx.url}/links`, format: 'JSON', body });
      await createRule(app, { name: 'link it', events: ['TICKET_CREATED'], conditions: [{ field: 'title', operator: 'CONTAINS', value: 'child' }], actions: [{ type: 'SEND_WEBHOOK', webhookId: hook }, { type: 'ADD_COMMENT', value: 'see {{ ticket.url }}' }] });
      const parent = await createTicket(app, 'parent');
      const child = await createTicket(app, { title: 'child', parentId: parent });
      const want = { u: base ? `${base}/tickets/${child}` : '', p: base ? `${base}/tickets/${parent}` : '' };
      const preview = (await app.ok(`query ($id: ID!, $t: ID!) { previewWebhook(id: $id, ticketId: $t) { body } }`, { id: hook, t: child })).previewWebhook;
      expect(JSON.parse(preview.body)).toEqual(want);
      await testWebhook(app, hook, child);
      const sent = await waitFor(() => {
        const mine = rx.requests.filter((r) => JSON.parse(r.body).u === want.u && r.url === '/links');
        return mine.length >= 2 && mine;
      }, { what: 'the rule send and the test send' });
      for (const r of sent) expect(JSON.parse(r.body)).toEqual(want);
      await waitFor(async () => (await comments(app, child)).some((c) => c.text === `see ${want.u}`), { what: 'the rule comment with the link' });
      rx.requests.length = 0;
    }
  });

  it('JSON result.message_id → NUMBER field 777 and a success comment with temp and response.status', async ({ api: { webhook, ticket, send, until, posts, extras }, startReceiver }) => {
    const rx = await startReceiver();
    rx.script({ status: 200, body: '{"ok":true,"result":{"message_id":777}}', headers: JSON_REPLY });
    const wh = await webhook({
      name: 'Telegram',
      method: 'POST',
      url: `${rx.url}/bot/sendMessage`,
      format: 'JSON',
      body: '{"chat_id": "{{ requester.telegramChatId }}", "text": "{{ ticket.title }}"}',
      responseMappings: [
        { path: 'result.message_id', target: 'CUSTOM_FIELD', field: 'message_id' },
        { path: 'result.message_id', target: 'TEMPORARY', field: 'tg_id' },
        { path: 'result.missing', target: 'TEMPORARY', field: 'nothing' },
      ],
      successComment: 'Telegram message {{ temp.tg_id }} sent (HTTP {{ response.status }})',
    });
    const t = await ticket('Mapped');
    const d = await until((await send(wh.id, t)).id);
    expect(d.status).toBe('SUCCEEDED');
    expect(d.responseData).toEqual({ message_id: 777, tg_id: 777 });
    const after = await posts(t);
    expect(after.customFields).toEqual({ message_id: 777 });
    expect(after.posts.map((p) => [p.kind, p.text, p.author])).toEqual([['COMMENT', 'Telegram message 777 sent (HTTP 200)', null]]);
    // the missing path is skipped and noted on the delivery
    expect((await extras(d.id)).notes).toEqual(['path "result.missing" not found in the response']);
  });

  it('a success comment\'s {{ now }} is when the delivery succeeded (a retry a minute later), not when its request was rendered', async ({ api, clock, startReceiver }) => {
    const { webhook, ticket, send, until, posts } = api;
    const rx = await startReceiver();
    rx.script({ status: 500, body: 'busy' }, { status: 200, body: '{"ok":true}', headers: JSON_REPLY });
    const wh = await webhook({ name: 'Stamped', method: 'POST', url: `${rx.url}/stamp`, format: 'JSON', body: '{}', successComment: 'delivered at {{ now }}' });
    const t = await ticket('Stamp me');
    const queued = await send(wh.id, t);
    await rx.waitForRequests(1);
    await serveRetry(api, clock, rx, queued.id, 1);
    const d = await until(queued.id);
    expect(d.status).toBe('SUCCEEDED');
    expect(at(d.completedAt!) - at(queued.createdAt)).toBeGreaterThanOrEqual(INTERVAL);
    expect((await posts(t)).posts.map((p) => p.text)).toEqual([`delivered at ${new Date(d.completedAt!).toISOString()}`]);
  });

  it('the write-backs of 20 deliveries finishing together all land (tickets of one requester)', async ({ api: { webhook, ticket, send, until, posts, extras }, startReceiver }) => {
    const rx = await startReceiver((r) => ({ status: 200, headers: JSON_REPLY, body: JSON.stringify({ ok: true, result: { message_id: Number(r.url.slice(1)) } }) }));
    const wh = await webhook({
      name: 'Bulk mapping',
      method: 'POST',
      url: `${rx.url}/{{ ticket.id }}`,
      format: 'JSON',
      body: '{}',
      responseMappings: [{ path: 'result.message_id', target: 'CUSTOM_FIELD', field: 'message_id' }],
      successComment: 'mapped {{ response.status }}',
    });
    const tickets = await Promise.all(Array.from({ length: 20 }, (_, i) => ticket(`bulk ${i}`)));
    const sent = await Promise.all(tickets.map((t) => send(wh.id, t)));
    const done = await Promise.all(sent.map((d) => until(d.id)));
    expect(done.map((d) => d.status)).toEqual(tickets.map(() => 'SUCCEEDED'));
    const read = await Promise.all(tickets.map((t) => posts(t)));
    expect(read.map((r) => r.customFields)).toEqual(tickets.map((t) => ({ message_id: Number(t) })));
    expect(read.map((r) => r.posts.map((p) => p.text))).toEqual(tickets.map(() => ['mapped 200']));
    const notes = await Promise.all(sent.map((d) => extras(d.id)));
    expect(notes.map((n) => n.notes)).toEqual(tickets.map(() => []));
  });

  it('SMS-gateway XML reply.message_infos.message_info.sms_id → TEXT field "1000001"', async ({ api: { webhook, ticket, send, until, posts }, startReceiver }) => {
    const rx = await startReceiver();
    rx.script({
      status: 200,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body:
        '<?xml version="1.0" encoding="utf-8"?>\n<reply><result>OK</result><code>0</code><description>queued 1 messages</description>' +
        '<message_infos><message_info><phone>79001234567</phone><sms_id>1000001</sms_id></message_info></message_infos></reply>',
    });
    const wh = await webhook({
      name: 'SMS gateway',
      method: 'POST',
      url: `${rx.url}/sms/send`,
      format: 'XML',
      body: '<request><message><abonent phone="{{ requester.phone }}"/><text>{{ ticket.title }}</text></message></request>',
      responseMappings: [
        { path: 'reply.message_infos.message_info.sms_id', target: 'CUSTOM_FIELD', field: 'sms_id' },
        { path: 'reply.result', target: 'TEMPORARY', field: 'result' },
      ],
      successComment: 'SMS gateway: {{ temp.result }}',
    });
    const t = await ticket('Call me <now> & later');
    const d = await until((await send(wh.id, t)).id);
    expect(d.status).toBe('SUCCEEDED');
    expect(rx.requests[0]!.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(rx.requests[0]!.body).toContain('<text>Call me &lt;now&gt; &amp; later</text>');
    const after = await posts(t);
    expect(after.customFields.sms_id).toBe('1000001');
    expect(d.responseData).toEqual({ sms_id: '1000001', result: 'OK' });
    expect(after.posts.map((p) => p.text)).toEqual(['SMS gateway: OK']);
  });

  it('SMS-gateway XML padded with trailing NUL bytes (a fixed-size answer buffer) is read as XML: its mappings find their values; the recorded answer ends where the XML does', async ({ api: { webhook, ticket, send, until, posts }, startReceiver }) => {
    const xml = '<?xml version="1.0" encoding="utf-8"?>\n<reply><result>OK</result><sms_id>1000002</sms_id></reply>';
    const rx = await startReceiver();
    rx.script({ status: 200, headers: { 'content-type': 'text/xml' }, body: xml + '\u0000'.repeat(64) });
    const wh = await webhook({
      name: 'SMS gateway, padded answer',
      method: 'POST',
      url: `${rx.url}/sms/send`,
      format: 'XML',
      body: '<request><text>{{ ticket.title }}</text></request>',
      responseMappings: [
        { path: 'reply.sms_id', target: 'CUSTOM_FIELD', field: 'sms_id' },
        { path: 'reply.result', target: 'TEMPORARY', field: 'result' },
      ],
      successRule: { statuses: '200', path: 'reply.result', operator: 'EQUALS', value: 'OK', onFailure: 'FAIL' },
    });
    const t = await ticket('Padded');
    const d = await until((await send(wh.id, t)).id);
    expect(d.status).toBe('SUCCEEDED');
    expect(d.responseData).toEqual({ sms_id: '1000002', result: 'OK' });
    expect((await posts(t)).customFields.sms_id).toBe('1000002');
    expect(d.attempts.map((a) => a.responseBody)).toEqual([xml]);
  });

  it('SMS-gateway XML with one <message_info>: [0] reads it; a 64-bit id is not written into a NUMBER field (noted, field unchanged), a TEXT field keeps it exactly', async ({ api: { webhook, ticket, send, until, posts, extras }, startReceiver }) => {
    const rx = await startReceiver();
    rx.script({
      status: 200,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: '<reply><result>OK</result><message_infos><message_info><sms_id>12345678901234567890</sms_id></message_info></message_infos></reply>',
    });
    const path = 'reply.message_infos.message_info[0].sms_id';
    const wh = await webhook({
      name: 'SMS gateway, one recipient',
      method: 'POST',
      url: `${rx.url}/sms/send`,
      format: 'XML',
      body: '<request><text>{{ ticket.title }}</text></request>',
      responseMappings: [
        { path, target: 'CUSTOM_FIELD', field: 'message_id' },
        { path, target: 'CUSTOM_FIELD', field: 'sms_id' },
      ],
      successRule: { statuses: '200', path, operator: 'GREATER_THAN', value: '12345678901234567889', onFailure: 'FAIL' },
    });
    const t = await ticket('One recipient', { message_id: 5 });
    const d = await until((await send(wh.id, t)).id);
    expect(d.status).toBe('SUCCEEDED');
    expect(d.responseData).toEqual({ message_id: '12345678901234567890', sms_id: '12345678901234567890' });
    const after = await posts(t);
    expect(after.customFields).toEqual({ message_id: 5, sms_id: '12345678901234567890' });
    expect((await extras(d.id)).notes).toEqual([
      `path "${path}": custom field "message_id" is NUMBER: "12345678901234567890" cannot be stored exactly as a number (it holds integers within ±9007199254740991 and decimals of about 15 significant digits); map it into a TEXT field instead`,
    ]);
  });

  it('BASIC and BEARER credentials arrive in Authorization and appear in no record or API result; header templates arrive rendered', async ({ api, clock, startReceiver }) => {
    const { app, webhook, ticket, send, until, posts } = api;
    const password = 'pa55:w0rd-BASIC-s3cret';
    const token = 'tok-BEARER-s3cret-0123456789';
    const basicValue = `Basic ${Buffer.from(`api-user:${password}`).toString('base64')}`;
    const rx = await startReceiver();
    rx.script({ status: 500 }); // the BEARER one is retried: the retry carries the token too
    const headers = [
      { name: 'X-Ticket', value: 'T-{{ ticket.id }}' },
      { name: 'X-Title', value: '{{ ticket.title }}' },
      { name: 'X-Requester', value: '{{ requester.email }}' },
    ];
    const basicWh = await webhook({ name: 'Basic', method: 'POST', url: `${rx.url}/basic`, format: 'JSON', body: '{"a": "{{ ticket.id }}"}', headers, auth: { type: 'BASIC', username: 'api-user', secret: password } });
    const bearerWh = await webhook({ name: 'Bearer', method: 'POST', url: `${rx.url}/bearer`, format: 'JSON', body: '{"b": "{{ ticket.id }}"}', headers, auth: { type: 'BEARER', secret: token } });
    expect(basicWh.auth).toEqual({ type: 'BASIC', username: 'api-user', secretSet: true });
    expect(bearerWh.auth).toEqual({ type: 'BEARER', username: null, secretSet: true });
    const t = await ticket('Line\r\nbreak title');

    const bearerSent = await send(bearerWh.id, t);
    await rx.waitForRequests(1);
    await serveRetry(api, clock, rx, bearerSent.id, 1);
    const bearerD = await until(bearerSent.id);
    const basicD = await until((await send(basicWh.id, t)).id);
    expect([bearerD.status, bearerD.attemptCount, basicD.status, basicD.attemptCount]).toEqual(['SUCCEEDED', 2, 'SUCCEEDED', 1]);
    const redelivered = await until((await app.ok(DlRedeliverDocument, { deliveryId: basicD.id })).redeliver.id);
    expect(redelivered.status).toBe('SUCCEEDED');

    const byPath = (p: string) => rx.requests.filter((r) => r.url === p);
    expect(byPath('/bearer').map((r) => r.headers.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
    expect(byPath('/basic').map((r) => r.headers.authorization)).toEqual([basicValue, basicValue]);
    for (const r of rx.requests) {
      expect(r.headers['x-ticket']).toBe(`T-${t}`);
      expect(r.headers['x-title']).toBe('Linebreak title'); // CR/LF removed in headers
      expect(r.headers['x-requester']).toBe('admin@example.com');
    }

    // what the API shows: redacted
    expect(basicD.request.headers.Authorization).toBe('Basic ***');
    expect(bearerD.request.headers.Authorization).toBe('Bearer ***');
    const secrets = [password, token, basicValue, Buffer.from(`api-user:${password}`).toString('base64')];
    const apiResults = JSON.stringify([
      basicWh, bearerWh, bearerD, basicD, redelivered,
      await app.ok(DlWebhookDocument, { id: basicWh.id }),
      await app.ok(DlWebhookDocument, { id: bearerWh.id }),
      await app.ok(DlPreviewWebhookDocument, { id: basicWh.id, ticketId: t }),
      await app.ok(DlPreviewWebhookDocument, { id: bearerWh.id, ticketId: t }),
      await app.ok(DlDeliveriesDocument, { filter: { ticketId: t } }),
      await app.ok(`query ($t: ID!) { deliveries(filter: { ticketId: $t }) { nodes { id notes webhookName redeliveryOf request { headers } attempts { error responseBody } } } }`, { t }),
      await posts(t),
    ]);
    expect(apiResults).toContain('Basic ***');
    // the delivery records themselves, every column, and the ticket's posts
    const db = app.services.orm.em.fork().getConnection();
    const rows = JSON.stringify([
      await db.execute(`select d.*, (select json_agg(a) from delivery_attempts a where a.delivery_id = d.id) as attempts from deliveries d where d.ticket_id = ?`, [t]),
      await db.execute('select * from posts where ticket_id = ?', [t]),
    ]);
    expect(rows).toContain(basicD.id);
    for (const s of secrets) {
      expect(apiResults, 'API results').not.toContain(s);
      expect(rows, 'delivery records').not.toContain(s);
    }
  });

  it('an answer that quotes the credentials back (an echo, a 401 naming the token) keeps them as ***: in the log, the success comment, mappings and search', async ({ api, startReceiver }) => {
    const { app, webhook, ticket, send, until, posts } = api;
    const token = 'tok-ECHOED-s3cret-0123456789';
    const apiKey = 'key-ECHOED-"quoted"-s3cret';
    const password = 'pw-ECHOED-s3cret';
    const basicB64 = Buffer.from(`api-user:${password}`).toString('base64');
    // one echoes the request's headers as JSON; the other refuses naming what it got, in plain text
    const rx = await startReceiver((r) => r.url === '/echo'
      ? { status: 200, headers: JSON_REPLY, body: JSON.stringify({ auth: r.headers.authorization, key: r.headers['x-api-key'] }) }
      : { status: 401, body: `bad credentials ${Buffer.from(r.headers.authorization!.slice(6), 'base64').toString('utf8')} (${r.headers.authorization}), password ${encodeURIComponent(password)}` });
    const echo = await webhook({
      name: 'Echo', method: 'POST', url: `${rx.url}/echo`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}',
      headers: [{ name: 'X-Api-Key', value: apiKey, secret: true }], auth: { type: 'BEARER', secret: token },
      responseMappings: [{ path: 'auth', target: 'TEMPORARY', field: 'auth' }],
      successComment: 'got {{ response.body }} / {{ temp.auth }}',
    });
    const refusing = await webhook({ name: 'Refusing', method: 'POST', url: `${rx.url}/basic`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}', auth: { type: 'BASIC', username: 'api-user', secret: password } });
    const t = await ticket('Echo');
    const echoed = await until((await send(echo.id, t)).id);
    const refused = await until((await send(refusing.id, t)).id, ['RETRYING']);
    expect(rx.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${token}`, `Basic ${basicB64}`]);
    expect(echoed.status).toBe('SUCCEEDED');
    expect(JSON.parse(echoed.attempts[0]!.responseBody!)).toEqual({ auth: 'Bearer ***', key: '***' });
    expect(refused.attempts[0]!.responseBody).toBe('bad credentials api-user:*** (Basic ***), password ***');
    await waitFor(async () => (await posts(t)).posts.some((p) => p.text.startsWith('got ')), { what: 'the success comment' });
    expect((await posts(t)).posts.find((p) => p.text.startsWith('got '))!.text).toBe('got {"auth":"Bearer ***","key":"***"} / Bearer ***');
    // the search texts are written a moment later from the stored answer: the token is not found, *** is
    const search = (text: string) => app.ok(`query ($s: String!) { deliveries(filter: { search: $s }) { nodes { id } } }`, { s: text });
    await waitFor(async () => (await search('Bearer ***')).deliveries.nodes.length === 1, { what: 'the echoed answer to be searchable' });
    const secrets = [token, apiKey, JSON.stringify(apiKey).slice(1, -1), password, encodeURIComponent(password), basicB64];
    for (const s of secrets) expect((await search(s)).deliveries.nodes, s).toEqual([]);
    const db = app.services.orm.em.fork().getConnection();
    const rows = JSON.stringify([
      await db.execute(`select d.*, (select json_agg(a) from delivery_attempts a where a.delivery_id = d.id) as attempts from deliveries d where d.ticket_id = ?`, [t]),
      await db.execute('select * from posts where ticket_id = ?', [t]),
    ]);
    for (const s of secrets) expect(rows, 'delivery records and posts').not.toContain(s);
  });

  it('a token or secret header replaced in updateWebhook is what the next attempt and a redelivery send; a secret header removed is not sent, not even redacted', async ({ api, clock, startReceiver }) => {
    const { app, webhook, ticket, send, until } = api;
    const rx = await startReceiver();
    rx.script({ status: 401 }); // the token has expired: retried
    const input = (token: string, headers: { name: string; value: string; secret?: boolean }[]): WebhookInput => ({
      name: 'CRM', method: 'POST', url: `${rx.url}/crm`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}', headers, auth: { type: 'BEARER', secret: token },
    });
    const wh = await webhook(
      input('tok-OLD', [
        { name: 'X-Api-Key', value: 'key-OLD', secret: true },
        { name: 'X-Gone', value: 'gone-value', secret: true },
        { name: 'X-Plain', value: 'plain' },
        { name: 'X-Shown', value: 'shown-OLD', secret: true },
      ]),
    );
    const t = await ticket('Token expired');
    const sent = await send(wh.id, t);
    await rx.waitForRequests(1);
    // X-Api-Key replaced, X-Gone removed, X-Shown kept but no longer secret
    await app.ok(`mutation ($id: ID!, $input: WebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`, {
      id: wh.id,
      input: input('tok-NEW', [{ name: 'X-Api-Key', value: 'key-NEW', secret: true }, { name: 'X-Plain', value: 'plain' }, { name: 'X-Shown', value: 'shown-NEW' }]),
    });
    await serveRetry(api, clock, rx, sent.id, 1);
    expect((await until(sent.id)).status).toBe('SUCCEEDED');
    const redelivered = await until((await app.ok(DlRedeliverDocument, { deliveryId: sent.id })).redeliver.id);
    expect(redelivered.status).toBe('SUCCEEDED');

    const seen = rx.requests.map((r) => ({ authorization: r.headers.authorization, key: r.headers['x-api-key'], gone: r.headers['x-gone'], plain: r.headers['x-plain'], shown: r.headers['x-shown'] }));
    // the queued delivery's X-Shown was secret when it was rendered: it keeps that value (the redelivery copies the request)
    expect(seen).toEqual([
      { authorization: 'Bearer tok-OLD', key: 'key-OLD', gone: 'gone-value', plain: 'plain', shown: 'shown-OLD' },
      { authorization: 'Bearer tok-NEW', key: 'key-NEW', gone: undefined, plain: 'plain', shown: 'shown-OLD' },
      { authorization: 'Bearer tok-NEW', key: 'key-NEW', gone: undefined, plain: 'plain', shown: 'shown-OLD' },
    ]);
    for (const r of rx.requests) expect(Object.values(r.headers)).not.toContain('***');
    // the log shows the request as it was queued, its credentials redacted
    expect(redelivered.request.headers).toMatchObject({ Authorization: 'Bearer ***', 'X-Api-Key': '***', 'X-Gone': '***', 'X-Plain': 'plain' });
  });

  it('with DESKHOOKS_ALLOW_PRIVATE_NETWORKS=false, local addresses → FAILED at once, nothing reaches the receiver', async ({ startApp, startReceiver, api: { webhook, send, until, ticket } }) => {
    const strict = deliveryApi(await startApp({ DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'false' }));
    const rx = await startReceiver();
    const p = rx.port;
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${p}/x`, /"127\.0\.0\.1" is a loopback address/],
      [`http://localhost:${p}/x`, /"localhost" resolves to (127\.0\.0\.1|::1), a loopback address/],
      [`http://[::1]:${p}/x`, /"::1" is a loopback address/],
      [`http://127.1.2.3:${p}/x`, /"127\.1\.2\.3" is a loopback address/],
      [`http://2130706433:${p}/x`, /"127\.0\.0\.1" is a loopback address/], // the URL parser reads it as 127.0.0.1
      [`http://0.0.0.0:${p}/x`, /"0\.0\.0\.0" is an unspecified address/],
      [`http://[::ffff:127.0.0.1]:${p}/x`, /IPv4-mapped address of 127\.0\.0\.1, a loopback address/],
    ];
    const t = await strict.ticket('Private');
    const results = await Promise.all(
      cases.map(async ([url], i) => {
        const wh = await strict.webhook({ name: `Private ${i}`, method: 'POST', url, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
        const d = await strict.until((await strict.send(wh.id, t)).id);
        return { d, notes: (await strict.extras(d.id)).notes };
      }),
    );
    results.forEach(({ d, notes }, i) => {
      const [url, named] = cases[i]!;
      expect({ url, status: d.status, attemptCount: d.attemptCount, nextAttemptAt: d.nextAttemptAt }).toEqual({ url, status: 'FAILED', attemptCount: 1, nextAttemptAt: null });
      expect(d.attempts[0]!.statusCode, url).toBeNull();
      expect(d.attempts[0]!.error, url).toMatch(named);
      expect(d.attempts[0]!.error, url).toContain('DESKHOOKS_ALLOW_PRIVATE_NETWORKS=true');
      expect(d.attempts[0]!.durationMs, url).toBeLessThan(1000);
      expect(notes.join('\n'), url).toMatch(/not retried: .*webhook host/);
    });
    const comments = (await strict.posts(t)).posts.filter((p) => p.kind === 'COMMENT');
    expect(comments).toHaveLength(cases.length);
    expect(comments.every((c) => /failed after 1 attempt: not retried: webhook host/.test(c.text))).toBe(true);
    expect(rx.requests).toHaveLength(0);
    // the same receiver is reachable where private networks are allowed: the refusal is the guard's
    const ok = await until((await send((await webhook({ name: 'Allowed', method: 'POST', url: `http://127.0.0.1:${p}/x`, format: 'JSON', body: '{}' })).id, await ticket('Allowed'))).id);
    expect(ok.status).toBe('SUCCEEDED');
    expect(rx.requests).toHaveLength(1);
  });

  it('redeliver sends the same body under a new delivery id', async ({ api: { app, webhook, ticket, send, until, extras }, startReceiver }) => {
    const rx = await startReceiver();
    const wh = await webhook({ name: 'Redeliverable', method: 'PATCH', url: `${rx.url}/r/{{ ticket.id }}`, format: 'JSON', body: '{"title": "{{ ticket.title }}", "delivery": "{{ delivery.id }}"}' });
    const t = await ticket('Original title');
    const original = await until((await send(wh.id, t)).id);
    expect(original.status).toBe('SUCCEEDED');
    // the ticket changes: a redelivery still sends what was rendered the first time
    await app.ok(DlUpdateTicketDocument, { id: t, input: { title: 'Changed title' } });

    const again = (await app.ok(DlRedeliverDocument, { deliveryId: original.id })).redeliver;
    expect(again.id).not.toBe(original.id);
    expect(again).toMatchObject({ status: 'PENDING', attemptCount: 0, webhook: { id: wh.id }, ticket: { id: t } });
    expect(again.request).toEqual(original.request);
    const done = await until(again.id);
    expect(done.status).toBe('SUCCEEDED');
    expect(await extras(again.id)).toMatchObject({ redeliveryOf: original.id, webhookName: 'Redeliverable' });
    expect((await extras(original.id)).redeliveryOf).toBeNull();

    expect(rx.requests).toHaveLength(2);
    const [a, b] = rx.requests;
    expect(b!.body).toBe(a!.body);
    expect(JSON.parse(a!.body)).toEqual({ title: 'Original title', delivery: original.id });
    expect([a!.method, b!.method, a!.url, b!.url]).toEqual(['PATCH', 'PATCH', `/r/${t}`, `/r/${t}`]);
    expect([a!.headers['x-deskhooks-delivery'], b!.headers['x-deskhooks-delivery']]).toEqual([original.id, again.id]);
    expect([a!.headers['x-deskhooks-attempt'], b!.headers['x-deskhooks-attempt']]).toEqual(['1', '1']);

    expect(codes(await app.gql(DlRedeliverDocument, { deliveryId: '00000000-0000-4000-8000-000000000000' }))).toEqual(['NOT_FOUND']);
  });

  it('the log pages newest first with totalCount and a working cursor; filters by webhookId, ticketId, status', async ({ api: { app, webhook, ticket, send, until }, startReceiver }) => {
    // /ok/… answers 200, /no/… 500 (then cancelled)
    const rx = await startReceiver((r) => (r.url.startsWith('/no/') ? { status: 500 } : undefined));
    const wh = await webhook({ name: 'Logged', method: 'POST', url: `${rx.url}/{{ ticket.custom.route }}/{{ ticket.id }}`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const other = await webhook({ name: 'Other', method: 'POST', url: `${rx.url}/ok/other`, format: 'JSON', body: '{}' });
    const t1 = await ticket('Log one', { route: 'ok' });
    const t2 = await ticket('Log two', { route: 'no' });
    const created: string[] = [];
    for (const t of [t1, t2, t1, t2, t1]) created.push((await send(wh.id, t)).id);
    await send(other.id, t1);
    const [s1, c1, s2, c2, s3] = created as [string, string, string, string, string];
    for (const id of [s1, s2, s3]) expect((await until(id)).status).toBe('SUCCEEDED');
    for (const id of [c1, c2]) {
      await until(id, ['RETRYING']);
      expect((await app.ok(DlCancelDeliveryDocument, { id })).cancelDelivery.status).toBe('CANCELLED');
    }

    const page = async (filter: Record<string, unknown>, first?: number, after?: string | null) =>
      (await app.ok(DlDeliveriesDocument, { filter, first, after })).deliveries;

    // webhookId: 5 deliveries, two at a time, newest first
    const newestFirst = [...created].reverse();
    const p1 = await page({ webhookId: wh.id }, 2);
    expect([p1.totalCount, p1.pageInfo.hasNextPage, p1.nodes.map((n) => n.id)]).toEqual([5, true, newestFirst.slice(0, 2)]);
    const p2 = await page({ webhookId: wh.id }, 2, p1.pageInfo.endCursor);
    expect([p2.totalCount, p2.pageInfo.hasNextPage, p2.nodes.map((n) => n.id)]).toEqual([5, true, newestFirst.slice(2, 4)]);
    const p3 = await page({ webhookId: wh.id }, 2, p2.pageInfo.endCursor);
    expect([p3.totalCount, p3.pageInfo.hasNextPage, p3.nodes.map((n) => n.id)]).toEqual([5, false, newestFirst.slice(4)]);
    const all = [...p1.nodes, ...p2.nodes, ...p3.nodes];
    expect(all.every((n, i) => i === 0 || at(n.createdAt) <= at(all[i - 1]!.createdAt))).toBe(true);
    expect(all.every((n) => n.webhook?.id === wh.id)).toBe(true);

    // ticketId (both webhooks), status, and combinations
    const ids = async (filter: Record<string, unknown>) => {
      const p = await page(filter);
      expect(p.totalCount).toBe(p.nodes.length);
      return p.nodes.map((n) => n.id);
    };
    expect((await ids({ ticketId: t1 })).length).toBe(4);
    expect(await ids({ ticketId: t1, webhookId: wh.id })).toEqual([s3, s2, s1]);
    expect(await ids({ ticketId: t2 })).toEqual([c2, c1]);
    expect(await ids({ webhookId: wh.id, status: 'CANCELLED' })).toEqual([c2, c1]);
    expect(await ids({ webhookId: wh.id, status: 'SUCCEEDED' })).toEqual([s3, s2, s1]);
    expect(await ids({ ticketId: t2, status: 'SUCCEEDED' })).toEqual([]);
    const cancelled = await page({ webhookId: wh.id, status: 'CANCELLED' }, 1);
    expect([cancelled.totalCount, cancelled.pageInfo.hasNextPage, cancelled.nodes.map((n) => n.status)]).toEqual([2, true, ['CANCELLED']]);

    const bad = await app.gql(DlDeliveriesDocument, { filter: { webhookId: wh.id }, after: 'not-a-cursor' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('cancelDelivery on a RETRYING delivery → CANCELLED, and nothing is sent at its later slots', async ({ api, clock, startReceiver }) => {
    const { app, webhook, ticket, send, until, delivery } = api;
    const rx = await startReceiver();
    rx.fallback = { status: 500 };
    const wh = await webhook({ name: 'To cancel', method: 'POST', url: `${rx.url}/c`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const t = await ticket('Cancel me');
    const queued = await send(wh.id, t);
    const retrying = await until(queued.id, ['RETRYING']);
    expect(retrying.attemptCount).toBe(1);
    const nextSlot = at(retrying.nextAttemptAt!);

    const cancelled = (await app.ok(DlCancelDeliveryDocument, { id: queued.id })).cancelDelivery;
    expect(cancelled).toMatchObject({ id: queued.id, status: 'CANCELLED', attemptCount: 1, nextAttemptAt: null });
    expect(cancelled.completedAt).not.toBeNull();
    expect((await api.extras(queued.id)).notes).toEqual([]); // no attempt was being sent
    expect(rx.requests).toHaveLength(1);

    // the clock past the cancelled delivery's next three slots: nothing is sent
    clock.set(nextSlot + 2 * INTERVAL);
    await drainWorker(app);
    expect(rx.requests).toHaveLength(1);
    expect(await delivery(queued.id)).toMatchObject({ status: 'CANCELLED', attemptCount: 1 });

    // a final delivery cannot be cancelled
    rx.fallback = { status: 200 };
    const done = await until((await send(wh.id, t)).id);
    expect(done.status).toBe('SUCCEEDED');
    const r = await app.gql(DlCancelDeliveryDocument, { id: done.id });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors?.[0]?.message).toContain('SUCCEEDED');
  });

  it('cancelled while its attempt is in flight: the 200 that comes back is an attempt (counted, its claim ended), the delivery stays CANCELLED, the feed has ATTEMPTED and no SUCCEEDED', async ({ api, startReceiver }) => {
    const { app, webhook, ticket, send, delivery, extras } = api;
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const rx = await startReceiver(async () => {
      await answered;
      return { status: 200, body: 'late but fine' };
    });
    const wh = await webhook({ name: 'Slow', method: 'POST', url: `${rx.url}/slow`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const feed = new pg.Client({ connectionString: app.databaseUrl });
    await feed.connect();
    try {
      const kinds: string[] = [];
      let id = '';
      feed.on('notification', (n) => {
        for (const m of JSON.parse(n.payload!) as { t: string; d: string }[]) if (m.d === id) kinds.push(m.t);
      });
      await feed.query('listen deskhooks_delivery_events');
      id = (await send(wh.id, await ticket('Cancelled in flight'))).id;
      await rx.waitForRequests(1);
      expect((await app.ok(DlCancelDeliveryDocument, { id })).cancelDelivery.status).toBe('CANCELLED');
      // the delivery says what becomes of the attempt being sent
      expect((await extras(id)).notes).toEqual([
        'cancelled while attempt 1 was being sent: if an answer to it comes, it is recorded, and nothing follows from it (no retry, no ticket update, no rule continuation)',
      ]);
      answer();
      await waitFor(async () => (await delivery(id)).attempts.length === 1, { what: `the attempt of delivery ${id}` });
      // read again once the attempt is there: a read may see the row before the recording and its attempts after
      const attempted = await delivery(id);
      // the attempt counts, and its claim ends: it holds no slot of its webhook any more
      expect(attempted).toMatchObject({ status: 'CANCELLED', attemptCount: 1, nextAttemptAt: null });
      expect(attempted.attempts[0]).toMatchObject({ number: 1, statusCode: 200 });
      expect((await feed.query('select locked_until from deliveries where id = $1', [id])).rows).toEqual([{ locked_until: null }]);
      await waitFor(() => kinds.includes('ATTEMPTED'), { what: 'ATTEMPTED in the feed' });
      await settled(app);
      expect(kinds).toEqual(['CANCELLED', 'ATTEMPTED']);
    } finally {
      await feed.end();
    }
  });

  it('a URL that is invalid after rendering, or whose path segment a tag left empty → FAILED at once, never sent, never retried', async ({ api, clock, startReceiver }) => {
    const { app, webhook, ticket, send, extras, posts, delivery } = api;
    const rx = await startReceiver();
    // saved: with sample values the segment renders empty (a valid URL); this ticket's ".." would climb out of /orders
    const wh = await webhook({ name: 'Bad segment', method: 'POST', url: `${rx.url}/orders/{{ ticket.custom.route }}/x`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    // this ticket has no parent: /tickets//comments would name another resource
    const toParent = await webhook({ name: 'To parent', method: 'POST', url: `${rx.url}/api/tickets/{parent_ticket_id}/comments?p={parent_ticket_id}`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const t = await ticket('Bad segment', { route: '..' });
    const d = await send(wh.id, t);
    const e = await send(toParent.id, t);
    for (const x of [d, e]) {
      expect(x).toMatchObject({ status: 'FAILED', attemptCount: 0, attempts: [], nextAttemptAt: null });
      expect(x.completedAt).not.toBeNull();
    }
    expect((await extras(d.id)).notes.join('\n')).toContain(`${rx.url}/orders/../x`);
    const column = `${rx.url}/api/tickets/`.length + 1;
    const emptied = `url: {parent_ticket_id} (1:${column}) rendered empty, leaving path segment 3 ("tickets/{parent_ticket_id}/comments") empty; the request would name another resource, so it is not sent`;
    expect((await extras(e.id)).notes).toEqual([emptied]);
    const comments = (await posts(t)).posts.filter((p) => p.kind === 'COMMENT');
    expect(comments.map((c) => c.text)).toEqual([expect.stringContaining('Webhook "Bad segment" was not sent'), `Webhook "To parent" was not sent: ${emptied}.`]);
    // nothing is due, even two intervals later
    clock.set(at(d.createdAt) + 2 * INTERVAL);
    await drainWorker(app);
    for (const x of [d, e]) expect(await delivery(x.id)).toMatchObject({ status: 'FAILED', attemptCount: 0, nextAttemptAt: null });
    expect(rx.requests).toHaveLength(0);
    // a delivery that was never sent cannot be redelivered
    expect(codes(await app.gql(DlRedeliverDocument, { deliveryId: d.id }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await app.gql(DlRedeliverDocument, { deliveryId: e.id }))).toEqual(['BAD_USER_INPUT']);
  });
});
