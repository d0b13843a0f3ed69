/**
 * The signed-in API key, kept in sessionStorage: it lasts as long as the browser tab and
 * is never written anywhere else (no cookie, no localStorage).
 */
const STORAGE_KEY = 'deskhooks.apiKey';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function clearKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The Authorization header value for a key (the server also accepts Basic email:key). */
export const authorization = (key: string) => `Bearer ${key}`;

/** The server's GraphQL endpoint: same host, HTTP and websocket on one path. */
export const GRAPHQL_PATH = '/graphql';

export function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL_PATH}`;
}
