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
