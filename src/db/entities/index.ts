import { User } from './user.js';
import { CustomField } from './custom-field.js';
import { Ticket } from './ticket.js';
import { Post } from './post.js';
import { Webhook } from './webhook.js';
import { Rule } from './rule.js';
import { Delivery } from './delivery.js';
import { DeliveryAttempt } from './delivery-attempt.js';
import { TicketEventRecord } from './ticket-event.js';

export { User, CustomField, Ticket, Post, Webhook, Rule, Delivery, DeliveryAttempt, TicketEventRecord };
export const ENTITIES = [User, CustomField, Ticket, Post, Webhook, Rule, Delivery, DeliveryAttempt, TicketEventRecord];
