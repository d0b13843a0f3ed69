/**
 * The graphql-transport-ws protocol by hand over a real socket, for tests that send what a
 * well-behaved client would not (floods, oversized frames) or watch close codes.
 */
import WebSocket from 'ws';
import { waitFor } from './wait.js';

export interface ProtocolMessage {
  type: string;
  id?: string;
  payload?: any;
}

export interface RawWs {
  socket: WebSocket;
  messages: ProtocolMessage[];
  /** resolves with the close code and reason once the socket is closed */
  closed: Promise<{ code: number; reason: string }>;
  send(message: ProtocolMessage | string | Buffer): void;
  /** waits for a message matching `pred` (bounded) */
  next(pred: (m: ProtocolMessage) => boolean, what?: string, timeoutMs?: number): Promise<ProtocolMessage>;
  /** connection_init with the authorization, resolved on connection_ack */
  init(authorization: string): Promise<void>;
  close(): void;
}

export async function openRawWs(httpUrl: string, opts: WebSocket.ClientOptions = {}): Promise<RawWs> {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws', opts);
  const messages: ProtocolMessage[] = [];
  socket.on('message', (data) => {
    try {
      messages.push(JSON.parse(String(data)));
    } catch {
      messages.push({ type: '<unparseable>' });
    }
  });
  socket.on('error', () => {}); // the close code tells the story
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const raw: RawWs = {
    socket,
    messages,
    closed,
    send: (m) => socket.send(typeof m === 'string' || Buffer.isBuffer(m) ? m : JSON.stringify(m)),
    next: (pred, what = 'a websocket message', timeoutMs = 15_000) => waitFor(() => messages.find(pred), { what, timeoutMs }),
    init: async (authorization) => {
      raw.send({ type: 'connection_init', payload: { authorization } });
      await raw.next((m) => m.type === 'connection_ack', 'connection_ack');
    },
    close: () => socket.close(),
  };
  return raw;
}
