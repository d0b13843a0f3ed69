/** The few GraphQL calls most delivery tests start with. */
import type { TestApp } from './app.js';

export interface WebhookInputLike {
  name: string;
  method: string;
  url: string;
  format: string;
  body?: string;
  [more: string]: unknown;
}

export async function createTicket(app: TestApp, title = 'a ticket'): Promise<string> {
  return (await app.ok(`mutation($t: String!) { createTicket(input: { title: $t, description: "d" }) { id } }`, { t: title })).createTicket.id;
}

export async function createWebhook(app: TestApp, input: WebhookInputLike): Promise<string> {
  return (await app.ok(`mutation($input: WebhookInput!) { createWebhook(input: $input) { id } }`, { input })).createWebhook.id;
}

/** A JSON POST webhook to `url` whose body names the ticket. */
export const jsonHook = (name: string, url: string): WebhookInputLike => ({ name, method: 'POST', url, format: 'JSON', body: '{"t": "{{ ticket.id }}"}' });

/** Sends the webhook for the ticket now (testWebhook); returns the delivery id. */
export async function testWebhook(app: TestApp, webhookId: string, ticketId: string): Promise<string> {
  return (await app.ok(`mutation($w: ID!, $t: ID!) { testWebhook(id: $w, ticketId: $t) { id } }`, { w: webhookId, t: ticketId })).testWebhook.id;
}

export async function deliveryStatus(app: TestApp, id: string): Promise<{ status: string; attemptCount: number }> {
  return (await app.ok(`query($id: ID!) { delivery(id: $id) { status attemptCount } }`, { id })).delivery;
}
