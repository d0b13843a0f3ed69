/**
 * The open websocket connections of this process and the key each was authenticated
 * with. When a user's key changes (rotateApiKey in any process: PostgreSQL NOTIFY), the
 * connections made with an older key are closed with 4403 (graphql-ws's Forbidden).
 */
import type { WebSocket } from 'ws';

export const KEY_ROTATED_CLOSE_CODE = 4403;

interface Session {
  socket: WebSocket;
  userId: string;
  keyHash: string;
}

export interface WsSessions {
  add(socket: WebSocket, user: { id: string; apiKeyHash: string }): void;
  /** the users with open connections */
  userIds(): string[];
  /**
   * Closes the connections of `userId` not made with `currentKeyHash` (null: the user is
   * gone, close them all); returns how many were closed.
   */
  revoke(userId: string, currentKeyHash: string | null): number;
}

export function createWsSessions(): WsSessions {
  const byUser = new Map<string, Set<Session>>();
  return {
    add(socket, user) {
      const session: Session = { socket, userId: user.id, keyHash: user.apiKeyHash };
      const set = byUser.get(user.id) ?? new Set();
      set.add(session);
      byUser.set(user.id, set);
      socket.once('close', () => {
        set.delete(session);
        if (!set.size && byUser.get(user.id) === set) byUser.delete(user.id);
      });
    },
    userIds: () => [...byUser.keys()],
    revoke(userId, currentKeyHash) {
      let closed = 0;
      for (const s of byUser.get(userId) ?? []) {
        if (s.keyHash === currentKeyHash) continue;
        s.socket.close(KEY_ROTATED_CLOSE_CODE, 'Forbidden: the API key of this connection was rotated');
        closed += 1;
      }
      return closed;
    },
  };
}
