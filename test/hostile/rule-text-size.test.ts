/**
 * A rule's ADD_COMMENT or ADD_REPLY renders a template; a tag repeated in it (a
 * 100,000-character description twenty times) rendered a post of 2,000,000 characters,
 * twenty times the limit every post text has — while SET_CUSTOM_FIELD refused the same
 * overflow. Over 100,000 characters the action fails like any action: no post, an internal
 * comment naming the rule, the action and the limit, and the rule's other actions run. The
 * same holds for the actions that run after an awaited webhook (the continuation), and for
 * actions run one by one through the helpdesk (beside a field change) instead of buffered.
 */
import { describe } from 'vitest';
import { createRule, createTicket, getTicket, settled, test } from '../support/fixtures.js';

const it = test;
const LONG = '{{ ticket.description }}'.repeat(20);

describe('post texts rendered by rule actions', () => {
  it('over 100,000 characters: the action fails with a comment naming the limit; the next action runs; nothing longer is posted', async ({ app, startReceiver, expect }) => {
    const receiver = await startReceiver();
    const { createWebhook: hook } = await app.ok(`mutation($i: WebhookInput!) { createWebhook(input: $i) { id } }`, {
      i: { name: 'Await', method: 'POST', url: `${receiver.url}/hook`, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' },
    });
    await createRule(app, {
      name: 'Long texts',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'title', operator: 'EQUALS', value: 'direct' }],
      actions: [{ type: 'ADD_COMMENT', value: LONG }, { type: 'ADD_REPLY', value: `${LONG} reply` }, { type: 'ADD_COMMENT', value: 'after: {{ ticket.id }}' }],
    });
    await createRule(app, {
      name: 'Long after a webhook',
      events: ['TICKET_CREATED'],
      conditions: [{ field: 'title', operator: 'EQUALS', value: 'awaited' }],
      // a field change among the actions: they run one by one through the helpdesk, not buffered
      actions: [
        { type: 'SEND_WEBHOOK', webhookId: hook.id, awaitResponse: true },
        { type: 'ADD_REPLY', value: LONG },
        { type: 'ADD_COMMENT', value: 'after: {{ ticket.id }}' },
        { type: 'SET_PRIORITY', value: 'HIGH' },
      ],
    });
    const description = 'd'.repeat(100_000);
    const direct = await createTicket(app, { title: 'direct', description });
    const awaited = await createTicket(app, { title: 'awaited', description });
    await receiver.waitForRequests(1);
    await settled(app);

    const posts = async (id: string) => (await getTicket(app, id)).posts.map((p) => [p.kind, p.text]);
    const failed = (rule: string, n: number, type: string) =>
      ['COMMENT', `Rule "${rule}": action ${n} (${type}) failed: the rendered text is too long: at most 100,000 characters are allowed (got ${(n === 2 && rule === 'Long texts' ? 2_000_006 : 2_000_000).toLocaleString('en-US')})`];
    expect(await posts(direct)).toEqual([failed('Long texts', 1, 'ADD_COMMENT'), failed('Long texts', 2, 'ADD_REPLY'), ['COMMENT', `after: ${direct}`]]);
    expect(await posts(awaited)).toEqual([failed('Long after a webhook', 2, 'ADD_REPLY'), ['COMMENT', `after: ${awaited}`]]);
    expect((await getTicket(app, awaited)).priority).toBe('HIGH');
  });
});
