import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { ID } from './id-scalar.js';
import { GraphQLJSONObject } from 'graphql-scalars';
import { DeliveryEventType, DeliveryStatus, TicketEvent } from './enums.js';
import { RenderedRequestType } from './webhook-types.js';

@ObjectType()
export class DeliveryAttempt {
  @Field(() => Int) number!: number;
  @Field(() => Date) startedAt!: Date;
  @Field(() => Int) durationMs!: number;
  @Field(() => Int, { nullable: true, description: 'null when no HTTP response arrived' }) statusCode!: number | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => String, { nullable: true, description: 'truncated' }) responseBody!: string | null;
}

@ObjectType('Delivery')
export class DeliveryType {
  @Field(() => ID) id!: string;
  webhookId!: string | null;
  ticketId!: string | null;
  ruleId!: string | null;
  @Field(() => TicketEvent, { nullable: true }) event!: TicketEvent | null;
  @Field(() => DeliveryStatus) status!: DeliveryStatus;
  @Field(() => RenderedRequestType) request!: RenderedRequestType;
  @Field(() => Int) attemptCount!: number;
  @Field(() => Date, { nullable: true }) nextAttemptAt!: Date | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'values the response mappings extracted, keyed by field' })
  responseData!: Record<string, unknown> | null;
  @Field(() => [String], { description: 'notes from response processing: missing paths, failed conversions, the last error' })
  notes!: string[];
  @Field(() => String, { nullable: true, description: 'the name of the webhook when the delivery was made (kept after the webhook is deleted)' })
  webhookName!: string;
  @Field(() => ID, { nullable: true, description: 'the delivery this one re-sends, for redeliveries' })
  redeliveryOf!: string | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) completedAt!: Date | null;
}

@InputType()
export class DeliveryFilter {
  @Field(() => ID, { nullable: true }) webhookId?: string | null;
  @Field(() => ID, { nullable: true }) ticketId?: string | null;
  @Field(() => DeliveryStatus, { nullable: true }) status?: DeliveryStatus | null;
  @Field(() => ID, { nullable: true }) ruleId?: string | null;
  @Field(() => Date, { nullable: true, description: 'created at or after' }) since?: Date | null;
  @Field(() => Date, { nullable: true, description: 'created before' }) until?: Date | null;
  @Field(() => String, { nullable: true, description: 'case-insensitive substring of the rendered URL or body, or of the last response body' })
  search?: string | null;
}

@ObjectType()
export class BulkResult {
  @Field(() => Int, { description: 'deliveries the filter matches' }) matched!: number;
  @Field(() => Int, { description: 'new deliveries created (0 for a dry run)' }) queued!: number;
}

@ObjectType()
export class PageInfo {
  @Field(() => String, { nullable: true }) endCursor!: string | null;
  @Field(() => Boolean) hasNextPage!: boolean;
}

@ObjectType({ description: 'Newest first.' })
export class DeliveryPage {
  @Field(() => [DeliveryType]) nodes!: DeliveryType[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  /** every delivery the filter matches, counted when totalCount is asked for (DeliveryPageResolver) */
  count!: () => Promise<number>;
}

@ObjectType()
export class DeliveryEvent {
  @Field(() => DeliveryEventType) type!: DeliveryEventType;
  @Field(() => DeliveryType) delivery!: DeliveryType;
  @Field(() => DeliveryAttempt, { nullable: true, description: 'ATTEMPTED: the attempt that just finished' }) attempt!: DeliveryAttempt | null;
  @Field(() => Date) at!: Date;
}
