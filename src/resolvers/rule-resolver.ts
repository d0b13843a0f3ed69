import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Rule } from '../db/index.js';
import { createRule, deleteRule, findRule, listRules, updateRule } from '../dispatcher/index.js';
import { findWebhook } from '../delivery/index.js';
import { RuleAction, RuleInput, RuleType, WebhookType } from '../schema/index.js';
import type { GraphQLContext } from './context.js';
import { toWebhook } from './webhook-resolver.js';

export const toRule = (r: Rule): RuleType => ({
  id: r.id,
  name: r.name,
  description: r.description,
  enabled: r.enabled,
  position: r.position,
  continueAfterMatch: r.continueAfterMatch,
  events: r.events,
  match: r.match,
  conditions: r.conditions.map((c) => ({ field: c.field, operator: c.operator, value: c.value })),
  actions: r.actions.map((a) => ({ type: a.type, webhookId: a.webhookId, field: a.field, value: a.value, awaitResponse: a.awaitResponse })),
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

@Resolver()
export class RuleResolver {
  @Authorized('ADMIN')
  @Query(() => [RuleType])
  async rules(@Ctx() ctx: GraphQLContext): Promise<RuleType[]> {
    return (await listRules(ctx.em)).map(toRule);
  }

  @Authorized('ADMIN')
  @Query(() => RuleType, { nullable: true })
  async rule(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<RuleType | null> {
    const r = await findRule(ctx.em, id);
    return r ? toRule(r) : null;
  }

  @Authorized('ADMIN')
  @Mutation(() => RuleType)
  async createRule(@Arg('input', () => RuleInput) input: RuleInput, @Ctx() ctx: GraphQLContext): Promise<RuleType> {
    return toRule(await createRule(ctx.em, input));
  }

  @Authorized('ADMIN')
  @Mutation(() => RuleType)
  async updateRule(@Arg('id', () => ID) id: string, @Arg('input', () => RuleInput) input: RuleInput, @Ctx() ctx: GraphQLContext): Promise<RuleType> {
    return toRule(await updateRule(ctx.em, id, input));
  }

  @Authorized('ADMIN')
  @Mutation(() => Boolean)
  async deleteRule(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return deleteRule(ctx.em, id);
  }
}

@Resolver(() => RuleAction)
export class RuleActionResolver {
  @FieldResolver(() => WebhookType, { nullable: true, description: 'SEND_WEBHOOK' })
  async webhook(@Root() a: RuleAction, @Ctx() ctx: GraphQLContext): Promise<WebhookType | null> {
    if (!a.webhookId || ctx.user?.role !== 'ADMIN') return null;
    const w = await findWebhook(ctx.em, a.webhookId);
    return w ? toWebhook(w) : null;
  }
}
