/**
 * A realistic TemplateContext. Used to check templates when a webhook or rule is saved
 * (render with these values, then parse the result), as the examples of the tag
 * catalogue, and in tests. A fresh object on every call, so callers may change it.
 */
import type { PostView, TemplateContext, TicketView, UserView } from './types.js';

export function sampleContext(): TemplateContext {
  const requester: UserView = {
    id: '7',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    role: 'CLIENT',
    phone: '+15551234567',
    telegramChatId: '123456789',
  };
  // Differs from the requester everywhere, so a template reading the wrong one shows in tests.
  const assignee: UserView = {
    id: '3',
    name: 'Grace Hopper',
    email: 'grace@example.com',
    role: 'AGENT',
    phone: '+15557654321',
    telegramChatId: '987654321',
  };
  const parent: TicketView = {
    id: '41',
    title: 'Office equipment',
    description: 'Everything about printers and copiers.',
    status: 'IN_PROGRESS',
    priority: 'NORMAL',
    createdAt: '2024-04-20T08:00:00.000Z',
    updatedAt: '2024-05-01T08:00:00.000Z',
    url: 'https://helpdesk.example.com/tickets/41',
    custom: { order_no: 'A-1000' },
  };
  const ticket: TicketView = {
    id: '42',
    title: 'Printer is jammed',
    description: 'The printer on floor 2 is jammed again.',
    status: 'OPEN',
    priority: 'HIGH',
    createdAt: '2024-05-01T09:30:00.000Z',
    updatedAt: '2024-05-01T10:15:00.000Z',
    url: 'https://helpdesk.example.com/tickets/42',
    custom: { order_no: 'A-1001', contract_id: '5512' },
  };
  const lastReply: PostView = {
    id: '101',
    kind: 'REPLY',
    text: 'Any news on this?',
    createdAt: '2024-05-01T10:15:00.000Z',
    author: { ...requester },
  };
  const lastComment: PostView = {
    id: '100',
    kind: 'COMMENT',
    text: 'Ordered a new drum unit.',
    createdAt: '2024-05-01T10:05:00.000Z',
    author: { ...assignee },
  };
  return {
    ticket,
    requester,
    assignee,
    parent,
    lastReply,
    lastComment,
    lastPost: { ...lastReply, author: { ...requester } },
    event: { type: 'TICKET_CREATED' },
    rule: { id: '3', name: 'Notify the assignee' },
    webhook: { id: '5', name: 'Telegram' },
    delivery: { id: '9001' },
    temp: { sms_id: '77001' },
    response: { status: 200, body: '{"ok":true,"result":{"message_id":555}}' },
    now: '2024-05-01T10:20:00.000Z',
  };
}
