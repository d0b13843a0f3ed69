/**
 * The signed-in API key, kept in sessionStorage: it lasts as long as the browser tab and
 * is never written anywhere else (no cookie, no localStorage). Everything else the console
 * keeps for the signed-in user (the explorer's tabs and history) is under the same prefix,
 * and goes with the key at sign-out.
 */
const PREFIX = 'deskhooks.';
const STORAGE_KEY = `${PREFIX}apiKey`;

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

/** Removes the key and whatever else the console kept for the user in this tab. */
export function clearSession(): void {
  try {
    for (const k of Object.keys(sessionStorage)) if (k.startsWith(PREFIX)) sessionStorage.removeItem(k);
  } catch {
    // no storage: nothing kept
  }
}

/** The Authorization header value for a key (the server also accepts Basic email:key). */
export const authorization = (key: string) => `Bearer ${key}`;

/** The server's GraphQL endpoint: same host, HTTP and websocket on one path. */
export const GRAPHQL_PATH = '/graphql';

export function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${GRAPHQL_PATH}`;
}
