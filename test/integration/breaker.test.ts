/**
 * The breaker (RUNTIME.md "delivery-policy"): at least 10 attempts within 5 minutes, at
 * least 70 % failed → OPEN, and the webhook's due deliveries are held (no attempt made or
 * counted); every DESKHOOKS_BREAKER_PROBE_INTERVAL the oldest held delivery goes as a
 * probe; a failed probe keeps it OPEN, a successful one closes it and the held deliveries
 * go in creation order; open for a whole retry window → the webhook is switched off.
 * Retries a minute apart in a four-minute window, by the test's clock.
 */
import { describe, expect } from 'vitest';
import { DpUpdateWebhookDocument } from '../generated/graphql.js';
import { waitFor } from '../support/wait.js';
import { comments, createTicket, createWebhook, deliveryReaches, deliveryStatus, drainWorker, jsonHook, test, testWebhook, type TestApp } from '../support/fixtures.js';

const it = test;

const health = async (app: TestApp, id: string) =>
  (await app.ok<{ webhook: { enabled: boolean; health: { breaker: string; openedAt: string | null; disabledReason: string | null } } }>(
    `query ($id: ID!) { webhook(id: $id) { enabled health { breaker openedAt disabledReason } } }`,
    { id },
  )).webhook;

const deliveryIds = (requests: { headers: Record<string, unknown> }[]) => requests.map((r) => r.headers['x-deskhooks-delivery']);

/** Ten failed attempts (one each of ten deliveries, one at a time); returns the deliveries, RETRYING. */
async function tenFailures(app: TestApp, webhookId: string, ticketId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const id = await testWebhook(app, webhookId, ticketId);
    await deliveryReaches(app, id, 'RETRYING');
    ids.push(id);
    // nine failures of nine attempts are not enough
    if (i === 8) expect((await health(app, webhookId)).health.breaker).toBe('CLOSED');
  }
  return ids;
}

describe.concurrent('breaker', () => {
  it('opens, holds, probes (failed: stays open), closes on a successful probe and releases the held deliveries in creation order', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.fallback = { status: 500 };
    // one at a time: the receiver sees the order in which they are sent
    const webhookId = await createWebhook(app, { ...jsonHook('Flaky', `${receiver.url}/f`), maxConcurrency: 1 });
    const ticketId = await createTicket(app, 'breaker');
    const failed = await tenFailures(app, webhookId, ticketId);
    expect((await health(app, webhookId)).health).toMatchObject({ breaker: 'OPEN' });

    // held: neither attempted nor counted
    const held = [await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId)];
    await drainWorker(app);
    for (const id of held) expect(await deliveryStatus(app, id)).toMatchObject({ status: 'PENDING', attemptCount: 0 });
    expect(receiver.requests).toHaveLength(10);

    // a probe interval later: the oldest held delivery goes, fails, the breaker stays open
    clock.advance(30_000);
    await drainWorker(app);
    await deliveryReaches(app, held[0]!, 'RETRYING');
    expect(deliveryIds(receiver.requests)).toEqual([...failed, held[0]]);
    expect((await health(app, webhookId)).health.breaker).toBe('OPEN');
    await drainWorker(app);
    for (const id of held.slice(1)) expect(await deliveryStatus(app, id)).toMatchObject({ status: 'PENDING', attemptCount: 0 });

    // a minute after the first attempts, every delivery is due (retries are anchored on the
    // first attempt): the oldest goes as the next probe and succeeds; closed, and every held
    // delivery goes, in creation order
    receiver.fallback = { status: 200, body: 'ok' };
    clock.advance(30_000);
    await drainWorker(app);
    for (const id of [...failed, ...held]) await deliveryReaches(app, id, 'SUCCEEDED');
    expect((await health(app, webhookId)).health).toMatchObject({ breaker: 'CLOSED', openedAt: null });
    expect(deliveryIds(receiver.requests)).toEqual([...failed, held[0], ...failed, ...held]);
  });

  it('one probe at a time: a probe still in flight when the next interval comes (a request timeout longer than the interval) is not joined by another; its success closes the breaker', async ({ startApp, clock, startReceiver }) => {
    // no sweep: what the probe's outcome lets go is claimed at once, not by a sweep
    const app = await startApp({ DESKHOOKS_REQUEST_TIMEOUT: '60s', DESKHOOKS_SWEEP_INTERVAL: '1h' }, { clock: clock.now });
    let answerProbe: (() => void) | null = null;
    const receiver = await startReceiver((r) => {
      if (r.url === '/other') return { status: 200 };
      // the receiver is recovering: the 11th request (the probe) is answered only when the test says so
      if (r.url !== '/slow' || receiver.requests.filter((x) => x.url === '/slow').length !== 11) return undefined;
      return new Promise((resolve) => (answerProbe = () => resolve({ status: 200, body: 'ok' })));
    });
    receiver.fallback = { status: 500 };
    const webhookId = await createWebhook(app, { ...jsonHook('Recovering slowly', `${receiver.url}/slow`), maxConcurrency: 4 });
    const other = await createWebhook(app, jsonHook('Other', `${receiver.url}/other`));
    const ticketId = await createTicket(app, 'one probe');
    await tenFailures(app, webhookId, ticketId);
    const held = [await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId)];

    clock.advance(30_000);
    void app.worker!.wake();
    await waitFor(() => answerProbe !== null, { what: 'the probe at the receiver' });
    expect((await health(app, webhookId)).health.breaker).toBe('HALF_OPEN');

    // the next probe interval passes while the probe waits for its answer; a claim runs then
    // (another webhook's delivery goes in it), and no second probe goes with it
    clock.advance(31_000);
    const otherId = await testWebhook(app, other, ticketId);
    await deliveryReaches(app, otherId, 'SUCCEEDED');
    expect(receiver.requests.filter((r) => r.url === '/slow')).toHaveLength(11);
    expect((await health(app, webhookId)).health.breaker).toBe('HALF_OPEN');

    // its success closes the breaker, and the held deliveries go
    receiver.fallback = { status: 200, body: 'ok' };
    answerProbe!();
    for (const id of held) await deliveryReaches(app, id, 'SUCCEEDED');
    expect((await health(app, webhookId)).health.breaker).toBe('CLOSED');
  }, 90_000);

  it('a probe that succeeds lets the held deliveries go at once: its recorded outcome claims them, with no other wake-up', async ({ startApp, clock, startReceiver }) => {
    // no sweep: nothing but the probe's outcome claims them
    const app = await startApp({ DESKHOOKS_SWEEP_INTERVAL: '1h' }, { clock: clock.now });
    const receiver = await startReceiver();
    receiver.fallback = { status: 500 };
    const webhookId = await createWebhook(app, { ...jsonHook('Back soon', `${receiver.url}/back`), maxConcurrency: 4 });
    const ticketId = await createTicket(app, 'probe lets go');
    await tenFailures(app, webhookId, ticketId);
    const held = [await testWebhook(app, webhookId, ticketId), await testWebhook(app, webhookId, ticketId)];
    receiver.fallback = { status: 200, body: 'ok' };
    clock.advance(30_000);
    void app.worker!.wake();
    for (const id of held) await deliveryReaches(app, id, 'SUCCEEDED');
    expect((await health(app, webhookId)).health.breaker).toBe('CLOSED');
  });

  it('open for a whole retry window: the webhook is switched off, saying why, and its held deliveries are cancelled', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.fallback = { status: 503 };
    const webhookId = await createWebhook(app, jsonHook('Gone quiet', `${receiver.url}/q`));
    const ticketId = await createTicket(app, 'switch-off');
    const failed = await tenFailures(app, webhookId, ticketId);
    expect((await health(app, webhookId)).health.breaker).toBe('OPEN');
    const heldId = await testWebhook(app, webhookId, ticketId);

    clock.advance(4 * 60_000 + 1_000); // the four-minute window, open all along
    await drainWorker(app);
    const after = await health(app, webhookId);
    expect(after.enabled).toBe(false);
    expect(after.health.disabledReason).toMatch(/breaker stayed open for a whole retry window \(240 s\)/);
    for (const id of [...failed, heldId]) await deliveryReaches(app, id, 'CANCELLED');
    expect((await app.ok(`query($id: ID!) { delivery(id: $id) { notes } }`, { id: heldId })).delivery.notes).toEqual([
      expect.stringMatching(/^cancelled: its webhook was switched off \(its breaker stayed open for a whole retry window \(240 s\) since \S+\); enableWebhook switches it back on, and redeliver sends this again$/),
    ]);
    expect(await deliveryStatus(app, heldId)).toMatchObject({ attemptCount: 0 });
    expect(receiver.requests).toHaveLength(10);

    // switched back on by its definition (updateWebhook, enabled omitted): as enableWebhook,
    // its breaker closes with a new window, so that the next delivery goes
    receiver.fallback = { status: 200, body: 'ok' };
    await app.ok(DpUpdateWebhookDocument, { id: webhookId, input: jsonHook('Gone quiet', `${receiver.url}/q`) });
    expect(await health(app, webhookId)).toMatchObject({ enabled: true, health: { breaker: 'CLOSED', disabledReason: null } });
    const next = await testWebhook(app, webhookId, ticketId);
    await drainWorker(app);
    await deliveryReaches(app, next, 'SUCCEEDED');
    expect((await health(app, webhookId)).enabled).toBe(true);
  });

  it('open a whole retry window with nothing to hold (its deliveries cancelled): the next delivery goes as a probe, it is not switched off unsent', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.fallback = { status: 503 };
    const webhookId = await createWebhook(app, jsonHook('Quiet weekend', `${receiver.url}/w`));
    const ticketId = await createTicket(app, 'idle');
    await tenFailures(app, webhookId, ticketId);
    expect((await health(app, webhookId)).health.breaker).toBe('OPEN');
    // the admin cancels what it holds and the receiver is mended; nothing comes for longer than the window
    await app.ok(`mutation ($f: DeliveryFilter!) { cancelMany(filter: $f, dryRun: false) { queued } }`, { f: { webhookId } });
    receiver.fallback = { status: 200, body: 'ok' };
    clock.advance(4 * 60_000 + 1_000);
    await drainWorker(app);

    const next = await testWebhook(app, webhookId, ticketId);
    await drainWorker(app);
    await deliveryReaches(app, next, 'SUCCEEDED');
    expect(deliveryIds(receiver.requests).at(-1)).toBe(next);
    expect(await health(app, webhookId)).toMatchObject({ enabled: true, health: { breaker: 'CLOSED', disabledReason: null } });
  });

  it('switched off by an admin while its breaker is open: its held deliveries are not stranded — they probe, and after the window they are cancelled', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.fallback = { status: 503 };
    const webhookId = await createWebhook(app, jsonHook('Paused', `${receiver.url}/p`));
    const ticketId = await createTicket(app, 'paused');
    await tenFailures(app, webhookId, ticketId);
    const heldId = await testWebhook(app, webhookId, ticketId);
    await app.ok(DpUpdateWebhookDocument, { id: webhookId, input: { ...jsonHook('Paused', `${receiver.url}/p`), enabled: false } });
    expect((await health(app, webhookId)).health.breaker).toBe('OPEN');

    clock.advance(30_000); // a probe interval: the held delivery goes as the probe
    await drainWorker(app);
    await deliveryReaches(app, heldId, 'RETRYING');
    clock.advance(4 * 60_000);
    await drainWorker(app);
    await deliveryReaches(app, heldId, 'CANCELLED');
  });

  it('a held delivery whose retry window passes is FAILED at the next probe, saying the breaker held it; the probe goes to one that may still start', async ({ app, clock, startReceiver }) => {
    const receiver = await startReceiver();
    receiver.fallback = { status: 503 };
    const webhookId = await createWebhook(app, jsonHook('Recovering', `${receiver.url}/r`));
    const ticketId = await createTicket(app, 'held past its window');
    const [oldest, ...others] = await tenFailures(app, webhookId, ticketId);
    expect((await health(app, webhookId)).health.breaker).toBe('OPEN');
    // the oldest had been retrying for 3.5 of its 4 minutes when the breaker opened: its window
    // (and the 5 s of pickup grace) ends 35 s after its first attempt here
    await app.services.orm.em.fork().getConnection().execute(`update deliveries set first_attempt_at = first_attempt_at - interval '210 seconds' where id = ?`, [oldest]);
    receiver.fallback = { status: 200, body: 'ok' };

    // a minute on: every delivery is due and a probe is due; the oldest may no longer start
    clock.advance(60_000);
    await drainWorker(app);
    const expired = await deliveryReaches(app, oldest!, 'FAILED');
    expect(expired.attemptCount).toBe(1);
    const failure = (await comments(app, ticketId)).map((c) => c.text);
    expect(failure).toEqual([expect.stringMatching(/^Webhook "Recovering" failed after 1 attempt: retry window of 240 s passed before attempt 2 could start \(its webhook's breaker was open and held it\)/)]);
    // the probe went to the oldest that may start, and closed the breaker: the others follow
    for (const id of others) await deliveryReaches(app, id, 'SUCCEEDED');
    expect(deliveryIds(receiver.requests.slice(10))).toEqual(others);
    expect((await health(app, webhookId)).health.breaker).toBe('CLOSED');
  });
});
