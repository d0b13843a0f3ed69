/**
 * Flow control for subscriptions: a client that stops reading its websocket must not
 * keep the server executing GraphQL and writing for it until the kernel's socket buffers
 * (several MB on loopback) are full. Every `budgetBytes` sent, the server pings; until
 * the pong comes back the connection's gate is closed and its subscriptions take no new
 * events (they wait in the subscriber's bounded queue). Clients answer pings in their
 * websocket layer (browsers and `ws` do), so a reading client barely notices.
 *
 * Only the pong that answers our ping reopens the gate: each ping carries a fresh random
 * payload and a pong must echo it. A pong sent unasked, or answering an older ping or
 * graphql-ws's keep-alive ping (no payload), proves nothing about what was read.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { FlowGate } from '../delivery/index.js';

export function attachFlowGate(socket: WebSocket, budgetBytes = 256 * 1024): FlowGate {
  /** bytes handed to the socket, and how many of them the client has shown it read */
  let sent = 0;
  let read = 0;
  /** the ping we wait for: its payload and the bytes sent before it; null when none is outstanding */
  let awaited: { payload: Buffer; sent: number } | null = null;
  let closed = false;
  let waiters: (() => void)[] = [];
  const release = () => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const pingIfOverBudget = () => {
    if (sent - read > budgetBytes && !awaited && socket.readyState === socket.OPEN) {
      awaited = { payload: randomBytes(8), sent };
      socket.ping(awaited.payload);
    }
  };
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  (socket as unknown as { send: (data: unknown, ...rest: unknown[]) => void }).send = (data, ...rest) => {
    send(data, ...rest);
    sent += typeof data === 'string' ? Buffer.byteLength(data) : (data as { byteLength?: number }).byteLength ?? 0;
    pingIfOverBudget();
  };
  socket.on('pong', (payload: Buffer) => {
    if (!awaited || !awaited.payload.equals(payload)) return;
    // everything sent before that ping has been read
    read = awaited.sent;
    awaited = null;
    pingIfOverBudget();
    if (isOpen()) release();
  });
  socket.on('close', () => {
    closed = true;
    release();
  });
  const isOpen = () => closed || sent - read <= budgetBytes;
  return {
    get open() {
      return isOpen();
    },
    wait: () => (isOpen() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}
