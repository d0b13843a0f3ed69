/** Rule definitions (ADMIN): validated on save, nothing written when anything is wrong. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { CustomField, Rule, SET_BASED_STATEMENT_TIMEOUT_MS, sqlOf, User, Webhook } from '../db/index.js';
import { invalidInput, notFound } from '../errors.js';
import { compileTemplate, unknownCustomFieldTag } from '../templates/index.js';
import { validateRuleInput } from './validate-rule.js';
import { isId, type ActionDef, type ConditionDef, type MatchType, type TicketEventType } from '../domain/index.js';
import type { CustomFieldInfo, RuleDef } from './types.js';
import { syncRuleTimers } from './timers.js';
import { canonicalValue, resolveField, ruleFields, type RuleFieldInfo } from './fields.js';
import { isOperator, OPERATORS } from './operators.js';

export interface RuleInput {
  name: string;
  description?: string | null;
  enabled?: boolean | null;
  position?: number | null;
  continueAfterMatch?: boolean | null;
  events: TicketEventType[];
  match?: MatchType | null;
  conditions?: { field: string; operator: ConditionDef['operator']; value?: string | null }[] | null;
  actions: { type: ActionDef['type']; webhookId?: string | null; field?: string | null; value?: string | null; awaitResponse?: boolean | null }[];
}

/** A template's problem as one message, or null when it compiles. */
export function templateProblem(source: string): string | null {
  try {
    compileTemplate(source, 'action');
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Validates the input; returns the custom fields it was judged against. */
async function validate(em: EntityManager, input: RuleInput): Promise<Map<string, CustomFieldInfo>> {
  const webhookIds = input.actions.map((a) => a.webhookId).filter((id): id is string => !!id && isId(id));
  const userIds = input.actions.filter((a) => a.type === 'SET_ASSIGNEE' && a.value && isId(a.value.trim())).map((a) => a.value!.trim());
  const [webhooks, users, fields] = await Promise.all([
    webhookIds.length ? em.find(Webhook, { id: { $in: webhookIds } }) : [],
    userIds.length ? em.find(User, { id: { $in: userIds } }) : [],
    em.find(CustomField, {}),
  ]);
  const fieldKeys = new Set(fields.map((f) => f.key));
  const customFields = new Map(fields.map((f) => [f.key, { type: f.type, options: f.options }]));
  const problems = validateRuleInput(input, {
    customFields,
    webhookExists: (id) => webhooks.some((w) => w.id === id),
    assigneeRole: (id) => users.find((u) => u.id === id)?.role ?? null,
    // a tag naming a custom field names one that exists, as a condition's field does
    checkTemplate: (source) => templateProblem(source) ?? unknownCustomFieldTag(source, fieldKeys),
  });
  if (problems.length) throw invalidInput(problems);
  return customFields;
}

function apply(rule: Rule, input: RuleInput, customFields: ReadonlyMap<string, CustomFieldInfo>): void {
  rule.name = input.name.trim();
  rule.description = input.description ?? '';
  rule.enabled = input.enabled ?? true;
  rule.position = input.position ?? 0;
  rule.continueAfterMatch = input.continueAfterMatch ?? false;
  rule.events = [...new Set(input.events)];
  rule.match = input.match ?? 'ALL';
  rule.conditions = (input.conditions ?? []).map((c) => {
    const field = resolveField(c.field.trim(), customFields);
    // a value compared as the field's type is kept as the field holds it; CONTAINS keeps its text
    const typed = field && c.value != null && isOperator(c.operator) && OPERATORS[c.operator].typedValue;
    const value = typed ? canonicalValue(field, c.value!) : c.value ?? null;
    return { field: c.field.trim(), operator: c.operator, value };
  });
  rule.actions = input.actions.map((a) => ({
    type: a.type,
    webhookId: a.webhookId ?? null,
    field: a.field ?? null,
    value: a.value ?? null,
    awaitResponse: a.type === 'SEND_WEBHOOK' && Boolean(a.awaitResponse),
  }));
  rule.updatedAt = new Date();
}

async function findRule(em: EntityManager, id: string): Promise<Rule | null> {
  return isId(id) ? em.findOne(Rule, { id }) : null;
}

async function getRule(em: EntityManager, id: string): Promise<Rule> {
  const rule = await findRule(em, id);
  if (!rule) throw notFound('rule', id, 'id');
  return rule;
}

async function listRules(em: EntityManager): Promise<Rule[]> {
  return em.find(Rule, {}, { orderBy: { position: 'asc', id: 'asc' } });
}

/**
 * The rule and its timers' plan (timers.ts) commit together. The plan is one statement over
 * every open ticket: it has the bound of a set-based statement, not a request's.
 */
const planSql = (em: EntityManager) => sqlOf(em, { queryTimeoutMs: SET_BASED_STATEMENT_TIMEOUT_MS });

async function createRule(em: EntityManager, input: RuleInput): Promise<Rule> {
  const customFields = await validate(em, input);
  return em.transactional(async (tem) => {
    const rule = tem.create(Rule, { name: input.name, createdAt: new Date(), updatedAt: new Date() });
    apply(rule, input, customFields);
    await tem.flush();
    await syncRuleTimers(planSql(tem), ruleDef(rule));
    return rule;
  });
}

async function updateRule(em: EntityManager, id: string, input: RuleInput): Promise<Rule> {
  await getRule(em, id); // an unknown id is NOT_FOUND before the input is judged
  const customFields = await validate(em, input);
  return em.transactional(async (tem) => {
    const rule = await getRule(tem, id);
    apply(rule, input, customFields);
    await tem.flush();
    await syncRuleTimers(planSql(tem), ruleDef(rule));
    return rule;
  });
}

/** A deleted rule's timers go with it, one statement over its timers with a set-based statement's bound (as its plan). */
async function deleteRule(em: EntityManager, id: string): Promise<boolean> {
  await em.transactional(async (tem) => {
    const rule = await getRule(tem, id);
    await planSql(tem).query(`delete from rule_timers where rule_id = $1`, [rule.id]);
    tem.remove(rule);
  });
  return true;
}

/** Rules that send the webhook, in position order. */
async function rulesUsingWebhook(em: EntityManager, webhookId: string): Promise<Rule[]> {
  return (await listRules(em)).filter((r) => r.actions.some((a) => a.webhookId === webhookId));
}

/** Rule definitions (ADMIN: the resolvers check the role), in position order. */
export interface RuleService {
  list(em: EntityManager): Promise<Rule[]>;
  find(em: EntityManager, id: string): Promise<Rule | null>;
  create(em: EntityManager, input: RuleInput): Promise<Rule>;
  /** Replaces the definition. */
  update(em: EntityManager, id: string, input: RuleInput): Promise<Rule>;
  delete(em: EntityManager, id: string): Promise<boolean>;
  /** The rules whose actions send the webhook (a webhook in use is not deleted). */
  usingWebhook(em: EntityManager, webhookId: string): Promise<Rule[]>;
  /** Every condition field with its type and operators, custom fields included (for rule editors). */
  fields(em: EntityManager): Promise<RuleFieldInfo[]>;
}

export function createRuleService(): RuleService {
  return {
    list: listRules,
    find: findRule,
    create: createRule,
    update: updateRule,
    delete: deleteRule,
    usingWebhook: rulesUsingWebhook,
    async fields(em) {
      const fields = await em.find(CustomField, {});
      return ruleFields(new Map(fields.map((f) => [f.key, { type: f.type, options: f.options }])));
    },
  };
}

export const ruleDef = (r: Rule): RuleDef => ({
  id: r.id,
  name: r.name,
  enabled: r.enabled,
  position: r.position,
  continueAfterMatch: r.continueAfterMatch,
  events: r.events,
  match: r.match,
  conditions: r.conditions,
  actions: r.actions,
});
