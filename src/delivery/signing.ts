/**
 * Standard Webhooks v1 signatures (standardwebhooks.com), pure. A secret is
 * `whsec_<base64 of 32 random bytes>`; a request carries `webhook-id` (the delivery id,
 * the same on every attempt), `webhook-timestamp` (Unix seconds of this attempt) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one
 * space-separated `v1,…` per secret (the current one first), computed over the exact
 * body bytes sent.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SIGNING_SECRET_PREFIX = 'whsec_';

/** A new secret, to be sealed at rest and shown once. */
export function newSigningSecret(): string {
  return SIGNING_SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key of a `whsec_` secret: the base64-decoded bytes after the prefix. */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SIGNING_SECRET_PREFIX) ? secret.slice(SIGNING_SECRET_PREFIX.length) : secret, 'base64');
}

/** The three headers for one attempt; `keys` in order (current first). */
export function signatureHeaders(msgId: string, at: Date, body: string | null, keys: readonly Buffer[]): Record<string, string> {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const signed = `${msgId}.${timestamp}.${body ?? ''}`;
  const signature = keys.map((key) => `v1,${createHmac('sha256', key).update(signed, 'utf8').digest('base64')}`).join(' ');
  return { 'webhook-id': msgId, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
}
