/** Types shared by the delivery modules. Pure data: no ORM entities, no classes. */
import type { AuthType, BodyFormat, HttpMethod, ResponseMappingDef } from '../domain/index.js';

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
  /**
   * Set when its stored credentials cannot be opened (another DESKHOOKS_SECRET_KEY sealed
   * them): its deliveries are FAILED at once with this reason, never sent without them.
   */
  credentialsError?: string;
}

/** The outcome of one HTTP attempt. */
export interface AttemptResult {
  startedAt: Date;
  durationMs: number;
  /** null when no HTTP response arrived */
  statusCode: number | null;
  /** null on success; a human-readable reason otherwise */
  error: string | null;
  /** how the attempt failed, for the retry policy; `rejected`: the success rule failed it with onFailure FAIL (final) */
  errorClass: 'none' | 'http_status' | 'rejected' | 'timeout' | 'network' | 'refused_address' | 'invalid_url';
  /** body as text, at most the read cap (1 MiB) */
  responseBody: string | null;
  responseContentType: string | null;
  /** true when the body was longer than the cap and was cut */
  responseTruncated: boolean;
  /**
   * what could not be made of the body, in words for the user (a compressed body that
   * could not be decompressed, kept as it came); recorded as a note on the delivery, it
   * never fails the attempt
   */
  responseNote?: string | null;
  /** the answer's Retry-After header as sent (seconds or an HTTP date), if any */
  retryAfter?: string | null;
  /**
   * true when the webhook's success rule lists this status and only its check of the body
   * failed: the status itself was expected (a 410 listed so is no "endpoint gone")
   */
  statusExpected?: boolean;
  /**
   * true when the status and headers were read but not the body (an answer the HTTP client
   * refused — not valid HTTP/1.1, or a head over its limit — whose body had not all come
   * when it gave up): a success rule that reads the body cannot judge it
   */
  bodyUnread?: boolean;
}
