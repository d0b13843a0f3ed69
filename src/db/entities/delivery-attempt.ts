import { OptionalProps, Entity, PrimaryKey, Property, Unique } from '@mikro-orm/core';

/** One immutable row per attempt. */
@Entity({ tableName: 'delivery_attempts' })
@Unique({ properties: ['deliveryId', 'number'] })
export class DeliveryAttempt {
  [OptionalProps]?: 'statusCode' | 'error' | 'responseBody';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'uuid' })
  deliveryId!: string;

  @Property({ type: 'integer' })
  number!: number;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'integer' })
  durationMs!: number;

  @Property({ type: 'integer', nullable: true })
  statusCode: number | null = null;

  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  /** truncated */
  @Property({ type: 'text', nullable: true })
  responseBody: string | null = null;
}
