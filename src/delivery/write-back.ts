/**
 * The ticket's side of a final outcome, in one transaction with the delivery's own
 * transition, so that nothing is half-done after a crash:
 * - success: the answer's mappings written to the ticket's custom fields, the success
 *   comment, the rule's continuation (a CONTINUATION event for the dispatcher);
 * - failure: a comment on the ticket saying so (and that the rule stops there).
 * Ticket changes go through the helpdesk services as the system (no dispatcher events);
 * the delivery row changes go through the store (store.ts).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { CustomField, Ticket, TicketEventRecord } from '../db/index.js';
import { addPost, updateTicket, systemActor } from '../helpdesk/index.js';
import { compileTemplate, escapeText, type TemplateContext } from '../templates/index.js';
import { applyMappings, parseResponseBody } from './response.js';
import { annotate, ticketWorkOf, writeOutcomes } from './store.js';
import { sqlOf } from '../db/index.js';
import { COMMENT_LIMIT, type Outcome } from './outcome.js';
import { cutText, storableText, storableValue } from './storable.js';

/**
 * Records an outcome that touches the ticket (outcome.ts touchesTicket) in one
 * transaction: attempt row, the delivery's state and feed messages, then the ticket work —
 * unless the delivery was no longer open (cancelled meanwhile): then only its attempt.
 */
export async function recordWithTicketWork(em: EntityManager, o: Outcome): Promise<void> {
  await em.transactional(async (tem) => {
    const db = sqlOf(tem);
    const updated = await writeOutcomes(db, [o]);
    if (!updated.has(o.delivery.id)) return;
    const { webhookName, processing, continuation } = await ticketWorkOf(db, o.delivery.id);
    const ticketId = o.delivery.ticketId!;
    if (o.decision.kind === 'succeeded') {
      const notes: string[] = [];
      // the answer and everything made from it is stored: each value storable (storable.ts)
      const body = storableText(o.result.responseBody ?? '');
      const parsed = parseResponseBody(body, o.result.responseContentType, o.result.responseTruncated);
      let temp: Record<string, unknown> = {};
      let responseData: unknown;
      if (processing.responseMappings.length) {
        const fields = new Map((await tem.find(CustomField, {})).map((f) => [f.key, { type: f.type, options: f.options }]));
        const mapped = storableValue(applyMappings(parsed, processing.responseMappings, fields));
        notes.push(...mapped.notes);
        temp = mapped.temp;
        responseData = mapped.responseData;
        if (Object.keys(mapped.customFields).length) {
          try {
            await updateTicket(tem, systemActor, ticketId, { customFields: mapped.customFields });
          } catch (err) {
            notes.push(`custom fields not written: ${(err as Error).message}`);
          }
        }
      }
      // (a delivery with a success comment carries the context its request was rendered with)
      const base = processing.successComment.trim() ? processing.context : null;
      if (processing.successComment.trim() && !base) notes.push('success comment not written: the delivery has no template context');
      if (base) {
        // the context the request was rendered with, but ticket.custom as written back just
        // now, and {{ now }} the time the comment is written (the delivery's completion), not
        // the time the request was rendered: retries and redeliveries come hours or days later
        const current = await tem.findOne(Ticket, { id: ticketId });
        const ctx: TemplateContext = {
          ...base,
          ticket: base.ticket && current ? { ...base.ticket, custom: { ...current.customFields } } : base.ticket,
          temp: { ...base.temp, ...temp },
          response: { status: o.result.statusCode ?? 0, body },
          now: (o.update.completedAt ?? o.result.startedAt).toISOString(),
        };
        const rendered = storableText(compileTemplate(processing.successComment, 'successComment').render(ctx, escapeText));
        const text = cutText(rendered, COMMENT_LIMIT);
        if (text.length < rendered.length) notes.push(`success comment cut to ${COMMENT_LIMIT} characters (it had ${rendered.length})`);
        if (text.trim()) await addPost(tem, systemActor, ticketId, 'COMMENT', text);
      }
      if (continuation) {
        tem.create(TicketEventRecord, {
          kind: 'CONTINUATION',
          ticketId,
          type: continuation.event ?? 'TICKET_UPDATED',
          payload: { ...continuation, temp: { ...continuation.temp, ...temp }, deliveryId: o.delivery.id },
          createdAt: new Date(),
        });
      }
      await annotate(db, o.delivery.id, { responseData, notes: notes.map(storableText) });
    } else if (o.decision.kind === 'failed') {
      const skipped = continuation ? ` The remaining actions of rule "${continuation.ruleName}" were not run.` : '';
      const n = o.update.attemptCount;
      const reason = storableText(cutText(o.decision.reason, COMMENT_LIMIT / 2));
      await addPost(tem, systemActor, ticketId, 'COMMENT', `Webhook "${webhookName}" failed after ${n} attempt${n === 1 ? '' : 's'}: ${reason}.${skipped}`);
    }
    await tem.flush();
  });
}
