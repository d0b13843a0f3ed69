/**
 * Domain errors carry a code; the GraphQL and REST layers map them in one place each
 * (src/resolvers/errors.ts, src/rest/). `field` names the offending input field.
 */
import type { FieldProblem } from './domain/index.js';

export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'NOT_IMPLEMENTED' | 'CONFLICT';

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly problems: FieldProblem[] = field ? [{ field, message }] : [],
  ) {
    super(message);
  }
}

/**
 * What a caller is told when the database is out of reach (stopped, restarting, unreachable).
 * It does not claim that nothing was done: a connection lost while a commit was answered
 * leaves that unknown (a createTicket sent again may make a second ticket).
 */
export const DATABASE_UNAVAILABLE = { code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable (stopped, restarting or out of reach); try again shortly' } as const;

export const badInput = (field: string, message: string) => new DomainError('BAD_USER_INPUT', `${field}: ${message}`, field);

/** Several problems at once; the message lists them all, the first names the field. */
export function invalidInput(problems: FieldProblem[]): DomainError {
  const message = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  return new DomainError('BAD_USER_INPUT', message, problems[0]?.field, problems);
}

export const notFound = (what: string, id: string, field?: string) => new DomainError('NOT_FOUND', `${what} ${id} not found`, field);
/** A refusal by role; `field` names the input refused when the operation itself is allowed but one of its inputs is not (a CLIENT's requesterId). */
export const forbidden = (message = 'your role does not allow this operation', field?: string) => new DomainError('FORBIDDEN', message, field);
export const unauthenticated = (message = 'missing or invalid credentials: send Authorization: Basic base64(email:apiKey) or Bearer apiKey') =>
  new DomainError('UNAUTHENTICATED', message);
