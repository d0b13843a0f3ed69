/** The cost model of src/resolvers/limits.ts as a table: objects an operation may fetch. */
import { describe, expect, it } from 'vitest';
import { buildSchema, parse } from 'graphql';
import { readFileSync } from 'node:fs';
import { operationCost, GRAPHQL_LIMITS } from '../../src/resolvers/limits.js';

const schema = buildSchema(readFileSync(new URL('../../src/schema/contract.graphql', import.meta.url), 'utf8'));

const CASES: [string, string, Record<string, unknown>, number][] = [
  ['scalars cost nothing', '{ me { id name } }', {}, 1],
  ['a list counts its first argument', '{ tickets(first: 500) { id } }', {}, 500],
  ['the default of first applies', '{ tickets { id } }', {}, 50],
  ['first from a variable', 'query($n: Int) { tickets(first: $n) { id } }', { n: 7 }, 7],
  ['a list without first counts 10', '{ users { id } }', {}, 10],
  // a null first gets the page size the resolver gives it: the field's default for first
  ['first: null counts the default page size', '{ tickets(first: null) { id } }', {}, 50],
  ['a null first from a variable counts the default page size', 'query($n: Int) { tickets(first: $n) { id } }', { n: null }, 50],
  ['an absent first variable counts the default page size', 'query($n: Int) { tickets(first: $n) { id } }', {}, 50],
  ["a ticket's deliveries without first count its page of 20", '{ ticket(id: 1) { deliveries { nodes { id } } } }', {}, 1 + 1 + 20],
  ["a ticket's deliveries with first: null count its page of 20", '{ ticket(id: 1) { deliveries(first: null) { nodes { id } } } }', {}, 1 + 1 + 20],
  ['nested lists multiply', '{ tickets(first: 100) { requester { id } posts { author { id } } } }', {}, 100 * (1 + 1 + 10 * 2)],
  ['a page multiplies its nodes by first', '{ deliveries(first: 200) { nodes { id webhook { id } } totalCount } }', {}, 1 + 200 * 2],
  ['aliases add up', '{ a: tickets(first: 10) { id } b: tickets(first: 20) { id } }', {}, 30],
  ['a skipped field costs nothing', 'query($s: Boolean!) { tickets(first: 500) @skip(if: $s) { id } me { id } }', { s: true }, 1],
  ['fragments count where they are spread', '{ tickets(first: 10) { ...T } } fragment T on Ticket { children { id } }', {}, 10 * (1 + 10)],
  ['introspection counts nothing', '{ __schema { types { name fields { name } } } }', {}, 0],
];

describe('operation cost', () => {
  for (const [name, query, variables, cost] of CASES) {
    it(name, () => expect(operationCost(schema, parse(query), variables, undefined)).toBe(cost));
  }
  it('the limit sits between a page of 500 with posts and one with posts and their authors', () => {
    expect(operationCost(schema, parse('{ tickets(first: 500) { posts { id } } }'), {}, undefined)).toBeLessThanOrEqual(GRAPHQL_LIMITS.maxCost);
    expect(operationCost(schema, parse('{ tickets(first: 500) { posts { author { id } } } }'), {}, undefined)).toBeGreaterThan(GRAPHQL_LIMITS.maxCost);
  });
  it('one parsed document asked again with other variables: estimated again where a variable is a first or a directive argument', () => {
    const paged = parse('query($n: Int) { tickets(first: $n) { id } }');
    expect([7, 300, 7].map((n) => operationCost(schema, paged, { n }, undefined))).toEqual([7, 300, 7]);
    const included = parse('query($p: Boolean!) { tickets(first: 100) { id posts @include(if: $p) { id } } }');
    expect([false, true, false].map((p) => operationCost(schema, included, { p }, undefined))).toEqual([100, 100 * (1 + 10), 100]);
    // input variables do not change the estimate; a first fit decides for the next ones
    const create = parse('mutation($i: CreateTicketInput!) { createTicket(input: $i) { id requester { id } } }');
    expect(operationCost(schema, create, {}, undefined)).toBeNull();
    expect(operationCost(schema, create, { i: { title: 'a', description: 'b' } }, undefined)).toBe(2);
    expect(operationCost(schema, create, { i: { title: 'c', description: 'd' } }, undefined)).toBe(2);
  });
  it('variables that do not fit leave the verdict to execution', () => {
    expect(operationCost(schema, parse('query($n: Int!) { tickets(first: $n) { id } }'), {}, undefined)).toBeNull();
  });
});
