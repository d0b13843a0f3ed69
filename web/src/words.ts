/**
 * The contract's enum values the console shows, in the order it offers them, each with the
 * words a person reads: ticket statuses and priorities, delivery statuses, roles, who wrote a
 * ticket's newest reply, and a yes-or-no field's true and false. The console shows the words (in lists, pages, badges,
 * pickers and messages, so screen readers read them too) and sends the enum values.
 */
import type { DeliveryStatus, Role, TicketPriority, TicketStatus } from './gql/graphql';

/** An enum's values in the table's order, and a value in its words (a value the table does not know is shown as it is). */
function wordsOf<Value extends string>(table: Readonly<Record<Value, string>>) {
  return {
    values: Object.keys(table) as readonly string[] as readonly Value[],
    text: (value: string): string => (Object.hasOwn(table, value) ? table[value as Value] : value),
  };
}

const TICKET_STATUS = wordsOf<TicketStatus>({
  OPEN: 'Open',
  IN_PROGRESS: 'In progress',
  WAITING: 'Waiting',
  RESOLVED: 'Resolved',
  CLOSED: 'Closed',
});
const TICKET_PRIORITY = wordsOf<TicketPriority>({
  LOW: 'Low',
  NORMAL: 'Normal',
  HIGH: 'High',
  URGENT: 'Urgent',
});
const DELIVERY_STATUS = wordsOf<DeliveryStatus>({
  PENDING: 'Pending',
  RETRYING: 'Retrying',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
});
const ROLE = wordsOf<Role>({
  ADMIN: 'Admin',
  AGENT: 'Agent',
  CLIENT: 'Client',
});
/** Who wrote a ticket's newest reply (the rule condition field lastReplyAuthor). */
const REPLY_AUTHOR = wordsOf<'CLIENT' | 'STAFF'>({
  CLIENT: 'Client',
  STAFF: 'Staff',
});
/** A yes-or-no (BOOLEAN) custom field's values as the API writes them. */
const YES_NO = wordsOf<'true' | 'false'>({
  true: 'Yes',
  false: 'No',
});

export const TICKET_STATUSES = TICKET_STATUS.values;
export const TICKET_PRIORITIES = TICKET_PRIORITY.values;
export const DELIVERY_STATUSES = DELIVERY_STATUS.values;
export const YES_NO_VALUES = YES_NO.values;

/** A ticket status in words ("In progress"). */
export const statusText = TICKET_STATUS.text;
/** A priority in words ("Urgent"). */
export const priorityText = TICKET_PRIORITY.text;
/** A delivery status in words ("Succeeded"). */
export const deliveryStatusText = DELIVERY_STATUS.text;
/** A role in words ("Agent"). */
export const roleText = ROLE.text;
/** A yes-or-no field's value in words: "true" is "Yes", "false" is "No". */
export const yesNoText = YES_NO.text;

/** The rule condition fields whose values are a table's, each with its words. */
const CONDITION_VALUE_TEXT: Readonly<Record<string, (value: string) => string>> = {
  status: statusText,
  priority: priorityText,
  'requester.role': roleText,
  lastReplyAuthor: REPLY_AUTHOR.text,
};

/** A value of the rule condition field `field` in words: a status, priority, role or reply author as above, any other as it is. */
export const conditionValueText = (field: string, value: string): string => (Object.hasOwn(CONDITION_VALUE_TEXT, field) ? CONDITION_VALUE_TEXT[field]!(value) : value);
