/**
 * A ticket's statuses and priorities: the contract's enum values, in the order the console
 * offers them, each with the words an agent reads. The console shows the words (in lists,
 * pages, pickers and messages) and sends the enum values.
 */
import type { TicketPriority, TicketStatus } from './gql/graphql';

const STATUS_TEXT: Readonly<Record<TicketStatus, string>> = {
  OPEN: 'Open',
  IN_PROGRESS: 'In progress',
  WAITING: 'Waiting',
  RESOLVED: 'Resolved',
  CLOSED: 'Closed',
};
const PRIORITY_TEXT: Readonly<Record<TicketPriority, string>> = {
  LOW: 'Low',
  NORMAL: 'Normal',
  HIGH: 'High',
  URGENT: 'Urgent',
};

export const TICKET_STATUSES = Object.keys(STATUS_TEXT) as readonly TicketStatus[];
export const TICKET_PRIORITIES = Object.keys(PRIORITY_TEXT) as readonly TicketPriority[];

/** A status in words ("In progress"); a value the console does not know is shown as it is. */
export const statusText = (status: string): string => STATUS_TEXT[status as TicketStatus] ?? status;
/** A priority in words ("Urgent"); a value the console does not know is shown as it is. */
export const priorityText = (priority: string): string => PRIORITY_TEXT[priority as TicketPriority] ?? priority;

/** A value of the rule condition field `field` in words: a status or priority as above, any other as it is. */
export const conditionValueText = (field: string, value: string): string =>
  field === 'status' ? statusText(value) : field === 'priority' ? priorityText(value) : value;
