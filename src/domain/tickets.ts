export const TICKET_STATUSES = ['OPEN', 'IN_PROGRESS', 'WAITING', 'RESOLVED', 'CLOSED'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const TICKET_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];

/** REPLY: public answer in the conversation. COMMENT: internal note, never shown to clients. */
export const POST_KINDS = ['REPLY', 'COMMENT'] as const;
export type PostKind = (typeof POST_KINDS)[number];

export const CUSTOM_FIELD_TYPES = ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'SELECT'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

/**
 * Path segments that lead to JavaScript internals on ordinary objects: refused in tags
 * (src/templates/scan.ts), and so as custom field keys, which are tag segments (ticket.custom.<key>).
 */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['constructor', '__proto__', 'prototype']);
