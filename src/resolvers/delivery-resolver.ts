import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { DELIVERY_PAGE_SIZE, TICKET_DELIVERY_PAGE_SIZE, type DeliveryFeedItem, type AttemptRow, type DeliveryRow } from '../delivery/index.js';
import { forbidden, notFound, unauthenticated } from '../errors.js';
import {
  BulkResult,
  DeliveryAttempt,
  DeliveryEvent,
  DeliveryFilter,
  DeliveryPage,
  DeliveryType,
  TicketType,
  RuleType,
  WebhookType,
  ID,
} from '../schema/index.js';
import type { GraphQLContext } from './context.js';
import { createLoaders } from './loaders.js';
import { toDelivery, toRule, toWebhook } from './mappers.js';

@Resolver(() => DeliveryType)
export class DeliveryResolver {
  @Authorized('ADMIN', 'AGENT')
  @Query(() => DeliveryPage)
  async deliveries(
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => DeliveryFilter, { nullable: true }) filter?: DeliveryFilter | null,
    // an explicit null is the default page too, as for tickets and Ticket.deliveries
    @Arg('first', () => Int, { nullable: true, defaultValue: DELIVERY_PAGE_SIZE }) first: number | null = DELIVERY_PAGE_SIZE,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<DeliveryPage> {
    const page = await ctx.services.deliveries.list(ctx.em, filter ?? {}, first ?? DELIVERY_PAGE_SIZE, after);
    return { ...page, nodes: page.nodes.map(toDelivery) };
  }

  @Authorized('ADMIN')
  @Mutation(() => BulkResult, {
    description: 'a new delivery of each final (SUCCEEDED, FAILED or CANCELLED) delivery the filter matches; dryRun (the default) only counts them. At most 10,000 at once',
  })
  async redeliverMany(
    @Arg('filter', () => DeliveryFilter) filter: DeliveryFilter,
    @Arg('dryRun', () => Boolean, { nullable: true, defaultValue: true }) dryRun: boolean | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<BulkResult> {
    return ctx.services.deliveries.redeliverMany(ctx.em, filter, dryRun !== false);
  }

  @Authorized('ADMIN')
  @Mutation(() => BulkResult, { description: 'cancels every PENDING or RETRYING delivery the filter matches' })
  async cancelMany(
    @Arg('filter', () => DeliveryFilter) filter: DeliveryFilter,
    @Arg('dryRun', () => Boolean, { nullable: true, defaultValue: true }) dryRun: boolean | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<BulkResult> {
    return ctx.services.deliveries.cancelMany(ctx.em, filter, dryRun !== false);
  }

  @Authorized('ADMIN', 'AGENT')
  @Query(() => DeliveryType, { nullable: true })
  async delivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType | null> {
    const d = await ctx.services.deliveries.find(ctx.em, id);
    return d ? toDelivery(d) : null;
  }

  @Authorized('ADMIN')
  @Mutation(() => DeliveryType, { description: 'sends the webhook for the ticket now, outside any rule, with the usual retries' })
  async testWebhook(@Arg('id', () => ID) id: string, @Arg('ticketId', () => ID) ticketId: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType> {
    return toDelivery(await ctx.services.deliveries.test(ctx.em, id, ticketId));
  }

  @Authorized('ADMIN')
  @Mutation(() => DeliveryType, { description: 'a new delivery of the same rendered request' })
  async redeliver(@Arg('deliveryId', () => ID) deliveryId: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType> {
    return toDelivery(await ctx.services.deliveries.redeliver(ctx.em, deliveryId));
  }

  @Authorized('ADMIN')
  @Mutation(() => DeliveryType)
  async cancelDelivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<DeliveryType> {
    return toDelivery(await ctx.services.deliveries.cancel(ctx.em, id));
  }

  @Subscription(() => DeliveryEvent, {
    description: 'every state change of every delivery the caller may see, filtered',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      if (!ctx.user) throw unauthenticated();
      if (ctx.user.role === 'CLIENT') throw forbidden('deliveryEvents needs the role ADMIN or AGENT; you are CLIENT');
      // the same DeliveryFilter as the log's (src/delivery/events.ts judges it per event)
      const filter = args.filter as DeliveryFilter | null;
      return ctx.services.deliveryEvents.subscribe(filter ?? {}, undefined, ctx.flow);
    },
  })
  deliveryEvents(
    @Root() item: DeliveryFeedItem<DeliveryRow, AttemptRow>,
    @Ctx() ctx: GraphQLContext,
    @Arg('filter', () => DeliveryFilter, { nullable: true }) _filter?: DeliveryFilter | null,
  ): DeliveryEvent {
    // graphql-ws builds the context once per subscription: nested fields (ticket, rule…)
    // get a fresh EntityManager and loaders per event, or they would show stale rows
    // from the identity map and grow it for as long as the subscription lives
    ctx.em = ctx.services.orm.em.fork();
    ctx.loaders = createLoaders(ctx.em, ctx.services);
    // the rows were loaded once for every subscriber when the notification arrived
    const { message } = item;
    if (!item.delivery) throw notFound('delivery', message.d);
    return { type: message.t, delivery: toDelivery(item.delivery), attempt: item.attempt, at: new Date(message.at) };
  }

  @FieldResolver(() => [DeliveryAttempt])
  async attempts(@Root() d: DeliveryType, @Ctx() ctx: GraphQLContext): Promise<DeliveryAttempt[]> {
    return ctx.loaders.attempts.load(d.id);
  }

  @FieldResolver(() => WebhookType, { nullable: true, description: 'null once the webhook is deleted; webhook definitions are shown to ADMIN callers only (null for AGENT)' })
  async webhook(@Root() d: DeliveryType, @Ctx() ctx: GraphQLContext): Promise<WebhookType | null> {
    if (ctx.user?.role !== 'ADMIN') return null;
    const w = d.webhookId ? await ctx.loaders.webhook.load(d.webhookId) : null;
    return w ? toWebhook(w) : null;
  }

  @FieldResolver(() => TicketType, { nullable: true })
  async ticket(@Root() d: DeliveryType, @Ctx() ctx: GraphQLContext): Promise<TicketType | null> {
    return d.ticketId ? ctx.loaders.ticket.load(d.ticketId) : null;
  }

  @FieldResolver(() => RuleType, { nullable: true, description: 'rule definitions are shown to ADMIN callers only (null for AGENT)' })
  async rule(@Root() d: DeliveryType, @Ctx() ctx: GraphQLContext): Promise<RuleType | null> {
    if (ctx.user?.role !== 'ADMIN') return null;
    const r = d.ruleId ? await ctx.loaders.rule.load(d.ruleId) : null;
    return r ? toRule(r) : null;
  }
}

@Resolver(() => DeliveryPage)
export class DeliveryPageResolver {
  /** counted only when asked for: with a search that matches many deliveries, the count costs more than the page */
  @FieldResolver(() => Int)
  async totalCount(@Root() page: DeliveryPage): Promise<number> {
    return page.count();
  }
}

const EMPTY_PAGE: DeliveryPage = { nodes: [], count: async () => 0, pageInfo: { hasNextPage: false, endCursor: null } };

@Resolver(() => TicketType)
export class TicketDeliveriesResolver {
  @FieldResolver(() => DeliveryPage, { description: 'the deliveries made for this ticket, newest first (ADMIN and AGENT; empty for CLIENT)' })
  async deliveries(
    @Root() t: TicketType,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: TICKET_DELIVERY_PAGE_SIZE }) first: number | null = TICKET_DELIVERY_PAGE_SIZE,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<DeliveryPage> {
    if (ctx.user?.role !== 'ADMIN' && ctx.user?.role !== 'AGENT') return EMPTY_PAGE;
    const page = await ctx.loaders.ticketDeliveries.load({ ticketId: t.id, first: first ?? TICKET_DELIVERY_PAGE_SIZE, after: after ?? null });
    return { nodes: page.nodes.map(toDelivery), count: async () => page.totalCount, pageInfo: page.pageInfo };
  }
}
