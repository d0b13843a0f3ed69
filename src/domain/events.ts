/**
 * Ticket events: what the helpdesk records in its outbox when a ticket changes, and what
 * the dispatcher evaluates rules against.
 */
import type { ActionDef } from './rules.js';

/**
 * The events ('mandatory conditions') a rule listens to. TIMER is raised by the timers of
 * one rule (its time conditions became true through the passing of time) and belongs to
 * that rule alone.
 */
export const TICKET_EVENT_TYPES = ['TICKET_CREATED', 'TICKET_UPDATED', 'REPLY_ADDED', 'COMMENT_ADDED', 'TIMER'] as const;
export type TicketEventType = (typeof TICKET_EVENT_TYPES)[number];

/** One changed field of a TICKET_UPDATED event; field names as in ConditionDef.field. */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** Who wrote the newest REPLY of a ticket, as conditions read it. */
export const REPLY_AUTHORS = ['CLIENT', 'STAFF'] as const;
export type ReplyAuthor = (typeof REPLY_AUTHORS)[number];

/** The ticket as conditions see it, after the change. */
export interface TicketSnapshot {
  id: string;
  title: string;
  description: string;
  status: string;
  priority: string;
  requester: { email: string; role: string };
  assignee: { email: string } | null;
  parentId: string | null;
  /** role of the author of the newest REPLY: 'CLIENT' or 'STAFF'; null with no replies */
  lastReplyAuthor: ReplyAuthor | null;
  custom: Record<string, unknown>;
  /** the clocks time conditions measure; absent: time conditions never hold */
  clocks?: TicketClocks;
}

/**
 * When each clock of a ticket started (ms since the epoch), and the moment conditions are
 * judged at (`now`: the event's time, or the firing time of a TIMER). A clock with no such
 * post yet runs from the ticket's creation; `updated` restarts on changes made by people.
 */
export interface TicketClocks {
  now: number;
  created: number;
  updated: number;
  lastReply: number;
  lastClientReply: number;
  lastStaffReply: number;
  lastComment: number;
}

export type TicketClock = Exclude<keyof TicketClocks, 'now'>;

/**
 * The rest of a rule's actions after a SEND_WEBHOOK with awaitResponse: stored with the
 * delivery, and recorded as a CONTINUATION event once that delivery succeeded.
 */
export interface Continuation {
  ruleId: string;
  ruleName: string;
  event: TicketEventType | null;
  /** index of the first action to run after the awaited delivery */
  nextAction: number;
  /**
   * The rule's actions as the run had them: it goes on with those, whatever the rule was
   * edited to meanwhile (an index into the edited list could name another action, the
   * awaited SEND_WEBHOOK itself included). Absent in continuations stored before it existed.
   */
  actions?: ActionDef[];
  temp: Record<string, unknown>;
  /** the post that raised the event; the remaining actions render as of it too */
  asOfPostId?: string | null;
}
