/**
 * Runs a matched rule's actions in order, in the event's transaction, as the system
 * (automated: no new events, so rules cannot loop). A SEND_WEBHOOK with awaitResponse
 * stops the run; the rest continues from a CONTINUATION event once that delivery
 * succeeded. A failing action is reported as an internal COMMENT and the run goes on;
 * once the dispatcher stops (`signal`), the run is given up instead (DispatchStopped): the
 * stop may have cancelled the action's statement, which is no failure of the action.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Ticket, Webhook } from '../db/index.js';
import { systemActor, addPost, updateTicket, textProblem, TEXT_LIMITS } from '../helpdesk/index.js';
import { isOneOf, TICKET_PRIORITIES, TICKET_STATUSES, type ActionDef, type Continuation, type TicketEventType } from '../domain/index.js';
import { webhookOffMessage, type DeliveryOrigin, type DeliveryService } from '../delivery/index.js';
import { buildTemplateContext, loadTicketForTemplates, compileTemplate, escapeText } from '../templates/index.js';
import type { RuleDef } from './types.js';
import { describeError, isDatabaseError } from '../log-redact.js';
import { DispatchStopped } from './processor.js';

export interface ActionRun {
  rule: RuleDef;
  /** the ticket event being handled (a continuation's own event for the rest of an awaited rule), and when it was recorded */
  eventId: string;
  eventAt: Date;
  ticketId: string;
  event: TicketEventType | null;
  /** index of the first action to run */
  from: number;
  temp: Record<string, unknown>;
  /** the post that raised the event: templates see the posts up to it (see processor.ts) */
  asOfPostId?: string | null;
}

export interface ActionRunnerDeps {
  deliveries: DeliveryService;
  /** aborted when the dispatcher stops */
  signal?: AbortSignal;
}

export async function runActions(em: EntityManager, deps: ActionRunnerDeps, run: ActionRun): Promise<void> {
  const { rule } = run;
  for (let i = run.from; i < rule.actions.length; i++) {
    const action = rule.actions[i]!;
    if (deps.signal?.aborted) throw new DispatchStopped();
    const ticket = await loadTicketForTemplates(em, run.ticketId);
    if (!ticket) return; // deleted meanwhile
    try {
      const stop = await runOne(em, deps, run, ticket, action, i);
      if (stop) return;
    } catch (err) {
      if (deps.signal?.aborted) throw new DispatchStopped();
      await addPost(em, systemActor, run.ticketId, 'COMMENT', actionFailure(run, i, err));
    }
  }
}

/** The internal comment a failed action leaves on its ticket. */
export function actionFailure(run: ActionRun, index: number, err: unknown): string {
  // a database error is described by its shape (its message would hold the statement's values)
  const reason = isDatabaseError(err) ? describeError(err, { stack: false }) : err instanceof Error ? err.message : String(err);
  return `Rule "${run.rule.name}": action ${index + 1} (${run.rule.actions[index]!.type}) failed: ${reason}`;
}

/** What runs after the SEND_WEBHOOK at `index` once its delivery succeeded; null when nothing waits for it. */
export function continuationAfter(run: ActionRun, index: number): Continuation | null {
  const action = run.rule.actions[index]!;
  return action.awaitResponse && index + 1 < run.rule.actions.length
    ? { ruleId: run.rule.id, ruleName: run.rule.name, event: run.event, nextAction: index + 1, actions: run.rule.actions, temp: run.temp, asOfPostId: run.asOfPostId ?? null }
    : null;
}

/** The origin of the delivery the SEND_WEBHOOK action at `index` makes to `webhookId` (its id derives from it). */
export function originOf(run: ActionRun, index: number, webhookId: string): DeliveryOrigin {
  return { eventId: run.eventId, eventAt: run.eventAt, ruleId: run.rule.id, action: index, webhookId };
}

/** Renders an action value against the ticket as it is now, with the run's temp fields. */
async function renderValue(em: EntityManager, deps: ActionRunnerDeps, ticket: Ticket, run: ActionRun, source: string): Promise<string> {
  const ctx = await buildTemplateContext(em, ticket, { event: run.event, rule: { id: run.rule.id, name: run.rule.name }, temp: run.temp, asOfPostId: run.asOfPostId, publicUrl: deps.deliveries.publicUrl });
  return compileTemplate(source, 'action').render(ctx, escapeText);
}

async function runOne(em: EntityManager, deps: ActionRunnerDeps, run: ActionRun, ticket: Ticket, action: ActionDef, index: number): Promise<boolean> {
  const value = () => renderValue(em, deps, ticket, run, action.value ?? '');
  switch (action.type) {
    case 'SEND_WEBHOOK': {
      const webhook = action.webhookId ? await em.findOne(Webhook, { id: action.webhookId }) : null;
      if (!webhook) throw new Error(`webhook ${action.webhookId} no longer exists`);
      if (!webhook.enabled) throw new Error(webhookOffMessage(webhook));
      const continuation = continuationAfter(run, index);
      await deps.deliveries.prepare(em, { webhook, ticket, rule: { id: run.rule.id, name: run.rule.name }, event: run.event, temp: run.temp, continuation, asOfPostId: run.asOfPostId, origin: originOf(run, index, webhook.id) });
      return continuation !== null;
    }
    case 'ADD_COMMENT':
    case 'ADD_REPLY': {
      const text = postText(await value());
      await addPost(em, systemActor, run.ticketId, action.type === 'ADD_COMMENT' ? 'COMMENT' : 'REPLY', text);
      return false;
    }
    case 'SET_STATUS': {
      const status = (await value()).trim();
      if (!isOneOf(TICKET_STATUSES, status)) throw new Error(`"${status}" is not a status (${TICKET_STATUSES.join(', ')})`);
      await updateTicket(em, systemActor, run.ticketId, { status });
      return false;
    }
    case 'SET_PRIORITY': {
      const priority = (await value()).trim();
      if (!isOneOf(TICKET_PRIORITIES, priority)) throw new Error(`"${priority}" is not a priority (${TICKET_PRIORITIES.join(', ')})`);
      await updateTicket(em, systemActor, run.ticketId, { priority });
      return false;
    }
    case 'SET_ASSIGNEE': {
      const id = (await value()).trim();
      // a tag without a value (no reply yet, an empty custom field) names nobody: the assignee stays
      if (!id) throw new Error(`the user id rendered empty from "${action.value ?? ''}", so the assignee was left as it was`);
      await updateTicket(em, systemActor, run.ticketId, { assigneeId: id });
      return false;
    }
    case 'SET_CUSTOM_FIELD': {
      const raw = action.value ? await value() : null;
      await updateTicket(em, systemActor, run.ticketId, { customFields: { [action.field!]: raw === '' ? null : raw } });
      return false;
    }
  }
}

/**
 * The rendered text of an ADD_COMMENT or ADD_REPLY action, as a post may hold it: not empty,
 * and within the limit every post text has (a tag repeated in the template can exceed it).
 */
export function postText(text: string): string {
  if (!text.trim()) throw new Error('the text rendered empty');
  const problem = textProblem(text, TEXT_LIMITS.text);
  if (problem) throw new Error(`the rendered text ${problem}`);
  return text;
}
