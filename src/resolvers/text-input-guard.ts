/**
 * The GraphQL edge guard for text: a request whose strings (inline literals, variables,
 * JSON scalar keys) hold U+0000 or a lone surrogate is refused as a whole, before any
 * resolver runs, so such text never reaches PostgreSQL. The error is BAD_USER_INPUT with
 * `field` naming the argument path (`title`, `headers[1].value` inside an `input`
 * argument; `text`, `filter.ticketId` otherwise). Length limits are the services'.
 */
import { BREAK, GraphQLError, Kind, visit, type DocumentNode, type ExecutionArgs, type ExecutionResult, type ValueNode } from 'graphql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { badInput } from '../errors.js';
import type { FieldProblem } from '../domain/index.js';
import { findUnstorable, unstorableProblem } from '../helpdesk/index.js';

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function inValue(node: ValueNode, path: string, variables: Record<string, unknown>, used: Set<string>): FieldProblem | null {
  switch (node.kind) {
    case Kind.STRING: {
      const problem = unstorableProblem(node.value);
      return problem ? { field: path || 'input', message: problem } : null;
    }
    case Kind.LIST:
      for (const [i, item] of node.values.entries()) {
        const p = inValue(item, `${path}[${i}]`, variables, used);
        if (p) return p;
      }
      return null;
    case Kind.OBJECT:
      for (const f of node.fields) {
        const p = inValue(f.value, join(path, f.name.value), variables, used);
        if (p) return p;
      }
      return null;
    case Kind.VARIABLE:
      used.add(node.name.value);
      return findUnstorable(variables[node.name.value], path);
    default:
      return null;
  }
}

/** The first unstorable string of a request, with the input path that holds it; or null. */
export function unstorableInRequest(document: DocumentNode, variables: Record<string, unknown> | null | undefined): FieldProblem | null {
  const vars = variables ?? {};
  const used = new Set<string>();
  let found: FieldProblem | null = null;
  visit(document, {
    Argument(node) {
      // services name the fields of an `input` argument without the prefix (`title`)
      found = inValue(node.value, node.name.value === 'input' ? '' : node.name.value, vars, used);
      return found ? BREAK : false;
    },
  });
  if (found) return found;
  for (const [name, value] of Object.entries(vars)) {
    if (used.has(name)) continue;
    const p = unstorableProblem(name) ? { field: 'variables', message: 'a variable name is not valid text' } : findUnstorable(value, `$${name}`);
    if (p) return p;
  }
  return null;
}

export function textInputError(problem: FieldProblem): GraphQLError {
  const err = badInput(problem.field, problem.message);
  return new GraphQLError(err.message, { originalError: err, extensions: { code: 'BAD_USER_INPUT', field: problem.field, http: { status: 400 } } });
}

/** Apollo Server: refuses the request once its operation is known, before execution. */
export function textInputGuardPlugin<T extends BaseContext>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const problem = unstorableInRequest(document, request.variables);
          if (problem) throw textInputError(problem);
        },
      };
    },
  };
}

/** graphql-ws: wraps `execute` / `subscribe` with the same check. */
export function withTextInputGuard<R>(run: (args: ExecutionArgs) => R): (args: ExecutionArgs) => R | ExecutionResult {
  return (args) => {
    const problem = unstorableInRequest(args.document, args.variableValues as Record<string, unknown> | null | undefined);
    return problem ? { errors: [textInputError(problem)] } : run(args);
  };
}
