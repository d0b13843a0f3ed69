/**
 * Webhooks through the real GraphQL API: definitions (ADMIN only,
 * validated on save, credentials write-only and sealed), safe templates (values escaped
 * for where they land, anything but a known tag refused), previews, and real sends via
 * testWebhook to a local receiver.
 *
 * Each test has a deskhooks, a database and a receiver of its own (`wh`, on the apps of
 * test/support/fixtures.ts); `fields` adds the custom fields x and sms_id, `desk` an agent,
 * a client and a ticket with a hostile title as well. The app logs at debug level; after each test every console
 * line written during it is checked for secrets.
 */
import { format } from 'node:util';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, afterEach, beforeAll, describe, expect, vi } from 'vitest';
import { bearer, type TestApp } from '../support/app.js';
import { waitFor } from '../support/wait.js';
import { test, type Receiver } from '../support/fixtures.js';
import {
  WhCreateCustomFieldDocument, WhCreateTicketDocument, WhCreateUserDocument, WhCreateWebhookDocument, WhDeleteWebhookDocument,
  WhDeliveryDocument, WhPreviewWebhookDocument, WhTemplateTagsDocument, WhTestWebhookDocument, WhUpdateWebhookDocument,
  WhWebhookDocument, WhWebhooksDocument,
  type WebhookInput, type WhCreateWebhookMutation, type WhDeliveryQuery, type WhPreviewWebhookQuery, type WhTestWebhookMutation,
} from '../generated/graphql.js';

/** A title that tries to break out of every kind of escaping. */
const TITLE = `Printer "HP-42" isn't 'ok' \\ C:\\temp\\x\nsecond line <b>bold</b> & a=b; é 😀`;
/** A custom field value that would change a URL's structure if it were not encoded. */
const X_VALUE = 'A/1?x=1&y #z';
const CHAT_ID = '-1001234567890';
const REQUESTER_PHONE = '+44 (20) 7946-0958';
const BOT_URL = 'https://api.telegram.org/bot123456789:AAH-bot_Token/sendMessage';

const BASIC_USER = 'svc-deskhooks';
const BASIC_PASS = 'Pa55:w0rd-S3cr3t!';
const TOKEN_1 = 'tok_FIRST_0123456789abcdef';
const TOKEN_2 = 'tok_SECOND_fedcba9876543210';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
/** Every form in which a stored credential must never show. */
const SECRET_FORMS = [BASIC_PASS, b64(`${BASIC_USER}:${BASIC_PASS}`), b64(BASIC_PASS), TOKEN_1, TOKEN_2, b64(TOKEN_1), b64(TOKEN_2)];
const expectNoSecret = (what: unknown) => {
  const text = typeof what === 'string' ? what : JSON.stringify(what);
  for (const s of SECRET_FORMS) expect(text, `must not contain ${s}`).not.toContain(s);
};

const codes = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.map((e) => e.extensions?.code);

interface Wh {
  app: TestApp;
  receiver: Receiver;
  /** a JSON POST to the receiver, with `over` */
  base(over?: Partial<WebhookInput>): WebhookInput;
  create(input: WebhookInput): Promise<WhCreateWebhookMutation['createWebhook']>;
  sql(query: string, params?: unknown[]): Promise<any[]>;
  webhookCount(): Promise<number>;
  deliveryCount(): Promise<number>;
}

interface Desk {
  agent: { id: string; auth: string };
  client: { id: string; auth: string };
  parentId: string;
  /** the ticket with TITLE, requested by the client, assigned to the agent, a child of parentId, custom field x = X_VALUE */
  ticketId: string;
  preview(id: string, tid?: string): Promise<WhPreviewWebhookQuery['previewWebhook']>;
  /** testWebhook, then the request as the receiver got it and the delivery once SUCCEEDED */
  send(id: string, tid?: string): Promise<{ created: WhTestWebhookMutation['testWebhook']; received: Receiver['requests'][number]; delivery: NonNullable<WhDeliveryQuery['delivery']> }>;
}

const it = test.extend<{ wh: Wh; fields: Wh; desk: Desk }>({
  wh: async ({ startApp, startReceiver }, use) => {
    const app = await startApp({ DESKHOOKS_LOG_LEVEL: 'debug' });
    const receiver = await startReceiver();
    const sql = async (query: string, params: unknown[] = []) => app.services.orm.em.fork().getConnection().execute(query, params);
    await use({
      app,
      receiver,
      base: (over = {}) => ({ name: 'hook', method: 'POST', url: `${receiver.url}/hook`, format: 'JSON', ...over }),
      create: async (input) => (await app.ok(WhCreateWebhookDocument, { input })).createWebhook,
      sql,
      webhookCount: async () => Number((await sql('select count(*)::int as n from webhooks'))[0].n),
      deliveryCount: async () => Number((await sql('select count(*)::int as n from deliveries'))[0].n),
    });
  },
  fields: async ({ wh }, use) => {
    await wh.app.ok(WhCreateCustomFieldDocument, { input: { key: 'x', name: 'X', type: 'TEXT' } });
    await wh.app.ok(WhCreateCustomFieldDocument, { input: { key: 'sms_id', name: 'SMS id', type: 'TEXT' } });
    await use(wh);
  },
  desk: async ({ fields: { app, receiver } }, use) => {
    const mk = async (name: string, email: string, role: 'AGENT' | 'CLIENT', extra: { phone?: string; telegramChatId?: string }) => {
      const { createUser } = await app.ok(WhCreateUserDocument, { input: { name, email, role, ...extra } });
      return { id: createUser.user.id, auth: bearer(createUser.apiKey) };
    };
    const agent = await mk('Agent', 'wh-agent@example.com', 'AGENT', { telegramChatId: CHAT_ID, phone: '+1 555 0100' });
    const client = await mk('Client', 'wh-client@example.com', 'CLIENT', { phone: REQUESTER_PHONE, telegramChatId: '111' });
    const parentId = (await app.ok(WhCreateTicketDocument, { input: { title: 'Parent', description: 'p', requesterId: client.id } })).createTicket.id;
    const t = (
      await app.ok(WhCreateTicketDocument, {
        input: { title: TITLE, description: 'd', requesterId: client.id, assigneeId: agent.id, parentId, customFields: { x: X_VALUE } },
      })
    ).createTicket;
    expect(t).toMatchObject({ title: TITLE, customFields: { x: X_VALUE }, parent: { id: parentId }, assignee: { id: agent.id } });
    const ticketId = t.id;
    await use({
      agent,
      client,
      parentId,
      ticketId,
      preview: async (id, tid = ticketId) => (await app.ok(WhPreviewWebhookDocument, { id, ticketId: tid })).previewWebhook,
      async send(id, tid = ticketId) {
        const created = (await app.ok(WhTestWebhookDocument, { id, ticketId: tid })).testWebhook;
        const received = await waitFor(() => receiver.requests.find((r) => r.headers['x-deskhooks-delivery'] === created.id), { what: `delivery ${created.id} at the receiver` });
        const delivery = await waitFor(
          async () => {
            const d = (await app.ok(WhDeliveryDocument, { id: created.id })).delivery;
            return d && d.status === 'SUCCEEDED' && d;
          },
          { what: `delivery ${created.id} SUCCEEDED` },
        );
        return { created, received, delivery };
      },
    });
  },
});

// every console line (the apps' loggers included), captured and kept quiet
const logLines: string[] = [];
beforeAll(() => {
  for (const m of ['log', 'error', 'warn', 'info', 'debug'] as const) {
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void logLines.push(format(...args)));
  }
});

/** No console line holds a credential, nor shows that a request was dumped, nor an internal error. */
function checkLogLines(): void {
  const lines = logLines.splice(0);
  for (const line of lines) expectNoSecret(line);
  expect(lines.filter((l) => l.includes('Authorization') || l.includes('authorization'))).toEqual([]);
  // a render failure in previewWebhook is a refusal, never an internal error
  expect(lines.filter((l) => l.includes('unexpected error'))).toEqual([]);
}
afterEach(checkLogLines);

afterAll(() => {
  vi.restoreAllMocks();
  checkLogLines(); // what came after the last test (its app's reset and stop)
});

// ---------------------------------------------------------------- values arrive exact in every format

describe('Telegram sendMessage with a hostile title', () => {
  const telegram = (url: string): WebhookInput => ({
    name: 'Telegram',
    method: 'POST',
    url,
    format: 'JSON',
    body: '{\n  "chat_id": "{{ assignee.telegramChatId }}",\n  "text": "Ticket #{{ ticket.id }}: {{ ticket.title }}",\n  "parse_mode": "HTML"\n}',
    headers: [{ name: 'X-Ticket-Title', value: '{{ ticket.title }}' }],
  });
  const expected = (ticketId: string) => ({ chat_id: CHAT_ID, text: `Ticket #${ticketId}: ${TITLE}`, parse_mode: 'HTML' });

  it('the preview is a POST to api.telegram.org whose JSON body parses back to the exact values', async ({ wh: { create }, desk: { ticketId, preview } }) => {
    const w = await create(telegram(BOT_URL));
    const p = await preview(w.id);
    expect(p.method).toBe('POST');
    expect(p.url).toBe(BOT_URL);
    expect(p.headers).toMatchObject({ 'Content-Type': 'application/json; charset=utf-8' });
    expect((p.headers as Record<string, string>)['User-Agent']).toMatch(/^deskhooks\/\d+\.\d+\.\d+/);
    expect(JSON.parse(p.body!)).toEqual(expected(ticketId));
    // a header value cannot be split: CR/LF are removed, everything else stays
    expect((p.headers as Record<string, string>)['X-Ticket-Title']).toBe(TITLE.replace(/[\r\n]/g, ''));
  });

  it('the same definition sent for real: the receiver gets a JSON body with the exact values', async ({ wh: { receiver, create }, desk: { ticketId, send } }) => {
    const w = await create(telegram(`${receiver.url}/bot123456789:AAH-bot_Token/sendMessage`));
    const { received, delivery } = await send(w.id);
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/bot123456789:AAH-bot_Token/sendMessage');
    expect(received.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(received.body)).toEqual(expected(ticketId));
    // sent as UTF-8 bytes (Node reads header bytes as latin1)
    expect(Buffer.from(received.headers['x-ticket-title'] as string, 'latin1').toString('utf8')).toBe(TITLE.replace(/[\r\n]/g, ''));
    expect(delivery.request.body).toBe(received.body);
  });
});

describe('an XML body', () => {
  it('is well-formed and its text equals the original title, in the preview and on the wire', async ({ wh: { receiver, base, create }, desk: { ticketId, preview, send } }) => {
    const w = await create(
      base({
        format: 'XML',
        url: `${receiver.url}/xml`,
        body: '<?xml version="1.0" encoding="UTF-8"?>\n<message chat="{{ assignee.telegramChatId }}">\n  <ticket>{ticket_id}</ticket>\n  <text>{{ ticket.title }}</text>\n</message>',
      }),
    );
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, parseAttributeValue: false, trimValues: false, processEntities: true });
    const check = (xml: string) => {
      expect(XMLValidator.validate(xml)).toBe(true);
      const doc = parser.parse(xml) as { message: { '@chat': string; ticket: string; text: string } };
      expect(doc.message.text).toBe(TITLE);
      expect(doc.message['@chat']).toBe(CHAT_ID);
      expect(doc.message.ticket).toBe(ticketId);
    };
    const p = await preview(w.id);
    expect(p.headers).toMatchObject({ 'Content-Type': 'application/xml; charset=utf-8' });
    check(p.body!);
    expect(p.body).toContain('&lt;b&gt;bold&lt;/b&gt;');
    const { received } = await send(w.id);
    expect(received.headers['content-type']).toBe('application/xml; charset=utf-8');
    check(received.body);
  });

  it('inside a CDATA section a value is not entity-escaped and "]]>" is split: the receiver reads the exact title', async ({ wh: { app, receiver, base, create }, desk: { preview, send } }) => {
    const title = 'Tom -- <b>urgent</b> & co ]]> end]';
    const tid = (await app.ok(WhCreateTicketDocument, { input: { title, description: 'd' } })).createTicket.id;
    const w = await create(base({ format: 'XML', url: `${receiver.url}/xml`, body: '<message><text><![CDATA[{{ ticket.title }}]]></text><id>{ticket_id}</id></message>' }));
    const parser = new XMLParser({ parseTagValue: false, trimValues: false, processEntities: true });
    const check = (xml: string) => {
      expect(XMLValidator.validate(xml)).toBe(true);
      expect(xml).toContain('<![CDATA[Tom -- <b>urgent</b> & co ]]]]><![CDATA[> end]');
      expect(parser.parse(xml)).toEqual({ message: { text: title, id: tid } });
    };
    check((await preview(w.id, tid)).body!);
    check((await send(w.id, tid)).received.body);
  });
});

describe('a FORM body', () => {
  const FORM = 'phone={{ requester.phone }}&message=Ticket {{ ticket.id }}: {{ ticket.title }}';
  const checkParams = (ticketId: string, params: URLSearchParams, extra: [string, string][] = []) => {
    // the title's "&" and "=" add no field
    expect([...params.entries()]).toEqual([...extra, ['phone', REQUESTER_PHONE], ['message', `Ticket ${ticketId}: ${TITLE}`]]);
  };

  it('POST: URLSearchParams gives back the exact values', async ({ wh: { receiver, base, create }, desk: { ticketId, preview, send } }) => {
    const w = await create(base({ format: 'FORM', url: `${receiver.url}/sms`, body: FORM }));
    const p = await preview(w.id);
    expect(p.headers).toMatchObject({ 'Content-Type': 'application/x-www-form-urlencoded' });
    checkParams(ticketId, new URLSearchParams(p.body!));
    // the literal text is form-encoded too: no raw space or ":" goes out
    expect(p.body).toMatch(/^[A-Za-z0-9*\-._%+=&]*$/);
    const { received } = await send(w.id);
    expect(received.headers['content-type']).toBe('application/x-www-form-urlencoded');
    checkParams(ticketId, new URLSearchParams(received.body));
  });

  it('GET: the values are in the query string, there is no body', async ({ wh: { receiver, base, create }, desk: { ticketId, preview, send } }) => {
    const w = await create(base({ method: 'GET', format: 'FORM', url: `${receiver.url}/sms?key=abc`, body: FORM }));
    const p = await preview(w.id);
    expect(p.method).toBe('GET');
    expect(p.body).toBeNull();
    expect(p.headers).not.toHaveProperty('Content-Type');
    const url = new URL(p.url);
    expect(url.pathname).toBe('/sms');
    checkParams(ticketId, url.searchParams, [['key', 'abc']]);
    const { received } = await send(w.id);
    expect(received.method).toBe('GET');
    expect(received.body).toBe('');
    checkParams(ticketId, new URL(received.url, receiver.url).searchParams, [['key', 'abc']]);
  });

  it('GET: a "#" in the literal text stays in the value instead of starting a fragment', async ({ wh: { receiver, base, create }, desk: { ticketId, preview, send } }) => {
    const w = await create(base({ method: 'GET', format: 'FORM', url: `${receiver.url}/sms`, body: 'text=Client wrote in #{ticket_id}: ok&n=1' }));
    const expected = [['text', `Client wrote in #${ticketId}: ok`], ['n', '1']];
    expect([...new URL((await preview(w.id)).url).searchParams]).toEqual(expected);
    const { received } = await send(w.id);
    expect([...new URL(received.url, receiver.url).searchParams]).toEqual(expected);
  });
});

describe('tags in the URL are percent-encoded', () => {
  it('{parent_ticket_id} and {{ ticket.custom.x }} decode back exactly and cannot change the URL structure', async ({ wh: { receiver, base, create }, desk: { parentId, ticketId, preview, send } }) => {
    const w = await create(base({ method: 'DELETE', url: `${receiver.url}/tickets/{parent_ticket_id}/orders/{{ ticket.custom.x }}?x={{ ticket.custom.x }}&t={ticket_id}` }));
    const check = (raw: string) => {
      const url = new URL(raw, receiver.url);
      expect(url.host).toBe(`127.0.0.1:${receiver.port}`);
      expect(url.hash).toBe('');
      const segments = url.pathname.split('/');
      expect(segments).toHaveLength(5);
      expect(segments.slice(0, 4)).toEqual(['', 'tickets', parentId, 'orders']);
      expect(decodeURIComponent(segments[4]!)).toBe(X_VALUE);
      expect([...url.searchParams.entries()]).toEqual([['x', X_VALUE], ['t', ticketId]]);
    };
    const p = await preview(w.id);
    expect(p.url).toBe(`${receiver.url}/tickets/${parentId}/orders/A%2F1%3Fx%3D1%26y%20%23z?x=A%2F1%3Fx%3D1%26y%20%23z&t=${ticketId}`);
    check(p.url);
    const { received } = await send(w.id);
    expect(received.method).toBe('DELETE');
    check(received.url);
  });

  it('a value "." or ".." cannot remove or climb a path segment: preview refuses, the send FAILS at once unsent', async ({ wh: { app, receiver, base, create }, desk: { client, preview } }) => {
    const dots = (await app.ok(WhCreateTicketDocument, { input: { title: '.', description: 'd', requesterId: client.id, customFields: { x: '..' } } })).createTicket;
    for (const [url, segment] of [
      [`${receiver.url}/orders/{{ ticket.custom.x }}/cancel`, '..'],
      [`${receiver.url}/orders/{{ ticket.title }}/cancel`, '.'],
    ] as const) {
      const w = await create(base({ url }));
      // the same definition is fine for a ticket with ordinary values
      expect(new URL((await preview(w.id)).url).pathname).toMatch(/^\/orders\/[^/]+\/cancel$/);
      const r = await app.gql(WhPreviewWebhookDocument, { id: w.id, ticketId: dots.id });
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ticketId' });
      expect(r.errors?.[0]?.message).toContain(`"${segment}" path segment`);
      const created = (await app.ok(WhTestWebhookDocument, { id: w.id, ticketId: dots.id })).testWebhook;
      expect(created.status).toBe('FAILED');
      const d = (await app.ok(WhDeliveryDocument, { id: created.id })).delivery!;
      expect(d).toMatchObject({ status: 'FAILED', attemptCount: 0, attempts: [] });
    }
    expect(receiver.requests.filter((q) => q.url.startsWith('/cancel') || q.url.startsWith('/orders/cancel'))).toEqual([]);
  });

  it('literal "." / ".." segments and tags in the host are refused at save; a host tag saved before makes preview say why (not an internal error)', async ({ wh: { app, base, create, sql }, desk: { ticketId } }) => {
    for (const url of ['https://example.com/a/../b', 'https://example.com/a/%2E%2e/b', 'https://example.com/./b', 'http://h{{ ticket.custom.x }}.example.com/']) {
      const r = await app.gql(WhCreateWebhookDocument, { input: base({ url }) });
      expect(r.errors?.[0]?.extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    }
    const w = await create(base());
    await sql('update webhooks set url = ? where id = ?', ['http://h{{ ticket.custom.x }}.example.com/', w.id]);
    const r = await app.gql(WhPreviewWebhookDocument, { id: w.id, ticketId });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    expect(r.errors?.[0]?.message).toContain('comes before the end of scheme://host:port');
  });

  it('a missing value renders empty: a ticket without parent or custom field; a path segment left empty by tags alone is refused, naming the tag', async ({ wh: { app, receiver, base, create }, desk: { preview } }) => {
    const bare = (await app.ok(WhCreateTicketDocument, { input: { title: 'bare', description: 'd' } })).createTicket;
    const w = await create(base({ url: `${receiver.url}/p/p{parent_ticket_id}/x-{{ ticket.custom.x }}?a={{ assignee.telegramChatId }}` }));
    expect((await preview(w.id, bare.id)).url).toBe(`${receiver.url}/p/p/x-?a=`);
    const emptied = await create(base({ url: `${receiver.url}/p/{parent_ticket_id}/x` }));
    const r = await app.gql(WhPreviewWebhookDocument, { id: emptied.id, ticketId: bare.id });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ticketId' });
    expect(r.errors?.[0]?.message).toContain('{parent_ticket_id} (1:');
    expect(r.errors?.[0]?.message).toContain('rendered empty, leaving path segment 2 ("p/{parent_ticket_id}/x") empty');
  });
});

// ---------------------------------------------------------------- templates

describe('templates are data', () => {
  /** body layout: the payload starts at line 2, column 12 */
  const jsonBody = (payload: string) => `{\n  "text": "${payload}"\n}`;
  const injections: { name: string; payload: string; shows: string; at?: number }[] = [
    { name: 'Eta exec tag', payload: '{{~ it.ticket.title }}', shows: '{{~ it.ticket.title }}' },
    { name: 'Eta raw output tag', payload: '{{= it.ticket.title }}', shows: '{{= it.ticket.title }}' },
    { name: 'Eta code inside a tag', payload: '{{ <% process.exit() %> }}', shows: '{{ <% process.exit() %> }}' },
    { name: 'Eta whitespace control', payload: '{{- ticket.title -}}', shows: '{{- ticket.title -}}' },
    { name: 'Mustache raw triple braces', payload: '{{{ ticket.title }}}', shows: '{{{' },
    { name: 'Handlebars block helper', payload: '{{#each ticket}}x{{/each}}', shows: '{{#each ticket}}' },
    { name: 'Handlebars partial', payload: '{{> secrets }}', shows: '{{> secrets }}' },
    { name: 'constructor chain', payload: '{{ ticket.constructor.constructor }}', shows: '{{ ticket.constructor.constructor }}' },
    { name: 'constructor chain on a leaf', payload: '{{ ticket.title.constructor.constructor }}', shows: '{{ ticket.title.constructor.constructor }}' },
    { name: '__proto__', payload: '{{ __proto__.polluted }}', shows: '{{ __proto__.polluted }}' },
    { name: '__proto__ as a temp key', payload: '{{ temp.__proto__ }}', shows: '{{ temp.__proto__ }}' },
    { name: 'constructor as a custom key', payload: '{{ ticket.custom.constructor }}', shows: '{{ ticket.custom.constructor }}' },
    { name: 'prototype', payload: '{{ ticket.prototype }}', shows: '{{ ticket.prototype }}' },
    { name: 'bracket access', payload: "{{ ticket['title'] }}", shows: "{{ ticket['title'] }}" },
    { name: 'bracket access on it', payload: "{{ it['constructor'] }}", shows: "{{ it['constructor'] }}" },
    { name: 'method call', payload: '{{ ticket.title.toUpperCase() }}', shows: '{{ ticket.title.toUpperCase() }}' },
    { name: 'require call', payload: "{{ process.mainModule.require('child_process') }}", shows: '{{ process.mainModule.require(' },
    { name: 'template literal', payload: '{{ `${process.pid}` }}', shows: '{{ `${process.pid}` }}' },
    { name: 'operator', payload: '{{ ticket.id || process.exit(1) }}', shows: '{{ ticket.id || process.exit(1) }}' },
    { name: 'unknown root (process.env)', payload: '{{ process.env.DESKHOOKS_SECRET_KEY }}', shows: 'process.env.DESKHOOKS_SECRET_KEY' },
    { name: 'unknown field', payload: 'ok {{ ticket.id }} {{ ticket.nope }}', shows: 'ticket.nope', at: 19 },
    { name: 'the context variable itself', payload: '{{ it }}', shows: 'it' },
    { name: 'a successComment-only tag', payload: '{{ response.body }}', shows: 'response.body' },
    { name: 'empty tag', payload: '{{ }}', shows: '{{ }}' },
    { name: 'unclosed tag', payload: '{{ ticket.id', shows: '{{' },
    { name: 'unclosed tag after a good one', payload: 'a {{ ticket.id }} b {{ ticket.title', shows: '{{', at: 20 },
    { name: 'nested tags', payload: '{{ {{ ticket.id }} }}', shows: '{{' },
  ];

  it.for(injections)('$name in the body → BAD_USER_INPUT naming body, the tag and line:column; nothing saved', async ({ payload, shows, at = 0 }, { wh: { app, base, webhookCount } }) => {
    const before = await webhookCount();
    const r = await app.gql(WhCreateWebhookDocument, { input: base({ body: jsonBody(payload) }) });
    expect(r.data).toBeNull();
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
    const message = r.errors![0]!.message;
    expect(message).toMatch(/^body: /);
    expect(message).toContain(shows);
    expect(message).toContain(` at 2:${12 + at}`);
    expect(await webhookCount()).toBe(before);
  });

  const otherFields: { name: string; input: Partial<WebhookInput>; field: string; shows: string; pos: string }[] = [
    { name: 'url', input: { url: 'https://example.com/{{ ticket.constructor }}' }, field: 'url', shows: '{{ ticket.constructor }}', pos: '1:21' },
    { name: 'url (call)', input: { url: 'https://example.com/?q={{ ticket.id.toString() }}' }, field: 'url', shows: '{{ ticket.id.toString() }}', pos: '1:24' },
    { name: 'second header value', input: { headers: [{ name: 'X-A', value: 'a' }, { name: 'X-B', value: 'id {{ it.ticket }}' }] }, field: 'headers[1].value', shows: 'it.ticket', pos: '1:4' },
    { name: 'successComment on line 3', input: { successComment: 'Sent.\nStatus {{ response.status }}\n  {{~ it.response }}' }, field: 'successComment', shows: '{{~ it.response }}', pos: '3:3' },
  ];
  it.for(otherFields)('in the $name → BAD_USER_INPUT naming $field, the tag and $pos', async ({ input, field, shows, pos }, { wh: { app, base, webhookCount } }) => {
    const before = await webhookCount();
    const r = await app.gql(WhCreateWebhookDocument, { input: base(input) });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(r.errors?.[0]?.message).toContain(`${field}: `);
    expect(r.errors?.[0]?.message).toContain(shows);
    expect(r.errors?.[0]?.message).toContain(` at ${pos}`);
    expect(await webhookCount()).toBe(before);
  });

  it('an update with an injected tag is refused and the stored webhook is unchanged', async ({ wh: { app, base, create } }) => {
    const w = await create(base({ name: 'keep me', body: '{"id": "{{ ticket.id }}"}' }));
    const r = await app.gql(WhUpdateWebhookDocument, { id: w.id, input: base({ name: 'changed', body: '{"id": "{{ ticket.constructor.constructor }}"}' }) });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
    expect((await app.ok(WhWebhookDocument, { id: w.id })).webhook).toEqual(w);
  });

  it('text that merely looks like code stays literal, in the body, the URL and the success comment', async ({ wh: { receiver, base, create, sql }, desk: { ticketId, preview, send } }) => {
    const body = '{"text": "<%= 7*7 %> | ${x} | {% if x %}y{% endif %} | #{7*7} | {nope} | {{ticket.id}} | {ticket_id}"}';
    const successComment = 'done <%= 7*7 %> ${x} {{ response.status }}';
    const w = await create(base({ url: `${receiver.url}/literal/$%7Bx%7D?a=<%25=7*7%25>`, body, successComment }));
    expect(w).toMatchObject({ body, successComment });
    const p = await preview(w.id);
    expect(JSON.parse(p.body!)).toEqual({ text: `<%= 7*7 %> | \${x} | {% if x %}y{% endif %} | #{7*7} | {nope} | ${ticketId} | ${ticketId}` });
    const { received } = await send(w.id);
    expect(JSON.parse(received.body).text).toContain('<%= 7*7 %> | ${x} |');
    expect(received.url).toBe('/literal/$%7Bx%7D?a=%3C%25=7*7%25%3E');
    // the success comment was written literally, with the status filled in
    const comments = await sql("select text from posts where ticket_id = ? and kind = 'COMMENT' order by id desc limit 1", [ticketId]);
    expect(comments[0].text).toBe('done <%= 7*7 %> ${x} 200');
  });

  it('a delivery keeps the template context only when a success comment renders from it', async ({ wh: { receiver, base, create, sql }, desk: { ticketId, send } }) => {
    const contextOf = async (id: string) => (await sql("select processing->'context' as c from deliveries where id = ?", [id]))[0].c as Record<string, unknown> | null;
    const plain = await create(base({ name: 'no comment', url: `${receiver.url}/plain`, successComment: ' ' }));
    expect(await contextOf((await send(plain.id)).created.id)).toBeNull();
    const commented = await create(base({ name: 'commented', url: `${receiver.url}/commented`, successComment: 'sent for {{ ticket.title }}' }));
    const { created } = await send(commented.id);
    expect(await contextOf(created.id)).toMatchObject({ ticket: { id: ticketId }, webhook: { name: 'commented' } });
  });
});

// ---------------------------------------------------------------- validation

describe('saved only when valid: BAD_USER_INPUT naming the field, nothing saved', () => {
  const cases: [string, Partial<WebhookInput>, string, RegExp?][] = [
    ['empty name', { name: '  ' }, 'name'],
    ['empty URL', { url: '' }, 'url'],
    ['ftp URL', { url: 'ftp://example.com/x' }, 'url', /http or https/],
    ['relative URL', { url: '/hook' }, 'url', /not an absolute URL/],
    ['a tag cannot supply the scheme and host', { url: '{{ ticket.url }}/x' }, 'url'],
    ['credentials in the URL', { url: 'https://user:pw@example.com/' }, 'url', /credentials/],
    ['JSON body that does not parse', { body: '{"a": }' }, 'body', /JSON body is not valid/],
    ['JSON body with a bare tag (breaks when the value is empty)', { body: '{"id": {{ ticket.id }}}' }, 'body', /inside a JSON string/],
    ['XML body that is not well-formed', { format: 'XML', body: '<a><b></a>' }, 'body', /XML body is not valid/],
    ['XML body with two roots', { format: 'XML', body: '<a/><b/>' }, 'body'],
    ['XML body with a tag inside a comment', { format: 'XML', body: '<a>\n  <!-- {{ ticket.title }} --></a>' }, 'body', /tag "\{\{ ticket.title \}\}" at 2:8 is inside an XML comment/],
    ['XML body with "--" inside a comment', { format: 'XML', body: '<a><!-- a -- b --></a>' }, 'body', /a comment must not contain "--"/],
    ['FORM body that is not name=value pairs', { format: 'FORM', body: 'hello world' }, 'body', /FORM body has a pair without "=" at 1:1/],
    ['FORM body with an invalid percent-escape', { format: 'FORM', body: 'a=x y&b=%zz' }, 'body', /"%" without two hex digits after it at 1:9/],
    ['FORM body with an empty name', { format: 'FORM', body: '=x&&b' }, 'body', /FORM body has a pair with an empty name at 1:1/],
    ['FORM body with an empty pair', { format: 'FORM', body: 'a=1&&b=2' }, 'body', /FORM body has an empty pair at 1:5/],
    ['GET FORM body with an invalid percent-escape', { method: 'GET', format: 'FORM', body: 'q={{ ticket.id }}&b=%zz' }, 'body', /"%" without two hex digits after it at 1:21/],
    ['GET with a JSON body', { method: 'GET', body: '{"a": "b"}' }, 'body', /GET request cannot carry a JSON body/],
    ['GET with an XML body', { method: 'GET', format: 'XML', body: '<a>b</a>' }, 'body', /GET request cannot carry a XML body/],
    ['header name with a space', { headers: [{ name: 'Bad Name', value: 'x' }] }, 'headers[0].name'],
    ['webhook-id header', { headers: [{ name: 'webhook-id', value: 'fixed-id' }] }, 'headers[0].name', /"webhook-id" is a signing header/],
    ['webhook-timestamp header with signing on', { signing: true, headers: [{ name: 'X-Ok', value: 'x' }, { name: 'Webhook-Timestamp', value: '1' }] }, 'headers[1].name', /signing header/],
    ['webhook-signature header with signing off', { signing: false, headers: [{ name: 'WEBHOOK-SIGNATURE', value: 'v1,Zm9yZ2Vk' }] }, 'headers[0].name', /signing header/],
    ['Authorization header', { headers: [{ name: 'X-Ok', value: 'x' }, { name: 'authorization', value: 'Bearer x' }] }, 'headers[1].name', /set through auth/],
    ['empty header name', { headers: [{ name: '', value: 'x' }] }, 'headers[0].name'],
    ['header given twice', { headers: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }] }, 'headers[1].name', /twice/],
    ['header value with a line break', { headers: [{ name: 'X-A', value: 'a\r\nX-Injected: 1' }] }, 'headers[0].value'],
    ['BASIC without a username', { auth: { type: 'BASIC', secret: 'pw' } }, 'auth.username'],
    ['BASIC username with ":"', { auth: { type: 'BASIC', username: 'a:b', secret: 'pw' } }, 'auth.username'],
    ['BASIC without a password', { auth: { type: 'BASIC', username: 'u' } }, 'auth.secret'],
    ['BEARER without a token', { auth: { type: 'BEARER' } }, 'auth.secret'],
    ['BEARER with an empty token', { auth: { type: 'BEARER', secret: '' } }, 'auth.secret'],
    ['BEARER token with a line break', { auth: { type: 'BEARER', secret: 'abc\r\nX-Injected: 1' } }, 'auth.secret'],
    ['mapping path with an empty key', { responseMappings: [{ path: 'result..id', target: 'TEMPORARY', field: 'id' }] }, 'responseMappings[0].path'],
    ['mapping path with a bad index', { responseMappings: [{ path: 'result[x]', target: 'TEMPORARY', field: 'id' }] }, 'responseMappings[0].path'],
    ['mapping path through __proto__', { responseMappings: [{ path: 'a.__proto__.b', target: 'TEMPORARY', field: 'id' }] }, 'responseMappings[0].path'],
    ['CUSTOM_FIELD mapping to an unknown field', { responseMappings: [{ path: 'result.id', target: 'CUSTOM_FIELD', field: 'nope' }] }, 'responseMappings[0].field', /unknown custom field "nope"/],
    ['second mapping invalid temporary name', { responseMappings: [{ path: 'a', target: 'CUSTOM_FIELD', field: 'sms_id' }, { path: 'b', target: 'TEMPORARY', field: 'bad-name' }] }, 'responseMappings[1].field'],
    ['empty mapping field', { responseMappings: [{ path: 'a', target: 'TEMPORARY', field: ' ' }] }, 'responseMappings[0].field'],
    // names tags refuse: {{ temp.constructor }} could never be used, a value under __proto__ would not be kept
    ['temporary field named __proto__', { responseMappings: [{ path: 'a', target: 'TEMPORARY', field: '__proto__' }] }, 'responseMappings[0].field', /cannot be a temporary field name: tags refuse it/],
    ['temporary field named constructor', { responseMappings: [{ path: 'a', target: 'TEMPORARY', field: 'ok' }, { path: 'b', target: 'TEMPORARY', field: 'constructor' }] }, 'responseMappings[1].field', /cannot be a temporary field name/],
  ];
  it.for(cases)('%s → %s', async ([_name, input, field, message], { fields: { app, base, create, webhookCount } }) => {
    // no stored secret, so an update without one is as invalid as a create
    const stored = await create(base({ name: 'stored', body: '{"id": "{{ ticket.id }}"}' }));
    const before = await webhookCount();
    const r = await app.gql(WhCreateWebhookDocument, { input: base(input) });
    expect(r.data).toBeNull();
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(r.errors?.[0]?.message).toContain(`${field}: `);
    if (message) expect(r.errors?.[0]?.message).toMatch(message);
    expect(await webhookCount()).toBe(before);
    // the same definition is refused as an update too, and the stored one stays
    const u = await app.gql(WhUpdateWebhookDocument, { id: stored.id, input: base(input) });
    expect(u.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await app.ok(WhWebhookDocument, { id: stored.id })).webhook).toEqual(stored);
  });

  it('several problems are all reported; the first names the field', async ({ wh: { app, base } }) => {
    const r = await app.gql(WhCreateWebhookDocument, { input: base({ url: 'nope', body: '{', auth: { type: 'BEARER' } }) });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    expect((r.errors?.[0]?.extensions as { problems?: { field: string }[] }).problems?.map((p) => p.field)).toEqual(['url', 'body', 'auth.secret']);
  });

  it('a valid definition with a CUSTOM_FIELD mapping to an existing field and a TEMPORARY one is saved as given', async ({ fields: { base, create } }) => {
    const input = base({
      name: 'SMS',
      method: 'PUT',
      format: 'XML',
      body: '<sms><to>{{ requester.phone }}</to></sms>',
      headers: [{ name: 'X-Ticket', value: '{{ ticket.id }}' }],
      responseMappings: [
        { path: 'reply.result[0].id', target: 'CUSTOM_FIELD', field: 'sms_id' },
        { path: 'reply.status', target: 'TEMPORARY', field: 'sms_status' },
      ],
      successComment: 'SMS {{ temp.sms_status }}',
      enabled: false,
    });
    const w = await create(input);
    expect(w).toMatchObject({ ...input, auth: { type: 'NONE', username: null, secretSet: false } });
  });
});

// ---------------------------------------------------------------- access

describe('webhooks are ADMIN only', () => {
  it('AGENT and CLIENT get FORBIDDEN on create, update, delete, list, get, preview and test; nothing changes', async ({ wh: { app, base, create, webhookCount, deliveryCount }, desk: { agent, client, ticketId } }) => {
    const w = await create(base({ name: 'guarded', auth: { type: 'BEARER', secret: TOKEN_1 } }));
    const webhooksBefore = await webhookCount();
    const deliveriesBefore = await deliveryCount();
    for (const who of [agent, client]) {
      const ops: [unknown, Record<string, unknown>][] = [
        [WhCreateWebhookDocument, { input: base({ name: 'by staff' }) }],
        [WhUpdateWebhookDocument, { id: w.id, input: base({ name: 'by staff' }) }],
        [WhDeleteWebhookDocument, { id: w.id }],
        [WhWebhooksDocument, {}],
        [WhWebhookDocument, { id: w.id }],
        [WhPreviewWebhookDocument, { id: w.id, ticketId }],
        [WhTestWebhookDocument, { id: w.id, ticketId }],
      ];
      for (const [doc, vars] of ops) {
        const r = await app.gql(doc as never, vars, who.auth);
        expect(codes(r), JSON.stringify(vars)).toEqual(['FORBIDDEN']);
        expect(Object.values(r.data ?? {}).filter((v) => v !== null)).toEqual([]);
        expectNoSecret(r);
      }
    }
    expect(codes(await app.gql(WhWebhooksDocument, {}, null))).toEqual(['UNAUTHENTICATED']);
    expect(await webhookCount()).toBe(webhooksBefore);
    expect(await deliveryCount()).toBe(deliveriesBefore);
    expect((await app.ok(WhWebhookDocument, { id: w.id })).webhook).toEqual(w);
  });
});

describe('create, update, list, get, delete', () => {
  it('round-trips a definition and deletes it', async ({ wh: { app, base, create } }) => {
    const w = await create(base({ name: 'crud', headers: [{ name: 'X-One', value: '1' }] }));
    expect((await app.ok(WhWebhooksDocument)).webhooks.map((x) => x.id)).toContain(w.id);
    expect((await app.ok(WhWebhookDocument, { id: w.id })).webhook).toEqual(w);

    const input = base({ name: 'crud 2', method: 'PATCH', format: 'FORM', body: 'a={{ ticket.id }}', headers: [{ name: 'X-Two', value: '2' }], responseMappings: [{ path: 'id', target: 'TEMPORARY', field: 'rid' }] });
    const u = (await app.ok(WhUpdateWebhookDocument, { id: w.id, input })).updateWebhook;
    expect(u).toMatchObject({ ...input, id: w.id, createdAt: w.createdAt, enabled: true });
    expect((await app.ok(WhWebhookDocument, { id: w.id })).webhook).toEqual(u);

    expect((await app.ok(WhDeleteWebhookDocument, { id: w.id })).deleteWebhook).toBe(true);
    expect((await app.ok(WhWebhookDocument, { id: w.id })).webhook).toBeNull();
    expect((await app.ok(WhWebhooksDocument)).webhooks.map((x) => x.id)).not.toContain(w.id);
    expect(codes(await app.gql(WhDeleteWebhookDocument, { id: w.id }))).toEqual(['NOT_FOUND']);
    expect(codes(await app.gql(WhUpdateWebhookDocument, { id: w.id, input }))).toEqual(['NOT_FOUND']);
    expect((await app.ok(WhWebhookDocument, { id: 'not-an-id' })).webhook).toBeNull();
  });

  it('previewWebhook of an unknown ticket → BAD_USER_INPUT ticketId', async ({ wh: { app, base, create } }) => {
    const w = await create(base());
    expect((await app.gql(WhPreviewWebhookDocument, { id: w.id, ticketId: '99999999' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ticketId' });
  });
});

describe('templateTags', () => {
  it('lists every path with a description, the HelpDeskEddy aliases included', async ({ wh: { app }, desk: { client } }) => {
    const tags = (await app.ok(WhTemplateTagsDocument)).templateTags;
    const byName = new Map(tags.map((t) => [t.name, t]));
    for (const name of ['ticket.id', 'ticket.title', 'ticket.custom.<key>', 'requester.phone', 'assignee.telegramChatId', 'parent.id', 'lastReply.text', 'temp.<name>', 'response.status', 'delivery.id', '{ticket_id}', '{parent_ticket_id}', '{answer_last}']) {
      expect(byName.get(name), name).toBeDefined();
    }
    for (const t of tags) expect(t.description.trim().length, t.name).toBeGreaterThan(5);
    expect(byName.get('ticket.id')!.example).toBe('42');
    expect(byName.get('{parent_ticket_id}')!.description).toContain('parent.id');
    // each custom field that exists is a tag of its own, right after the <key> entry
    const names = tags.map((t) => t.name);
    expect(names.slice(names.indexOf('ticket.custom.<key>'), names.indexOf('ticket.custom.<key>') + 2)).toEqual(['ticket.custom.<key>', 'ticket.custom.x']);
    expect(names.slice(names.indexOf('parent.custom.<key>'), names.indexOf('parent.custom.<key>') + 2)).toEqual(['parent.custom.<key>', 'parent.custom.x']);
    expect(byName.get('ticket.custom.x')!.description).toBe('Ticket: custom field "X" (TEXT)');
    expect(new Set(tags.map((t) => t.name)).size).toBe(tags.length);
    expect(codes(await app.gql(WhTemplateTagsDocument, {}, client.auth))).toEqual(['FORBIDDEN']);
  });
});

// ---------------------------------------------------------------- credentials

describe('credentials are write-only and sealed at rest', () => {
  const sealedOf = async (sql: Wh['sql'], id: string) => (await sql('select auth_secret_sealed as s from webhooks where id = ?', [id]))[0].s as string | null;

  it('BASIC: secretSet, sealed column without the password, redacted everywhere; the receiver gets the real header', async ({ wh: { app, receiver, base, create, sql }, desk: { preview, send } }) => {
    const w = await create(base({ name: 'basic', url: `${receiver.url}/basic`, auth: { type: 'BASIC', username: BASIC_USER, secret: BASIC_PASS } }));
    expect(w.auth).toEqual({ type: 'BASIC', username: BASIC_USER, secretSet: true });
    expectNoSecret(w);
    const sealed = await sealedOf(sql, w.id);
    expect(sealed).toBeTruthy();
    expectNoSecret(sealed);

    expectNoSecret(await app.ok(WhWebhooksDocument));
    expectNoSecret(await app.ok(WhWebhookDocument, { id: w.id }));
    const p = await preview(w.id);
    expect((p.headers as Record<string, string>).Authorization).toBe('Basic ***');
    expectNoSecret(p);

    const { created, received, delivery } = await send(w.id);
    expect(received.headers.authorization).toBe(`Basic ${b64(`${BASIC_USER}:${BASIC_PASS}`)}`);
    expect((created.request.headers as Record<string, string>).Authorization).toBe('Basic ***');
    expect((delivery.request.headers as Record<string, string>).Authorization).toBe('Basic ***');
    expectNoSecret(created);
    expectNoSecret(delivery);
    const rows = await sql('select request::text as r, processing::text as p, auth_sealed as a, notes::text as n from deliveries where id = ?', [created.id]);
    expect(rows[0].a).toBeTruthy();
    expectNoSecret(rows[0]);
  });

  it('BEARER: an update without auth.secret keeps the stored token; a new one replaces it; NONE clears it', async ({ wh: { app, receiver, base, create, sql }, desk: { preview, send } }) => {
    const w = await create(base({ name: 'bearer', url: `${receiver.url}/bearer/1`, auth: { type: 'BEARER', secret: TOKEN_1 } }));
    expect(w.auth).toEqual({ type: 'BEARER', username: null, secretSet: true });
    const sealed1 = await sealedOf(sql, w.id);
    expectNoSecret(sealed1);

    // update without a secret: everything else replaced, the token kept
    const kept = (await app.ok(WhUpdateWebhookDocument, { id: w.id, input: base({ name: 'bearer 2', url: `${receiver.url}/bearer/2`, auth: { type: 'BEARER' } }) })).updateWebhook;
    expect(kept).toMatchObject({ name: 'bearer 2', auth: { type: 'BEARER', username: null, secretSet: true } });
    expect(await sealedOf(sql, w.id)).toBe(sealed1);
    const p = await preview(w.id);
    expect((p.headers as Record<string, string>).Authorization).toBe('Bearer ***');
    expectNoSecret(p);
    let sent = await send(w.id);
    expect(sent.received.url).toBe('/bearer/2');
    expect(sent.received.headers.authorization).toBe(`Bearer ${TOKEN_1}`);
    expect((sent.delivery.request.headers as Record<string, string>).Authorization).toBe('Bearer ***');

    // switching to BASIC needs the new password; refused, and the stored token still works
    const r = await app.gql(WhUpdateWebhookDocument, { id: w.id, input: base({ name: 'x', auth: { type: 'BASIC', username: 'u' } }) });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'auth.secret' });
    expect((await app.ok(WhWebhookDocument, { id: w.id })).webhook).toEqual(kept);

    // a new token replaces it
    const replaced = (await app.ok(WhUpdateWebhookDocument, { id: w.id, input: base({ name: 'bearer 3', url: `${receiver.url}/bearer/3`, auth: { type: 'BEARER', secret: TOKEN_2 } }) })).updateWebhook;
    expect(replaced.auth.secretSet).toBe(true);
    expect(await sealedOf(sql, w.id)).not.toBe(sealed1);
    expectNoSecret(await sealedOf(sql, w.id));
    sent = await send(w.id);
    expect(sent.received.headers.authorization).toBe(`Bearer ${TOKEN_2}`);
    expectNoSecret(sent.delivery);

    // NONE clears it
    const none = (await app.ok(WhUpdateWebhookDocument, { id: w.id, input: base({ name: 'bearer 4', url: `${receiver.url}/bearer/4`, auth: { type: 'NONE' } }) })).updateWebhook;
    expect(none.auth).toEqual({ type: 'NONE', username: null, secretSet: false });
    expect(await sealedOf(sql, w.id)).toBeNull();
    expect((await preview(w.id)).headers).not.toHaveProperty('Authorization');
    sent = await send(w.id);
    expect(sent.received.headers.authorization).toBeUndefined();
  });
});
