/**
 * The urql client of a signed-in session: queries and mutations over HTTP with the key in
 * the Authorization header, subscriptions over graphql-ws on the same path with the key in
 * connectionParams.authorization (src/http/server.ts).
 *
 * A session ends itself (onRefused, once) when the server says its key is no longer
 * accepted: an UNAUTHENTICATED answer to a request made with the key, or a websocket closed
 * with KEY_REFUSED_CLOSE_CODE. Disposing it closes every websocket it opened, the
 * explorer's included, and none opens after that.
 */
import { useEffect, useRef, useState } from 'react';
import { Client, CombinedError, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, useClient } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { GRAPHQL_PATH, authorization, wsUrl } from './session';
import { graphql } from './gql';

/** The close code the server ends a websocket with when its key is not, or no longer, the user's (src/http/ws-sessions.ts). */
const KEY_REFUSED_CLOSE_CODE = 4403;

export const KEY_REFUSED_MESSAGE = 'Your API key is no longer accepted (it was rotated or revoked). Sign in again with a current key.';

/**
 * A dropped connection (a restarted server, a network gone) is tried again RETRY_ATTEMPTS
 * times, retryDelayMs apart (0.5 s doubling up to 15 s, plus up to 0.5 s at random): about
 * four minutes; the screens say so meanwhile (useLiveFeed) and offer Reconnect after. A refused connection is retried too (in a browser it fails with a plain
 * Event, which graphql-ws's default treats as fatal); a refused key is not.
 */
const RETRY_ATTEMPTS = 20;
const retryDelayMs = (retries: number) => Math.min(500 * 2 ** retries, 15_000) + Math.random() * 500;

export interface Session {
  client: Client;
  /** the explorer's fetch: the session's key (unless the request names its own Authorization), and a refused key noticed in the answer */
  fetch: typeof fetch;
  /** a websocket client of its own with the session's key and retries (the explorer's); closed at dispose() at the latest */
  openSocket(): SessionSocket;
  /** the state of the console's own websocket, for the screens with a live feed */
  live: LiveConnection;
  /** signed out, or the key refused: nothing more is kept for the session */
  readonly ended: boolean;
  dispose(): void;
}

export interface SessionSocket {
  client: WsClient;
  dispose(): void;
}

export interface LiveConnection {
  /** the connection was lost and is being tried again */
  readonly down: boolean;
  /** 'down': lost; 'back': connected again after a loss (what was sent meanwhile was missed) */
  onChange(listener: (change: 'down' | 'back') => void): () => void;
  /** a fresh websocket client after the retries gave up (the screens then subscribe again); its connection is told as 'back' */
  restart(): void;
  /** calls `listener` once the socket is connected (at once when it is); the answer stops waiting */
  whenConnected(listener: () => void): () => void;
}

const isCloseEvent = (e: unknown): e is { code: number; reason: string } =>
  typeof e === 'object' && e !== null && 'code' in e && 'reason' in e;

const isRefusedKeyError = (e: { extensions?: Record<string, unknown> }) => e.extensions?.code === 'UNAUTHENTICATED';

export function createSession(key: string, onRefused: () => void): Session {
  const auth = authorization(key);
  let ended = false;
  const refused = () => {
    if (ended) return;
    ended = true;
    onRefused();
  };
  const sockets = new Set<SessionSocket>();

  function openSocket(on: { closed?: (code: number) => void; connected?: (again: boolean) => void } = {}): SessionSocket {
    let disposed = false;
    const open = new Set<WebSocket>();
    // every socket of this client, so that dispose() closes the one still connecting too
    class TrackedSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        open.add(this);
        this.addEventListener('close', () => open.delete(this));
        if (disposed) this.close(1000, 'Signed out');
      }
    }
    const client = createWsClient({
      url: wsUrl(),
      webSocketImpl: TrackedSocket,
      connectionParams: { authorization: auth },
      lazy: true,
      retryAttempts: RETRY_ATTEMPTS,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, retryDelayMs(retries))),
      shouldRetry: (e) => !(isCloseEvent(e) && e.code === KEY_REFUSED_CLOSE_CODE),
      on: {
        closed: (e) => {
          if (disposed || !isCloseEvent(e)) return;
          if (e.code === KEY_REFUSED_CLOSE_CODE) refused();
          else on.closed?.(e.code);
        },
        connected: (_socket, _payload, again) => on.connected?.(again),
      },
    });
    const socket: SessionSocket = {
      client,
      dispose() {
        if (disposed) return;
        disposed = true;
        sockets.delete(socket);
        void Promise.resolve(client.dispose()).catch(() => undefined);
        for (const s of open) s.close(1000, 'Signed out');
      },
    };
    sockets.add(socket);
    return socket;
  }

  // the console's own socket: its losses and recoveries are told to the screens with a live feed
  const listeners = new Set<(change: 'down' | 'back') => void>();
  let down = false;
  // the first connection after restart() is a way back too
  let restarted = false;
  const tell = (change: 'down' | 'back') => {
    down = change === 'down';
    for (const l of listeners) l(change);
  };
  // whether the console's socket is connected (acknowledged), and who waits for it
  let connected = false;
  const connectWaiters = new Set<() => void>();
  const liveSocket = () =>
    openSocket({
      // 1000: closed on purpose (the last subscription ended)
      closed: (code) => {
        connected = false;
        if (code !== 1000) tell('down');
      },
      connected: (again) => {
        connected = true;
        const waiting = [...connectWaiters];
        connectWaiters.clear();
        for (const w of waiting) w();
        if (again || restarted) tell('back');
        restarted = false;
      },
    });
  let ws = liveSocket();

  const withKey = (init: RequestInit | undefined): Headers => {
    const headers = new Headers(init?.headers);
    if (!headers.has('authorization')) headers.set('authorization', auth);
    return headers;
  };
  // the screens' requests: a refused key is seen in their results (mapExchange below)
  const screensFetch: typeof fetch = (input, init) => fetch(input, { ...init, headers: withKey(init) });
  // the explorer's: GraphiQL shows the answer as it is, so the answer is read here
  const explorerFetch: typeof fetch = async (input, init) => {
    const headers = withKey(init);
    const res = await fetch(input, { ...init, headers });
    // a request with another key (typed into the explorer) says nothing about this session's;
    // read before the caller gets the answer
    if (headers.get('authorization') === auth) {
      const body = (await res.clone().json().catch(() => null)) as { errors?: { extensions?: Record<string, unknown> }[] } | null;
      if (body?.errors?.some(isRefusedKeyError)) refused();
    }
    return res;
  };

  const client = new Client({
    url: GRAPHQL_PATH,
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetch: screensFetch,
    exchanges: [
      cacheExchange,
      // a refused key ends the session; the screen shows words, not the API's message, meanwhile
      mapExchange({
        onResult(result) {
          if (!result.error?.graphQLErrors.some(isRefusedKeyError)) return;
          refused();
          const graphQLErrors = [{ message: KEY_REFUSED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }];
          return { ...result, error: new CombinedError({ graphQLErrors, response: result.error.response }) };
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.client.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  const session: Session = {
    client,
    fetch: explorerFetch,
    openSocket: () => openSocket(),
    live: {
      get down() {
        return down;
      },
      onChange(listener) {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
      restart() {
        if (ended) return;
        ws.dispose();
        down = false;
        connected = false;
        restarted = true;
        ws = liveSocket();
      },
      whenConnected(listener) {
        if (connected) {
          let waiting = true;
          queueMicrotask(() => waiting && listener());
          return () => void (waiting = false);
        }
        const once = () => listener();
        connectWaiters.add(once);
        return () => void connectWaiters.delete(once);
      },
    },
    get ended() {
      return ended;
    },
    dispose() {
      ended = true;
      listeners.clear();
      connectWaiters.clear();
      for (const s of [...sockets]) s.dispose();
    },
  };
  sessionOfClient.set(client, session);
  return session;
}

const sessionOfClient = new WeakMap<Client, Session>();

/** The signed-in session (the one whose urql client the screen is given), for what needs more than the client: the explorer, the live feeds. */
export function useSession(): Session {
  const session = sessionOfClient.get(useClient());
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

export interface LiveFeedState {
  /** what the screen says about its live updates; null while they arrive */
  message: string | null;
  /** the updates stopped for good: the screen offers reconnect() */
  stopped: boolean;
  reconnect(): void;
}

/** The deliveries' state changes (the live feed) a page follows: which delivery, its status. */
export const DeliveryChanges = graphql(`
  subscription ConsoleDeliveryChanges($filter: DeliveryFilter) {
    deliveryEvents(filter: $filter) {
      type
      delivery {
        id
        status
      }
    }
  }
`);

/**
 * How long after its socket is connected (or, when it already was, after it is made) a
 * subscription is taken to have reached the server. graphql-ws acknowledges no subscribe, and
 * its Ping is answered beside a Subscribe still being prepared, so no answer proves the server
 * has it; the Subscribe goes out as the connection is acknowledged, and the server registers it
 * after one read of the user (src/http/server.ts onSubscribe).
 */
export const SUBSCRIBE_SETTLE_MS = 1_000;

/**
 * The state of a screen's live updates (its subscription's `error`) in words: the
 * connection lost and tried again, back (then `refetch` fetches what was missed), or
 * stopped (reconnect() opens a new connection and calls `resubscribe`; the error it
 * answered is not shown again).
 *
 * `subscribed` (for a screen that re-reads its page once its feed is live): the screen's
 * subscription is made (not paused). What changed between the screen's first read and the
 * moment its subscription reached the server is told by no event: `refetch` reads it once the
 * subscription has had SUBSCRIBE_SETTLE_MS on a connected socket.
 */
export function useLiveFeed(error: CombinedError | undefined, refetch: () => void, resubscribe: () => void, subscribed = false): LiveFeedState {
  const session = useSession();
  const [down, setDown] = useState(session.live.down);
  const [back, setBack] = useState(false);
  const [answered, setAnswered] = useState<CombinedError>();
  const actions = useRef({ refetch, resubscribe });
  useEffect(() => {
    actions.current = { refetch, resubscribe };
  });
  useEffect(
    () =>
      session.live.onChange((change) => {
        setDown(change === 'down');
        setBack(change === 'back');
        if (change === 'back') actions.current.refetch();
      }),
    [session],
  );
  useEffect(() => {
    if (!subscribed) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = session.live.whenConnected(() => {
      timer = setTimeout(() => actions.current.refetch(), SUBSCRIBE_SETTLE_MS);
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, [session, subscribed]);
  const reconnect = () => {
    session.live.restart();
    setAnswered(error);
    setDown(false);
    setBack(false);
    actions.current.resubscribe();
  };
  if (error && error !== answered) return { message: liveFeedStopped(error), stopped: true, reconnect };
  if (down) return { message: 'The connection to the server was lost. Reconnecting… Updates resume once it is back.', stopped: false, reconnect };
  if (back) return { message: 'Reconnected: live updates resumed.', stopped: false, reconnect };
  return { message: null, stopped: false, reconnect };
}

function liveFeedStopped(error: CombinedError): string {
  const reason = error.graphQLErrors[0]?.message;
  return reason
    ? `Live updates stopped: ${reason.replace(/\.?$/, '.')} Press Reconnect to try again.`
    : 'Live updates stopped: the connection to the server was lost and could not be restored. Check your network connection, then press Reconnect (or reload the page).';
}

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; field?: string; problems?: { field: string; message: string }[] };
}

/** What a request that got no answer from the API says (urql's own text, "[Network] Failed to fetch", means nothing to a reader). */
const NO_ANSWER = 'the server could not be reached (it may be restarting, or the connection is down). Try again in a moment.';

/** The reason of an error as the console words it: the API's message, else NO_ANSWER for a request that got no answer. */
export const errorText = (error: CombinedError): string => error.graphQLErrors[0]?.message ?? (error.networkError ? NO_ANSWER : error.message);

/** Field → message for the problems of a refused input (extensions.field / extensions.problems), `input.` prefixes dropped. */
export function fieldProblems(errors: readonly GraphQLErrorShape[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of errors ?? []) {
    const ext = e.extensions;
    const problems = ext?.problems?.length ? ext.problems : ext?.field ? [{ field: ext.field, message: e.message }] : [];
    for (const p of problems) {
      const field = p.field.replace(/^input\./, '');
      const prefix = `${p.field}: `;
      if (!out.has(field)) out.set(field, p.message.startsWith(prefix) ? p.message.slice(prefix.length) : p.message);
    }
  }
  return out;
}
