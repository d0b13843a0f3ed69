/**
 * AES-256-GCM for credentials at rest (webhook passwords and tokens, and the
 * Authorization value kept with a delivery). Sealed form: v1.<iv>.<tag>.<ciphertext>,
 * base64url parts. The key is SHA-256 of DESKHOOKS_SECRET_KEY, or 32 random bytes
 * generated once into DATA_DIR/secret.key.
 *
 * The same key names things that must be the same wherever and whenever they are made
 * again, and unguessable without the key (derivedId).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
  /**
   * A UUID (version 8, RFC 9562) derived from `name` within `purpose`: the same for the
   * same name and key, in every process, and unguessable without the key.
   */
  derivedId(purpose: string, name: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('secret key must be 32 bytes');
  // one HMAC key per purpose, apart from the encryption key
  const macKeys = new Map<string, Buffer>();
  const macKey = (purpose: string) => {
    let k = macKeys.get(purpose);
    if (!k) macKeys.set(purpose, (k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `deskhooks ${purpose}`, 32))));
    return k;
  };
  return {
    derivedId(purpose, name) {
      const b = createHmac('sha256', macKey(purpose)).update(name, 'utf8').digest().subarray(0, 16);
      b[6] = (b[6]! & 0x0f) | 0x80; // version 8
      b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
    },
    open(sealed) {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('a stored credential cannot be decrypted: DESKHOOKS_SECRET_KEY differs from the key it was sealed with');
      }
    },
  };
}

/** The key from the configured secret, or the one generated into dataDir on first use. */
export function loadSecretKey(secret: string | undefined, dataDir: string): Buffer {
  if (secret) return createHash('sha256').update(secret, 'utf8').digest();
  const file = join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // another process sharing DATA_DIR generated it first: use theirs
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}
