import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { ID, UserWithApiKey } from '../schema/index.js';
import { currentUser } from './auth.js';
import type { GraphQLContext } from './context.js';
import { toUser } from './mappers.js';

@Resolver()
export class ApiKeyResolver {
  @Authorized()
  @Mutation(() => UserWithApiKey, {
    description: 'a new key for the user (default: the caller; another user: ADMIN only); the old key stops working at once, open websocket connections made with it are closed',
  })
  async rotateApiKey(@Arg('userId', () => ID, { nullable: true }) userId: string | null | undefined, @Ctx() ctx: GraphQLContext): Promise<UserWithApiKey> {
    const { user, apiKey } = await ctx.services.users.rotateKey(ctx.em, currentUser(ctx), userId);
    return { user: toUser(user), apiKey };
  }
}
