import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { ID } from './id-scalar.js';
import { ActionType, ConditionOperator, MatchType, TicketEvent } from './enums.js';

@ObjectType({ description: 'field: title, description, status, priority, requester.email, requester.role, assignee.email, parent (IS_EMPTY / IS_NOT_EMPTY), lastReplyAuthor (CLIENT or STAFF), custom.<key>' })
export class Condition {
  @Field(() => String) field!: string;
  @Field(() => ConditionOperator) operator!: ConditionOperator;
  @Field(() => String, { nullable: true }) value!: string | null;
}

@ObjectType()
export class RuleAction {
  @Field(() => ActionType) type!: ActionType;
  /** resolved to `webhook` by RuleActionResolver */
  webhookId!: string | null;
  @Field(() => String, { nullable: true, description: 'SET_CUSTOM_FIELD: the custom field key' }) field!: string | null;
  @Field(() => String, { nullable: true, description: 'template: the text (ADD_COMMENT, ADD_REPLY) or the value (SET_*; SET_ASSIGNEE takes a user id)' })
  value!: string | null;
  @Field(() => Boolean, { description: 'SEND_WEBHOOK: the actions after this one run only once this delivery has succeeded, and can use its temporary fields as {{ temp.<name> }}' })
  awaitResponse!: boolean;
}

@ObjectType('Rule')
export class RuleType {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => Int, { description: 'lower runs first; the first rule that matches an event is executed, and the next rules are checked only when it has continueAfterMatch' })
  position!: number;
  @Field(() => Boolean) continueAfterMatch!: boolean;
  @Field(() => [TicketEvent]) events!: TicketEvent[];
  @Field(() => MatchType) match!: MatchType;
  @Field(() => [Condition]) conditions!: Condition[];
  @Field(() => [RuleAction]) actions!: RuleAction[];
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType({ description: 'A condition field for rule editors: name as used in Condition.field, e.g. priority, custom.order_no, timeSinceLastReply.' })
export class RuleField {
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'TEXT, NUMBER, BOOLEAN, DATE, SELECT, ENUM, DURATION or ROLE' }) type!: string;
  @Field(() => String) description!: string;
  @Field(() => [ConditionOperator]) operators!: ConditionOperator[];
  @Field(() => [String], { description: 'allowed values for SELECT, ENUM and ROLE fields' }) options!: string[];
}

@InputType()
export class ConditionInput {
  @Field(() => String) field!: string;
  @Field(() => ConditionOperator) operator!: ConditionOperator;
  @Field(() => String, { nullable: true }) value?: string | null;
}

@InputType()
export class RuleActionInput {
  @Field(() => ActionType) type!: ActionType;
  @Field(() => ID, { nullable: true }) webhookId?: string | null;
  @Field(() => String, { nullable: true }) field?: string | null;
  @Field(() => String, { nullable: true }) value?: string | null;
  @Field(() => Boolean, { nullable: true }) awaitResponse?: boolean | null;
}

@InputType()
export class RuleInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
  @Field(() => Int, { nullable: true }) position?: number | null;
  @Field(() => Boolean, { nullable: true }) continueAfterMatch?: boolean | null;
  @Field(() => [TicketEvent]) events!: TicketEvent[];
  @Field(() => MatchType, { nullable: true }) match?: MatchType | null;
  @Field(() => [ConditionInput], { nullable: true }) conditions?: ConditionInput[] | null;
  @Field(() => [RuleActionInput]) actions!: RuleActionInput[];
}
