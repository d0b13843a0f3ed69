import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AuthType, BodyFormat, HttpMethod, MappingTarget } from './enums.js';

@ObjectType({ description: 'Credentials are write-only: the API never returns a password or token.' })
export class WebhookAuth {
  @Field(() => AuthType) type!: AuthType;
  @Field(() => String, { nullable: true }) username!: string | null;
  @Field(() => Boolean) secretSet!: boolean;
}

@ObjectType()
export class HeaderTemplate {
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'a template; the empty string for a secret header' }) value!: string;
  @Field(() => Boolean, { description: 'a credential (X-Api-Key, X-Auth-Token): stored encrypted, never returned, shown as *** in previews and the delivery log' })
  secret!: boolean;
}

@ObjectType({ description: 'Takes the value at `path` in the parsed response (JSON, XML or form) and writes it to a ticket custom field (key) or a temporary field (name).' })
export class ResponseMapping {
  @Field(() => String) path!: string;
  @Field(() => MappingTarget) target!: MappingTarget;
  @Field(() => String) field!: string;
}

@ObjectType('Webhook')
export class WebhookType {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => HttpMethod) method!: HttpMethod;
  @Field(() => String, { description: 'template' }) url!: string;
  @Field(() => BodyFormat) format!: BodyFormat;
  @Field(() => String, { description: 'template; empty for none' }) body!: string;
  @Field(() => [HeaderTemplate], { description: 'values are templates' }) headers!: HeaderTemplate[];
  @Field(() => WebhookAuth) auth!: WebhookAuth;
  @Field(() => [ResponseMapping]) responseMappings!: ResponseMapping[];
  @Field(() => String, { description: 'template of an internal COMMENT written on the ticket after a successful delivery; empty for none' })
  successComment!: string;
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;
}

@InputType()
export class HeaderInput {
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'a template; for a secret header the credential, sent as written' }) value!: string;
  @Field(() => Boolean, { nullable: true, description: 'default false. For a secret header an empty value on update keeps the stored one; value reads back as the empty string' })
  secret?: boolean | null;
}

@InputType()
export class WebhookAuthInput {
  @Field(() => AuthType) type!: AuthType;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'password (BASIC) or token (BEARER); omitted on update keeps the stored one' })
  secret?: string | null;
}

@InputType()
export class ResponseMappingInput {
  @Field(() => String) path!: string;
  @Field(() => MappingTarget) target!: MappingTarget;
  @Field(() => String) field!: string;
}

@InputType()
export class WebhookInput {
  @Field(() => String) name!: string;
  @Field(() => HttpMethod) method!: HttpMethod;
  @Field(() => String) url!: string;
  @Field(() => BodyFormat) format!: BodyFormat;
  @Field(() => String, { nullable: true }) body?: string | null;
  @Field(() => [HeaderInput], { nullable: true }) headers?: HeaderInput[] | null;
  @Field(() => WebhookAuthInput, { nullable: true }) auth?: WebhookAuthInput | null;
  @Field(() => [ResponseMappingInput], { nullable: true }) responseMappings?: ResponseMappingInput[] | null;
  @Field(() => String, { nullable: true }) successComment?: string | null;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
}

@ObjectType('RenderedRequest', { description: 'A request exactly as it would be sent, with credentials redacted.' })
export class RenderedRequestType {
  @Field(() => HttpMethod) method!: HttpMethod;
  @Field(() => String) url!: string;
  @Field(() => GraphQLJSONObject) headers!: Record<string, string>;
  @Field(() => String, { nullable: true }) body!: string | null;
}

@ObjectType({ description: 'One entry of the tag catalogue that templates may use, e.g. {{ ticket.id }}.' })
export class TemplateTag {
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => String, { nullable: true }) example!: string | null;
}
