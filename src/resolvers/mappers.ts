/** Entities → GraphQL object shapes. Only allow-listed fields leave the server. */
import type { CustomField, Post, Rule, Ticket, User, Webhook } from '../db/index.js';
import { deliveryView, type DeliveryRow } from '../delivery/index.js';
import { DEFAULT_SUCCESS_RULE } from '../domain/index.js';
import type { CustomFieldObject, DeliveryType, PostType, RuleType, TicketType, UserType, WebhookType } from '../schema/index.js';

export const toUser = (u: User): UserType => ({
  id: u.id,
  name: u.name,
  email: u.email,
  role: u.role,
  phone: u.phone,
  telegramChatId: u.telegramChatId,
  createdAt: u.createdAt,
});

/**
 * The user as `viewer` may see it: staff see everyone in full, a CLIENT sees itself in
 * full and anyone else as id, name and role (no email, phone or Telegram chat id).
 */
export function userFor(viewer: Pick<User, 'id' | 'role'> | null, u: UserType): UserType {
  if (viewer && (viewer.role !== 'CLIENT' || viewer.id === u.id)) return u;
  return { ...u, email: null, phone: null, telegramChatId: null };
}

export const toTicket = (t: Ticket): TicketType => ({
  id: t.id,
  title: t.title,
  description: t.description,
  status: t.status,
  priority: t.priority,
  requesterId: t.requester.id,
  assigneeId: t.assignee?.id ?? null,
  parentId: t.parent?.id ?? null,
  customFields: t.customFields,
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
});

export const toPost = (p: Post): PostType => ({
  id: p.id,
  kind: p.kind,
  text: p.text,
  authorId: p.author?.id ?? null,
  createdAt: p.createdAt,
});

export const toCustomField = (f: CustomField): CustomFieldObject => ({
  id: f.id,
  key: f.key,
  name: f.name,
  type: f.type,
  options: f.options,
  clientVisible: f.clientVisible,
  clientWritable: f.clientWritable,
});

/** `now`: the time that decides whether the previous signing secret still co-signs. */
export const toWebhook = (w: Webhook, now: Date = new Date()): WebhookType => ({
  id: w.id,
  name: w.name,
  method: w.method,
  url: w.url,
  format: w.format,
  body: w.body,
  // write-only secret header values
  headers: w.headers.map((h) => ({ name: h.name, value: h.secret ? '' : h.value, secret: Boolean(h.secret) })),
  // write-only credentials: only whether one is stored
  auth: { type: w.authType, username: w.authUsername, secretSet: w.authSecretSealed !== null },
  responseMappings: w.responseMappings.map((m) => ({ ...m })),
  successComment: w.successComment,
  enabled: w.enabled,
  createdAt: w.createdAt,
  updatedAt: w.updatedAt,
  // write-only secret: only whether one is stored, and until when the previous one co-signs
  signing: {
    enabled: w.signingEnabled,
    secretSet: w.signingSecretSealed !== null,
    previousSecretValidUntil: w.signingPreviousSecretSealed && w.signingPreviousValidUntil && w.signingPreviousValidUntil.getTime() > now.getTime() ? w.signingPreviousValidUntil : null,
  },
  successRule: { ...(w.successRule ?? DEFAULT_SUCCESS_RULE) },
  ordering: w.ordering,
  maxConcurrency: w.maxConcurrency,
  rateLimitPerSecond: w.rateLimitPerSecond,
});

export const toRule = (r: Rule): RuleType => ({
  id: r.id,
  name: r.name,
  description: r.description,
  enabled: r.enabled,
  position: r.position,
  continueAfterMatch: r.continueAfterMatch,
  events: r.events,
  match: r.match,
  conditions: r.conditions.map((c) => ({ field: c.field, operator: c.operator, value: c.value })),
  actions: r.actions.map((a) => ({ type: a.type, webhookId: a.webhookId, field: a.field, value: a.value, awaitResponse: a.awaitResponse })),
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** A delivery entity or feed row; what it shows beyond its columns is deliveryView's. */
export const toDelivery = (d: DeliveryRow): DeliveryType => ({
  id: d.id,
  webhookId: d.webhookId,
  ticketId: d.ticketId,
  ruleId: d.ruleId,
  event: d.event,
  status: d.status,
  request: { ...d.request },
  attemptCount: d.attemptCount,
  responseData: d.responseData,
  webhookName: d.webhookName,
  redeliveryOf: d.redeliveryOf,
  createdAt: d.createdAt,
  completedAt: d.completedAt,
  ...deliveryView(d),
});
