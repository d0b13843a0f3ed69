/** `Webhook.health` and `Webhook.stats` (src/resolvers/webhook-health-resolver.ts). */
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BREAKER_STATES, type BreakerState as BreakerStateValue } from '../domain/index.js';

export const BreakerState = Object.freeze(Object.fromEntries(BREAKER_STATES.map((v) => [v, v]))) as { readonly [K in BreakerStateValue]: K };
export type BreakerState = BreakerStateValue;
registerEnumType(BreakerState, { name: 'BreakerState' });

@ObjectType()
export class WebhookHealth {
  @Field(() => BreakerState) breaker!: BreakerState;
  @Field(() => Date, { nullable: true }) openedAt!: Date | null;
  @Field(() => Int, { description: "attempts in the breaker's window (last 5 minutes) and the share that failed, 0..1" })
  recentAttempts!: number;
  @Field(() => Float) recentFailureRate!: number;
  @Field(() => String, { nullable: true, description: 'why the webhook was switched off by the system (410 Gone, or failing for the whole retry window); null otherwise' })
  disabledReason!: string | null;
  @Field(() => Date, { nullable: true }) disabledAt!: Date | null;
}

@ObjectType()
export class StatsBucket {
  @Field(() => Date) start!: Date;
  @Field(() => Int) succeeded!: number;
  @Field(() => Int) failed!: number;
}

@ObjectType()
export class WebhookStats {
  @Field(() => Int, { description: 'deliveries created in the period, by their current status' }) pending!: number;
  @Field(() => Int) retrying!: number;
  @Field(() => Int) succeeded!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) cancelled!: number;
  @Field(() => Int, { description: 'attempts in the period' }) attempts!: number;
  @Field(() => Float, { nullable: true, description: 'succeeded attempts / attempts, 0..1; null without attempts' }) successRate!: number | null;
  @Field(() => Int, { nullable: true }) p50DurationMs!: number | null;
  @Field(() => Int, { nullable: true }) p95DurationMs!: number | null;
  @Field(() => [StatsBucket], { description: 'one bucket per hour of the period, oldest first (for a sparkline)' }) buckets!: StatsBucket[];
}
