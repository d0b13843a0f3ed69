import type { AuthChecker } from 'type-graphql';
import type { User } from '../db/index.js';
import { forbidden, unauthenticated } from '../errors.js';
import type { GraphQLContext } from './context.js';

/**
 * type-graphql's @Authorized(...roles) check. Throws our own errors so that the codes
 * (UNAUTHENTICATED, FORBIDDEN) and messages are the same everywhere.
 */
export const authChecker: AuthChecker<GraphQLContext> = ({ context }, roles) => {
  if (!context.user) throw unauthenticated();
  if (roles.length && !roles.includes(context.user.role)) {
    throw forbidden(`this operation needs the role ${roles.join(' or ')}; you are ${context.user.role}`);
  }
  return true;
};

export function currentUser(ctx: GraphQLContext): User {
  if (!ctx.user) throw unauthenticated();
  return ctx.user;
}
