/** Entities → GraphQL object shapes. Only allow-listed fields leave the server. */
import type { CustomField, Post, Ticket, User } from '../db/index.js';
import type { CustomFieldObject, PostType, TicketType, UserType } from '../schema/index.js';

export const toUser = (u: User): UserType => ({
  id: u.id,
  name: u.name,
  email: u.email,
  role: u.role,
  phone: u.phone,
  telegramChatId: u.telegramChatId,
  createdAt: u.createdAt,
});

/**
 * The user as `viewer` may see it: staff see everyone in full, a CLIENT sees itself in
 * full and anyone else as id, name and role (no email, phone or Telegram chat id).
 */
export function userFor(viewer: Pick<User, 'id' | 'role'> | null, u: UserType): UserType {
  if (viewer && (viewer.role !== 'CLIENT' || viewer.id === u.id)) return u;
  return { ...u, email: null, phone: null, telegramChatId: null };
}

export const toTicket = (t: Ticket): TicketType => ({
  id: t.id,
  title: t.title,
  description: t.description,
  status: t.status,
  priority: t.priority,
  requesterId: t.requester.id,
  assigneeId: t.assignee?.id ?? null,
  parentId: t.parent?.id ?? null,
  customFields: t.customFields,
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
});

export const toPost = (p: Post): PostType => ({
  id: p.id,
  kind: p.kind,
  text: p.text,
  authorId: p.author?.id ?? null,
  createdAt: p.createdAt,
});

export const toCustomField = (f: CustomField): CustomFieldObject => ({
  id: f.id,
  key: f.key,
  name: f.name,
  type: f.type,
  options: f.options,
  clientVisible: f.clientVisible,
  clientWritable: f.clientWritable,
});
