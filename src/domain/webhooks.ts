export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const BODY_FORMATS = ['JSON', 'XML', 'FORM'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

export const AUTH_TYPES = ['NONE', 'BASIC', 'BEARER'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/** Where a value read from a receiver's answer goes: a custom field of the ticket, or a temporary field for later templates. */
export const MAPPING_TARGETS = ['CUSTOM_FIELD', 'TEMPORARY'] as const;
export type MappingTarget = (typeof MAPPING_TARGETS)[number];

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

/** A request exactly as it will be sent. `headers` exclude Authorization (see auth). */
export interface RenderedRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}
