import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { clientVisibleValues, TICKET_PAGE_SIZE } from '../helpdesk/index.js';
import {
  CreateTicketInput,
  CustomFieldInput,
  CustomFieldObject,
  PostType,
  TicketType,
  UpdateTicketInput,
  UserType,
  TicketStatus,
  ID,
} from '../schema/index.js';
import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { actorOf, type GraphQLContext } from './context.js';
import { toCustomField, toPost, toTicket, userFor } from './mappers.js';

const isClient = (ctx: GraphQLContext) => ctx.user?.role === 'CLIENT';

@Resolver(() => TicketType)
export class TicketResolver {
  @Authorized()
  @Query(() => TicketType, { nullable: true })
  async ticket(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<TicketType | null> {
    const t = await ctx.services.tickets.find(ctx.em, actorOf(ctx), id);
    return t ? toTicket(t) : null;
  }

  @Authorized()
  @Query(() => [TicketType])
  async tickets(
    @Ctx() ctx: GraphQLContext,
    @Arg('status', () => TicketStatus, { nullable: true }) status?: TicketStatus | null,
    // an explicit null is the default too (listTickets)
    @Arg('first', () => Int, { nullable: true, defaultValue: TICKET_PAGE_SIZE }) first: number | null = TICKET_PAGE_SIZE,
    @Arg('offset', () => Int, { nullable: true, defaultValue: 0 }) offset: number | null = 0,
  ): Promise<TicketType[]> {
    return (await ctx.services.tickets.list(ctx.em, actorOf(ctx), { status, first, offset })).map(toTicket);
  }

  @Authorized()
  @Mutation(() => TicketType)
  async createTicket(@Arg('input', () => CreateTicketInput) input: CreateTicketInput, @Ctx() ctx: GraphQLContext): Promise<TicketType> {
    return toTicket(await ctx.services.tickets.create(() => ctx.em, actorOf(ctx), input));
  }

  @Authorized('ADMIN', 'AGENT')
  @Mutation(() => TicketType)
  async updateTicket(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateTicketInput) input: UpdateTicketInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<TicketType> {
    return toTicket((await ctx.services.tickets.update(ctx.em, actorOf(ctx), id, input)).ticket);
  }

  @Authorized()
  @Mutation(() => PostType)
  async addReply(@Arg('ticketId', () => ID) ticketId: string, @Arg('text', () => String) text: string, @Ctx() ctx: GraphQLContext): Promise<PostType> {
    return toPost(await ctx.services.tickets.addPost(ctx.em, actorOf(ctx), { ticketId, kind: 'REPLY', text }));
  }

  @Authorized('ADMIN', 'AGENT')
  @Mutation(() => PostType)
  async addComment(@Arg('ticketId', () => ID) ticketId: string, @Arg('text', () => String) text: string, @Ctx() ctx: GraphQLContext): Promise<PostType> {
    return toPost(await ctx.services.tickets.addPost(ctx.em, actorOf(ctx), { ticketId, kind: 'COMMENT', text }));
  }

  @Authorized()
  @Query(() => [CustomFieldObject])
  async customFields(@Ctx() ctx: GraphQLContext): Promise<CustomFieldObject[]> {
    return (await ctx.services.customFields.list(ctx.em, actorOf(ctx))).map(toCustomField);
  }

  @Authorized('ADMIN')
  @Mutation(() => CustomFieldObject)
  async createCustomField(@Arg('input', () => CustomFieldInput) input: CustomFieldInput, @Ctx() ctx: GraphQLContext): Promise<CustomFieldObject> {
    return toCustomField(await ctx.services.customFields.create(ctx.em, input));
  }

  @FieldResolver(() => UserType)
  async requester(@Root() t: TicketType, @Ctx() ctx: GraphQLContext): Promise<UserType> {
    return userFor(ctx.user, (await ctx.loaders.user.load(t.requesterId))!);
  }

  @FieldResolver(() => UserType, { nullable: true })
  async assignee(@Root() t: TicketType, @Ctx() ctx: GraphQLContext): Promise<UserType | null> {
    const u = t.assigneeId ? await ctx.loaders.user.load(t.assigneeId) : null;
    return u ? userFor(ctx.user, u) : null;
  }

  /** A CLIENT sees the values of clientVisible fields only. */
  @FieldResolver(() => GraphQLJSONObject, { name: 'customFields', description: 'values keyed by CustomField.key' })
  async customFieldValues(@Root() t: TicketType, @Ctx() ctx: GraphQLContext): Promise<Record<string, unknown>> {
    return isClient(ctx) ? clientVisibleValues(t.customFields, await ctx.loaders.clientVisibleKeys()) : t.customFields;
  }

  /** A CLIENT may see a parent or child only when it is its own ticket as well. */
  @FieldResolver(() => TicketType, { nullable: true })
  async parent(@Root() t: TicketType, @Ctx() ctx: GraphQLContext): Promise<TicketType | null> {
    if (!t.parentId) return null;
    const parent = await ctx.loaders.ticket.load(t.parentId);
    return parent && this.visible(parent, ctx) ? parent : null;
  }

  @FieldResolver(() => [TicketType])
  async children(@Root() t: TicketType, @Ctx() ctx: GraphQLContext): Promise<TicketType[]> {
    return (await ctx.loaders.children.load(t.id)).filter((c) => this.visible(c, ctx));
  }

  @FieldResolver(() => [PostType], { description: 'oldest first; CLIENT callers see REPLY posts only' })
  async posts(@Root() t: TicketType, @Ctx() ctx: GraphQLContext): Promise<PostType[]> {
    return ctx.user?.role === 'CLIENT' ? ctx.loaders.replies.load(t.id) : ctx.loaders.posts.load(t.id);
  }

  @FieldResolver(() => GraphQLJSON, { nullable: true, description: 'the value of one custom field (null when unset)' })
  async customFieldValue(@Root() t: TicketType, @Arg('key', () => String) key: string, @Ctx() ctx: GraphQLContext): Promise<unknown> {
    if (!Object.prototype.hasOwnProperty.call(t.customFields, key)) return null;
    if (isClient(ctx) && !(await ctx.loaders.clientVisibleKeys()).has(key)) return null;
    return t.customFields[key];
  }

  private visible(t: TicketType, ctx: GraphQLContext): boolean {
    return !isClient(ctx) || t.requesterId === ctx.user!.id;
  }
}

@Resolver(() => PostType)
export class PostResolver {
  @FieldResolver(() => UserType, { nullable: true, description: 'null when the system wrote it (a rule action, a webhook result)' })
  async author(@Root() p: PostType, @Ctx() ctx: GraphQLContext): Promise<UserType | null> {
    const u = p.authorId ? await ctx.loaders.user.load(p.authorId) : null;
    return u ? userFor(ctx.user, u) : null;
  }
}
