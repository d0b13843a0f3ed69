import type { EntityManager } from '@mikro-orm/postgresql';
import { TicketEventRecord, type Ticket, type User } from '../db/index.js';
import type { FieldChange, TicketEventType, TicketSnapshot } from '../domain/index.js';
import type { Queryable } from '../queue/index.js';
import type { Actor } from './actor.js';

/** The ticket's fields as conditions read them, at the moment of the event. */
export type TicketState = Omit<TicketSnapshot, 'lastReplyAuthor' | 'clocks'>;

/** What ticketState reads of a ticket (an entity, or one about to be inserted). */
export type TicketFields = Pick<Ticket, 'id' | 'title' | 'description' | 'status' | 'priority' | 'customFields'> & {
  requester: Pick<User, 'email' | 'role'>;
  assignee: Pick<User, 'email'> | null;
  parent: { id: string } | null;
};

export interface TicketEventPayload {
  changes: FieldChange[];
  actorId: string | null;
  postId?: string;
  /** the ticket when the event happened (absent in events recorded by older versions) */
  ticket?: TicketState;
}

/**
 * Why the state is recorded with the event: the dispatcher processes events after they
 * commit, seconds later under load, so a ticket created LOW and raised to URGENT in the
 * meantime would otherwise match "TICKET_CREATED with priority EQUALS URGENT" (and one
 * created URGENT and lowered would not). Requester and assignee must be loaded.
 */
export function ticketState(t: TicketFields): TicketState {
  return {
    id: t.id,
    title: t.title,
    description: t.description,
    status: t.status,
    priority: t.priority,
    requester: { email: t.requester.email, role: t.requester.role },
    assignee: t.assignee ? { email: t.assignee.email } : null,
    parentId: t.parent?.id ?? null,
    custom: { ...t.customFields },
  };
}

/**
 * Adds the event to the unit of work, so it commits with the change that raised it
 * (the outbox). Automated changes raise nothing.
 */
export function recordTicketEvent(em: EntityManager, actor: Actor, ticketId: string, type: TicketEventType, extra: Partial<TicketEventPayload> = {}): void {
  const payload = ticketEventPayload(actor, extra);
  if (payload) em.create(TicketEventRecord, { kind: 'EVENT', ticketId, type, payload, createdAt: new Date() });
}

/** The payload of the actor's event; null for automated changes, which raise none. */
export function ticketEventPayload(actor: Actor, extra: Partial<TicketEventPayload> = {}): TicketEventPayload | null {
  return actor.automated ? null : { changes: [], actorId: actor.user?.id ?? null, ...extra };
}

/** The channel the ticket_events trigger notifies: it wakes the dispatchers of every process. */
export const TICKET_EVENTS_CHANNEL = 'deskhooks_ticket_events';

/** Wakes the dispatchers of every process (events committed without the trigger's notification). */
export async function announceTicketEvents(db: Queryable): Promise<void> {
  await db.query(`select pg_notify($1, '')`, [TICKET_EVENTS_CHANNEL]);
}
