import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ID, RuleAction, RuleField, RuleInput, RuleType, WebhookType } from '../schema/index.js';
import type { GraphQLContext } from './context.js';
import { toRule, toWebhook } from './mappers.js';

@Resolver()
export class RuleResolver {
  @Authorized('ADMIN')
  @Query(() => [RuleType])
  async rules(@Ctx() ctx: GraphQLContext): Promise<RuleType[]> {
    return (await ctx.services.rules.list(ctx.em)).map(toRule);
  }

  @Authorized('ADMIN')
  @Query(() => RuleType, { nullable: true })
  async rule(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<RuleType | null> {
    const r = await ctx.services.rules.find(ctx.em, id);
    return r ? toRule(r) : null;
  }

  /** ADMIN and AGENT: the fields a rule editor offers (custom field keys and options, which staff see on tickets anyway). */
  @Authorized('ADMIN', 'AGENT')
  @Query(() => [RuleField])
  async ruleFields(@Ctx() ctx: GraphQLContext): Promise<RuleField[]> {
    return ctx.services.rules.fields(ctx.em);
  }

  @Authorized('ADMIN')
  @Mutation(() => RuleType)
  async createRule(@Arg('input', () => RuleInput) input: RuleInput, @Ctx() ctx: GraphQLContext): Promise<RuleType> {
    return toRule(await ctx.services.rules.create(ctx.em, input));
  }

  @Authorized('ADMIN')
  @Mutation(() => RuleType)
  async updateRule(@Arg('id', () => ID) id: string, @Arg('input', () => RuleInput) input: RuleInput, @Ctx() ctx: GraphQLContext): Promise<RuleType> {
    return toRule(await ctx.services.rules.update(ctx.em, id, input));
  }

  @Authorized('ADMIN')
  @Mutation(() => Boolean)
  async deleteRule(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.rules.delete(ctx.em, id);
  }
}

@Resolver(() => RuleAction)
export class RuleActionResolver {
  /** Through the request's loader: a list of rules loads its webhooks in one query. */
  @FieldResolver(() => WebhookType, { nullable: true, description: 'SEND_WEBHOOK' })
  async webhook(@Root() a: RuleAction, @Ctx() ctx: GraphQLContext): Promise<WebhookType | null> {
    if (!a.webhookId || ctx.user?.role !== 'ADMIN') return null;
    const w = await ctx.loaders.webhook.load(a.webhookId);
    return w ? toWebhook(w) : null;
  }
}
