import { GraphQLID, GraphQLScalarType } from 'graphql';

/**
 * The schema's ID: GraphQL's ID, whose input is read without the white space around it
 * (`" 2 "` names row 2), as the REST subset reads its ids and as keys are read. Every ID
 * argument and input field takes this one, so each is read alike; white space inside an id
 * stays, and such a value names nothing.
 */
export const ID = new GraphQLScalarType<string, string>({
  name: GraphQLID.name,
  description: GraphQLID.description,
  specifiedByURL: GraphQLID.specifiedByURL,
  serialize: (value) => GraphQLID.serialize(value),
  parseValue: (value) => GraphQLID.parseValue(value).trim(),
  parseLiteral: (node, variables) => GraphQLID.parseLiteral(node, variables).trim(),
});
