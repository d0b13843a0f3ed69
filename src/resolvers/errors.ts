import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DATABASE_UNAVAILABLE, DomainError } from '../errors.js';
import { databaseOutOfReach } from '../db/index.js';
import { literalErrorField, variableErrorField } from './variable-errors.js';

/**
 * The one place where errors become GraphQL errors: domain errors keep their code, field
 * and message; anything unexpected is logged and reported without internals.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown, log: (msg: string, err: unknown) => void): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof DomainError) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: {
        code: original.code,
        ...(original.field ? { field: original.field } : {}),
        ...(original.problems.length > 1 ? { problems: original.problems } : {}),
      },
    };
  }
  const code = formatted.extensions?.code;
  if ((code === 'BAD_USER_INPUT' || code === undefined) && formatted.extensions?.field === undefined && error instanceof GraphQLError) {
    // a variable graphql-js refused before any resolver ran: named like the resolvers' own
    // refusals; BAD_USER_INPUT over the websocket too, where no Apollo gives it a code
    const field = variableErrorField(error);
    if (field) return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT', field } };
  }
  if (code === 'GRAPHQL_VALIDATION_FAILED' && formatted.extensions?.field === undefined && error instanceof GraphQLError) {
    // a value written in the operation that does not fit its type: the code stays (the
    // document is invalid), and the field is named as for a variable
    const field = literalErrorField(error);
    if (field) return { ...formatted, extensions: { ...formatted.extensions, field } };
  }
  if (original && !(original instanceof GraphQLError) && (code === undefined || code === 'INTERNAL_SERVER_ERROR')) {
    if (databaseOutOfReach(original)) {
      log(`the database is unavailable to a GraphQL operation${formatted.path ? ` at ${formatted.path.join('.')}` : ''}`, original);
      return { message: DATABASE_UNAVAILABLE.message, locations: formatted.locations, path: formatted.path, extensions: { code: DATABASE_UNAVAILABLE.code } };
    }
    // the error itself is written through the logger's redaction (src/log-redact.ts)
    log(`unexpected error in a GraphQL operation${formatted.path ? ` at ${formatted.path.join('.')}` : ''}`, original);
    return { message: 'internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
  return formatted;
}
