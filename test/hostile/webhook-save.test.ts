/**
 * Hostile webhook definitions:
 * - a tag before the end of scheme://host:port (next to the host, in the port, in
 *   userinfo, a URL that is a tag; `{{ }}` and HelpDeskEddy `{tags}`) is refused at save
 *   with field `url`; one saved before is refused by previewWebhook and testWebhook and
 *   never sent by a rule; tags in the path and query keep working;
 * - a secret header (X-Api-Key) is stored sealed, never returned, `***` in previews and
 *   in the delivery log an AGENT reads, sent for real to the receiver, kept on update
 *   with an empty value, and sent again by retries and redeliveries. No log line holds it.
 */
import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../support/app.js';
import { startReceiver, type Receiver, type ReceivedRequest } from '../support/receiver.js';
import { waitFor } from '../support/wait.js';
import { hostileTally } from './tally.js';

const tally = hostileTally('webhook-save');

const KEY_1 = 'xak_FIRST_S3cr3t_0123456789';
const KEY_2 = 'xak_SECOND_S3cr3t_9876543210';
const TOKEN = 'tok_bearer_S3cr3t_abcdef';
const SECRETS = [KEY_1, KEY_2, TOKEN, 'S3cr3t'];
const expectNoSecret = (what: unknown, label = '') => {
  const text = typeof what === 'string' ? what : JSON.stringify(what);
  for (const s of SECRETS) expect(text, `${label} must not contain ${s}`).not.toContain(s);
};

const logLines: string[] = [];
let app: TestApp;
let rx: Receiver;
let agentAuth: string;
let ticketId: string;

const sql = async <T = any>(query: string, params: unknown[] = []): Promise<T[]> => app.services.orm.em.fork().getConnection().execute(query, params);
const webhookRows = async () => sql(`select * from webhooks order by id`);
const deliveryRows = async () => sql(`select id, status from deliveries order by id`);

const WEBHOOK_FIELDS = 'id url headers { name value secret } auth { type secretSet }';
const createWebhook = (input: Record<string, unknown>) => app.gql(`mutation($i: WebhookInput!) { createWebhook(input: $i) { ${WEBHOOK_FIELDS} } }`, { i: input });
const updateWebhook = (id: string, input: Record<string, unknown>) => app.gql(`mutation($id: ID!, $i: WebhookInput!) { updateWebhook(id: $id, input: $i) { ${WEBHOOK_FIELDS} } }`, { id, i: input });
const hook = (over: Record<string, unknown> = {}) => ({ name: 'hook', method: 'POST', url: `${rx.url}/in`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}', ...over });
const preview = (id: string) => app.gql(`query($id: ID!, $t: ID!) { previewWebhook(id: $id, ticketId: $t) { url headers body } }`, { id, t: ticketId });
const testWebhook = (id: string) => app.gql(`mutation($id: ID!, $t: ID!) { testWebhook(id: $id, ticketId: $t) { id } }`, { id, t: ticketId });
const DELIVERY = `query($id: ID!) { delivery(id: $id) { id status attemptCount notes request { method url headers body } attempts { number statusCode error responseBody } } }`;
const deliveryAs = async (id: string, auth: string) => (await app.ok(DELIVERY, { id }, auth)).delivery;

/** The delivery once it is SUCCEEDED (read as an AGENT), and the requests the receiver got for it. */
async function succeeded(deliveryId: string, requests = 1): Promise<{ delivery: any; received: ReceivedRequest[] }> {
  const delivery = await waitFor(async () => {
    const d = await deliveryAs(deliveryId, agentAuth);
    return d?.status === 'SUCCEEDED' && d;
  }, { what: `delivery ${deliveryId} SUCCEEDED` });
  const received = rx.requests.filter((r) => r.headers['x-deskhooks-delivery'] === deliveryId);
  expect(received).toHaveLength(requests);
  return { delivery, received };
}

beforeAll(async () => {
  for (const m of ['log', 'error', 'warn', 'info', 'debug'] as const) {
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void logLines.push(format(...args)));
  }
  app = await startTestApp({ DESKHOOKS_LOG_LEVEL: 'debug' });
  rx = await startReceiver();
  const agent = (await app.ok(`mutation { createUser(input: { name: "Agent", email: "agent@example.com", role: AGENT }) { apiKey } }`)).createUser;
  agentAuth = bearer(agent.apiKey);
  await app.ok(`mutation { createCustomField(input: { key: "order_no", name: "Order", type: TEXT }) { id } }`);
  ticketId = (await app.ok(`mutation { createTicket(input: { title: "t", description: "d", customFields: { order_no: ".attacker.example" } }) { id } }`)).createTicket.id;
});

afterAll(async () => {
  await app?.stop();
  await rx?.close();
  // every console line of the whole file, the app's debug log included
  expectNoSecret(logLines.join('\n'), 'the log');
  vi.restoreAllMocks();
});

describe('no tag before the end of scheme://host:port', () => {
  const HOST_TAGS = [
    'https://hooks.example.com{{ ticket.custom.order_no }}/notify',
    'https://hooks.example.com{{ticket.custom.order_no}}',
    'https://hooks.example.com{ticket_id}/notify',
    'https://hooks.example.com.{parent_ticket_id}.example/x',
    'https://{{ ticket.custom.order_no }}/notify',
    'https://{{ ticket.custom.order_no }}.hooks.example.com/notify',
    'https://hooks.example.com:{{ ticket.custom.order_no }}/notify',
    'https://{{ requester.name }}@hooks.example.com/notify',
    'https://user:{last_post_user_id}@hooks.example.com/notify',
    'https://hooks.example.com@{{ ticket.custom.order_no }}/notify',
    '{{ ticket.custom.order_no }}',
    '{{ ticket.url }}/notify',
    '{ticket_id}',
    'http{{ ticket.id }}://hooks.example.com/',
    'https:{{ ticket.custom.order_no }}/notify',
    'https:///{{ ticket.custom.order_no }}/notify',
    'https://hooks.example.com\n{{ ticket.custom.order_no }}/notify',
  ];

  it.each(HOST_TAGS)('createWebhook refuses %j with field url; nothing is written', async (url) => {
    await tally.unchanged(webhookRows, async () => {
      const r = await createWebhook(hook({ url }));
      expect(r.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
      expect(r.errors?.[0]?.message).toMatch(/before the end of scheme:\/\/host:port/);
    });
  });

  it.each(HOST_TAGS)('updateWebhook refuses %j with field url; the stored webhook is unchanged', async (url) => {
    const id = (await createWebhook(hook({ name: 'to update' }))).data!.createWebhook.id;
    await tally.unchanged(webhookRows, async () => {
      const r = await updateWebhook(id, hook({ url }));
      expect(r.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    });
  });

  it('tags in the path and the query keep working: a value next to the path stays in the path', async () => {
    const r = await createWebhook(hook({ url: `${rx.url}/orders{{ ticket.custom.order_no }}/{ticket_id}?q={{ ticket.custom.order_no }}&p={parent_ticket_id}` }));
    expect(r.errors).toBeUndefined();
    const d = (await testWebhook(r.data!.createWebhook.id)).data!.testWebhook;
    const { received } = await succeeded(d.id);
    expect(received[0]!.url).toBe(`/orders.attacker.example/${ticketId}?q=.attacker.example&p=`);
    expect(received[0]!.headers.host).toBe(`127.0.0.1:${rx.port}`);
    tally.tried();
  });

  describe('a webhook saved before the check (its URL set directly in the database)', () => {
    let legacyId: string;
    beforeAll(async () => {
      legacyId = (await createWebhook(hook({ name: 'legacy' }))).data!.createWebhook.id;
      // with order_no = the receiver's port this would reach the receiver: the check, not luck, stops it
      await sql(`update webhooks set url = ? where id = ?`, ['http://127.0.0.1:{{ ticket.custom.order_no }}/legacy', legacyId]);
    });

    it('previewWebhook and testWebhook refuse it with field url; no delivery is written', async () => {
      const p = await preview(legacyId);
      expect(p.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
      await tally.unchanged(deliveryRows, async () => {
        const r = await testWebhook(legacyId);
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
      });
      tally.tried();
    });

    it('a rule sending it makes a FAILED delivery that is never sent, even when the value would name the receiver', async () => {
      const rule = (await app.ok(`mutation($i: RuleInput!) { createRule(input: $i) { id } }`, { i: { name: 'legacy sender', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: legacyId }] } })).createRule;
      const t = (await app.ok(`mutation($p: JSONObject!) { createTicket(input: { title: "legacy", description: "d", customFields: $p }) { id } }`, { p: { order_no: String(rx.port) } })).createTicket.id;
      const failed = await waitFor(async () => {
        const [d] = await sql(`select id, status, attempt_count, last_error from deliveries where ticket_id = ? and webhook_id = ?`, [t, legacyId]);
        return d?.status === 'FAILED' && d;
      }, { what: 'the legacy delivery FAILED' });
      expect(failed.attempt_count).toBe(0);
      expect(failed.last_error).toMatch(/before the end of scheme:\/\/host:port/);
      expect(rx.requests.filter((q) => q.url.startsWith('/legacy'))).toEqual([]);
      await app.ok(`mutation($id: ID!) { deleteRule(id: $id) }`, { id: rule.id });
      tally.tried();
    });
  });
});

describe('secret headers', () => {
  let id: string;

  it('are stored sealed and never returned: value reads back as the empty string', async () => {
    const r = await createWebhook(hook({ name: 'secret', url: `${rx.url}/secret`, headers: [{ name: 'X-Api-Key', value: KEY_1, secret: true }, { name: 'X-Plain', value: 'plain-{{ ticket.id }}' }], auth: { type: 'BEARER', secret: TOKEN } }));
    expect(r.errors).toBeUndefined();
    const w = r.data!.createWebhook;
    id = w.id;
    expect(w.headers).toEqual([{ name: 'X-Api-Key', value: '', secret: true }, { name: 'X-Plain', value: 'plain-{{ ticket.id }}', secret: false }]);
    expectNoSecret(w);
    expectNoSecret(await app.ok(`{ webhooks { ${WEBHOOK_FIELDS} } }`), 'webhooks');
    expectNoSecret(await app.ok(`query($id: ID!) { webhook(id: $id) { ${WEBHOOK_FIELDS} } }`, { id }), 'webhook');
    const [row] = await sql(`select headers::text as h from webhooks where id = ?`, [id]);
    expect(row.h).toContain('"secret": true');
    expectNoSecret(row, 'the webhooks row');
    tally.tried();
  });

  it('previewWebhook shows ***', async () => {
    const p = (await preview(id)).data!.previewWebhook;
    expect(p.headers).toMatchObject({ 'X-Api-Key': '***', 'X-Plain': `plain-${ticketId}`, Authorization: 'Bearer ***' });
    expectNoSecret(p, 'the preview');
    tally.tried();
  });

  it('the receiver gets the real value; the delivery log an AGENT reads and the stored rows show ***', async () => {
    const d = (await testWebhook(id)).data!.testWebhook;
    const { delivery, received } = await succeeded(d.id);
    expect(received[0]!.headers['x-api-key']).toBe(KEY_1);
    expect(received[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(delivery.request.headers).toMatchObject({ 'X-Api-Key': '***', Authorization: 'Bearer ***' });
    expectNoSecret(delivery, 'the delivery as an AGENT sees it');
    expectNoSecret(await app.ok(`query($w: ID) { deliveries(filter: { webhookId: $w }) { nodes { request { headers } notes } } }`, { w: id }, agentAuth), 'the delivery list');
    const rows = await sql(`select request::text, processing::text, notes::text, last_error, auth_sealed from deliveries where id = ?`, [d.id]);
    expect(rows[0].auth_sealed).toBeTruthy();
    expectNoSecret(rows, 'the deliveries row');
    expectNoSecret(await sql(`select * from delivery_attempts where delivery_id = ?`, [d.id]), 'the attempts');
    tally.tried();
  });

  it('an update with an empty value keeps the stored secret; a new value replaces it', async () => {
    const [before] = await sql(`select headers from webhooks where id = ?`, [id]);
    // auth without a secret keeps the stored token, as before
    const kept = await updateWebhook(id, hook({ name: 'secret 2', url: `${rx.url}/secret`, headers: [{ name: 'x-api-key', value: '', secret: true }], auth: { type: 'BEARER' } }));
    expect(kept.errors).toBeUndefined();
    expect(kept.data!.updateWebhook.headers).toEqual([{ name: 'x-api-key', value: '', secret: true }]);
    const [after] = await sql(`select headers from webhooks where id = ?`, [id]);
    expect(after.headers[0].sealed).toBe(before.headers[0].sealed);
    let d = (await testWebhook(id)).data!.testWebhook;
    expect((await succeeded(d.id)).received[0]!.headers['x-api-key']).toBe(KEY_1);

    expect((await updateWebhook(id, hook({ name: 'secret 3', url: `${rx.url}/secret`, headers: [{ name: 'X-Api-Key', value: KEY_2, secret: true }], auth: { type: 'BEARER' } }))).errors).toBeUndefined();
    d = (await testWebhook(id)).data!.testWebhook;
    const { received, delivery } = await succeeded(d.id);
    expect(received[0]!.headers['x-api-key']).toBe(KEY_2);
    expectNoSecret(delivery);
    tally.tried(2);
  });

  it('a secret header without a value (and none stored under its name) is refused; nothing is written', async () => {
    await tally.unchanged(webhookRows, async () => {
      const r = await createWebhook(hook({ headers: [{ name: 'X-Api-Key', value: '', secret: true }] }));
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'headers[0].value' });
    });
    await tally.unchanged(webhookRows, async () => {
      const r = await updateWebhook(id, hook({ headers: [{ name: 'X-Other-Key', value: '', secret: true }] }));
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'headers[0].value' });
    });
    await tally.unchanged(webhookRows, async () => {
      // the stored X-Api-Key is kept; a secret value that would split the header is refused without being echoed
      const r = await updateWebhook(id, hook({ headers: [{ name: 'X-Plain', value: 'a' }, { name: 'X-Api-Key', value: '', secret: true }, { name: 'X-Bad', value: 'S3cr3t\r\nInjected: 1', secret: true }] }));
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'headers[2].value' });
      expectNoSecret(r, 'the refusal');
    });
  });

  it('retries and redeliveries send the real value again', async () => {
    rx.script({ status: 503, body: 'busy' });
    const d = (await testWebhook(id)).data!.testWebhook;
    const first = await succeeded(d.id, 2);
    expect(first.received.map((q) => q.headers['x-api-key'])).toEqual([KEY_2, KEY_2]);
    expect(first.delivery.attemptCount).toBe(2);

    const again = (await app.ok(`mutation($d: ID!) { redeliver(deliveryId: $d) { id request { headers } } }`, { d: d.id })).redeliver;
    expect(again.request.headers['X-Api-Key']).toBe('***');
    const second = await succeeded(again.id);
    expect(second.received[0]!.headers['x-api-key']).toBe(KEY_2);
    expect(second.received[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expectNoSecret(second.delivery);
    tally.tried(2);
  });
});

describe('tags naming custom fields', () => {
  it('a tag naming a custom field that does not exist is refused at save (webhook fields and rule actions), naming the field, the tag and its place; nothing is written', async () => {
    await app.gql(`mutation { createCustomField(input: { key: "order_no", name: "Order", type: NUMBER }) { id } }`);
    const before = (await webhookRows()).length;
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ body: '{"o": "{{ ticket.custom.ordr_no }}"}' }, 'body', /unknown custom field "ordr_no" in tag "\{\{ ticket\.custom\.ordr_no \}\}" at 1:8 \(known: (.*, )?order_no/],
      [{ url: `${rx.url}/in?p={{ parent.custom.nope }}` }, 'url', /unknown custom field "nope" in tag "\{\{ parent\.custom\.nope \}\}"/],
      [{ headers: [{ name: 'X-Order', value: '{{ticket.custom.typo}}', secret: false }] }, 'headers[0].value', /unknown custom field "typo"/],
      [{ successComment: 'line 1\nsent {{ ticket.custom.ordr_no }}' }, 'successComment', /at 2:6/],
    ];
    for (const [over, field, message] of cases) {
      const r = await createWebhook(hook(over));
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(r.errors?.[0]?.message).toMatch(message);
    }
    expect(await webhookRows()).toHaveLength(before);
    const saved = await createWebhook(hook({ body: '{"o": "{{ ticket.custom.order_no }}", "p": "{{ parent.custom.order_no }}"}' }));
    expect(saved.errors).toBeUndefined();

    const rule = await app.gql(`mutation { createRule(input: { name: "typo", events: [TICKET_CREATED], actions: [{ type: ADD_COMMENT, value: "order {{ ticket.custom.ordr_no }}" }] }) { id } }`);
    expect(rule.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'actions[0].value' });
    expect(rule.errors?.[0]?.message).toMatch(/unknown custom field "ordr_no"/);
  });
});
