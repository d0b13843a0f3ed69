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
 * resolver first needs one: a request served by plain SQL (createTicket) never pays for
 * it. The lazy members are getters of the class, not own properties: Apollo copies the
 * context's own properties for each operation, which would call own getters at once.
 */
class RequestContext implements GraphQLContext {
  private forked?: EntityManager;
  private made?: Loaders;
  readonly user: User | null;
  readonly automated: boolean;

  constructor(
    readonly services: AppServices,
    actor: Actor,
  ) {
    this.user = actor.user;
    this.automated = actor.automated;
  }

  get em(): EntityManager {
    if (!this.forked) {
      this.forked = this.services.orm.em.fork();
      if (this.user) this.forked.merge(this.user);
    }
    return this.forked;
  }

  get loaders(): Loaders {
    return (this.made ??= createLoaders(this.em, this.services));
  }
}

export function requestContext(services: AppServices, actor: Actor): GraphQLContext {
  return new RequestContext(services, actor);
}

export function actorOf(ctx: GraphQLContext): Actor {
  return { user: ctx.user, automated: ctx.automated };
}
