import { Arg, Authorized, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { notFound } from '../errors.js';
import { WebhookHealth, WebhookStats, WebhookType } from '../schema/index.js';
import type { GraphQLContext } from './context.js';

/** Webhook.health and Webhook.stats: read on demand (src/delivery/health.ts), for ADMIN callers like every webhook definition. */
@Resolver(() => WebhookType)
export class WebhookHealthResolver {
  @Authorized('ADMIN')
  @FieldResolver(() => WebhookHealth)
  async health(@Root() w: WebhookType, @Ctx() ctx: GraphQLContext): Promise<WebhookHealth> {
    const health = await ctx.services.webhookHealth.health(w.id);
    if (!health) throw notFound('webhook', w.id);
    return health;
  }

  @Authorized('ADMIN')
  @FieldResolver(() => WebhookStats)
  async stats(
    @Root() w: WebhookType,
    @Ctx() ctx: GraphQLContext,
    @Arg('hours', () => Int, { nullable: true, defaultValue: 24 }) hours?: number | null,
  ): Promise<WebhookStats> {
    return ctx.services.webhookHealth.stats(w.id, hours ?? 24, 'hours');
  }
}
