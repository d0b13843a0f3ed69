/**
 * One dedicated LISTEN connection per process, re-established after a database restart,
 * so wake-ups and the live feed survive it. Handlers are called with the payload.
 */
import pg from 'pg';
import type { Logger } from '../log.js';

/** `session`: the PostgreSQL session (backend process id) that sent the notification */
export type NotificationHandler = (payload: string, session: number) => void;

export interface Listener {
  /**
   * Calls `handler` with every notification on `channel`. Resolves once the connection
   * listens on it (at once while it is down: it listens when it is back), so that a
   * notification sent after that is heard.
   */
  on(channel: string, handler: NotificationHandler): Promise<void>;
  /** called after every (re)connect: missed notifications must be made up by the caller */
  onReconnect(handler: () => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** false while the connection is down: notifications sent meanwhile are lost (NOTIFY is not durable) */
  readonly connected: boolean;
}

export function createListener(connectionString: string, log: Logger, retryMs = 1000): Listener {
  const handlers = new Map<string, NotificationHandler[]>();
  const reconnectHandlers: (() => void)[] = [];
  let client: pg.Client | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    // bounded: a connection attempt made while the server restarts can otherwise hang forever
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000, keepAlive: true });
    c.on('error', (err) => {
      log.error('database notification connection lost; reconnecting', err.message);
      scheduleReconnect(c);
    });
    c.on('end', () => scheduleReconnect(c));
    c.on('notification', (msg) => {
      for (const h of handlers.get(msg.channel) ?? []) {
        try {
          h(msg.payload ?? '', msg.processId);
        } catch (err) {
          log.error(`handler for ${msg.channel} failed`, err);
        }
      }
    });
    try {
      await c.connect();
      for (const channel of handlers.keys()) await c.query(`listen "${channel.replace(/"/g, '')}"`);
    } catch (err) {
      // a connection that cannot listen is closed, not left open beside its replacement
      c.end().catch(() => {});
      throw err;
    }
    // stopped meanwhile: nothing would close it
    if (stopped) return void (await c.end().catch(() => {}));
    client = c;
  };

  const scheduleReconnect = (c: pg.Client) => {
    if (stopped || client !== c || timer) return;
    client = null;
    c.end().catch(() => {});
    const attempt = () => {
      timer = null;
      if (stopped) return;
      connect()
        .then(() => {
          log.info('database notification connection re-established');
          for (const h of reconnectHandlers) h();
        })
        .catch(() => (timer = setTimeout(attempt, retryMs)));
    };
    timer = setTimeout(attempt, retryMs);
  };

  return {
    async on(channel, handler) {
      const list = handlers.get(channel) ?? [];
      list.push(handler);
      handlers.set(channel, list);
      // a failed LISTEN is retried with the others when the connection is re-established
      if (client && list.length === 1) await client.query(`listen "${channel.replace(/"/g, '')}"`).catch((err: Error) => log.error(`listen ${channel} failed`, err.message));
    },
    onReconnect(handler) {
      reconnectHandlers.push(handler);
    },
    start: connect,
    get connected() {
      return client !== null;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
