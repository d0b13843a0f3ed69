/** A graphql-ws client for subscription tests (the real protocol over a real socket). */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Collected<T> {
  events: T[];
  errors: unknown[];
  completed: boolean;
  dispose(): void;
}

export function wsClient(httpUrl: string, authorization: string | null): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/** Subscribes and collects every event; resolves once the subscription is acknowledged by a first ping round-trip. */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}): Collected<T> {
  const out: Collected<T> = { events: [], errors: [], completed: false, dispose: () => {} };
  out.dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) out.errors.push(...v.errors);
        if (v.data) out.events.push(v.data as T);
      },
      error: (e) => out.errors.push(e),
      complete: () => (out.completed = true),
    },
  );
  return out;
}
