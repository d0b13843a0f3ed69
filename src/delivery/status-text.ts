import { STATUS_CODES } from 'node:http';

/**
 * An answer's status as errors name it: "HTTP 503 Service Unavailable". HTTP's status
 * codes are 100–599; a receiver's 600–999 (which the HTTP client reads) is said to be none.
 */
export function statusText(code: number): string {
  if (code >= 600) return `HTTP ${code} (not an HTTP status code: those are 100–599)`;
  return `HTTP ${code} ${STATUS_CODES[code] ?? ''}`.trimEnd();
}
