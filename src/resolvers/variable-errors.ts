/**
 * The input field a variable's coercion error is about, named as domain errors name it
 * (`priority`, `successRule.statuses`, `headers[0].name`, `filter.webhookId`): graphql-js
 * refuses a bad variable value before any resolver runs, with a message only
 * (`Variable "$i" got invalid value "SUPER" at "i.priority"; …`). The field is where the
 * operation passes the variable (an argument, or a field of an input object written in
 * the operation; an `input` argument is left out, as resolvers name its fields alone),
 * then the path inside the value, then the missing or unknown field the message names.
 */
import { Kind, parse, visit, type GraphQLError, type ObjectFieldNode, type ValueNode } from 'graphql';

const INVALID = /^Variable "\$(\w+)" got invalid value .*?(?: at "\w+((?:\.\w+|\[\d+\])*)")?; (?:Field "(\w+)" (?:of required type|is not defined))?/s;
const MISSING = /^Variable "\$(\w+)" of (?:required|non-null) type /;

/** The field the error names, or undefined when it is no variable coercion error. */
export function variableErrorField(error: GraphQLError): string | undefined {
  const invalid = INVALID.exec(error.message);
  const name = invalid?.[1] ?? MISSING.exec(error.message)?.[1];
  if (!name) return undefined;
  const inner = (invalid?.[2] ?? '') + (invalid?.[3] ? `.${invalid[3]}` : '');
  const field = (passedAs(error, name) ?? name) + inner;
  return field.replace(/^\./, '') || name;
}

/** Where the operation passes `$name` (`filter`, `headers`, `` for `input` itself); undefined when not found. */
function passedAs(error: GraphQLError, name: string): string | undefined {
  const body = error.source?.body;
  if (!body) return undefined;
  let found: string | undefined;
  const path: string[] = [];
  try {
    visit(parse(body), {
      Argument: { enter: (n) => void path.push(n.name.value), leave: () => void path.pop() },
      ObjectField: { enter: (n) => void path.push(n.name.value), leave: () => void path.pop() },
      Variable: (n) => {
        if (found === undefined && n.name.value === name && path.length) found = path.join('.');
      },
    });
  } catch {
    return undefined; // a document that does not parse has no variable errors
  }
  if (found === undefined) return undefined;
  return found === 'input' ? '' : found.replace(/^input\./, '');
}

/**
 * The input field a validation error about a value written in the operation itself is
 * about (`createTicket(input: { priority: SUPER })`, `tickets(status: NOPE)`): graphql-js
 * names the value and its type only. Named as variableErrorField names a variable's field
 * (`priority`, `status`, `filter.since`, `headers[0].name`), as is an argument not given or
 * not known; undefined for an error about anything else (an unknown field).
 */
export function literalErrorField(error: GraphQLError): string | undefined {
  // an argument not given, or one the field does not take: the message names it
  const argument = /^Field "\w+" argument "(\w+)" of type "[^"]+" is required, but it was not provided\.$|^Unknown argument "(\w+)" on field /.exec(error.message);
  if (argument) return argument[1] ?? argument[2];
  const node = error.nodes?.[0];
  const start = node?.loc?.start;
  const body = error.source?.body;
  if (start === undefined || !body || !node) return undefined;
  let found: string | undefined;
  const walk = (value: ValueNode | ObjectFieldNode, path: string): void => {
    if (found !== undefined) return;
    if (value.loc?.start === start && value.kind === node.kind) {
      // a missing required field is reported on its object, the message naming the field; any
      // other error on an object is about the object itself (`title: { text: "t" }`)
      const missing = value.kind === Kind.OBJECT ? /^Field "(?:\w+\.)?(\w+)" of required type/.exec(error.message)?.[1] : undefined;
      found = missing ? `${path}.${missing}` : path;
      return;
    }
    if (value.kind === Kind.OBJECT_FIELD) return walk(value.value, path);
    if (value.kind === Kind.OBJECT) for (const f of value.fields) walk(f, `${path}.${f.name.value}`);
    if (value.kind === Kind.LIST) value.values.forEach((v, i) => walk(v, `${path}[${i}]`));
  };
  try {
    visit(parse(body), {
      Argument: (n) => {
        walk(n.value, n.name.value);
        return false;
      },
    });
  } catch {
    return undefined;
  }
  if (found === undefined) return undefined;
  return found.replace(/^input\./, '');
}
