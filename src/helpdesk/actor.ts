import type { User } from '../db/index.js';

/**
 * Who makes a change. `automated` changes (rule actions, webhook write-back, API calls
 * whose X-Deskhooks-Delivery names a delivery being attempted) raise no dispatcher
 * events, so rules cannot loop.
 */
export interface Actor {
  user: User | null;
  automated: boolean;
}

export const systemActor: Actor = { user: null, automated: true };
