/**
 * What templates are rendered against: plain, allow-listed data built for them (never ORM
 * entities or functions). The tag catalogue (catalogue.ts) is written from these shapes.
 */
import type { PostKind } from '../domain/index.js';

/** Plain user snapshot given to templates. */
export interface UserView {
  id: string;
  name: string;
  email: string;
  role: string;
  phone: string | null;
  telegramChatId: string | null;
}

export interface PostView {
  id: string;
  kind: PostKind;
  text: string;
  createdAt: string;
  author: UserView | null;
}

export interface TicketView {
  id: string;
  title: string;
  description: string;
  status: string;
  priority: string;
  createdAt: string;
  updatedAt: string;
  url?: string;
  custom: Record<string, unknown>;
}

/**
 * The allow-listed object templates are rendered against. Built from the ticket by the
 * caller; never contains ORM entities or functions.
 */
export interface TemplateContext {
  ticket: TicketView | null;
  requester: UserView | null;
  assignee: UserView | null;
  parent: TicketView | null;
  lastReply: PostView | null;
  lastComment: PostView | null;
  lastPost: PostView | null;
  event: { type: string } | null;
  rule: { id: string; name: string } | null;
  webhook: { id: string; name: string } | null;
  delivery: { id: string } | null;
  temp: Record<string, unknown>;
  response: { status: number; body: string } | null;
  now: string;
}
