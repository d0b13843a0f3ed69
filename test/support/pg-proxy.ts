/**
 * A TCP proxy on 127.0.0.1 in front of a PostgreSQL server that can drop a connection the
 * moment its client sends a given statement: a database that goes away between a
 * connection's start and its first statement, at a chosen place instead of by luck.
 */
import net from 'node:net';

export interface PgProxy {
  /** `url` with the proxy's host and port */
  urlFor(url: string): string;
  /**
   * Drops the next `times` connections whose client sends a statement containing one of
   * `texts` (as sent, case included), before the server sees it.
   */
  dropOn(texts: string[], times: number): void;
  /**
   * What a client sends that contains one of `texts` (as sent, case included) is held
   * back from the server, with what the client sends after it, until unstall().
   */
  stall(texts: string[]): void;
  unstall(): void;
  /** how many connections dropOn has dropped */
  readonly dropped: number;
  /** new connections wait, unanswered, until release() (a server slow to accept them) */
  hold(): void;
  release(): void;
  /** connections waiting for release() */
  readonly waiting: number;
  /** how many times a client sends a statement containing `text` from now on (as sent, case included) */
  count(text: string): () => number;
  close(): Promise<void>;
}

export async function startPgProxy(target: string): Promise<PgProxy> {
  const upstream = new URL(target);
  // a host that is a folder names a Unix socket in it (the embedded server's; src/db/embedded.ts)
  const upstreamHost = decodeURIComponent(upstream.hostname);
  const connectUpstream = () =>
    upstreamHost.startsWith('/') ? net.connect(`${upstreamHost}/.s.PGSQL.${upstream.port}`) : net.connect(Number(upstream.port), upstreamHost);
  const sockets = new Set<net.Socket>();
  let patterns: Buffer[] = [];
  let left = 0;
  let dropped = 0;
  let held: (() => void)[] | null = null;
  const counted: { text: Buffer; n: number }[] = [];
  let stallOn: Buffer[] = [];
  let stalled: (() => void)[] | null = null;
  const proxy = net.createServer((client) => {
    if (held) {
      client.pause();
      client.on('error', () => {});
      sockets.add(client);
      held.push(() => {
        forward(client);
        client.resume();
      });
      return;
    }
    forward(client);
  });
  const forward = (client: net.Socket) => {
    const server = connectUpstream();
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
    server.on('data', (chunk) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      for (const c of counted) if (chunk.includes(c.text)) c.n++;
      if (left > 0 && patterns.some((p) => chunk.includes(p))) {
        left--;
        dropped++;
        client.destroy();
        server.destroy();
        return;
      }
      if (stalled || stallOn.some((p) => chunk.includes(p))) {
        (stalled ??= []).push(() => server.write(chunk));
        return;
      }
      server.write(chunk);
    });
  };
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  return {
    urlFor(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    dropOn(texts, times) {
      patterns = texts.map((t) => Buffer.from(t));
      left = times;
    },
    stall(texts) {
      stallOn = texts.map((t) => Buffer.from(t));
    },
    unstall() {
      stallOn = [];
      const held = stalled ?? [];
      stalled = null;
      for (const go of held) go();
    },
    get dropped() {
      return dropped;
    },
    hold() {
      held ??= [];
    },
    release() {
      const waiting = held ?? [];
      held = null;
      for (const go of waiting) go();
    },
    get waiting() {
      return held?.length ?? 0;
    },
    count(text) {
      const c = { text: Buffer.from(text), n: 0 };
      counted.push(c);
      return () => c.n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        proxy.close(() => resolve());
      }),
  };
}
