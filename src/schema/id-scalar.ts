import { GraphQLID, GraphQLScalarType } from 'graphql';

/**
 * The schema's ID: GraphQL's ID, whose input is read as the REST subset reads its ids:
 * without the white space around it (`" 2 "` names row 2), and a whole number by its value,
 * leading zeros dropped (`"02"` names row 2). Every ID argument and input field takes this
 * one, so each is read alike; white space inside an id stays, and such a value names
 * nothing. Other ids (a delivery's UUID) are read as they are written.
 */
export const ID = new GraphQLScalarType<string, string>({
  name: GraphQLID.name,
  description: GraphQLID.description,
  specifiedByURL: GraphQLID.specifiedByURL,
  serialize: (value) => GraphQLID.serialize(value),
  parseValue: (value) => readId(GraphQLID.parseValue(value)),
  parseLiteral: (node, variables) => readId(GraphQLID.parseLiteral(node, variables)),
});

function readId(value: string): string {
  const id = value.trim();
  return /^0+[1-9][0-9]*$/.test(id) ? id.replace(/^0+/, '') : id;
}
