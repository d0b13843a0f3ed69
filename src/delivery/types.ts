/**
 * Types shared by the delivery modules. Pure data: no ORM entities, no classes.
 * The enums mirror the GraphQL contract (schema.graphql) by value.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type BodyFormat = 'JSON' | 'XML' | 'FORM';
export type AuthType = 'NONE' | 'BASIC' | 'BEARER';
export type MappingTarget = 'CUSTOM_FIELD' | 'TEMPORARY';
export type CustomFieldType = 'TEXT' | 'NUMBER' | 'BOOLEAN' | 'DATE' | 'SELECT';

export interface ResponseMappingDef {
  path: string;
  target: MappingTarget;
  field: string;
}

/**
 * A webhook header as stored. A secret one (a credential such as X-Api-Key) keeps its value
 * sealed with the SecretBox in `sealed`; its `value` is empty.
 */
export interface StoredHeader {
  name: string;
  value: string;
  secret?: boolean;
  sealed?: string;
}

/** A webhook header as the renderer sees it: a secret one carries its opened value, sent as written (not a template). */
export interface HeaderDef {
  name: string;
  value: string;
  secret?: boolean;
}

/** A webhook definition as the delivery code sees it (secret already decrypted where needed). */
export interface WebhookDef {
  id: string;
  name: string;
  method: HttpMethod;
  url: string;
  format: BodyFormat;
  body: string;
  headers: HeaderDef[];
  auth: { type: AuthType; username: string | null; secret: string | null };
  responseMappings: ResponseMappingDef[];
  successComment: string;
}

/** Plain user snapshot given to templates. */
export interface UserView {
  id: string;
  name: string;
  email: string;
  role: string;
  phone: string | null;
  telegramChatId: string | null;
}

export interface PostView {
  id: string;
  kind: 'REPLY' | 'COMMENT';
  text: string;
  createdAt: string;
  author: UserView | null;
}

export interface TicketView {
  id: string;
  title: string;
  description: string;
  status: string;
  priority: string;
  createdAt: string;
  updatedAt: string;
  url?: string;
  custom: Record<string, unknown>;
}

/**
 * The allow-listed object templates are rendered against. Built from the ticket by the
 * caller; never contains ORM entities or functions.
 */
export interface TemplateContext {
  ticket: TicketView | null;
  requester: UserView | null;
  assignee: UserView | null;
  parent: TicketView | null;
  lastReply: PostView | null;
  lastComment: PostView | null;
  lastPost: PostView | null;
  event: { type: string } | null;
  rule: { id: string; name: string } | null;
  webhook: { id: string; name: string } | null;
  delivery: { id: string } | null;
  temp: Record<string, unknown>;
  response: { status: number; body: string } | null;
  now: string;
}

/** A request exactly as it will be sent. `headers` exclude Authorization (see auth). */
export interface RenderedRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** The outcome of one HTTP attempt. */
export interface AttemptResult {
  startedAt: Date;
  durationMs: number;
  /** null when no HTTP response arrived */
  statusCode: number | null;
  /** null on success; a human-readable reason otherwise */
  error: string | null;
  /** how the attempt failed, for the retry policy */
  errorClass: 'none' | 'http_status' | 'timeout' | 'network' | 'refused_address' | 'invalid_url';
  /** body as text, at most the read cap (1 MiB) */
  responseBody: string | null;
  responseContentType: string | null;
  /** true when the body was longer than the cap and was cut */
  responseTruncated: boolean;
}
