import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
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
    return (await ctx.services.users.list(ctx.em)).map(toUser);
  }

  @Authorized('ADMIN')
  @Mutation(() => UserWithApiKey)
  async createUser(@Arg('input', () => CreateUserInput) input: CreateUserInput, @Ctx() ctx: GraphQLContext): Promise<UserWithApiKey> {
    const { user, apiKey } = await ctx.services.users.create(ctx.em, input);
    return { user: toUser(user), apiKey };
  }
}
