/**
 * Creating deliveries (render once, keep the bytes), and the delivery log's operations:
 * test, redeliver, cancel, list, get. Every row change goes through the store (store.ts);
 * the send itself is the worker's.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Delivery, DeliveryAttempt, sqlOf, UUID_PATTERN, type Ticket, type Webhook } from '../db/index.js';
import type { SecretBox } from '../crypto/index.js';
import { addPost, systemActor } from '../helpdesk/index.js';
import { badInput, notFound } from '../errors.js';
import { buildTemplateContext, loadTicketForTemplates, type TemplateContext } from '../templates/index.js';
import { redactedAuthorization, renderRequest, RequestRenderError, urlTagProblem } from './request.js';
import { sealCredentials } from './credentials.js';
import { findWebhook, getWebhook, webhookDef, webhookOffMessage } from './webhooks.js';
import { cancelDelivery, failUnsendable, insertDeliveries, queueDelivery, type DeliveryFields, type NewDeliveryRow, type Queryable } from './store.js';
import type { WebhookDef } from './types.js';
import { isId, isOpenDelivery, type Continuation, type TicketEventType } from '../domain/index.js';
import { filterSql, type DeliveryListFilter } from './filter.js';
import { createSearchWindows, type SearchWindows } from './search-window.js';
import { cancelMany, redeliverMany, type BulkResult } from './bulk.js';

export interface NewDelivery {
  webhook: Webhook;
  ticket: Ticket;
  rule?: { id: string; name: string } | null;
  event?: TicketEventType | null;
  temp?: Record<string, unknown>;
  continuation?: Continuation | null;
  /** the post that raised the event: the request renders as of it ({answer_last} is that reply) */
  asOfPostId?: string | null;
  /** a rule's delivery: where it comes from, which gives its id (DeliveryOrigin) */
  origin?: DeliveryOrigin | null;
}

/**
 * What a rule's delivery comes from: the ticket event the dispatcher handled (its id and the
 * time it was recorded), and the rule's action at `action` (its position in the rule), which
 * sends to `webhookId` (a rule edited before the event is handled again may send elsewhere:
 * another request, another id). The delivery's id is derived from these
 * (SecretBox.derivedId of originName), so that handling the same event again gives the same
 * id: after a crash of the database took back the batch that made the delivery while its
 * request may already be out (src/db/session-settings.ts), the receiver sees the request
 * again with the same X-Deskhooks-Delivery and can recognise it. Every ticket event is
 * durable before the dispatcher sees it (its transaction commits synchronously), so it is
 * the same when handled again. Each action of a rule runs at most once per event: the ids
 * are unique. The event's time keeps them unique where event ids start over: a database
 * restored from a backup, or emptied, under the same secret key.
 */
export interface DeliveryOrigin {
  eventId: string;
  eventAt: Date;
  ruleId: string;
  action: number;
  webhookId: string;
}

/** The name a rule's delivery id is derived from; changing it gives an event handled again across an upgrade other ids. */
export const originName = (o: DeliveryOrigin): string => `${o.eventId}@${o.eventAt.toISOString()}/${o.ruleId}/${o.action}/${o.webhookId}`;

/** A delivery to render: the webhook, and the ticket's context as of the event (webhook, delivery and now are set by the draft). */
export interface DraftInput {
  webhook: WebhookDef;
  ticketId: string;
  context: TemplateContext;
  rule?: { id: string; name: string } | null;
  event?: TicketEventType | null;
  continuation?: Continuation | null;
  origin?: DeliveryOrigin | null;
}

export interface DeliveryDraft extends NewDeliveryRow {
  /** the internal comment an unsendable delivery leaves on its ticket */
  ticketComment: string | null;
}

export interface DeliveryService {
  /** where tickets are linked in the templates it renders (and the dispatcher's: contextFrom's publicUrl) */
  readonly publicUrl: string | null;
  /** adds a delivery to the caller's unit of work (committed with it) */
  prepare(em: EntityManager, input: NewDelivery): Promise<Delivery>;
  /** Renders a delivery-to-be from a loaded context; writes nothing (insertDrafts does, many at once). */
  draft(input: DraftInput): DeliveryDraft;
  /** Inserts drafts in one statement in the caller's transaction; unsendable ones are FAILED at once (their ticketComment is the caller's to post). */
  insertDrafts(db: Queryable, drafts: readonly DeliveryDraft[]): Promise<void>;
  /** The definition a send uses, its secrets opened. */
  webhookDef(webhook: Webhook): WebhookDef;
  /** The delivery log, newest first (see listDeliveries). */
  list(em: EntityManager, filter: DeliveryListFilter, first: number, after: string | null | undefined): Promise<DeliveryPageResult>;
  /** Pages of many tickets' deliveries at once (a DataLoader batch; see deliveriesOfTickets). */
  ofTickets(em: EntityManager, ticketIds: readonly string[], first: number, after: string | null | undefined): Promise<TicketDeliveryPage[]>;
  find(em: EntityManager, id: string): Promise<Delivery | null>;
  /** Attempts of many deliveries at once (a DataLoader batch), oldest first. */
  attemptsOf(em: EntityManager, deliveryIds: readonly string[]): Promise<DeliveryAttempt[][]>;
  test(em: EntityManager, webhookId: string, ticketId: string): Promise<Delivery>;
  redeliver(em: EntityManager, deliveryId: string): Promise<Delivery>;
  cancel(em: EntityManager, deliveryId: string): Promise<Delivery>;
  /** A redelivery of every final delivery the filter matches, or (dryRun) their count (bulk.ts). */
  redeliverMany(em: EntityManager, filter: DeliveryListFilter, dryRun: boolean): Promise<BulkResult>;
  /** Cancels every open delivery the filter matches, or (dryRun) counts them (bulk.ts). */
  cancelMany(em: EntityManager, filter: DeliveryListFilter, dryRun: boolean): Promise<BulkResult>;
}

const isUuid = (v: string) => UUID_PATTERN.test(v);

export async function findDelivery(em: EntityManager, id: string): Promise<Delivery | null> {
  return isUuid(id) ? em.findOne(Delivery, { id }) : null;
}

/** `publicUrl`: where tickets are linked in templates (config publicUrl; ticket.url, parent.url). */
export function createDeliveryService(box: SecretBox, userAgent: string, clock: () => Date = () => new Date(), publicUrl: string | null = null): DeliveryService {
  // which part of a search the trigram index looks up, from a sample of this database's deliveries
  const windows = createSearchWindows();
  const idOf = (origin: DeliveryOrigin | null | undefined) => (origin ? box.derivedId('delivery', originName(origin)) : randomUUID());
  const draft = (input: DraftInput): DeliveryDraft => {
    const id = idOf(input.origin);
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
      // the context is kept only for what renders from it after the answer (the success
      // comment): most webhooks have none, and the row is written three times per attempt
      processing: { responseMappings: def.responseMappings, successComment: def.successComment, context: def.successComment.trim() ? ctx : null },
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
    const context = await buildTemplateContext(em, input.ticket, { event: input.event, rule: input.rule ?? null, temp: input.temp, asOfPostId: input.asOfPostId, publicUrl });
    const d = draft({ webhook: def, ticketId: input.ticket.id, context, rule: input.rule, event: input.event, continuation: input.continuation, origin: input.origin });
    const delivery = queueDelivery(em, d.fields, d.createdAt);
    if (d.failure) {
      await addPost(em, systemActor, input.ticket.id, 'COMMENT', d.ticketComment!);
      await failUnsendable(em, delivery, d.failure, d.createdAt);
    }
    return delivery;
  };

  return {
    publicUrl,
    prepare,
    draft,
    webhookDef: (webhook) => webhookDef(webhook, box),
    insertDrafts: (db, drafts) => insertDeliveries(db, drafts),
    list: (em, filter, first, after) => listDeliveries(em, filter, first, after, windows),
    ofTickets: deliveriesOfTickets,
    redeliverMany: (em, filter, dryRun) => redeliverMany(em, filter, dryRun, clock()),
    cancelMany: (em, filter, dryRun) => cancelMany(em, filter, dryRun, clock()),
    find: findDelivery,
    attemptsOf,

    async test(em, webhookId, ticketId) {
      const webhook = await getWebhook(em, webhookId, 'id');
      if (!webhook.enabled) throw badInput('id', `${webhookOffMessage(webhook)}: it gets no new deliveries`);
      // a definition saved before URLs were checked for tags next to the host: refused, not sent
      const tagProblem = urlTagProblem(webhook.url);
      if (tagProblem) throw badInput('url', `webhook ${webhookId} cannot be sent: ${tagProblem}`);
      const ticket = isId(ticketId) ? await loadTicketForTemplates(em, ticketId) : null;
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
      // never claimed: its request could not be rendered (a FAILED one without an attempt that was
      // claimed had a request: its try went out unrecorded, or its credentials could not be opened)
      if (!original.request.url || (original.status === 'FAILED' && original.attemptCount === 0 && original.firstAttemptAt === null)) {
        throw badInput('deliveryId', 'this delivery was never sent (its request could not be rendered); fix the webhook and use testWebhook');
      }
      // a deleted webhook calls no one again (webhooks.ts deleteWebhook)
      if (!original.webhookId) throw badInput('deliveryId', `its webhook "${original.webhookName}" was deleted, and a deleted webhook gets no new deliveries; create a webhook and use testWebhook`);
      const webhook = await findWebhook(em, original.webhookId);
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

/** A page of the delivery log, newest first; `count` counts every delivery the filter matches (a query of its own, run when asked). */
export interface DeliveryPageResult {
  nodes: Delivery[];
  count: () => Promise<number>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Cursor = base64url of "createdAt|id" of the last row of a page (newest first). */
function parseCursor(after: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(after, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || Number.isNaN(date.getTime()) || !isUuid(id)) throw badInput('after', 'is not a cursor returned by deliveries.pageInfo.endCursor');
  return { at: date, id };
}

const cursorOf = (d: Delivery) => Buffer.from(`${d.createdAt.toISOString()}|${d.id}`).toString('base64url');

/** The deliveries a page of the log holds without `first` (the query's default for first, and the cost limit's count). */
export const DELIVERY_PAGE_SIZE = 50;
/** The deliveries a page of Ticket.deliveries holds when `first` is absent or null. */
export const TICKET_DELIVERY_PAGE_SIZE = 20;

/** The `first` a page of deliveries (the log, a ticket's) takes; others are refused naming `first`. */
export const DELIVERY_PAGE_RANGE = Object.freeze({ min: 1, max: 200 });

function checkFirst(first: number): void {
  const { min, max } = DELIVERY_PAGE_RANGE;
  if (!Number.isInteger(first) || first < min || first > max) throw badInput('first', `must be between ${min} and ${max}`);
}

/** The deliveries of `ids`, in that order. */
async function deliveriesIn(em: EntityManager, ids: string[]): Promise<Delivery[]> {
  if (!ids.length) return [];
  const rows = new Map((await em.find(Delivery, { id: { $in: ids } })).map((d) => [d.id, d]));
  return ids.flatMap((id) => rows.get(id) ?? []);
}

/**
 * The delivery log's statement parts for a filter. A search pages on the deliveries'
 * texts (delivery_texts, which carry created_at), so that PostgreSQL may answer it either
 * from the trigram index (a rare text: its matches, sorted) or by walking the newest
 * first until a page is full (a common one).
 */
function logQuery(filter: DeliveryListFilter, indexText?: string) {
  const params: unknown[] = [];
  const { where, textWhere } = filterSql(filter, params, indexText);
  return {
    params,
    from: textWhere ? `delivery_texts t join deliveries d on d.id = t.delivery_id` : `deliveries d`,
    matching: textWhere ? `${where} and ${textWhere}` : where,
    /** the page's order: created_at, id */
    order: textWhere ? ['t.created_at', 't.delivery_id'] : ['d.created_at', 'd.id'],
  };
}

/** The statements listDeliveries runs for a first page (benchmarks explain them). */
export function listStatements(filter: DeliveryListFilter, first: number, indexText?: string): { page: [string, unknown[]]; count: [string, unknown[]] } {
  const { params, from, matching, order: [at, id] } = logQuery(filter, indexText);
  return {
    page: [`select ${id} as id from ${from} where ${matching} order by ${at} desc, ${id} desc limit $${params.length + 1}`, [...params, first + 1]],
    count: [`select count(*)::int as n from ${from} where ${matching}`, params],
  };
}

/**
 * The delivery log, newest first (created_at, id), `first` after the cursor `after`: the
 * ids by one statement on the filter's indexes (filter.ts, logQuery), then their rows.
 */
export async function listDeliveries(
  em: EntityManager,
  filter: DeliveryListFilter,
  first: number,
  after: string | null | undefined,
  windows: SearchWindows = createSearchWindows(),
): Promise<DeliveryPageResult> {
  checkFirst(first);
  const db = sqlOf(em);
  const indexText = filter.search ? await windows.windowOf(db, filter.search) : undefined;
  const { params, from, matching, order: [at, id] } = logQuery(filter, indexText);
  const pageParams = [...params];
  let page = matching;
  if (after) {
    const cursor = parseCursor(after);
    pageParams.push(cursor.at, cursor.id);
    page += ` and (${at}, ${id}) < ($${pageParams.length - 1}::timestamptz, $${pageParams.length}::uuid)`;
  }
  pageParams.push(first + 1);
  const { rows } = await db.query(`select ${id} as id from ${from} where ${page} order by ${at} desc, ${id} desc limit $${pageParams.length}`, pageParams);
  const nodes = await deliveriesIn(em, rows.slice(0, first).map((r) => r.id as string));
  let counted: Promise<number> | undefined;
  return {
    nodes,
    count: () => (counted ??= db.query(`select count(*)::int as n from ${from} where ${matching}`, params).then((r) => r.rows[0].n as number)),
    pageInfo: { hasNextPage: rows.length > first, endCursor: nodes.length ? cursorOf(nodes[nodes.length - 1]!) : null },
  };
}

/** A page of one ticket's deliveries (Ticket.deliveries). */
export interface TicketDeliveryPage {
  nodes: Delivery[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * The deliveries of many tickets at once (a DataLoader batch), each newest first, `first`
 * after `after`: two statements whatever the number of tickets (a page per ticket by a
 * lateral join on the (ticket_id, created_at, id) index, and the counts), then the rows.
 */
export async function deliveriesOfTickets(em: EntityManager, ticketIds: readonly string[], first: number, after: string | null | undefined): Promise<TicketDeliveryPage[]> {
  checkFirst(first);
  const ids = ticketIds.filter(isId);
  const params: unknown[] = [ids, first + 1];
  let cursor = '';
  if (after) {
    const c = parseCursor(after);
    params.push(c.at, c.id);
    cursor = ` and (d.created_at, d.id) < ($3::timestamptz, $4::uuid)`;
  }
  const db = sqlOf(em);
  const [pages, counts] = await Promise.all([
    db.query(
      `select p.id, t.id::text as ticket_id from unnest($1::bigint[]) as t(id)
         cross join lateral (select d.id from deliveries d where d.ticket_id = t.id${cursor} order by d.created_at desc, d.id desc limit $2) p`,
      params,
    ),
    db.query(`select ticket_id::text as ticket_id, count(*)::int as n from deliveries where ticket_id = any($1::bigint[]) group by ticket_id`, [ids]),
  ]);
  const byTicket = new Map<string, string[]>();
  for (const r of pages.rows) byTicket.set(r.ticket_id, [...(byTicket.get(r.ticket_id) ?? []), r.id]);
  const rows = await deliveriesIn(em, [...byTicket.values()].flatMap((list) => list.slice(0, first)));
  const byId = new Map(rows.map((d) => [d.id, d]));
  const total = new Map(counts.rows.map((r) => [r.ticket_id as string, r.n as number]));
  return ticketIds.map((ticketId) => {
    const list = byTicket.get(ticketId) ?? [];
    const nodes = list.slice(0, first).flatMap((id) => byId.get(id) ?? []);
    return {
      nodes,
      totalCount: total.get(ticketId) ?? 0,
      pageInfo: { hasNextPage: list.length > first, endCursor: nodes.length ? cursorOf(nodes[nodes.length - 1]!) : null },
    };
  });
}

export async function attemptsOf(em: EntityManager, deliveryIds: readonly string[]): Promise<DeliveryAttempt[][]> {
  const rows = await em.find(DeliveryAttempt, { deliveryId: { $in: [...deliveryIds] } }, { orderBy: { number: 'asc' } });
  return deliveryIds.map((id) => rows.filter((r) => r.deliveryId === id));
}
