/**
 * Standard Webhooks signing, checked as a receiver checks it: with the `standardwebhooks`
 * package, on the requests a real receiver got — on every attempt of a retried delivery
 * (the same webhook-id, a fresh timestamp and signature each time) and across a rotation
 * (new secret first, the previous one co-signing for 24 h). Secrets are shown once and
 * never again: not in the API, previews, stored requests, the database in clear, or logs.
 */
import { createHmac } from 'node:crypto';
import { describe, expect } from 'vitest';
import { Webhook as Verifier } from 'standardwebhooks';
import { createLogger } from '../../src/log.js';
import { createTicket, drainWorker, jsonHook, retryUntilFinal, settled, test, testWebhook, type TestApp } from '../support/fixtures.js';
import type { ReceivedRequest } from '../support/receiver.js';
import {
  DpCreateWebhookDocument, DpDeliveryDocument, DpPreviewWebhookDocument, DpRotateSigningSecretDocument, DpUpdateWebhookDocument, DpWebhookDocument,
  type WebhookInput,
} from '../generated/graphql.js';

const DAY = 24 * 3_600_000;

/** the headers a receiver hands to the verifier */
const signed = (r: ReceivedRequest) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

const hasSigningHeaders = (r: ReceivedRequest) => ['webhook-id', 'webhook-timestamp', 'webhook-signature'].some((h) => h in r.headers);

/** `v1,<sig>` as the package computes it for the request, with `secret` */
const expectedSignature = (secret: string, r: ReceivedRequest) => new Verifier(secret).sign(String(r.headers['webhook-id']), new Date(Number(r.headers['webhook-timestamp']) * 1000), r.body);

async function createSigned(app: TestApp, input: WebhookInput) {
  return (await app.ok(DpCreateWebhookDocument, { input })).createWebhook;
}

async function rotate(app: TestApp, webhookId: string) {
  return (await app.ok(DpRotateSigningSecretDocument, { webhookId })).rotateSigningSecret;
}

const it = test.extend<{ logLines: string[]; logged: TestApp }>({
  logLines: async ({}, use) => use([]),
  // an app of its own that logs everything (debug) into logLines
  logged: async ({ startApp, clock, logLines }, use) => {
    const sink = (line: string) => void logLines.push(line);
    await use(await startApp({ DESKHOOKS_LOG_LEVEL: 'debug' }, { clock: clock.now, log: createLogger('debug', 'deskhooks', { out: sink, err: sink }) }));
  },
});

describe.concurrent('signing webhooks (Standard Webhooks v1)', () => {
  it('every attempt is signed at send time: the same webhook-id, a fresh timestamp and signature, each verified by standardwebhooks; the secret is shown once and never again', async ({ logged: app, logLines, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.script({ status: 503 }, { status: 500 });
    const webhook = await createSigned(app, { ...jsonHook('Signed CRM', `${receiver.url}/hook`), body: '{"t": "{{ ticket.id }}", "title": "{{ ticket.title }}"}', signing: true });
    expect(webhook.signing).toEqual({ enabled: true, secretSet: false, previousSecretValidUntil: null });

    const { secret, previousSecretValidUntil } = await rotate(app, webhook.id);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(previousSecretValidUntil).toBeNull();

    const ticketId = await createTicket(app, 'Привет, мир 😀 "quoted"');
    const id = await testWebhook(app, webhook.id, ticketId);
    const final = await retryUntilFinal(app, clock, id);
    expect(final.status).toBe('SUCCEEDED');

    const requests = receiver.requests;
    expect(requests).toHaveLength(3);
    const verifier = new Verifier(secret);
    for (const r of requests) {
      expect(verifier.verify(r.body, signed(r))).toEqual({ t: ticketId, title: 'Привет, мир 😀 "quoted"' });
      expect(r.headers['webhook-id']).toBe(id);
      expect(String(r.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/); // one signature: no rotation yet
    }
    // each attempt's own time (the retries are a minute apart by the clock)
    const stamps = requests.map((r) => Number(r.headers['webhook-timestamp']));
    expect(new Set(stamps).size).toBe(3);
    expect(stamps[1]! - stamps[0]!).toBeGreaterThanOrEqual(59);
    expect(new Set(requests.map((r) => r.headers['webhook-signature'])).size).toBe(3);
    // a receiver tampering with nothing but the timestamp is refused
    expect(() => verifier.verify(requests[0]!.body, { ...signed(requests[0]!), 'webhook-timestamp': String(stamps[1]) })).toThrow();

    // the secret appears nowhere after it was returned: API, stored request, preview, database, log
    const read = await app.gql(DpWebhookDocument, { id: webhook.id });
    expect(read.data?.webhook?.signing).toEqual({ enabled: true, secretSet: true, previousSecretValidUntil: null });
    const delivery = await app.gql(DpDeliveryDocument, { id });
    const preview = await app.gql(DpPreviewWebhookDocument, { id: webhook.id, ticketId });
    const key = secret.slice('whsec_'.length);
    for (const r of [read, delivery, preview]) {
      expect(JSON.stringify(r)).not.toContain(key);
      expect(JSON.stringify(r).toLowerCase()).not.toContain('webhook-signature');
    }
    const conn = app.services.orm.em.fork().getConnection();
    const [row] = await conn.execute(`select row_to_json(w)::text as w from webhooks w where id = ?`, [webhook.id]);
    expect(row.w).not.toContain(key);
    expect(row.w).toMatch(/"signing_secret_sealed":"v1\./);
    const [stored] = await conn.execute(`select request::text as r, coalesce(auth_sealed, '') as a from deliveries where id = ?`, [id]);
    expect(stored.r).not.toContain(key);
    expect(stored.r.toLowerCase()).not.toContain('webhook-signature');
    await settled(app);
    expect(logLines.join('\n')).not.toContain(key);
  });

  it('across a rotation: the new secret signs first, the previous one co-signs for 24 h, then only the new one', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    const webhook = await createSigned(app, { ...jsonHook('Rotating', `${receiver.url}/r`), signing: true });
    const first = (await rotate(app, webhook.id)).secret;
    const ticketId = await createTicket(app, 'rotation');

    await testWebhook(app, webhook.id, ticketId);
    const [before] = await receiver.waitForRequests(1);
    expect(new Verifier(first).verify(before!.body, signed(before!))).toEqual({ t: ticketId });

    const rotatedAt = clock.now().getTime();
    const second = await rotate(app, webhook.id);
    expect(second.secret).not.toBe(first);
    expect(Date.parse(second.previousSecretValidUntil!) - rotatedAt).toBeGreaterThanOrEqual(DAY - 5_000);
    expect(Date.parse(second.previousSecretValidUntil!) - rotatedAt).toBeLessThanOrEqual(DAY + 5_000);
    expect((await app.ok(DpWebhookDocument, { id: webhook.id })).webhook?.signing.previousSecretValidUntil).toBe(second.previousSecretValidUntil);

    // during the 24 h: two signatures, the new one first; a receiver with either secret accepts
    await testWebhook(app, webhook.id, ticketId);
    const [, during] = await receiver.waitForRequests(2);
    const signatures = String(during!.headers['webhook-signature']).split(' ');
    expect(signatures).toEqual([expectedSignature(second.secret, during!), expectedSignature(first, during!)]);
    expect(new Verifier(second.secret).verify(during!.body, signed(during!))).toEqual({ t: ticketId });
    expect(new Verifier(first).verify(during!.body, signed(during!))).toEqual({ t: ticketId });

    // after the 24 h: the new one alone (compared with the package's signing: its verify
    // checks the timestamp against real time, which the moved clock is a day ahead of)
    clock.set(Date.parse(second.previousSecretValidUntil!) + 1000);
    await testWebhook(app, webhook.id, ticketId);
    const [, , after] = await receiver.waitForRequests(3);
    expect(String(after!.headers['webhook-signature'])).toBe(expectedSignature(second.secret, after!));
    expect((await app.ok(DpWebhookDocument, { id: webhook.id })).webhook?.signing).toEqual({ enabled: true, secretSet: true, previousSecretValidUntil: null });
  });

  it('rotations at once (a double click) follow one another: one creates the first secret, the last two returned both sign', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    const webhook = await createSigned(app, { ...jsonHook('Clicked twice', `${receiver.url}/r`), signing: true });
    const rotations = await Promise.all(Array.from({ length: 8 }, () => rotate(app, webhook.id)));
    expect(rotations.filter((r) => r.previousSecretValidUntil === null)).toHaveLength(1);
    await testWebhook(app, webhook.id, await createTicket(app, 'double click'));
    const [sent] = await receiver.waitForRequests(1);
    const signing = rotations.filter((r) => {
      try {
        new Verifier(r.secret).verify(sent!.body, signed(sent!));
        return true;
      } catch {
        return false;
      }
    });
    // the current secret and the one it replaced (each rotation saw the one before it)
    expect(signing).toHaveLength(2);
    expect(String(sent!.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('no signing headers without signing: off by default, on without a secret, and turned off (the secret survives and signs again when turned on)', async ({ app, startReceiver }) => {
    const receiver = await startReceiver();
    const ticketId = await createTicket(app, 'unsigned');
    const plain = await createSigned(app, jsonHook('Plain', `${receiver.url}/plain`));
    expect(plain.signing).toEqual({ enabled: false, secretSet: false, previousSecretValidUntil: null });
    const noSecret = await createSigned(app, { ...jsonHook('No secret yet', `${receiver.url}/nosecret`), signing: true });
    const later = await createSigned(app, { ...jsonHook('Switched', `${receiver.url}/switched`), signing: true });
    const { secret } = await rotate(app, later.id);
    // an update that omits `signing` keeps it; `signing: false` turns it off and keeps the secret
    const kept = (await app.ok(DpUpdateWebhookDocument, { id: later.id, input: jsonHook('Switched', `${receiver.url}/switched`) })).updateWebhook;
    expect(kept.signing).toEqual({ enabled: true, secretSet: true, previousSecretValidUntil: null });
    const off = (await app.ok(DpUpdateWebhookDocument, { id: later.id, input: { ...jsonHook('Switched', `${receiver.url}/switched`), signing: false } })).updateWebhook;
    expect(off.signing).toEqual({ enabled: false, secretSet: true, previousSecretValidUntil: null });

    for (const w of [plain.id, noSecret.id, later.id]) await testWebhook(app, w, ticketId);
    const unsigned = await receiver.waitForRequests(3);
    expect(unsigned.filter(hasSigningHeaders)).toEqual([]);

    await app.ok(DpUpdateWebhookDocument, { id: later.id, input: { ...jsonHook('Switched', `${receiver.url}/switched`), signing: true } });
    await testWebhook(app, later.id, ticketId);
    const [, , , again] = await receiver.waitForRequests(4);
    expect(new Verifier(secret).verify(again!.body, signed(again!))).toEqual({ t: ticketId });
  });

  it('a rotation applies to a delivery already queued: its next attempt is signed with the new secret', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.script({ status: 503 });
    const webhook = await createSigned(app, { ...jsonHook('Queued', `${receiver.url}/q`), signing: true });
    const first = (await rotate(app, webhook.id)).secret;
    const id = await testWebhook(app, webhook.id, await createTicket(app, 'queued'));
    const [attempt1] = await receiver.waitForRequests(1);
    const second = (await rotate(app, webhook.id)).secret;
    expect((await retryUntilFinal(app, clock, id)).status).toBe('SUCCEEDED');
    const attempt2 = receiver.requests[1]!;
    expect(String(attempt1!.headers['webhook-signature'])).toBe(expectedSignature(first, attempt1!));
    expect(String(attempt2.headers['webhook-signature'])).toBe(`${expectedSignature(second, attempt2)} ${expectedSignature(first, attempt2)}`);
    expect(attempt2.headers['webhook-id']).toBe(attempt1!.headers['webhook-id']);
    await drainWorker(app);
  });

  it('checked as the Standard Webhooks spec says, not with a library: GET (an empty body), FORM and XML with non-ASCII text, over the bytes received', async ({ app, startReceiver }) => {
    // the spec: base64(HMAC-SHA256(key = base64-decode(secret after "whsec_"), "{webhook-id}.{webhook-timestamp}.{raw body}"))
    const specSignature = (secret: string, r: ReceivedRequest) => {
      const content = Buffer.concat([Buffer.from(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.`), Buffer.from(r.body, 'utf8')]);
      return `v1,${createHmac('sha256', Buffer.from(secret.split('_')[1]!, 'base64')).update(content).digest('base64')}`;
    };
    const receiver = await startReceiver();
    const ticketId = await createTicket(app, 'Привет & = + % "x" <y>');
    const hooks: WebhookInput[] = [
      { name: 'GET', method: 'GET', url: `${receiver.url}/get`, format: 'FORM', body: 'title={{ ticket.title }}&n=1' },
      { name: 'FORM', method: 'POST', url: `${receiver.url}/form`, format: 'FORM', body: 'title={{ ticket.title }}&n=1' },
      { name: 'XML', method: 'PUT', url: `${receiver.url}/xml`, format: 'XML', body: '<t>{{ ticket.title }}</t>' },
    ];
    const secrets: string[] = [];
    for (const input of hooks) {
      const webhook = await createSigned(app, { ...input, signing: true });
      secrets.push((await rotate(app, webhook.id)).secret);
      await testWebhook(app, webhook.id, ticketId);
    }
    await settled(app);
    const [get, form, xml] = ['/get', '/form', '/xml'].map((path) => receiver.requests.find((r) => r.url.startsWith(path))!);
    expect(get!.body).toBe('');
    expect(get!.url).toContain('%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82');
    expect(xml!.body).toBe('<t>Привет &amp; = + % &quot;x&quot; &lt;y&gt;</t>');
    [get, form, xml].forEach((r, i) => expect(r!.headers['webhook-signature']).toBe(specSignature(secrets[i]!, r!)));
  });

  it('rotateSigningSecret is ADMIN only and names a missing webhook', async ({ app }) => {
    const missing = await app.gql(DpRotateSigningSecretDocument, { webhookId: '999' });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'webhookId' });
    const anonymous = await app.gql(DpRotateSigningSecretDocument, { webhookId: '1' }, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
