import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Webhook } from '../db/index.js';
import {
  createWebhook,
  deleteWebhook,
  findWebhook,
  getWebhook,
  listWebhooks,
  updateWebhook,
  webhookDef,
  previewRequest,
  RequestRenderError,
} from '../delivery/index.js';
import { buildTemplateContext, loadTicketForTemplates, TEMPLATE_TAGS } from '../templates/index.js';
import { rulesUsingWebhook } from '../dispatcher/index.js';
import { badInput } from '../errors.js';
import { RenderedRequestType, TemplateTag, WebhookInput, WebhookType } from '../schema/index.js';
import type { GraphQLContext } from './context.js';

export const toWebhook = (w: Webhook): WebhookType => ({
  id: w.id,
  name: w.name,
  method: w.method,
  url: w.url,
  format: w.format,
  body: w.body,
  // write-only secret header values
  headers: w.headers.map((h) => ({ name: h.name, value: h.secret ? '' : h.value, secret: Boolean(h.secret) })),
  // write-only credentials: only whether one is stored
  auth: { type: w.authType, username: w.authUsername, secretSet: w.authSecretSealed !== null },
  responseMappings: w.responseMappings.map((m) => ({ ...m })),
  successComment: w.successComment,
  enabled: w.enabled,
  createdAt: w.createdAt,
  updatedAt: w.updatedAt,
});

@Resolver()
export class WebhookResolver {
  @Authorized('ADMIN')
  @Query(() => [WebhookType])
  async webhooks(@Ctx() ctx: GraphQLContext): Promise<WebhookType[]> {
    return (await listWebhooks(ctx.em)).map(toWebhook);
  }

  @Authorized('ADMIN')
  @Query(() => WebhookType, { nullable: true })
  async webhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<WebhookType | null> {
    const w = await findWebhook(ctx.em, id);
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
    const webhook = await getWebhook(ctx.em, id, 'id');
    const ticket = /^[1-9][0-9]{0,17}$/.test(ticketId) ? await loadTicketForTemplates(ctx.em, ticketId) : null;
    if (!ticket) throw badInput('ticketId', `ticket ${ticketId} not found`);
    const def = webhookDef(webhook, ctx.services.secretBox);
    const templateCtx = await buildTemplateContext(ctx.em, ticket, { webhook: { id: def.id, name: def.name } });
    templateCtx.delivery = { id: '00000000-0000-0000-0000-000000000000' };
    let preview;
    try {
      preview = previewRequest(def, templateCtx, { userAgent: `deskhooks/${ctx.services.version}` });
    } catch (err) {
      // Fix (issue 3 integration tests): a webhook that cannot be rendered for this ticket
      // (e.g. a value makes the URL invalid) was reported as INTERNAL_SERVER_ERROR and logged
      // with a stack; say why, as a send would (the delivery would be FAILED with this reason).
      // a definition at fault whatever the ticket (a tag next to the host) names its field
      if (err instanceof RequestRenderError) throw badInput(err.field ?? 'ticketId', `webhook ${id} cannot be rendered for ticket ${ticketId}: ${err.message}`);
      throw err;
    }
    return preview;
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookType)
  async createWebhook(@Arg('input', () => WebhookInput) input: WebhookInput, @Ctx() ctx: GraphQLContext): Promise<WebhookType> {
    return toWebhook(await createWebhook(ctx.em, ctx.services.secretBox, input));
  }

  @Authorized('ADMIN')
  @Mutation(() => WebhookType, { description: 'replaces the definition; an omitted auth.secret keeps the stored one' })
  async updateWebhook(@Arg('id', () => ID) id: string, @Arg('input', () => WebhookInput) input: WebhookInput, @Ctx() ctx: GraphQLContext): Promise<WebhookType> {
    return toWebhook(await updateWebhook(ctx.em, ctx.services.secretBox, id, input));
  }

  @Authorized('ADMIN')
  @Mutation(() => Boolean)
  async deleteWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const users = await rulesUsingWebhook(ctx.em, id);
    if (users.length) {
      throw badInput('id', `webhook ${id} is used by rule${users.length > 1 ? 's' : ''} ${users.map((r) => `"${r.name}" (${r.id})`).join(', ')}; change or delete ${users.length > 1 ? 'them' : 'it'} first`);
    }
    return deleteWebhook(ctx.em, id);
  }
}
