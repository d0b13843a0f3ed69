import { OptionalProps, Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import type { DeliveryStatus, MappingTarget, RenderedRequest, TicketEventType } from '../../domain/index.js';

/**
 * One send of a rendered request, with its retries. The request is rendered once, when
 * the delivery is created, and kept, so retries and redelivery send the same bytes. The
 * hot path (claim, record) uses SQL in src/delivery/store.ts; this entity serves reads.
 */
@Entity({ tableName: 'deliveries' })
@Index({ properties: ['createdAt', 'id'] })
export class Delivery {
  [OptionalProps]?: 'webhookId' | 'ticketId' | 'ruleId' | 'event' | 'status' | 'authSealed' | 'attemptCount' | 'nextAttemptAt' | 'firstAttemptAt' | 'lockedUntil' | 'responseData' | 'notes' | 'lastError' | 'continuation' | 'redeliveryOf' | 'createdAt' | 'completedAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  /**
   * null once the webhook is deleted.
   * `runtimeType: 'string'` on the three nullable bigint ids: with `string | null` the
   * decorator metadata says Object and MikroORM falls back to JS bigint, which
   * JSON.stringify refuses (cancelDelivery failed with "Do not know how to serialize a BigInt").
   */
  @Property({ type: 'bigint', runtimeType: 'string', nullable: true, index: true })
  webhookId: string | null = null;

  @Property({ type: 'text' })
  webhookName!: string;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true, index: true })
  ticketId: string | null = null;

  @Property({ type: 'bigint', runtimeType: 'string', nullable: true })
  ruleId: string | null = null;

  @Property({ type: 'text', nullable: true })
  event: TicketEventType | null = null;

  @Property({ type: 'text', index: true })
  status: DeliveryStatus = 'PENDING';

  /** as sent, Authorization redacted */
  @Property({ type: 'json' })
  request!: RenderedRequest;

  /** sealed Authorization header value applied at send time */
  @Property({ type: 'text', nullable: true, hidden: true })
  authSealed: string | null = null;

  @Property({ type: 'integer' })
  attemptCount = 0;

  @Property({ type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  firstAttemptAt: Date | null = null;

  /** a worker's claim: until then no other worker takes the delivery */
  @Property({ type: 'timestamptz', nullable: true })
  lockedUntil: Date | null = null;

  @Property({ type: 'json', nullable: true })
  responseData: Record<string, unknown> | null = null;

  /** notes from response processing (missing paths, failed conversions) */
  @Property({ type: 'json' })
  notes: string[] = [];

  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  /** what the dispatcher runs after success (awaitResponse); opaque to the delivery code */
  @Property({ type: 'json', nullable: true })
  continuation: unknown = null;

  /** mappings and success comment template, captured with the request */
  @Property({ type: 'json' })
  processing!: { responseMappings: { path: string; target: MappingTarget; field: string }[]; successComment: string; context: unknown };

  @Property({ type: 'uuid', nullable: true })
  redeliveryOf: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  completedAt: Date | null = null;
}
