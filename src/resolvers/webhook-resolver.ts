import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { TEMPLATE_TAGS } from '../templates/index.js';
import { RenderedRequestType, TemplateTag, WebhookInput, WebhookType } from '../schema/index.js';
import type { GraphQLContext } from './context.js';
import { toWebhook } from './mappers.js';

@Resolver()
export class WebhookResolver {
  @Authorized('ADMIN')
  @Query(() => [WebhookType])
  async webhooks(@Ctx() ctx: GraphQLContext): Promise<WebhookType[]> {
    return (await ctx.services.webhooks.list(ctx.em)).map(toWebhook);
  }

  @Authorized('ADMIN')
  @Query(() => WebhookType, { nullable: true })
  async webhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookType | null> {
    const w = await ctx.services.webhooks.find(ctx.em, id);
    return w ? toWebhook(w) : null;
  }

  @Authorized('ADMIN')
  @Query(() => [TemplateTag])
  templateTags(): TemplateTag[] {
    return TEMPLATE_TAGS.map((t) => ({ name: t.name, description: t.description, example: t.example ?? null }));
  }

  @Authorized('ADMIN')
  @Query(() => RenderedRequestType, { description: 'renders the webhook for the ticket without sending it' })
  async previewWebhook(@Arg('id', () => ID) id: string, @Arg('ticketId', () => ID) ticketId: string, @Ctx() ctx: GraphQLContext): Promise<RenderedRequestType> {
    const { method, url, headers, body } = await ctx.services.webhooks.preview(ctx.em, id, ticketId);
    return { method, url, headers, body };
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookType)
  async createWebhook(@Arg('input', () => WebhookInput) input: WebhookInput, @Ctx() ctx: GraphQLContext): Promise<WebhookType> {
    return toWebhook(await ctx.services.webhooks.create(ctx.em, input));
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookType, { description: 'replaces the definition; an omitted auth.secret keeps the stored one' })
  async updateWebhook(@Arg('id', () => ID) id: string, @Arg('input', () => WebhookInput) input: WebhookInput, @Ctx() ctx: GraphQLContext): Promise<WebhookType> {
    return toWebhook(await ctx.services.webhooks.update(ctx.em, id, input));
  }

  @Authorized('ADMIN')
  @Mutation(() => Boolean)
  async deleteWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.webhooks.delete(ctx.em, id);
  }
}
