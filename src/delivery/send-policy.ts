/**
 * What an attempt needs of its webhook's current definition beyond the stored request:
 * its signing secrets and its success rule, read by the claim that starts the attempt
 * (scheduling.ts), so a rotation or a new rule applies to the next attempt of a delivery
 * already queued.
 */
import type { SecretBox } from '../crypto/index.js';
import type { SuccessRuleDef } from '../domain/index.js';
import { signingKey } from './signing.js';

/** A webhook's send-time policy as stored (secrets sealed). */
export interface SendPolicy {
  signingEnabled: boolean;
  signingSecretSealed: string | null;
  signingPreviousSecretSealed: string | null;
  signingPreviousValidUntil: Date | null;
  /** null: the default rule */
  successRule: SuccessRuleDef | null;
}

/** The columns of a webhooks row that make its send-time policy. */
export const SEND_POLICY_COLUMNS = 'signing_enabled, signing_secret_sealed, signing_previous_secret_sealed, signing_previous_valid_until, success_rule';

export function sendPolicyOf(r: { signing_enabled: boolean; signing_secret_sealed: string | null; signing_previous_secret_sealed: string | null; signing_previous_valid_until: Date | null; success_rule: SuccessRuleDef | null }): SendPolicy {
  return {
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
