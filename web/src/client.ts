/**
 * The urql client of a signed-in session: queries and mutations over HTTP with the key in
 * the Authorization header, subscriptions over graphql-ws on the same path with the key in
 * connectionParams.authorization (src/http/server.ts).
 */
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWsClient } from 'graphql-ws';
import { GRAPHQL_PATH, authorization, wsUrl } from './session';

export interface Session {
  client: Client;
  dispose(): void;
}

export function createSession(key: string): Session {
  const ws = createWsClient({
    url: wsUrl(),
    connectionParams: { authorization: authorization(key) },
    lazy: true,
    // a restarted server or a dropped network: reconnect a bounded number of times
    retryAttempts: 10,
  });
  const client = new Client({
    url: GRAPHQL_PATH,
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetchOptions: { headers: { authorization: authorization(key) } },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, dispose: () => void ws.dispose() };
}

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; field?: string; problems?: { field: string; message: string }[] };
}

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
