/** A ticket's statuses and priorities in the order the console offers them (the contract's enums). */
import type { TicketPriority, TicketStatus } from './gql/graphql';

export const TICKET_STATUSES: readonly TicketStatus[] = ['OPEN', 'IN_PROGRESS', 'WAITING', 'RESOLVED', 'CLOSED'];
export const TICKET_PRIORITIES: readonly TicketPriority[] = ['LOW', 'NORMAL', 'HIGH', 'URGENT'];
