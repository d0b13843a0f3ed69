import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Rule, Ticket, User, Webhook, type DeliveryAttempt } from '../db/index.js';
import type { AppServices } from '../app-services.js';
import { isId } from '../domain/index.js';
import type { TicketDeliveryPage } from '../delivery/index.js';
import type { PostType, TicketType, UserType } from '../schema/index.js';
import { toPost, toTicket, toUser } from './mappers.js';

/** Batches the N+1 lookups of a query (requesters of 50 tickets: one query). */
export interface Loaders {
  user: DataLoader<string, UserType | null>;
  ticket: DataLoader<string, TicketType | null>;
  children: DataLoader<string, TicketType[]>;
  posts: DataLoader<string, PostType[]>;
  replies: DataLoader<string, PostType[]>;
  /** the delivery log: attempts, webhooks and rules of a page of deliveries */
  attempts: DataLoader<string, DeliveryAttempt[]>;
  webhook: DataLoader<string, Webhook | null>;
  rule: DataLoader<string, Rule | null>;
  /** Ticket.deliveries: the pages of a list of tickets, one batch per (first, after) */
  ticketDeliveries: DataLoader<TicketDeliveriesKey, TicketDeliveryPage, string>;
  /** the keys of the custom fields a CLIENT sees: one query per request, when asked */
  clientVisibleKeys(): Promise<ReadonlySet<string>>;
}

export interface TicketDeliveriesKey {
  ticketId: string;
  first: number;
  after: string | null;
}

export function createLoaders(em: EntityManager, services: Pick<AppServices, 'tickets' | 'customFields' | 'deliveries'>): Loaders {
  const { tickets, customFields } = services;
  const byId = <T extends { id: string }>(ids: readonly string[], rows: T[]) => {
    const map = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => map.get(id) ?? null);
  };
  let visibleKeys: Promise<ReadonlySet<string>> | undefined;
  return {
    user: new DataLoader(async (ids) => byId(ids, (await em.find(User, { id: { $in: [...ids] } })).map(toUser))),
    ticket: new DataLoader(async (ids) => byId(ids, (await em.find(Ticket, { id: { $in: [...ids] } })).map(toTicket))),
    children: new DataLoader(async (ids) => {
      const rows = await em.find(Ticket, { parent: { $in: [...ids] } }, { orderBy: { id: 'asc' } });
      return ids.map((id) => rows.filter((t) => t.parent?.id === id).map(toTicket));
    }),
    posts: new DataLoader(async (ids) => (await tickets.postsOf(em, ids, false)).map((list) => list.map(toPost))),
    replies: new DataLoader(async (ids) => (await tickets.postsOf(em, ids, true)).map((list) => list.map(toPost))),
    attempts: new DataLoader((ids) => services.deliveries.attemptsOf(em, ids)),
    // ids stored in JSON (rule actions) are checked at save; the filter keeps a bad one from failing the batch
    webhook: new DataLoader(async (ids) => byId(ids, await em.find(Webhook, { id: { $in: ids.filter(isId) } }))),
    rule: new DataLoader(async (ids) => byId(ids, await em.find(Rule, { id: { $in: ids.filter(isId) } }))),
    ticketDeliveries: new DataLoader(
      async (keys) => {
        const groups = new Map<string, TicketDeliveriesKey[]>();
        for (const k of keys) {
          const page = JSON.stringify([k.first, k.after]);
          groups.set(page, [...(groups.get(page) ?? []), k]);
        }
        const pages = new Map<TicketDeliveriesKey, TicketDeliveryPage>();
        for (const group of groups.values()) {
          const { first, after } = group[0]!;
          const result = await services.deliveries.ofTickets(em, group.map((k) => k.ticketId), first, after);
          group.forEach((k, i) => pages.set(k, result[i]!));
        }
        return keys.map((k) => pages.get(k)!);
      },
      { cacheKeyFn: (k) => JSON.stringify([k.ticketId, k.first, k.after]) },
    ),
    clientVisibleKeys: () => (visibleKeys ??= customFields.clientVisibleKeys(em)),
  };
}
