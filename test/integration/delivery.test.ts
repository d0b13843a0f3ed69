/**
 * Issue 4 acceptance: the delivery engine through the public GraphQL API against real
 * HTTP receivers on 127.0.0.1, with RETRY_INTERVAL=1s, RETRY_WINDOW=4s,
 * REQUEST_TIMEOUT=2s (the defaults of test/support/app.ts).
 *
 * Every scenario has its own receivers, webhook and ticket, so the scenarios run
 * concurrently (the file is bound by the longest one, not their sum). Waits are on
 * states (a status, a request count); "nothing happens later" is proven by a marker
 * delivery whose own retries end after the slot in question, never by a guessed sleep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver, type ReceivedRequest, type Reply } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import {
  DlCancelDeliveryDocument, DlCreateCustomFieldDocument, DlCreateTicketDocument, DlCreateWebhookDocument,
  DlDeliveriesDocument, DlDeliveryDocument, DlPreviewWebhookDocument, DlRedeliverDocument, DlTestWebhookDocument,
  DlTicketDocument, DlUpdateTicketDocument, DlWebhookDocument,
  type DlDeliveryFieldsFragment, type WebhookInput,
} from '../generated/graphql.js';

type Delivery = DlDeliveryFieldsFragment;

const INTERVAL = 1000;
const WINDOW = 4000;
const TIMEOUT = 2000;
/**
 * How late an attempt may start after its slot: retries are picked up by an Agenda job
 * polled every INTERVAL/4 (250 ms) or by the 1 s sweep; the rest is headroom for a
 * loaded machine running other test files at the same time.
 */
const PICKUP_SLACK = 800;
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const JSON_REPLY = { 'content-type': 'application/json' };

let app: TestApp;
/** a second app with DESKHOOKS_ALLOW_PRIVATE_NETWORKS=false (item 7) */
let strict: TestApp;
const receivers: Receiver[] = [];
/** figures for the report, printed once at the end */
const timings: Record<string, unknown> = {};

const at = (iso: string) => Date.parse(iso);
const codes = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.map((e) => e.extensions?.code);

async function receiver(handler?: (req: ReceivedRequest) => Reply | undefined): Promise<Receiver> {
  const r = await startReceiver(handler);
  receivers.push(r);
  return r;
}

async function ticket(title: string, customFields?: Record<string, unknown>, a: TestApp = app): Promise<string> {
  return (await a.ok(DlCreateTicketDocument, { input: { title, description: `about ${title}`, customFields } })).createTicket.id;
}

async function webhook(input: WebhookInput, a: TestApp = app) {
  return (await a.ok(DlCreateWebhookDocument, { input })).createWebhook;
}

async function send(webhookId: string, ticketId: string, a: TestApp = app): Promise<Delivery> {
  return (await a.ok(DlTestWebhookDocument, { id: webhookId, ticketId })).testWebhook;
}

async function delivery(id: string, a: TestApp = app): Promise<Delivery> {
  const d = (await a.ok(DlDeliveryDocument, { id })).delivery;
  if (!d) throw new Error(`delivery ${id} not found`);
  return d;
}

/** waits until the delivery is in one of `statuses` (default: any final state) */
async function until(id: string, statuses?: string[], a: TestApp = app, timeoutMs = 20_000): Promise<Delivery> {
  const want = statuses ? new Set(statuses) : FINAL;
  return waitFor(
    async () => {
      const d = await delivery(id, a);
      return want.has(d.status) && d;
    },
    { timeoutMs, intervalMs: 20, what: `delivery ${id} to be ${[...want].join(' or ')}` },
  );
}

/** the fields outside the contract, read with a plain string query */
async function extras(id: string, a: TestApp = app): Promise<{ notes: string[]; webhookName: string; redeliveryOf: string | null }> {
  const r = await a.ok(`query ($id: ID!) { delivery(id: $id) { notes webhookName redeliveryOf } }`, { id });
  return r.delivery;
}

async function posts(ticketId: string, a: TestApp = app) {
  return (await a.ok(DlTicketDocument, { id: ticketId })).ticket!;
}

/** offsets (ms) of each attempt's start from the first one's */
const offsets = (d: Delivery) => d.attempts.map((x) => at(x.startedAt) - at(d.attempts[0]!.startedAt));
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

/** asserts attempt n (1-based) started in [(n-1)·interval, (n-1)·interval + slack] after the first */
function expectOnSchedule(d: Delivery): void {
  offsets(d).forEach((o, i) => {
    expect(o, `attempt ${i + 1} offset`).toBeGreaterThanOrEqual(i * INTERVAL);
    expect(o, `attempt ${i + 1} offset`).toBeLessThanOrEqual(i * INTERVAL + PICKUP_SLACK);
  });
}

/**
 * A delivery that fails `failures` times and then succeeds: it ends about
 * failures × INTERVAL after it starts. Used to wait "a few retry intervals" on a state.
 */
async function marker(failures: number, label: string): Promise<{ rx: Receiver; done: Delivery }> {
  const rx = await receiver();
  rx.script(...Array.from({ length: failures }, () => ({ status: 500 })));
  const wh = await webhook({ name: `marker ${label}`, method: 'POST', url: `${rx.url}/marker`, format: 'JSON', body: '{"marker": "{{ ticket.id }}"}' });
  const d = await send(wh.id, await ticket(`marker ${label}`));
  const done = await until(d.id, ['SUCCEEDED']);
  expect(done.attemptCount).toBe(failures + 1);
  return { rx, done };
}

beforeAll(async () => {
  [app, strict] = await Promise.all([startTestApp(), startTestApp({ DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'false' })]);
  for (const input of [
    { key: 'message_id', name: 'Message id', type: 'NUMBER' as const },
    { key: 'sms_id', name: 'SMS id', type: 'TEXT' as const },
    { key: 'port', name: 'Port', type: 'TEXT' as const },
    { key: 'route', name: 'Route', type: 'TEXT' as const },
  ]) {
    await app.ok(DlCreateCustomFieldDocument, { input });
  }
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await Promise.all([app?.stop(), strict?.stop()]);
  if (process.env.DESKHOOKS_TEST_TIMINGS) console.log(`[delivery.test timings] ${JSON.stringify(timings)}`);
});

describe.concurrent('issue 4: deliveries through the API against real receivers', () => {
  it('1. 500, 500, 200 → SUCCEEDED after 3 attempts 1 s apart; same delivery id, attempt 1, 2, 3', async ({ expect }) => {
    const rx = await receiver();
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

    // between attempts it is RETRYING with the next slot announced
    await rx.waitForRequests(1);
    const retrying = await until(queued.id, ['RETRYING']);
    expect(retrying.nextAttemptAt).not.toBeNull();

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
    expect(at(d.completedAt!)).toBeGreaterThanOrEqual(at(d.attempts[2]!.startedAt));
    expectOnSchedule(d);

    expect(rx.requests).toHaveLength(3);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-delivery'])).toEqual([d.id, d.id, d.id]);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(['1', '2', '3']);
    for (const r of rx.requests) {
      expect(r).toMatchObject({ method: 'POST', url: `/hook?t=${t}`, body: '{"text": "Printer \\"2nd\\" floor"}' });
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.headers['user-agent']).toMatch(/^deskhooks\/\d+\.\d+\.\d+/);
    }
    // as the receiver saw them: request n arrives (n-1) s after the first, give or take the
    // first request's connection set-up (later ones reuse the connection) and pickup latency
    const arrivals = rx.requests.map((r) => r.at - rx.requests[0]!.at);
    arrivals.forEach((o, i) => {
      expect(o, `request ${i + 1} offset`).toBeGreaterThanOrEqual(i * INTERVAL - 250);
      expect(o, `request ${i + 1} offset`).toBeLessThanOrEqual(i * INTERVAL + PICKUP_SLACK);
    });
    timings.item1 = { attemptOffsetsMs: offsets(d), receiverGapsMs: gaps(rx.requests.map((r) => r.at)) };
  });

  it('2. always 503 → FAILED at the end of the window after 5 attempts, none after; a comment names the webhook', async ({ expect }) => {
    const rx = await receiver();
    rx.fallback = { status: 503, body: 'down for maintenance' };
    const wh = await webhook({ name: 'Flaky CRM', method: 'PUT', url: `${rx.url}/crm`, format: 'FORM', body: 'ticket={{ ticket.id }}&title={{ ticket.title }}' });
    const t = await ticket('Always down');

    const d = await until((await send(wh.id, t)).id);
    expect(d.status).toBe('FAILED');
    expect(d.attemptCount).toBe(5);
    expect(d.attempts.map((x) => x.statusCode)).toEqual([503, 503, 503, 503, 503]);
    expect(d.attempts.every((x) => x.error === 'HTTP 503 Service Unavailable')).toBe(true);
    expect(d.nextAttemptAt).toBeNull();
    expect(d.completedAt).not.toBeNull();
    expectOnSchedule(d);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(['1', '2', '3', '4', '5']);
    expect(rx.requests.every((r) => r.method === 'PUT' && r.body === `ticket=${t}&title=Always+down`)).toBe(true);
    expect((await extras(d.id)).notes.join('\n')).toContain('retry window of 4s exhausted after 5 attempts; last error: HTTP 503 Service Unavailable');

    const comments = (await posts(t)).posts.filter((p) => p.kind === 'COMMENT');
    expect(comments).toHaveLength(1);
    expect(comments[0]!.author).toBeNull();
    expect(comments[0]!.text).toContain('Webhook "Flaky CRM" failed after 5 attempts');
    expect(comments[0]!.text).toContain('HTTP 503');

    // a sixth attempt would be due at first + 5 s: a marker that ends after that slot
    const sixthSlot = at(d.attempts[0]!.startedAt) + 5 * INTERVAL;
    const { done } = await marker(2, 'after FAILED');
    expect(at(done.completedAt!)).toBeGreaterThan(sixthSlot + PICKUP_SLACK);
    expect(rx.requests).toHaveLength(5);
    expect((await delivery(d.id)).attemptCount).toBe(5);
    timings.item2 = { attemptOffsetsMs: offsets(d) };
  });

  it('3a. 302 → SUCCEEDED, the Location is not requested', async ({ expect }) => {
    const elsewhere = await receiver();
    const rx = await receiver();
    rx.script({ status: 302, headers: { location: `${elsewhere.url}/moved` } });
    const wh = await webhook({ name: 'Redirecting', method: 'POST', url: `${rx.url}/old`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const d = await until((await send(wh.id, await ticket('Redirect'))).id);
    expect(d.status).toBe('SUCCEEDED');
    expect(d.attempts.map((x) => [x.statusCode, x.error])).toEqual([[302, null]]);
    // the attempt is over: a followed redirect would already have reached `elsewhere`
    expect(rx.requests.map((r) => r.url)).toEqual(['/old']);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('3b. a receiver that never answers → an attempt without status code, timed out after ~2 s; then retried', async ({ expect }) => {
    const rx = await receiver();
    rx.script('hang');
    const wh = await webhook({ name: 'Silent', method: 'POST', url: `${rx.url}/silent`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const d = await until((await send(wh.id, await ticket('Hang'))).id);
    expect(d.status).toBe('SUCCEEDED');
    expect(d.attemptCount).toBe(2);
    const [first, second] = d.attempts;
    expect(first).toMatchObject({ number: 1, statusCode: null, responseBody: null });
    expect(first!.error).toBe(`timed out after ${TIMEOUT} ms`);
    expect(first!.durationMs).toBeGreaterThanOrEqual(TIMEOUT - 10);
    expect(first!.durationMs).toBeLessThan(TIMEOUT + 500);
    // the slot of attempt 2 (first + 1 s) passed during the timeout: it starts right after
    expect(second).toMatchObject({ number: 2, statusCode: 200, error: null });
    expect(offsets(d)[1]).toBeGreaterThanOrEqual(TIMEOUT);
    expect(offsets(d)[1]).toBeLessThanOrEqual(TIMEOUT + PICKUP_SLACK);
    expect(rx.requests.map((r) => r.headers['x-deskhooks-attempt'])).toEqual(['1', '2']);
    timings.item3 = { timeoutAttemptDurationMs: first!.durationMs, secondAttemptOffsetMs: offsets(d)[1] };
  });

  it('3c. attempts that outlast the interval never start an attempt after the retry window', async ({ expect }) => {
    const rx = await receiver();
    rx.fallback = 'hang';
    const wh = await webhook({ name: 'Never answers', method: 'POST', url: `${rx.url}/void`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const t = await ticket('Hang forever');
    const d = await until((await send(wh.id, t)).id);
    expect(d.status).toBe('FAILED');
    expect(d.attempts.every((x) => x.statusCode === null && x.error === `timed out after ${TIMEOUT} ms`)).toBe(true);
    // RUNTIME.md: "no attempt is started later than [the window] after the first one"
    for (const o of offsets(d)) expect(o).toBeLessThanOrEqual(WINDOW + PICKUP_SLACK);
    expect(rx.requests).toHaveLength(d.attemptCount);
    const comment = (await posts(t)).posts.find((p) => p.kind === 'COMMENT');
    expect(comment?.text).toContain(`Webhook "Never answers" failed after ${d.attemptCount} attempts`);
    expect(comment?.text).toContain('timed out');
    timings.item3c = { attemptOffsetsMs: offsets(d) };
  });

  it('3d. a receiver that never answers does not hold back other deliveries or their retries', async ({ expect }) => {
    const slow = await receiver();
    slow.script('hang');
    const fast = await receiver();
    fast.script({ status: 500 });
    const slowWh = await webhook({ name: 'Slow', method: 'POST', url: `${slow.url}/slow`, format: 'JSON', body: '{}' });
    const fastWh = await webhook({ name: 'Fast', method: 'POST', url: `${fast.url}/fast`, format: 'JSON', body: '{}' });
    const t = await ticket('Head of line');
    const slowD = await send(slowWh.id, t);
    const hangStart = (await slow.waitForRequests(1))[0]!.at;

    // sent while the slow attempt hangs: its first attempt and its 1 s retry both finish
    // before the slow attempt times out
    const fastD = await until((await send(fastWh.id, t)).id);
    expect(fastD.status).toBe('SUCCEEDED');
    expect(fastD.attempts.map((x) => x.statusCode)).toEqual([500, 200]);
    expect(at(fastD.attempts[0]!.startedAt)).toBeLessThan(hangStart + 500);
    expect(at(fastD.completedAt!)).toBeLessThan(hangStart + TIMEOUT);
    const slowDone = await until(slowD.id);
    expect(slowDone.attempts[0]).toMatchObject({ statusCode: null, error: `timed out after ${TIMEOUT} ms` });
    expect(at(slowDone.attempts[0]!.startedAt) + slowDone.attempts[0]!.durationMs).toBeGreaterThan(at(fastD.completedAt!));
  });

  it('4. JSON result.message_id → NUMBER field 777 and a success comment with temp and response.status', async ({ expect }) => {
    const rx = await receiver();
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

  it('4b. the write-backs of 20 deliveries finishing together all land (tickets of one requester)', async ({ expect }) => {
    const rx = await receiver((r) => ({ status: 200, headers: JSON_REPLY, body: JSON.stringify({ ok: true, result: { message_id: Number(r.url.slice(1)) } }) }));
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

  it('5. SMS-gateway XML reply.message_infos.message_info.sms_id → TEXT field "1000001"', async ({ expect }) => {
    const rx = await receiver();
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

  it('6. BASIC and BEARER credentials arrive in Authorization and appear in no record or API result; header templates arrive rendered', async ({ expect }) => {
    const password = 'pa55:w0rd-BASIC-s3cret';
    const token = 'tok-BEARER-s3cret-0123456789';
    const basicValue = `Basic ${Buffer.from(`api-user:${password}`).toString('base64')}`;
    const rx = await receiver();
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

    const bearerD = await until((await send(bearerWh.id, t)).id);
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

  it('7. with DESKHOOKS_ALLOW_PRIVATE_NETWORKS=false, local addresses → FAILED at once, nothing reaches the receiver', async ({ expect }) => {
    const rx = await receiver();
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
    const t = await ticket('Private', undefined, strict);
    const results = await Promise.all(
      cases.map(async ([url], i) => {
        const wh = await webhook({ name: `Private ${i}`, method: 'POST', url, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' }, strict);
        const d = await until((await send(wh.id, t, strict)).id, undefined, strict);
        return { d, notes: (await extras(d.id, strict)).notes };
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
    const comments = (await posts(t, strict)).posts.filter((p) => p.kind === 'COMMENT');
    expect(comments).toHaveLength(cases.length);
    expect(comments.every((c) => /failed after 1 attempt: not retried: webhook host/.test(c.text))).toBe(true);
    expect(rx.requests).toHaveLength(0);
    // the same receiver is reachable where private networks are allowed: the refusal is the guard's
    const ok = await until((await send((await webhook({ name: 'Allowed', method: 'POST', url: `http://127.0.0.1:${p}/x`, format: 'JSON', body: '{}' })).id, await ticket('Allowed'))).id);
    expect(ok.status).toBe('SUCCEEDED');
    expect(rx.requests).toHaveLength(1);
  });

  it('8a. cancelDelivery on a RETRYING delivery → CANCELLED, and no more requests for several retry intervals', async ({ expect }) => {
    const rx = await receiver();
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
    const seenAtCancel = rx.requests.length;
    expect(seenAtCancel).toBe(1);

    // a marker created after the cancel that fails 4 times ends after the cancelled
    // delivery's next three slots (nextSlot, +1 s, +2 s) would have been served
    const { done } = await marker(4, 'after cancel');
    expect(at(done.completedAt!)).toBeGreaterThan(nextSlot + 2 * INTERVAL + PICKUP_SLACK);
    expect(rx.requests).toHaveLength(seenAtCancel);
    expect(await delivery(queued.id)).toMatchObject({ status: 'CANCELLED', attemptCount: 1 });

    // a final delivery cannot be cancelled
    const r = await app.gql(DlCancelDeliveryDocument, { id: done.id });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors?.[0]?.message).toContain('SUCCEEDED');
  });

  it('8b. redeliver sends the same body under a new delivery id', async ({ expect }) => {
    const rx = await receiver();
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

  it('8c. the log pages newest first with totalCount and a working cursor; filters by webhookId, ticketId, status', async ({ expect }) => {
    // /ok/… answers 200, /no/… 500 (then cancelled)
    const rx = await receiver((r) => (r.url.startsWith('/no/') ? { status: 500 } : undefined));
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

  it('a URL that is invalid after rendering → FAILED at once, never sent, never retried', async ({ expect }) => {
    const rx = await receiver();
    // saved: with sample values the segment renders empty (a valid URL); this ticket's ".." would climb out of /orders
    const wh = await webhook({ name: 'Bad segment', method: 'POST', url: `${rx.url}/orders/{{ ticket.custom.route }}/x`, format: 'JSON', body: '{"id": "{{ ticket.id }}"}' });
    const t = await ticket('Bad segment', { route: '..' });
    const d = await send(wh.id, t);
    expect(d).toMatchObject({ status: 'FAILED', attemptCount: 0, attempts: [], nextAttemptAt: null });
    expect(d.completedAt).not.toBeNull();
    expect((await extras(d.id)).notes.join('\n')).toContain(`${rx.url}/orders/../x`);
    const comments = (await posts(t)).posts.filter((p) => p.kind === 'COMMENT');
    expect(comments.map((c) => c.text)).toEqual([expect.stringContaining('Webhook "Bad segment" was not sent')]);
    // nothing is due: a marker that retries twice ends well after any first slot
    const { done } = await marker(2, 'after render failure');
    expect(at(done.completedAt!)).toBeGreaterThan(at(d.createdAt) + INTERVAL + PICKUP_SLACK);
    expect(await delivery(d.id)).toMatchObject({ status: 'FAILED', attemptCount: 0 });
    expect(rx.requests).toHaveLength(0);
    // a delivery that was never sent cannot be redelivered
    expect(codes(await app.gql(DlRedeliverDocument, { deliveryId: d.id }))).toEqual(['BAD_USER_INPUT']);
  });
});
