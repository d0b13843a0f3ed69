/**
 * The input field a variable's coercion error is about, named as domain errors name it
 * (`priority`, `successRule.statuses`, `headers[0].name`, `filter.webhookId`): graphql-js
 * refuses a bad variable value before any resolver runs, with a message only
 * (`Variable "$i" got invalid value "SUPER" at "i.priority"; …`). The field is where the
 * operation passes the variable (an argument, or a field of an input object written in
 * the operation; an `input` argument is left out, as resolvers name its fields alone),
 * then the path inside the value, then the missing or unknown field the message names.
 */
import { parse, visit, type GraphQLError } from 'graphql';

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
