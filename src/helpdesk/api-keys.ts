import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes (256 bits), URL-safe, with a recognisable prefix for secret scanners. */
export function generateApiKey(): string {
  return 'dk_' + randomBytes(32).toString('base64url');
}

/**
 * Keys are high-entropy random strings, so a fast hash is enough (no dictionary to
 * attack) and lets authentication be one indexed lookup.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
