/**
 * The definitions every event is judged and run against — enabled rules in order, custom
 * field types, the webhooks those rules send — cached between batches. Any change to
 * their tables raises a version in the changing transaction (a trigger, see
 * src/db/migrations/Migration20261130000200DispatchDefinitions.ts): a batch reads the
 * version with its events and reloads when it differs, so a batch never runs on
 * definitions older than the ones committed before it locked its events. The change's
 * NOTIFY drops the cache at once (`invalidate`).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { CustomField, Rule, Webhook } from '../db/index.js';
import type { WebhookDef } from '../delivery/index.js';
import { compareRules } from './evaluate.js';
import { ruleDef } from './rules.js';
import type { CustomFieldInfo, RuleDef } from './types.js';

/** The channel the definitions' triggers notify. */
export const DEFINITIONS_CHANNEL = 'deskhooks_definitions';

export interface SendableWebhook {
  def: WebhookDef;
  enabled: boolean;
  /** why the system switched it off, if it did */
  disabledReason: string | null;
}

export interface Definitions {
  version: string;
  /** enabled rules in evaluation order */
  rules: RuleDef[];
  fields: ReadonlyMap<string, CustomFieldInfo>;
  /** the webhooks the enabled rules send, by id (absent: deleted) */
  webhooks: ReadonlyMap<string, SendableWebhook>;
}

export interface DefinitionCache {
  /** the definitions at `version`, loaded through `em` when the cache holds another */
  get(em: EntityManager, version: string): Promise<Definitions>;
  /** the definitions at `version` when the cache holds them, else null */
  cached(version: string): Definitions | null;
  /** what the cache holds, of whichever version, or null */
  latest(): Definitions | null;
  invalidate(): void;
}

/** `openWebhook` turns a stored webhook into what a send uses (its secrets opened). */
export function createDefinitionCache(openWebhook: (w: Webhook) => WebhookDef): DefinitionCache {
  let cached: Definitions | null = null;

  const load = async (em: EntityManager, version: string): Promise<Definitions> => {
    const [rules, fields] = await Promise.all([em.find(Rule, { enabled: true }), em.find(CustomField, {})]);
    const ruleDefs = rules.map(ruleDef).sort(compareRules);
    const webhookIds = [...new Set(ruleDefs.flatMap((r) => r.actions.map((a) => a.webhookId)).filter((id): id is string => !!id && /^\d+$/.test(id)))];
    const webhooks = webhookIds.length ? await em.find(Webhook, { id: { $in: webhookIds } }) : [];
    return {
      version,
      rules: ruleDefs,
      fields: new Map(fields.map((f) => [f.key, { type: f.type, options: f.options }])),
      webhooks: new Map(webhooks.map((w) => [w.id, { def: openWebhook(w), enabled: w.enabled, disabledReason: w.disabledReason }])),
    };
  };

  // one drain loop per process asks, one batch at a time: no loads run side by side
  return {
    async get(em, version) {
      if (cached?.version !== version) cached = await load(em, version);
      return cached;
    },
    cached: (version) => (cached?.version === version ? cached : null),
    latest: () => cached,
    invalidate() {
      cached = null;
    },
  };
}
