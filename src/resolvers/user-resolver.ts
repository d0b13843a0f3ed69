import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { User } from '../db/index.js';
import { createUser } from '../helpdesk/index.js';
import { CreateUserInput, UserType, UserWithApiKey } from '../schema/index.js';
import { currentUser } from './auth.js';
import type { GraphQLContext } from './context.js';
import { toUser } from './mappers.js';

@Resolver()
export class UserResolver {
  @Authorized()
  @Query(() => UserType)
  me(@Ctx() ctx: GraphQLContext): UserType {
    return toUser(currentUser(ctx));
  }

  @Authorized('ADMIN', 'AGENT')
  @Query(() => [UserType])
  async users(@Ctx() ctx: GraphQLContext): Promise<UserType[]> {
    return (await ctx.em.find(User, {}, { orderBy: { id: 'asc' } })).map(toUser);
  }

  @Authorized('ADMIN')
  @Mutation(() => UserWithApiKey)
  async createUser(@Arg('input', () => CreateUserInput) input: CreateUserInput, @Ctx() ctx: GraphQLContext): Promise<UserWithApiKey> {
    const { user, apiKey } = await createUser(ctx.em, input);
    return { user: toUser(user), apiKey };
  }
}
