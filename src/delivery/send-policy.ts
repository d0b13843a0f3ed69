/**
 * What an attempt needs of its webhook's current definition beyond the stored request:
 * its credentials (auth and secret headers), its signing secrets and its success rule,
 * read by the claim that starts the attempt (scheduling.ts), so that a new token, a
 * rotation or a new rule applies to the next attempt of a delivery already queued, and
 * to redeliveries.
 */
import type { SecretBox } from '../crypto/index.js';
import type { AuthType, StoredHeader, SuccessRuleDef } from '../domain/index.js';
import { escapeHeader } from '../templates/index.js';
import { authorizationFor } from './request.js';
import { signingKey } from './signing.js';

/** A webhook's send-time policy as stored (secrets sealed). */
export interface SendPolicy {
  authType: AuthType;
  authUsername: string | null;
  authSecretSealed: string | null;
  /** the webhook's headers; the secret ones' values sealed */
  headers: StoredHeader[];
  signingEnabled: boolean;
  signingSecretSealed: string | null;
  signingPreviousSecretSealed: string | null;
  signingPreviousValidUntil: Date | null;
  /** null: the default rule */
  successRule: SuccessRuleDef | null;
}

/** The columns of a webhooks row that make its send-time policy. */
export const SEND_POLICY_COLUMNS =
  'auth_type, auth_username, auth_secret_sealed, headers, signing_enabled, signing_secret_sealed, signing_previous_secret_sealed, signing_previous_valid_until, success_rule';

/** Those columns as a query returns them. */
export interface SendPolicyRow {
  auth_type: AuthType;
  auth_username: string | null;
  auth_secret_sealed: string | null;
  headers: StoredHeader[] | null;
  signing_enabled: boolean;
  signing_secret_sealed: string | null;
  signing_previous_secret_sealed: string | null;
  signing_previous_valid_until: Date | null;
  success_rule: SuccessRuleDef | null;
}

export function sendPolicyOf(r: SendPolicyRow): SendPolicy {
  return {
    authType: r.auth_type,
    authUsername: r.auth_username,
    authSecretSealed: r.auth_secret_sealed,
    headers: r.headers ?? [],
    signingEnabled: r.signing_enabled,
    signingSecretSealed: r.signing_secret_sealed,
    signingPreviousSecretSealed: r.signing_previous_secret_sealed,
    signingPreviousValidUntil: r.signing_previous_valid_until,
    successRule: r.success_rule,
  };
}

/**
 * The HMAC keys that sign an attempt at `now`, current first: none unless signing is on
 * and a secret exists; the previous secret until its time is up. Opened secrets are kept
 * (by their sealed form) so that an attempt does not decrypt them again.
 */
export function signingKeysOpener(box: SecretBox): (policy: SendPolicy | null, now: Date) => Buffer[] {
  const opened = new Map<string, Buffer>();
  const open = (sealed: string): Buffer => {
    let key = opened.get(sealed);
    if (!key) {
      if (opened.size >= 1000) opened.clear();
      key = signingKey(box.open(sealed));
      opened.set(sealed, key);
    }
    return key;
  };
  return (policy, now) => {
    if (!policy?.signingEnabled || !policy.signingSecretSealed) return [];
    const keys = [open(policy.signingSecretSealed)];
    const until = policy.signingPreviousValidUntil;
    if (policy.signingPreviousSecretSealed && until && until.getTime() > now.getTime()) keys.push(open(policy.signingPreviousSecretSealed));
    return keys;
  };
}

/**
 * The credentials an attempt sends, as its webhook has them now: Authorization (BASIC or
 * BEARER) and the secret headers, name → value. Opened values are kept (by their sealed
 * form) so that an attempt does not decrypt them again. Throws when they cannot be opened
 * or make no Authorization (request.ts authorizationFor).
 */
export function credentialsOpener(box: SecretBox): (policy: SendPolicy) => Record<string, string> {
  const opened = new Map<string, Record<string, string>>();
  return (policy) => {
    const secret = policy.headers.filter((h) => h.secret);
    const key = JSON.stringify([policy.authType, policy.authUsername, policy.authSecretSealed, secret.map((h) => [h.name, h.sealed ?? null])]);
    let credentials = opened.get(key);
    if (!credentials) {
      credentials = {};
      for (const h of secret) credentials[h.name] = escapeHeader(h.sealed ? box.open(h.sealed) : '');
      const authorization = authorizationFor({
        type: policy.authType,
        username: policy.authUsername,
        secret: policy.authSecretSealed ? box.open(policy.authSecretSealed) : null,
      });
      if (authorization) credentials.Authorization = authorization;
      if (opened.size >= 1000) opened.clear();
      opened.set(key, credentials);
    }
    return credentials;
  };
}
