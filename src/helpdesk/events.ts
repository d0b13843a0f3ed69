import type { EntityManager } from '@mikro-orm/postgresql';
import { TicketEventRecord } from '../db/entities/index.js';
import type { FieldChange, TicketEventType } from '../dispatcher/types.js';
import type { Actor } from './actor.js';

export interface TicketEventPayload {
  changes: FieldChange[];
  actorId: string | null;
  postId?: string;
}

/**
 * Adds the event to the unit of work, so it commits with the change that raised it
 * (the outbox). Automated changes raise nothing.
 */
export function recordTicketEvent(em: EntityManager, actor: Actor, ticketId: string, type: TicketEventType, extra: Partial<TicketEventPayload> = {}): void {
  if (actor.automated) return;
  const payload: TicketEventPayload = { changes: [], actorId: actor.user?.id ?? null, ...extra };
  em.create(TicketEventRecord, { kind: 'EVENT', ticketId, type, payload, createdAt: new Date() });
}
