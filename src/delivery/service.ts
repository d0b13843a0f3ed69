/**
 * Creating deliveries (render once, keep the bytes), and the delivery log's operations:
 * test, redeliver, cancel, list, get. Every row change goes through the store (store.ts);
 * the send itself is the worker's.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Delivery, DeliveryAttempt, sqlOf, type Ticket, type Webhook } from '../db/index.js';
import type { SecretBox } from '../crypto/index.js';
import { addPost, systemActor } from '../helpdesk/index.js';
import { badInput, notFound } from '../errors.js';
import { buildTemplateContext, loadTicketForTemplates, type TemplateContext } from '../templates/index.js';
import { redactedAuthorization, renderRequest, RequestRenderError, urlTagProblem } from './request.js';
import { sealCredentials } from './credentials.js';
import { findWebhook, getWebhook, webhookDef, webhookOffMessage } from './webhooks.js';
import { cancelDelivery, failUnsendable, insertDeliveries, queueDelivery, type DeliveryFields, type NewDeliveryRow, type Queryable } from './store.js';
import type { WebhookDef } from './types.js';
import { isOpenDelivery, type Continuation, type DeliveryStatus, type TicketEventType } from '../domain/index.js';

export interface NewDelivery {
  webhook: Webhook;
  ticket: Ticket;
  rule?: { id: string; name: string } | null;
  event?: TicketEventType | null;
  temp?: Record<string, unknown>;
  continuation?: Continuation | null;
  /** the post that raised the event: the request renders as of it ({answer_last} is that reply) */
  asOfPostId?: string | null;
}

/** A delivery to render: the webhook, and the ticket's context as of the event (webhook, delivery and now are set by the draft). */
export interface DraftInput {
  webhook: WebhookDef;
  ticketId: string;
  context: TemplateContext;
  rule?: { id: string; name: string } | null;
  event?: TicketEventType | null;
  continuation?: Continuation | null;
}

export interface DeliveryDraft extends NewDeliveryRow {
  /** the internal comment an unsendable delivery leaves on its ticket */
  ticketComment: string | null;
}

export interface DeliveryService {
  /** adds a delivery to the caller's unit of work (committed with it) */
  prepare(em: EntityManager, input: NewDelivery): Promise<Delivery>;
  /** Renders a delivery-to-be from a loaded context; writes nothing (insertDrafts does, many at once). */
  draft(input: DraftInput): DeliveryDraft;
  /** Inserts drafts in one statement in the caller's transaction; unsendable ones are FAILED at once (their ticketComment is the caller's to post). */
  insertDrafts(db: Queryable, drafts: readonly DeliveryDraft[]): Promise<void>;
  /** The definition a send uses, its secrets opened. */
  webhookDef(webhook: Webhook): WebhookDef;
  /** The delivery log, newest first (see listDeliveries). */
  list(em: EntityManager, filter: DeliveryListFilter, first: number, after: string | null | undefined): ReturnType<typeof listDeliveries>;
  find(em: EntityManager, id: string): Promise<Delivery | null>;
  /** Attempts of many deliveries at once (a DataLoader batch), oldest first. */
  attemptsOf(em: EntityManager, deliveryIds: readonly string[]): Promise<DeliveryAttempt[][]>;
  test(em: EntityManager, webhookId: string, ticketId: string): Promise<Delivery>;
  redeliver(em: EntityManager, deliveryId: string): Promise<Delivery>;
  cancel(em: EntityManager, deliveryId: string): Promise<Delivery>;
}

const isUuid = (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);

export async function findDelivery(em: EntityManager, id: string): Promise<Delivery | null> {
  return isUuid(id) ? em.findOne(Delivery, { id }) : null;
}

export function createDeliveryService(box: SecretBox, userAgent: string, clock: () => Date = () => new Date()): DeliveryService {
  const draft = (input: DraftInput): DeliveryDraft => {
    const id = randomUUID();
    const def = input.webhook;
    const createdAt = clock();
    const ctx: TemplateContext = { ...input.context, webhook: { id: def.id, name: def.name }, delivery: { id }, now: createdAt.toISOString() };
    const fields: DeliveryFields = {
      id,
      webhookId: def.id,
      webhookName: def.name,
      ticketId: input.ticketId,
      ruleId: input.rule?.id ?? null,
      event: input.event ?? null,
      request: { method: def.method, url: def.url, headers: {}, body: null },
      processing: { responseMappings: def.responseMappings, successComment: def.successComment, context: ctx },
      continuation: input.continuation ?? null,
    };
    try {
      const { request, authorization, secretHeaders } = renderRequest(def, ctx, { userAgent });
      const redacted = redactedAuthorization(def.auth.type);
      fields.request = authorization && redacted ? { ...request, headers: { ...request.headers, Authorization: redacted } } : request;
      fields.authSealed = sealCredentials(box, authorization ? { ...secretHeaders, Authorization: authorization } : secretHeaders);
      return { fields, createdAt, failure: null, ticketComment: null };
    } catch (err) {
      if (!(err instanceof RequestRenderError)) throw err;
      // not retryable: FAILED at once, with the reason on the delivery and the ticket; an
      // awaited delivery that fails here stops its rule just like a final failure (write-back.ts)
      const skipped = input.continuation ? ` The remaining actions of rule "${input.continuation.ruleName}" were not run.` : '';
      return { fields, createdAt, failure: err.message, ticketComment: `Webhook "${def.name}" was not sent: ${err.message}.${skipped}` };
    }
  };

  const prepare = async (em: EntityManager, input: NewDelivery): Promise<Delivery> => {
    const def = webhookDef(input.webhook, box);
    const context = await buildTemplateContext(em, input.ticket, { event: input.event, rule: input.rule ?? null, temp: input.temp, asOfPostId: input.asOfPostId });
    const d = draft({ webhook: def, ticketId: input.ticket.id, context, rule: input.rule, event: input.event, continuation: input.continuation });
    const delivery = queueDelivery(em, d.fields, d.createdAt);
    if (d.failure) {
      await addPost(em, systemActor, input.ticket.id, 'COMMENT', d.ticketComment!);
      await failUnsendable(em, delivery, d.failure, d.createdAt);
    }
    return delivery;
  };

  return {
    prepare,
    draft,
    webhookDef: (webhook) => webhookDef(webhook, box),
    insertDrafts: (db, drafts) => insertDeliveries(db, drafts),
    list: listDeliveries,
    find: findDelivery,
    attemptsOf,

    async test(em, webhookId, ticketId) {
      const webhook = await getWebhook(em, webhookId, 'id');
      if (!webhook.enabled) throw badInput('id', `${webhookOffMessage(webhook)}: it gets no new deliveries`);
      // a definition saved before URLs were checked for tags next to the host: refused, not sent
      const tagProblem = urlTagProblem(webhook.url);
      if (tagProblem) throw badInput('url', `webhook ${webhookId} cannot be sent: ${tagProblem}`);
      const ticket = await loadTicketForTemplates(em, ticketId);
      if (!ticket) throw badInput('ticketId', `ticket ${ticketId} not found`);
      return em.transactional(async (tem) => {
        const delivery = await prepare(tem, { webhook, ticket });
        await tem.flush();
        return delivery;
      });
    },

    async redeliver(em, deliveryId) {
      const original = await findDelivery(em, deliveryId);
      if (!original) throw notFound('delivery', deliveryId, 'deliveryId');
      if (!original.request.url || original.status === 'FAILED' && original.attemptCount === 0) {
        throw badInput('deliveryId', 'this delivery was never sent (its request could not be rendered); fix the webhook and use testWebhook');
      }
      const webhook = original.webhookId ? await findWebhook(em, original.webhookId) : null;
      if (webhook && !webhook.enabled) throw badInput('deliveryId', `${webhookOffMessage(webhook)}: it gets no new deliveries`);
      const copy = queueDelivery(em, {
        id: randomUUID(),
        webhookId: original.webhookId,
        webhookName: original.webhookName,
        ticketId: original.ticketId,
        ruleId: original.ruleId,
        event: original.event,
        request: original.request,
        authSealed: original.authSealed,
        processing: original.processing,
        // the rule's remaining actions ran (or not) with the original; a re-send does not repeat them
        continuation: null,
        redeliveryOf: original.id,
      }, clock());
      await em.flush();
      return copy;
    },

    async cancel(em, deliveryId) {
      const delivery = await findDelivery(em, deliveryId);
      if (!delivery) throw notFound('delivery', deliveryId, 'id');
      if (!isOpenDelivery(delivery.status)) {
        throw badInput('id', `delivery ${deliveryId} is ${delivery.status} and cannot be cancelled; only PENDING or RETRYING deliveries can`);
      }
      const now = clock();
      const changed = await em.transactional((tem) => cancelDelivery(sqlOf(tem), delivery.id, now));
      if (!changed) throw badInput('id', `delivery ${deliveryId} finished before it could be cancelled`);
      await em.refresh(delivery);
      return delivery;
    },
  };
}

export interface DeliveryListFilter {
  webhookId?: string | null;
  ticketId?: string | null;
  status?: DeliveryStatus | null;
}

/** Cursor = base64url of "createdAt|id" of the last row; newest first. */
export async function listDeliveries(em: EntityManager, filter: DeliveryListFilter, first: number, after: string | null | undefined) {
  if (first < 1 || first > 200) throw badInput('first', 'must be between 1 and 200');
  const where: Record<string, unknown> = {};
  for (const key of ['webhookId', 'ticketId'] as const) {
    const id = filter[key];
    if (id && !/^[1-9][0-9]{0,17}$/.test(id)) throw badInput(`filter.${key}`, `"${id}" is not an id`);
  }
  if (filter.webhookId) where.webhookId = filter.webhookId;
  if (filter.ticketId) where.ticketId = filter.ticketId;
  if (filter.status) where.status = filter.status;
  const totalCount = await em.count(Delivery, where);
  let pageWhere = where;
  if (after) {
    const [at, id] = Buffer.from(after, 'base64url').toString('utf8').split('|');
    const date = new Date(at ?? '');
    if (!id || Number.isNaN(date.getTime()) || !isUuid(id)) throw badInput('after', 'is not a cursor returned by deliveries.pageInfo.endCursor');
    pageWhere = { ...where, $or: [{ createdAt: { $lt: date } }, { createdAt: date, id: { $lt: id } }] };
  }
  const rows = await em.find(Delivery, pageWhere, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first + 1 });
  const nodes = rows.slice(0, first);
  const last = nodes[nodes.length - 1];
  return {
    nodes,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url') : null,
    },
  };
}

export async function attemptsOf(em: EntityManager, deliveryIds: readonly string[]): Promise<DeliveryAttempt[][]> {
  const rows = await em.find(DeliveryAttempt, { deliveryId: { $in: [...deliveryIds] } }, { orderBy: { number: 'asc' } });
  return deliveryIds.map((id) => rows.filter((r) => r.deliveryId === id));
}
