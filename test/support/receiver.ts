/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests: records every request and
 * answers with a programmable script (status, headers, body, or never).
 */
import net from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { waitFor } from './wait.js';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Reply =
  | { status: number; body?: string | Buffer; headers?: Record<string, string> }
  | 'hang';

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** the next replies, in order; after them `fallback` */
  script(...replies: Reply[]): void;
  fallback: Reply;
  waitForRequests(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/**
 * `handler` may answer a request itself (undefined: the script, then `fallback`); a
 * promise answers when it settles, e.g. after the receiver called deskhooks back while
 * the delivery is being attempted (a rejection answers 500).
 */
export async function startReceiver(handler?: (req: ReceivedRequest) => Reply | undefined | Promise<Reply | undefined>): Promise<Receiver> {
  const queue: Reply[] = [];
  const hanging: ServerResponse[] = [];
  const receiver = {
    requests: [] as ReceivedRequest[],
    fallback: { status: 200, body: '{"ok":true}', headers: { 'content-type': 'application/json' } } as Reply,
  } as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      receiver.requests.push(r);
      const answer = (reply: Reply) => {
        if (reply === 'hang') {
          hanging.push(res);
          return;
        }
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      };
      const own = handler?.(r);
      if (own instanceof Promise) {
        own.then(
          (reply) => answer(reply ?? queue.shift() ?? receiver.fallback),
          (err) => answer({ status: 500, body: String(err) }),
        );
        return;
      }
      answer(own ?? queue.shift() ?? receiver.fallback);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    port,
    script: (...replies: Reply[]) => void queue.push(...replies),
    waitForRequests: (n: number, timeoutMs = 15_000) =>
      waitFor(() => receiver.requests.length >= n && receiver.requests, { timeoutMs, what: `${n} requests at the receiver (got ${receiver.requests.length})` }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

export interface RawReceiver {
  url: string;
  /** whole requests answered so far */
  requests: () => number;
  close: () => Promise<void>;
}

/** A whole request as a raw receiver read it: its head (request line and headers, latin1), and its number on its connection (0: the first). */
export interface RawRequest {
  head: string;
  onConnection: number;
}

/**
 * A receiver on 127.0.0.1 below any HTTP server library: for each whole request (its head,
 * and a body of its Content-Length) `onRequest` gets the request and its socket, to answer
 * with any bytes, keep the connection open, end it or drop it. `url` has no path.
 */
export async function startSocketReceiver(onRequest: (request: RawRequest, socket: net.Socket) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let seen = Buffer.alloc(0);
    let onConnection = 0;
    socket.on('data', (chunk) => {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = seen.subarray(0, end).toString('latin1');
      const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (seen.length < end + 4 + length) return;
      seen = seen.subarray(end + 4 + length);
      onRequest({ head, onConnection: onConnection++ }, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A receiver that answers each whole request with `answer`'s raw bytes, status line and
 * headers included: answers no HTTP server library sends. With `endAfterAnswer` the
 * connection ends after each answer; otherwise it stays open.
 */
export async function startRawReceiver(answer: string | Buffer, { endAfterAnswer = false } = {}): Promise<RawReceiver> {
  let requests = 0;
  const receiver = await startSocketReceiver((_request, socket) => {
    requests++;
    if (endAfterAnswer) socket.end(answer);
    else socket.write(answer);
  });
  return { ...receiver, requests: () => requests };
}
