import { Field, InputType, ObjectType } from 'type-graphql';
import { ID } from './id-scalar.js';
import { GraphQLJSONObject } from 'graphql-scalars';
import { CustomFieldType, PostKind, Role, TicketPriority, TicketStatus } from './enums.js';

/** A CLIENT reading any user other than itself gets id, name and role: email, phone and telegramChatId are null. */
@ObjectType('User')
export class UserType {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) email!: string | null;
  @Field(() => Role) role!: Role;
  @Field(() => String, { nullable: true }) phone!: string | null;
  @Field(() => String, { nullable: true }) telegramChatId!: string | null;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType({ description: 'Returned once, when a user is created or its key is rotated.' })
export class UserWithApiKey {
  @Field(() => UserType) user!: UserType;
  @Field(() => String) apiKey!: string;
}

@InputType()
export class CreateUserInput {
  @Field(() => String) name!: string;
  @Field(() => String) email!: string;
  @Field(() => Role) role!: Role;
  @Field(() => String, { nullable: true }) phone?: string | null;
  @Field(() => String, { nullable: true }) telegramChatId?: string | null;
}

@ObjectType('Post')
export class PostType {
  @Field(() => ID) id!: string;
  @Field(() => PostKind) kind!: PostKind;
  @Field(() => String) text!: string;
  /** resolved by PostResolver */
  authorId!: string | null;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType('Ticket')
export class TicketType {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  @Field(() => String) description!: string;
  @Field(() => TicketStatus) status!: TicketStatus;
  @Field(() => TicketPriority) priority!: TicketPriority;
  requesterId!: string;
  assigneeId!: string | null;
  parentId!: string | null;
  /** every stored value; TicketResolver.customFields shows a CLIENT the clientVisible ones */
  customFields!: Record<string, unknown>;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;
}

@InputType()
export class CreateTicketInput {
  @Field(() => String) title!: string;
  @Field(() => String) description!: string;
  @Field(() => TicketPriority, { nullable: true }) priority?: TicketPriority | null;
  @Field(() => TicketStatus, { nullable: true }) status?: TicketStatus | null;
  @Field(() => ID, { nullable: true, description: 'defaults to the caller' }) requesterId?: string | null;
  @Field(() => ID, { nullable: true }) assigneeId?: string | null;
  @Field(() => ID, { nullable: true }) parentId?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) customFields?: Record<string, unknown> | null;
}

@InputType()
export class UpdateTicketInput {
  @Field(() => String, { nullable: true }) title?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => TicketPriority, { nullable: true }) priority?: TicketPriority | null;
  @Field(() => TicketStatus, { nullable: true }) status?: TicketStatus | null;
  @Field(() => ID, { nullable: true }) assigneeId?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'merged into the existing values; a null value clears that field' })
  customFields?: Record<string, unknown> | null;
}

@ObjectType('CustomField')
export class CustomFieldObject {
  @Field(() => ID) id!: string;
  @Field(() => String) key!: string;
  @Field(() => String) name!: string;
  @Field(() => CustomFieldType) type!: CustomFieldType;
  @Field(() => [String]) options!: string[];
  @Field(() => Boolean) clientVisible!: boolean;
  @Field(() => Boolean) clientWritable!: boolean;
}

@InputType()
export class CustomFieldInput {
  @Field(() => String) key!: string;
  @Field(() => String) name!: string;
  @Field(() => CustomFieldType) type!: CustomFieldType;
  @Field(() => [String], { nullable: true }) options?: string[] | null;
  @Field(() => Boolean, { nullable: true, description: 'default false' }) clientVisible?: boolean | null;
  @Field(() => Boolean, { nullable: true, description: 'default false; implies clientVisible' }) clientWritable?: boolean | null;
}
