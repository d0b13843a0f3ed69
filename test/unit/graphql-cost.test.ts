/** The cost model of src/resolvers/limits.ts as a table: objects an operation may fetch. */
import { describe, expect, it } from 'vitest';
import { buildSchema, parse, type DocumentNode } from 'graphql';
import { readFileSync } from 'node:fs';
import { costLimitError, costModel, operationCost, GRAPHQL_LIMITS, type CostModel } from '../../src/resolvers/limits.js';
import { loadConfig } from '../../src/config.js';
import * as consoleDocuments from '../../web/src/gql/graphql.js';

const schema = buildSchema(readFileSync(new URL('../../src/schema/contract.graphql', import.meta.url), 'utf8'));
/** the default retry policy, 30m for 24h: 49 attempts */
const model = costModel(loadConfig({}));
const cost = (query: string | DocumentNode, variables: Record<string, unknown> = {}, m: CostModel = model) => operationCost(schema, m, typeof query === 'string' ? parse(query) : query, variables, undefined);

const CASES: [string, string, Record<string, unknown>, number][] = [
  ['scalars cost nothing', '{ me { id name } }', {}, 1],
  ['a list counts its first argument', '{ tickets(first: 500) { id } }', {}, 500],
  ['the default of first applies', '{ tickets { id } }', {}, 50],
  ['first from a variable', 'query($n: Int) { tickets(first: $n) { id } }', { n: 7 }, 7],
  ['users count 100: nothing bounds them', '{ users { id } }', {}, 100],
  ['a list of definitions without first counts 10', '{ webhooks { id } }', {}, 10],
  // a null first gets the page size the resolver gives it: the field's default for first
  ['first: null counts the default page size', '{ tickets(first: null) { id } }', {}, 50],
  ['a null first from a variable counts the default page size', 'query($n: Int) { tickets(first: $n) { id } }', { n: null }, 50],
  ['an absent first variable counts the default page size', 'query($n: Int) { tickets(first: $n) { id } }', {}, 50],
  ["a ticket's deliveries without first count its page of 20", '{ ticket(id: 1) { deliveries { nodes { id } } } }', {}, 1 + 1 + 20],
  ["a ticket's deliveries with first: null count its page of 20", '{ ticket(id: 1) { deliveries(first: null) { nodes { id } } } }', {}, 1 + 1 + 20],
  ['nested lists multiply', '{ tickets(first: 20) { requester { id } posts { author { id } } } }', {}, 20 * (1 + 1 + 50 * 2)],
  ["a ticket's posts count 50 and its sub-tickets 20: nothing bounds them", '{ ticket(id: 1) { posts { id } children { id } } }', {}, 1 + 50 + 20],
  ['a ticket with its sub-tickets and all their posts', '{ ticket(id: 1) { posts { author { id } } children { posts { author { id } } } } }', {}, 1 + 50 * 2 + 20 * (1 + 50 * 2)],
  ["a delivery's attempts count the retry policy's 49 (24h / 30m + 1)", '{ delivery(id: 1) { attempts { number } } }', {}, 1 + 49],
  ['stats count a bucket per hour of the period, and one more', '{ webhook(id: 1) { stats(hours: 720) { buckets { start } } } }', {}, 1 + 1 + 721],
  ['stats without hours count the default 24 hours', '{ webhook(id: 1) { stats { buckets { start } } } }', {}, 1 + 1 + 25],
  ['stats(hours: null) count the default 24 hours, as the resolver reads it', '{ webhook(id: 1) { stats(hours: null) { buckets { start } } } }', {}, 1 + 1 + 25],
  ['stats for hours the service refuses count no bucket', '{ webhook(id: 1) { stats(hours: 721) { buckets { start } } } }', {}, 1 + 1],
  ['stats hours from a variable', 'query($h: Int) { webhook(id: 1) { stats(hours: $h) { succeeded buckets { start } } } }', { h: 2 }, 1 + 1 + 3],
  ['a page multiplies its nodes by first', '{ deliveries(first: 200) { nodes { id webhook { id } } totalCount } }', {}, 1 + 200 * 2],
  // the field refuses such a first (naming it) and fetches nothing: its error, not the cost limit's, says what to change
  ['a first beyond what tickets take counts nothing', '{ tickets(first: 100000) { posts { author { id } } } }', {}, 0],
  ['a first beyond what deliveries take, from a variable, counts nothing', 'query($n: Int) { deliveries(first: $n) { nodes { attempts { number } } } }', { n: 201 }, 1],
  ["a first beyond what a ticket's deliveries take counts nothing", '{ ticket(id: 1) { deliveries(first: 201) { nodes { id } } } }', {}, 2],
  ['aliases add up', '{ a: tickets(first: 10) { id } b: tickets(first: 20) { id } }', {}, 30],
  ['a skipped field costs nothing', 'query($s: Boolean!) { tickets(first: 500) @skip(if: $s) { id } me { id } }', { s: true }, 1],
  ['fragments count where they are spread', '{ tickets(first: 10) { ...T } } fragment T on Ticket { children { id } }', {}, 10 * (1 + 20)],
  ['introspection counts nothing', '{ __schema { types { name fields { name } } } }', {}, 0],
];

describe('operation cost', () => {
  for (const [name, query, variables, cost_] of CASES) {
    it(name, () => expect(cost(query, variables)).toBe(cost_));
  }
  it('the limit sits between a page of 196 tickets with posts and one of 197', () => {
    expect(cost('{ tickets(first: 196) { posts { id } } }')).toBe(196 * 51);
    expect(cost('{ tickets(first: 197) { posts { id } } }')).toBeGreaterThan(GRAPHQL_LIMITS.maxCost);
  });
  it("a delivery's attempts follow the configured retry policy", () => {
    const hourly = costModel(loadConfig({ DESKHOOKS_RETRY_INTERVAL: '1h', DESKHOOKS_RETRY_WINDOW: '24h' }));
    expect(cost('{ delivery(id: 1) { attempts { number } } }', {}, hourly)).toBe(1 + 25);
    // a page of 200 deliveries with their attempts: 200 × (1 + 49) within the limit, not with their webhooks too
    const page = (more: string) => `{ deliveries(first: 200) { nodes { attempts { number } ${more} } } }`;
    expect(cost(page(''))).toBe(1 + 200 * (1 + 49));
    expect(cost(page('webhook { id }'))).toBeGreaterThan(GRAPHQL_LIMITS.maxCost);
    expect(cost(page('webhook { id }'), {}, hourly)).toBeLessThanOrEqual(GRAPHQL_LIMITS.maxCost);
  });
  it('the limit admits one delivery with every attempt its retry policy allows, however short the retry interval', () => {
    const consoleDelivery = (consoleDocuments as Record<string, unknown>).ConsoleDeliveryDocument as DocumentNode;
    expect(consoleDelivery).toBeDefined();
    let pagesRefused = 0;
    for (const interval of ['30m', '5s', '500ms']) {
      const m = costModel(loadConfig({ DESKHOOKS_RETRY_INTERVAL: interval, DESKHOOKS_RETRY_WINDOW: '24h' }));
      expect(m.maxCost).toBe(Math.max(GRAPHQL_LIMITS.maxCost, m.attempts + 1_000));
      expect(costLimitError(schema, m, consoleDelivery, { id: '1' }, undefined), interval).toBeNull();
      // a page of deliveries with their attempts is still refused, naming the attempts counted
      const page = parse('{ deliveries(first: 2) { nodes { attempts { number } } } }');
      if (m.attempts > GRAPHQL_LIMITS.maxCost) {
        expect(costLimitError(schema, m, page, {}, undefined)?.message).toMatch(new RegExp(`the cost limit is ${m.maxCost.toLocaleString('en-US')}\\..*Delivery\\.attempts ${m.attempts.toLocaleString('en-US')}`));
        pagesRefused++;
      }
    }
    // 5s and 500ms over 24h allow more attempts than the default limit: the page was checked for both
    expect(pagesRefused).toBe(2);
  });
  it("the webhooks' stats over 720 hours twice are refused, naming the buckets counted", () => {
    const query = parse('{ a: webhooks { stats(hours: 720) { buckets { start } } } b: webhooks { stats(hours: 720) { buckets { start } } } }');
    expect(cost(query)).toBe(2 * 10 * (1 + 1 + 721));
    const refused = costLimitError(schema, model, query, {}, undefined);
    expect(refused?.message).toMatch(/up to 14,460 objects; the cost limit is 10,000\. .*counted here: (?=.*Query\.webhooks 10\b)(?=.*WebhookStats\.buckets 721\b)/);
    expect(costLimitError(schema, model, parse('{ a: webhooks { stats { buckets { start } } } b: webhooks { stats { buckets { start } } } }'), {}, undefined)).toBeNull();
  });
  it('refusals name what they counted for each list without first', () => {
    const refused = costLimitError(schema, model, parse('{ tickets { posts { author { id } } } deliveries(first: 100) { nodes { attempts { number } } } }'), {}, undefined);
    expect(refused?.message).toMatch(/counted here: (?=.*Query\.tickets 50\b)(?=.*Ticket\.posts 50\b)(?=.*Delivery\.attempts 49\b)/);
  });
  it("the console's queries and subscriptions are within the limit", () => {
    // the variables they take (a log page of 25 at most)
    const variables: Record<string, unknown> = { first: 25, id: '1', ticketId: '1', filter: {} };
    const documents = Object.entries(consoleDocuments).filter(([name, doc]) => name.endsWith('Document') && (doc as DocumentNode).definitions.some((d) => d.kind === 'OperationDefinition' && d.operation !== 'mutation'));
    expect(documents.length).toBeGreaterThan(15);
    for (const [name, doc] of documents) {
      const c = cost(doc as DocumentNode, variables);
      expect(c, name).not.toBeNull();
      expect(c!, name).toBeLessThanOrEqual(GRAPHQL_LIMITS.maxCost);
    }
  });
  it('one parsed document asked again with other variables: estimated again where a variable is a first or a directive argument', () => {
    const paged = parse('query($n: Int) { tickets(first: $n) { id } }');
    expect([7, 300, 7].map((n) => cost(paged, { n }))).toEqual([7, 300, 7]);
    const included = parse('query($p: Boolean!) { tickets(first: 100) { id posts @include(if: $p) { id } } }');
    expect([false, true, false].map((p) => cost(included, { p }))).toEqual([100, 100 * (1 + 50), 100]);
    const hours = parse('query($h: Int) { webhook(id: 1) { stats(hours: $h) { buckets { start } } } }');
    expect([1, 720, 1].map((h) => cost(hours, { h }))).toEqual([1 + 1 + 2, 1 + 1 + 721, 1 + 1 + 2]);
    // input variables do not change the estimate; a first fit decides for the next ones
    const create = parse('mutation($i: CreateTicketInput!) { createTicket(input: $i) { id requester { id } } }');
    expect(cost(create, {})).toBeNull();
    expect(cost(create, { i: { title: 'a', description: 'b' } })).toBe(2);
    expect(cost(create, { i: { title: 'c', description: 'd' } })).toBe(2);
  });
  it('variables that do not fit leave the verdict to execution', () => {
    expect(cost('query($n: Int!) { tickets(first: $n) { id } }')).toBeNull();
  });
});
