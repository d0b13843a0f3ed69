import { Field, Float, InputType, Int, ObjectType } from 'type-graphql';
import { ID } from './id-scalar.js';
import { GraphQLJSONObject } from 'graphql-scalars';
import { AuthType, BodyFormat, ConditionOperator, DeliveryOrdering, HttpMethod, MappingTarget, SuccessFailureAction } from './enums.js';

@ObjectType({ description: 'Standard Webhooks (standardwebhooks.com) signing of every request of this webhook.' })
export class WebhookSigning {
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => Boolean, { description: 'a signing secret exists (it is never returned after rotateSigningSecret)' }) secretSet!: boolean;
  @Field(() => Date, { nullable: true, description: 'after a rotation the previous secret also signs every request until this time (24 h)' })
  previousSecretValidUntil!: Date | null;
}

@ObjectType({ description: 'Returned once by rotateSigningSecret.' })
export class SigningSecret {
  @Field(() => String, { description: 'whsec_<base64 of 32 random bytes>' }) secret!: string;
  @Field(() => Date, { nullable: true }) previousSecretValidUntil!: Date | null;
}

@ObjectType({ description: 'When an answer counts as success. Default: statuses 200-399 and no body check.' })
export class SuccessRule {
  @Field(() => String, { description: 'comma-separated codes and ranges, e.g. "200-299" or "200,201,204"' }) statuses!: string;
  @Field(() => String, { nullable: true, description: 'optional: a response path (the syntax of ResponseMapping.path) whose value must satisfy operator/value' })
  path!: string | null;
  @Field(() => ConditionOperator, { nullable: true, description: 'EQUALS NOT_EQUALS CONTAINS NOT_CONTAINS IS_EMPTY IS_NOT_EMPTY GREATER_THAN LESS_THAN' })
  operator!: ConditionOperator | null;
  @Field(() => String, { nullable: true }) value!: string | null;
  @Field(() => SuccessFailureAction, { description: 'what a status outside statuses or a failed check does: RETRY (like a 5xx) or FAIL at once (a rejected SMS should not be resent)' })
  onFailure!: SuccessFailureAction;
}

@InputType()
export class SuccessRuleInput {
  @Field(() => String, { nullable: true }) statuses?: string | null;
  @Field(() => String, { nullable: true }) path?: string | null;
  @Field(() => ConditionOperator, { nullable: true }) operator?: ConditionOperator | null;
  @Field(() => String, { nullable: true }) value?: string | null;
  @Field(() => SuccessFailureAction, { nullable: true }) onFailure?: SuccessFailureAction | null;
}

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
  @Field(() => WebhookSigning) signing!: WebhookSigning;
  @Field(() => SuccessRule) successRule!: SuccessRule;
  @Field(() => DeliveryOrdering) ordering!: DeliveryOrdering;
  @Field(() => Int, { description: 'attempts of this webhook in flight at once, across all workers (default 10)' }) maxConcurrency!: number;
  @Field(() => Float, { nullable: true, description: 'attempts started per second at most; null: no limit' }) rateLimitPerSecond!: number | null;
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
  @Field(() => Boolean, { nullable: true, description: 'default false (omitted on update: kept); signing starts once rotateSigningSecret has created a secret' })
  signing?: boolean | null;
  @Field(() => SuccessRuleInput, { nullable: true }) successRule?: SuccessRuleInput | null;
  @Field(() => DeliveryOrdering, { nullable: true }) ordering?: DeliveryOrdering | null;
  @Field(() => Int, { nullable: true }) maxConcurrency?: number | null;
  @Field(() => Float, { nullable: true }) rateLimitPerSecond?: number | null;
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
