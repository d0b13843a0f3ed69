/**
 * A receiver that echoes the request it got (an echo service, an error page quoting the
 * headers) sends the webhook's credentials back. What deskhooks keeps of that answer —
 * the attempt's responseBody, the mapped responseData, the success comment, the failure
 * comment — shows them as ***, as the stored request does: an AGENT reading the delivery
 * log or the ticket never sees a BASIC password, a BEARER token or a secret header.
 */
import { expect } from 'vitest';
import { createTicket, createUser, createWebhook, deliveryReaches, test, testWebhook } from '../support/fixtures.js';
import { hostileTally } from './tally.js';

const tally = hostileTally('echoed-secrets');

const PASSWORD = 'pw-S3cr3t-echoed';
const TOKEN = 'tok-S3cr3t-echoed-0123';
const API_KEY = 'xak-S3cr3t-echoed-4567';
const basicToken = Buffer.from(`bob:${PASSWORD}`).toString('base64');
const expectNoSecret = (what: unknown, label: string) => {
  const text = JSON.stringify(what);
  for (const s of [PASSWORD, TOKEN, API_KEY, basicToken]) expect(text, `${label} must not contain ${s}`).not.toContain(s);
};

const DELIVERY = `query($id: ID!) { delivery(id: $id) { status responseData attempts { error responseBody } } }`;
const POSTS = `query($id: ID!) { ticket(id: $id) { posts { kind text } } }`;

test('credentials a receiver echoes back are *** in the delivery log, the mapped values and the comments', async ({ app, startReceiver }) => {
  // answers with the request's headers as JSON: 200 first, then 400 (a final failure: FAIL)
  let status = 200;
  const rx = await startReceiver((req) => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ headers: req.headers }) }));
  const agent = await createUser(app, { name: 'Agent', email: 'agent@example.com', role: 'AGENT' });
  const ticketId = await createTicket(app);
  const auths = [
    { type: 'BASIC', username: 'bob', secret: PASSWORD },
    { type: 'BEARER', secret: TOKEN },
  ] as const;
  for (const auth of auths) {
    status = 200;
    const webhookId = await createWebhook(app, {
      name: `echo ${auth.type}`,
      method: 'POST',
      url: `${rx.url}/echo`,
      format: 'JSON',
      body: '{"t": "{{ ticket.id }}"}',
      auth,
      headers: [{ name: 'X-Api-Key', value: API_KEY, secret: true }],
      responseMappings: [
        { path: 'headers.authorization', target: 'TEMPORARY', field: 'auth' },
        { path: 'headers.x-api-key', target: 'TEMPORARY', field: 'key' },
      ],
      successComment: 'answer: {{ response.body }} / {{ temp.auth }} / {{ temp.key }}',
      successRule: { statuses: '200', onFailure: 'FAIL' },
    });
    const ok = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, ok, 'SUCCEEDED');
    // the receiver did get the real credentials
    const got = rx.requests.at(-1)!.headers;
    expect(got['x-api-key']).toBe(API_KEY);
    expect(got.authorization).toBe(auth.type === 'BASIC' ? `Basic ${basicToken}` : `Bearer ${TOKEN}`);

    const delivery = (await app.ok(DELIVERY, { id: ok }, agent.auth)).delivery;
    expect(delivery.attempts[0].responseBody).toContain('"x-api-key":"***"');
    expect(delivery.responseData).toEqual({ auth: auth.type === 'BASIC' ? 'Basic ***' : 'Bearer ***', key: '***' });
    expectNoSecret(delivery, `the ${auth.type} delivery as an AGENT reads it`);

    status = 400;
    const failed = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, failed, 'FAILED');
    expectNoSecret((await app.ok(DELIVERY, { id: failed }, agent.auth)).delivery, `the failed ${auth.type} delivery`);
    tally.tried(2);
  }
  const posts = (await app.ok(POSTS, { id: ticketId }, agent.auth)).ticket!.posts;
  expect(posts.filter((p: { text: string }) => p.text.startsWith('answer: '))).toHaveLength(2);
  expectNoSecret(posts, 'the comments');
  const rows = await app.services.orm.em.fork().getConnection().execute(`select (select json_agg(a) from delivery_attempts a)::text as a, (select json_agg(d.response_data) from deliveries d)::text as d, (select json_agg(t) from delivery_texts t)::text as t`);
  expectNoSecret(rows, 'the stored rows');
});

test('credentials echoed as PHP’s json_encode writes them (\\/, \\u00e9) or percent-encoded in lower case are *** too', async ({ app, startReceiver }) => {
  // base64-like secrets hold "/" and "+", which json_encode writes as "\/" by default; non-ASCII as "\u00e9"
  const token = 'eyJhbGciOi/JIUzI1+NiJ9.abc/def==';
  const password = 'pass/wörd+1';
  const key = 'ключ/api-key';
  const php = (value: unknown) => JSON.stringify(value).replace(/\//g, '\\/').replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  // the header values as the receiver read them, decoded from their UTF-8 bytes
  const headersOf = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(String(v), 'latin1').toString('utf8')]));
  const rx = await startReceiver((req) => {
    const headers = headersOf(req.headers);
    const form = new URLSearchParams(headers as Record<string, string>).toString().replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
    return { status: 200, headers: { 'content-type': 'application/json' }, body: php({ headers, form }) };
  });
  const ticketId = await createTicket(app);
  const secrets = [token, password, key, Buffer.from(`bob:${password}`).toString('base64')];
  for (const auth of [{ type: 'BASIC', username: 'bob', secret: password }, { type: 'BEARER', secret: token }] as const) {
    const webhookId = await createWebhook(app, {
      name: `php echo ${auth.type}`,
      method: 'POST',
      url: `${rx.url}/echo`,
      format: 'JSON',
      body: '{"t": "{{ ticket.id }}"}',
      auth,
      headers: [{ name: 'X-Api-Key', value: key, secret: true }],
    });
    const id = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, id, 'SUCCEEDED');
    const body: string = (await app.ok(DELIVERY, { id })).delivery.attempts[0].responseBody;
    // the receiver did quote them, escaped
    expect(body).toContain('"x-api-key":"***"');
    expect(body).toContain('x-api-key=***');
    expect(body).toContain(auth.type === 'BASIC' ? '"authorization":"Basic ***"' : '"authorization":"Bearer ***"');
    for (const s of secrets) for (const form of [s, php(s).slice(1, -1), encodeURIComponent(s).toLowerCase()]) expect(body, `the ${auth.type} answer must not quote ${form}`).not.toContain(form);
    tally.tried(1);
  }
});
