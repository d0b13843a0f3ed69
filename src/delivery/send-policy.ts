/**
 * What an attempt needs of its webhook's current definition beyond the stored request:
 * its signing secrets and its success rule, read when the attempt starts (so a rotation
 * or a new rule applies to the next attempt of a delivery already queued). The worker
 * reads them for all the deliveries it claimed together in one query (policyBatcher).
 */
import type { SecretBox } from '../crypto/index.js';
import type { SuccessRuleDef } from '../domain/index.js';
import { signingKey } from './signing.js';
import type { Queryable } from './store.js';

/** A webhook's send-time policy as stored (secrets sealed). */
export interface SendPolicy {
  signingEnabled: boolean;
  signingSecretSealed: string | null;
  signingPreviousSecretSealed: string | null;
  signingPreviousValidUntil: Date | null;
  /** null: the default rule */
  successRule: SuccessRuleDef | null;
}

/** The send-time policies of the webhooks, by id (a deleted webhook is absent). */
export async function loadSendPolicies(db: Queryable, webhookIds: readonly string[]): Promise<Map<string, SendPolicy>> {
  if (!webhookIds.length) return new Map();
  const { rows } = await db.query(
    `select id::text as id, ${SEND_POLICY_COLUMNS} from webhooks where id = any($1::bigint[])`,
    [webhookIds],
  );
  return new Map(rows.map((r) => [r.id as string, sendPolicyOf(r)]));
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
 * Coalesces the lookups made in one turn of the event loop (the deliveries of one claim
 * start together) into one load.
 */
export function policyBatcher(load: (ids: string[]) => Promise<Map<string, SendPolicy>>): (webhookId: string | null) => Promise<SendPolicy | null> {
  let waiting: Map<string, { resolve: (p: SendPolicy | null) => void; reject: (e: unknown) => void }[]> | null = null;
  const run = async (batch: NonNullable<typeof waiting>) => {
    try {
      const found = await load([...batch.keys()]);
      for (const [id, callers] of batch) for (const c of callers) c.resolve(found.get(id) ?? null);
    } catch (err) {
      for (const callers of batch.values()) for (const c of callers) c.reject(err);
    }
  };
  return (webhookId) => {
    if (webhookId === null) return Promise.resolve(null);
    if (!waiting) {
      const batch = new Map<string, { resolve: (p: SendPolicy | null) => void; reject: (e: unknown) => void }[]>();
      waiting = batch;
      setImmediate(() => {
        waiting = null;
        void run(batch);
      });
    }
    const batch = waiting;
    return new Promise((resolve, reject) => batch.set(webhookId, [...(batch.get(webhookId) ?? []), { resolve, reject }]));
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
