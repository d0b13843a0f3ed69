import { OptionalProps, Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import type { TicketEventType } from '../../domain/index.js';

/**
 * The dispatcher's outbox: written in the same transaction as the change that raised
 * the event, processed afterwards; a crash between the two delays a rule, never drops it.
 * kind EVENT: a ticket event to evaluate; CONTINUATION: the rest of a rule's actions
 * after an awaited delivery succeeded.
 */
@Entity({ tableName: 'ticket_events' })
@Index({ name: 'ticket_events_pending_idx', expression: `create index "ticket_events_pending_idx" on "ticket_events" ("id") where "processed_at" is null` })
export class TicketEventRecord {
  [OptionalProps]?: 'kind' | 'payload' | 'createdAt' | 'processedAt' | 'lockedUntil' | 'tries';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  kind: 'EVENT' | 'CONTINUATION' = 'EVENT';

  @Property({ type: 'bigint' })
  ticketId!: string;

  @Property({ type: 'text' })
  type!: TicketEventType;

  @Property({ type: 'json' })
  payload: unknown = {};

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  processedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  lockedUntil: Date | null = null;

  @Property({ type: 'integer' })
  tries = 0;
}
