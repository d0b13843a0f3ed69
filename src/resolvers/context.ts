import type { EntityManager } from '@mikro-orm/postgresql';
import type { User } from '../db/index.js';
import type { Actor } from '../helpdesk/index.js';
import type { AppServices } from '../app-services.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { FlowGate } from '../delivery/index.js';

/** Per request (or per websocket operation): a fresh EntityManager fork and loaders. */
export interface GraphQLContext {
  em: EntityManager;
  user: User | null;
  /** the request came from the receiver of a delivery being attempted (X-Deskhooks-Delivery): its changes raise no dispatcher events */
  automated: boolean;
  loaders: Loaders;
  services: AppServices;
  /** websocket operations: the connection's flow control (src/http/ws-flow.ts) */
  flow?: FlowGate;
}

/**
 * A request's context. Its EntityManager is forked, and the caller merged into it, when a
 * resolver first needs one: a request served by plain SQL (createTicket) never pays for it.
 */
export function requestContext(services: AppServices, actor: Actor): GraphQLContext {
  let em: EntityManager | undefined;
  let loaders: Loaders | undefined;
  return {
    user: actor.user,
    automated: actor.automated,
    services,
    get em() {
      if (!em) {
        em = services.orm.em.fork();
        if (actor.user) em.merge(actor.user);
      }
      return em;
    },
    get loaders() {
      return (loaders ??= createLoaders(this.em, services));
    },
  };
}

export function actorOf(ctx: GraphQLContext): Actor {
  return { user: ctx.user, automated: ctx.automated };
}
