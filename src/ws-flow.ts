/**
 * Flow control for subscriptions: a client that stops reading its websocket must not
 * keep the server executing GraphQL and writing for it until the kernel's socket buffers
 * (several MB on loopback) are full. Every `budgetBytes` sent, the server pings; until
 * the pong comes back the connection's gate is closed and its subscriptions take no new
 * events (they wait in the subscriber's bounded queue). Clients answer pings in their
 * websocket layer (browsers and `ws` do), so a reading client barely notices.
 */
import type { WebSocket } from 'ws';

export interface FlowGate {
  readonly open: boolean;
  /** resolves once the gate is open (or the socket closed) */
  wait(): Promise<void>;
}

export function attachFlowGate(socket: WebSocket, budgetBytes = 256 * 1024): FlowGate {
  let unacked = 0;
  let pinged = false;
  let closed = false;
  let waiters: (() => void)[] = [];
  const release = () => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  (socket as unknown as { send: (data: unknown, ...rest: unknown[]) => void }).send = (data, ...rest) => {
    unacked += typeof data === 'string' ? Buffer.byteLength(data) : (data as { byteLength?: number }).byteLength ?? 0;
    if (unacked > budgetBytes && !pinged && socket.readyState === socket.OPEN) {
      pinged = true;
      socket.ping();
    }
    send(data, ...rest);
  };
  socket.on('pong', () => {
    unacked = 0;
    pinged = false;
    release();
  });
  socket.on('close', () => {
    closed = true;
    release();
  });
  const isOpen = () => closed || unacked <= budgetBytes;
  return {
    get open() {
      return isOpen();
    },
    wait: () => (isOpen() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}
