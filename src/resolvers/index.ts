import { buildSchema } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import { authChecker } from './auth.js';
import { UserResolver } from './user-resolver.js';
import { PostResolver, TicketResolver } from './ticket-resolver.js';
import { WebhookResolver } from './webhook-resolver.js';
import { WebhookHealthResolver } from './webhook-health-resolver.js';
import { RuleActionResolver, RuleResolver } from './rule-resolver.js';
import { DeliveryPageResolver, DeliveryResolver, TicketDeliveriesResolver } from './delivery-resolver.js';
import { ApiKeyResolver } from './api-key-resolver.js';

export { formatGraphQLError } from './errors.js';
export { createLoaders } from './loaders.js';
export { GRAPHQL_LIMITS, checkSource, costLimitError, costModel, limitError, limitRules, prepareOperation, type CostModel } from './limits.js';
export { textInputGuardPlugin, withTextInputGuard } from './text-input-guard.js';
export { requestContext, type GraphQLContext } from './context.js';

/** The served schema: the contract's types, built code-first. */
export async function buildGraphQLSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [UserResolver, TicketResolver, PostResolver, WebhookResolver, WebhookHealthResolver, RuleResolver, RuleActionResolver, DeliveryResolver, DeliveryPageResolver, TicketDeliveriesResolver, ApiKeyResolver],
    authChecker,
    authMode: 'error',
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: false,
    emitSchemaFile: false,
    // type-graphql insists on a PubSub when a schema has subscriptions. Ours don't use
    // topics: deliveryEvents subscribes to the cross-process DeliveryEventHub directly.
    pubSub: {
      publish: () => {
        throw new Error('topic pub/sub is not used: publish delivery events through PostgreSQL NOTIFY');
      },
      subscribe: () => {
        throw new Error('topic pub/sub is not used: subscribe through the DeliveryEventHub');
      },
    },
  });
}
