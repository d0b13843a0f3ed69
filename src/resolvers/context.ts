import type { EntityManager } from '@mikro-orm/postgresql';
import type { User } from '../db/index.js';
import type { Actor } from '../helpdesk/index.js';
import type { AppServices } from '../app-services.js';
import type { Loaders } from './loaders.js';
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

export function actorOf(ctx: GraphQLContext): Actor {
  return { user: ctx.user, automated: ctx.automated };
}
