/**
 * The credentials of one delivery — its Authorization value and the webhook's secret
 * headers — kept sealed together in `deliveries.auth_sealed` and opened only by the
 * worker, at send time. The stored request shows them redacted (`Basic ***`, `***`), so
 * retries and redeliveries send the real values while the delivery log never holds them.
 *
 * Sealed form: the SecretBox sealing of a JSON object { header name: value }. A value
 * that is not a JSON object (deliveries sealed before secret headers existed) is the bare
 * Authorization value.
 */
import type { SecretBox } from '../crypto/index.js';
import { REDACTED } from './request.js';

/** null when there is nothing to seal. */
export function sealCredentials(box: SecretBox, headers: Record<string, string>): string | null {
  return Object.keys(headers).length ? box.seal(JSON.stringify(headers)) : null;
}

/** The headers to add to the request; throws when the value cannot be opened. */
export function openCredentials(box: SecretBox, sealed: string): Record<string, string> {
  const plain = box.open(sealed);
  if (!plain.startsWith('{')) return { Authorization: plain };
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain);
  } catch {
    parsed = null; // the parser's message would quote the plaintext
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the stored credentials are not a header map');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) if (typeof value === 'string') out[name] = value;
  return out;
}

/**
 * What an attempt sends of a stored request's headers, and its credentials. The credentials
 * are the webhook's as they are now (`current`, with the names of all its headers), or, when
 * it was deleted (`current` null), those the delivery was queued with. The stored request
 * shows the credentials it was queued with, redacted (Authorization, secret headers as
 * REDACTED): those headers are not sent as stored. A header secret when queued that the
 * webhook still has, no longer secret, keeps its queued value; one it no longer has is not
 * sent. `queued` opens the delivery's sealed credentials ({} without any); it throws when
 * they cannot be opened.
 */
export function attemptHeaders(
  stored: Record<string, string>,
  current: { credentials: Record<string, string>; headerNames: readonly string[] } | null,
  queued: () => Record<string, string>,
): { headers: Record<string, string>; credentials: Record<string, string> } {
  const credentials = current ? { ...current.credentials } : queued();
  const sent = new Set(Object.keys(credentials).map((n) => n.toLowerCase()));
  const kept = new Set((current?.headerNames ?? []).map((n) => n.toLowerCase()));
  const unsent = Object.entries(stored).filter(([n, v]) => v === REDACTED && !sent.has(n.toLowerCase()) && kept.has(n.toLowerCase()));
  if (unsent.length) {
    const before = queued();
    for (const [name] of unsent) if (before[name] !== undefined) credentials[name] = before[name];
  }
  const dropped = new Set(['authorization', ...Object.keys(credentials).map((n) => n.toLowerCase())]);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(stored)) if (v !== REDACTED && !dropped.has(k.toLowerCase())) headers[k] = v;
  return { headers, credentials };
}
