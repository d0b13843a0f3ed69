/**
 * Success rules and the other policy fields of a webhook through the API: validated at
 * save (errors name the nested field, nothing is written), kept by an update that omits
 * them, and applied to real receivers' answers — the seed's SMS gateway that answers
 * HTTP 200 with an error inside its XML fails at once, with the error on the ticket.
 */
import { describe, expect } from 'vitest';
import { comments, createRule, createTicket, deliveryReaches, jsonHook, retryUntilFinal, settled, test, testWebhook, type TestApp } from '../support/fixtures.js';
import { DpCreateWebhookDocument, DpDeliveryDocument, DpUpdateWebhookDocument, DpWebhookDocument, type WebhookInput } from '../generated/graphql.js';

const it = test;

const XML = { 'content-type': 'text/xml; charset=utf-8' };
const smsReply = (result: string) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<reply><result>${result}</result><code>${result === 'OK' ? 0 : 7}</code><description>queued</description></reply>`;

/** The seed's SMS Traffic webhook: 200 with reply.result = OK is success, anything else a rejected SMS (not resent). */
const smsHook = (url: string): WebhookInput => ({
  name: 'SMS Traffic',
  method: 'POST',
  url,
  format: 'XML',
  body: '<request><message><abonent phone="{{ requester.phone }}"/><text>{{ ticket.title }}</text></message></request>',
  successRule: { statuses: '200', path: 'reply.result', operator: 'EQUALS', value: 'OK', onFailure: 'FAIL' },
});

async function webhookCount(app: TestApp): Promise<number> {
  const [row] = await app.services.orm.em.fork().getConnection().execute(`select count(*)::int as n from webhooks`);
  return row.n;
}

async function delivery(app: TestApp, id: string) {
  const d = (await app.ok(DpDeliveryDocument, { id })).delivery;
  if (!d) throw new Error(`delivery ${id} not found`);
  return d;
}

describe.concurrent('success rules and policy fields at save', () => {
  const base = (over: Partial<WebhookInput> = {}): WebhookInput => ({ ...jsonHook('Policy', 'http://127.0.0.1:9/p'), ...over });

  it('bad input is BAD_USER_INPUT naming the nested field, and nothing is written (create and update)', async ({ app }) => {
    const cases: [Partial<WebhookInput>, string, RegExp][] = [
      [{ successRule: { statuses: '200-2xx' } }, 'successRule.statuses', /not a status code/],
      [{ successRule: { statuses: '600' } }, 'successRule.statuses', /600 is not a status code/],
      [{ successRule: { statuses: '300-200' } }, 'successRule.statuses', /low end above its high end/],
      [{ successRule: { path: 'reply..result', operator: 'EQUALS', value: 'OK' } }, 'successRule.path', /invalid mapping path/],
      [{ successRule: { path: 'reply.result' } }, 'successRule.operator', /needs an operator/],
      [{ successRule: { path: 'reply.result', operator: 'CHANGED_TO', value: 'OK' } }, 'successRule.operator', /CHANGED_TO cannot check an answer/],
      [{ successRule: { path: 'reply.result', operator: 'EQUALS' } }, 'successRule.value', /EQUALS needs a value/],
      [{ successRule: { operator: 'IS_EMPTY' } }, 'successRule.path', /needs a path/],
      [{ maxConcurrency: 0 }, 'maxConcurrency', /1 to 1000/],
      [{ maxConcurrency: 1001 }, 'maxConcurrency', /1 to 1000/],
      [{ rateLimitPerSecond: 0.001 }, 'rateLimitPerSecond', /0.01 to 10000/],
      [{ rateLimitPerSecond: 10_001 }, 'rateLimitPerSecond', /0.01 to 10000/],
    ];
    const stored = (await app.ok(DpCreateWebhookDocument, { input: base({ successRule: { statuses: '201' }, maxConcurrency: 5 }) })).createWebhook;
    const before = await webhookCount(app);
    for (const [over, field, message] of cases) {
      for (const r of [
        await app.gql(DpCreateWebhookDocument, { input: base(over) }),
        await app.gql(DpUpdateWebhookDocument, { id: stored.id, input: base(over) }),
      ]) {
        expect(r.errors?.[0]?.extensions, JSON.stringify(over)).toMatchObject({ code: 'BAD_USER_INPUT', field });
        expect(r.errors?.[0]?.message).toMatch(message);
        expect(r.data ?? null).toBeNull();
      }
    }
    expect(await webhookCount(app)).toBe(before);
    expect((await app.ok(DpWebhookDocument, { id: stored.id })).webhook).toEqual(stored);
  });

  it('defaults; given values read back; an update omitting the policy keeps it; successRule null resets it, rateLimitPerSecond null lifts the limit', async ({ app }) => {
    const plain = (await app.ok(DpCreateWebhookDocument, { input: base() })).createWebhook;
    expect(plain).toMatchObject({
      successRule: { statuses: '200-399', path: null, operator: null, value: null, onFailure: 'RETRY' },
      ordering: 'NONE',
      maxConcurrency: 10,
      rateLimitPerSecond: null,
    });
    const policy = {
      signing: true,
      successRule: { statuses: '200,202', path: 'data.state', operator: 'NOT_EQUALS' as const, value: 'rejected', onFailure: 'FAIL' as const },
      ordering: 'PER_TICKET' as const,
      maxConcurrency: 3,
      rateLimitPerSecond: 2.5,
    };
    const w = (await app.ok(DpCreateWebhookDocument, { input: base(policy) })).createWebhook;
    const expected = { signing: { enabled: true, secretSet: false, previousSecretValidUntil: null }, successRule: policy.successRule, ordering: 'PER_TICKET', maxConcurrency: 3, rateLimitPerSecond: 2.5 };
    expect(w).toMatchObject(expected);
    const kept = (await app.ok(DpUpdateWebhookDocument, { id: w.id, input: base({ name: 'renamed' }) })).updateWebhook;
    expect(kept).toMatchObject({ ...expected, name: 'renamed' });
    const reset = (await app.ok(DpUpdateWebhookDocument, { id: w.id, input: base({ successRule: null, rateLimitPerSecond: null }) })).updateWebhook;
    expect(reset).toMatchObject({ ...expected, successRule: plain.successRule, rateLimitPerSecond: null });
    // a partial rule takes the defaults for what it omits
    const partial = (await app.ok(DpUpdateWebhookDocument, { id: w.id, input: base({ successRule: { onFailure: 'FAIL' } }) })).updateWebhook;
    expect(partial.successRule).toEqual({ statuses: '200-399', path: null, operator: null, value: null, onFailure: 'FAIL' });
  });
});

describe.concurrent('success rules applied to answers', () => {
  it('the SMS gateway answers 200 with reply.result ERROR: FAILED at once, the failure comment on the ticket names path, found and expected; OK succeeds', async ({ app, startReceiver }) => {
    const receiver = await startReceiver((r) => ({ status: 200, headers: XML, body: smsReply(r.body.includes('fail me') ? 'ERROR' : 'OK') }));
    const sms = (await app.ok(DpCreateWebhookDocument, { input: smsHook(`${receiver.url}/sms/send`) })).createWebhook;
    await createRule(app, { name: 'SMS on new tickets', events: ['TICKET_CREATED'], actions: [{ type: 'SEND_WEBHOOK', webhookId: sms.id }, { type: 'ADD_COMMENT', value: 'went on' }] });

    const rejected = await createTicket(app, 'fail me');
    const accepted = await createTicket(app, 'deliver me');
    await settled(app);
    expect(receiver.requests).toHaveLength(2); // not resent
    const [d] = (await app.services.orm.em.fork().getConnection().execute(`select id::text from deliveries where ticket_id = ?`, [rejected])) as { id: string }[];
    const failed = await delivery(app, d!.id);
    expect(failed).toMatchObject({ status: 'FAILED', attemptCount: 1 });
    const error = 'HTTP 200: response path reply.result is "ERROR", expected EQUALS "OK"';
    expect(failed.attempts).toMatchObject([{ number: 1, statusCode: 200, error }]);
    expect((await comments(app, rejected)).map((p) => p.text)).toEqual(['went on', `Webhook "SMS Traffic" failed after 1 attempt: ${error}.`]);
    expect((await comments(app, accepted)).map((p) => p.text)).toEqual(['went on']);
    const [ok] = (await app.services.orm.em.fork().getConnection().execute(`select status from deliveries where ticket_id = ?`, [accepted])) as { status: string }[];
    expect(ok!.status).toBe('SUCCEEDED');
  });

  it('onFailure RETRY: a failed path check is retried like a 5xx, and succeeds once the answer satisfies it', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.script(
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"data": {"state": "busy"}}' },
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"data": {"state": "done", "n": 3}}' },
    );
    const w = (await app.ok(DpCreateWebhookDocument, { input: { ...jsonHook('Polling', `${receiver.url}/p`), successRule: { path: 'data.state', operator: 'EQUALS', value: 'done' } } })).createWebhook;
    const id = await testWebhook(app, w.id, await createTicket(app, 'retry'));
    await deliveryReaches(app, id, 'RETRYING');
    expect((await delivery(app, id)).attempts[0]!.error).toBe('HTTP 200: response path data.state is "busy", expected EQUALS "done"');
    const final = await retryUntilFinal(app, clock, id);
    expect(final).toMatchObject({ status: 'SUCCEEDED', attemptCount: 2 });
  });

  it('statuses decide: 404 listed is success; 302 outside 200-299 is retried, naming the expected statuses; FAIL ends a 503 at once', async ({ app, startReceiver }) => {
    const receiver = await startReceiver((r) => (r.url === '/gone-is-fine' ? { status: 404 } : r.url === '/redirect' ? { status: 302, headers: { location: '/x' } } : { status: 503 }));
    const ticketId = await createTicket(app, 'statuses');
    const hook = async (path: string, successRule: WebhookInput['successRule']) =>
      (await app.ok(DpCreateWebhookDocument, { input: { ...jsonHook(path, `${receiver.url}${path}`), successRule } })).createWebhook.id;
    const listed = await testWebhook(app, await hook('/gone-is-fine', { statuses: '200-299,404' }), ticketId);
    const redirect = await testWebhook(app, await hook('/redirect', { statuses: '200-299' }), ticketId);
    const fail = await testWebhook(app, await hook('/unavailable', { onFailure: 'FAIL' }), ticketId);
    expect((await deliveryReaches(app, listed, 'SUCCEEDED', 'RETRYING', 'FAILED')).status).toBe('SUCCEEDED');
    expect((await deliveryReaches(app, redirect, 'SUCCEEDED', 'RETRYING', 'FAILED')).status).toBe('RETRYING');
    expect((await delivery(app, redirect)).attempts[0]!.error).toBe('HTTP 302 Found (expected status 200-299)');
    expect((await deliveryReaches(app, fail, 'SUCCEEDED', 'RETRYING', 'FAILED')).status).toBe('FAILED');
    expect((await delivery(app, fail)).attempts).toMatchObject([{ statusCode: 503, error: 'HTTP 503 Service Unavailable (expected status 200-399)' }]);
  });
});
