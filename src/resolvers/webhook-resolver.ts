import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { templateTagsWith } from '../templates/index.js';
import { ID, RenderedRequestType, SigningSecret, TemplateTag, WebhookInput, WebhookType } from '../schema/index.js';
import { actorOf, type GraphQLContext } from './context.js';
import { toWebhook } from './mappers.js';

@Resolver()
export class WebhookResolver {
  @Authorized('ADMIN')
  @Query(() => [WebhookType])
  async webhooks(@Ctx() ctx: GraphQLContext): Promise<WebhookType[]> {
    return (await ctx.services.webhooks.list(ctx.em)).map((w) => toWebhook(w, ctx.services.webhooks.now()));
  }

  @Authorized('ADMIN')
  @Query(() => WebhookType, { nullable: true })
  async webhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookType | null> {
    const w = await ctx.services.webhooks.find(ctx.em, id);
    return w ? toWebhook(w, ctx.services.webhooks.now()) : null;
  }

  @Authorized('ADMIN')
  @Query(() => [TemplateTag])
  async templateTags(@Ctx() ctx: GraphQLContext): Promise<TemplateTag[]> {
    const fields = await ctx.services.customFields.list(ctx.em, actorOf(ctx));
    return templateTagsWith(fields).map((t) => ({ name: t.name, description: t.description, example: t.example ?? null }));
  }

  @Authorized('ADMIN')
  @Query(() => RenderedRequestType, { description: 'renders the webhook for the ticket without sending it' })
  async previewWebhook(
    @Arg('id', () => ID, { nullable: true, description: 'the stored webhook; with input optional (a new webhook has none)' }) id: string | null | undefined,
    @Arg('ticketId', () => ID) ticketId: string,
    @Arg('input', () => WebhookInput, { nullable: true, description: 'an unsaved definition to render instead of the stored one (an editor\'s preview); its templates are checked as a save checks them' })
    input: WebhookInput | null | undefined,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RenderedRequestType> {
    const { method, url, headers, body } = await ctx.services.webhooks.preview(ctx.em, id ?? null, ticketId, input ?? null);
    return { method, url, headers, body };
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookType)
  async createWebhook(@Arg('input', () => WebhookInput) input: WebhookInput, @Ctx() ctx: GraphQLContext): Promise<WebhookType> {
    return toWebhook(await ctx.services.webhooks.create(ctx.em, input), ctx.services.webhooks.now());
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookType, { description: 'replaces the definition; an omitted auth.secret keeps the stored one' })
  async updateWebhook(@Arg('id', () => ID) id: string, @Arg('input', () => WebhookInput) input: WebhookInput, @Ctx() ctx: GraphQLContext): Promise<WebhookType> {
    return toWebhook(await ctx.services.webhooks.update(ctx.em, id, input), ctx.services.webhooks.now());
  }

  @Authorized('ADMIN')
  @Mutation(() => SigningSecret, { description: 'a new signing secret, returned once; the previous one keeps signing as a second signature for 24 h' })
  async rotateSigningSecret(@Arg('webhookId', () => ID) webhookId: string, @Ctx() ctx: GraphQLContext): Promise<SigningSecret> {
    return ctx.services.webhooks.rotateSigningSecret(ctx.em, webhookId);
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookType, { description: 'switches a webhook that the system disabled (or an admin) back on and closes its breaker' })
  async enableWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookType> {
    return toWebhook(await ctx.services.webhooks.enable(ctx.em, id), ctx.services.webhooks.now());
  }

  @Authorized('ADMIN')
  @Mutation(() => Boolean)
  async deleteWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.webhooks.delete(ctx.em, id);
  }
}
