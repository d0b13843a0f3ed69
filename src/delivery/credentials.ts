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
import type { AttemptResult } from './types.js';

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

/** Shorter credential texts are not looked for in answers: they would garble them and hide nothing. */
const MIN_QUOTED_LENGTH = 4;

/**
 * The ways a JSON encoder may write `text` inside a string: as JSON.stringify does, and as
 * PHP's json_encode does by default (`/` as `\/`, non-ASCII as `\u00e9`), either escape alone
 * too (its JSON_UNESCAPED_UNICODE / JSON_UNESCAPED_SLASHES flags).
 */
function jsonForms(text: string): string[] {
  const plain = JSON.stringify(text).slice(1, -1);
  const slashes = (s: string) => s.replace(/\//g, '\\/');
  const unicode = (s: string) => s.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [plain, slashes(plain), unicode(plain), slashes(unicode(plain))];
}

/** Percent-encoded as encodeURIComponent and as form data write it, with upper- and lower-case hex digits. */
function percentForms(text: string): string[] {
  const forms = [encodeURIComponent(text), new URLSearchParams([['', text]]).toString().slice(1)];
  return [...forms, ...forms.map((f) => f.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()))];
}

/**
 * The texts by which an answer may quote an attempt's credentials back (an echo service,
 * a 401 "token … is invalid"): each value sent, of Authorization the part after the scheme
 * (no secret: an echo reads `Bearer ***`), for Basic also the decoded password; each as it
 * is, as JSON encoders write it in a string (jsonForms) and percent-encoded (percentForms).
 * Longest first, so a longer one goes whole.
 */
export function quotableCredentials(credentials: Record<string, string>): string[] {
  const texts = new Set<string>();
  for (const value of Object.values(credentials)) {
    const scheme = /^(Basic|Bearer) +(\S.*)$/i.exec(value);
    const parts = [scheme ? scheme[2]! : value];
    if (scheme?.[1]!.toLowerCase() === 'basic') {
      const decoded = Buffer.from(scheme[2]!, 'base64').toString('utf8');
      parts.push(decoded.slice(decoded.indexOf(':') + 1));
    }
    for (const p of parts) for (const form of [p, ...jsonForms(p), ...percentForms(p)]) texts.add(form);
  }
  return [...texts].filter((t) => t.length >= MIN_QUOTED_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * The attempt's result with every credential text (quotableCredentials) its answer quotes
 * replaced by REDACTED, in the body, the error and the note: what the answer holds is
 * stored, parsed, mapped, searched and commented on, and credentials are never shown.
 */
export function redactAnswer(result: AttemptResult, texts: readonly string[]): AttemptResult {
  if (!texts.length) return result;
  const redact = (s: string | null | undefined) => (s ? texts.reduce((out, t) => out.split(t).join(REDACTED), s) : s);
  return { ...result, responseBody: redact(result.responseBody) ?? null, error: redact(result.error) ?? null, responseNote: redact(result.responseNote) };
}
