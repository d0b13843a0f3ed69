/**
 * The GraphQL limits, the same on both ways in: HTTP (Apollo, src/http/server.ts) and the
 * websocket (graphql-ws). Each refusal is BAD_USER_INPUT with a message naming the limit.
 *
 * Order matters: the cheap, linear checks (tokens while parsing, then depth and repeated
 * fields) run before graphql-js's own rules, some of which are quadratic in repeated
 * fields; the cost needs the variables and runs last, once the operation is known.
 */
import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  parse,
  specifiedRules,
  validate,
  visit,
  type ASTNode,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createRequire } from 'node:module';
import type { ComplexityEstimator, getComplexity as GetComplexity } from 'graphql-query-complexity';
import { DomainError } from '../errors.js';
import type { Config } from '../config.js';
import { DELIVERY_PAGE_RANGE, maxAttempts, statsBucketLimit } from '../delivery/index.js';
import { TICKET_PAGE_RANGE } from '../helpdesk/index.js';

// its CommonJS build, which loads the same graphql instance as Apollo and type-graphql
// (its ESM build may be handed graphql's ESM build: "another module or realm")
const { getComplexity } = createRequire(import.meta.url)('graphql-query-complexity') as { getComplexity: typeof GetComplexity };

export const GRAPHQL_LIMITS = {
  /** lexical tokens in one document */
  maxTokens: 10_000,
  /** nested selection levels; introspection fields are exempt (graphql-js bounds them: MaxIntrospectionDepthRule) */
  maxDepth: 12,
  /** aliased or repeated fields at the root of an operation, and in the whole document */
  maxRepeatedFields: 100,
  /** objects an operation may fetch, or more where one delivery can hold more attempts (CostModel.maxCost): lists count their `first` argument, their default page size, or what they can hold (costModel, GROWING_LIST_SIZES) */
  maxCost: 10_000,
  /** websocket: operations in progress on one connection (subscriptions, and queries while they run) */
  maxSubscriptionsPerConnection: 20,
  /** websocket: one message, in bytes; larger ones close the socket with 1009 */
  maxMessageBytes: 1024 * 1024,
} as const;

/**
 * What a list that takes no `first` argument counts, by field coordinate, where nothing
 * bounds its length: a ticket's posts and sub-tickets and the users grow with the data.
 * Each counts a long list of its kind — a conversation of 50 posts, a ticket split into 20
 * sub-tickets — so that one nested under a page or another list is priced as the work it
 * can be, while one ticket with its sub-tickets and all their posts (1,000 posts) stays
 * within the limit. Users hold no list: 100 of them bounds how often one operation reads
 * the whole list. The definitions an admin writes (webhooks, rules, custom fields, their
 * headers, mappings, conditions and actions) and the catalogues count UNBOUNDED_LIST_SIZE.
 */
export const GROWING_LIST_SIZES: Readonly<Record<string, number>> = Object.freeze({ 'Ticket.posts': 50, 'Ticket.children': 20, 'Query.users': 100 });

/** What any other list that takes no `first` counts (see GROWING_LIST_SIZES). */
export const UNBOUNDED_LIST_SIZE = 10;

/** What the cost limit admits besides one delivery's attempts (CostModel.maxCost). */
const BESIDE_ONE_DELIVERY = 1_000;

/** The bounds of the cost estimate that come from this process's configuration (costModel). */
export interface CostModel {
  /** Delivery.attempts: the most attempts the retry policy makes of one delivery */
  readonly attempts: number;
  /**
   * The objects an operation may fetch: GRAPHQL_LIMITS.maxCost, or one delivery's attempts
   * and 1,000 objects besides where that is more, so that one delivery read with every
   * attempt it can hold always fits, whatever the retry policy (a retry interval of seconds,
   * as in a test setup, makes tens of thousands).
   */
  readonly maxCost: number;
}

/** The cost model of a process: the retry policy's attempts (the policy main.ts builds from the same config). */
export function costModel(config: Pick<Config, 'retryIntervalMs' | 'retryWindowMs'>): CostModel {
  const attempts = maxAttempts({ intervalMs: config.retryIntervalMs, windowMs: config.retryWindowMs });
  return Object.freeze({ attempts, maxCost: Math.max(GRAPHQL_LIMITS.maxCost, attempts + BESIDE_ONE_DELIVERY) });
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** A refusal: a GraphQL error whose original error is the domain error formatGraphQLError maps. */
export function limitError(message: string, field: string | undefined = 'query'): GraphQLError {
  const domain = field ? new DomainError('BAD_USER_INPUT', `${field}: ${message}`, field) : new DomainError('BAD_USER_INPUT', message);
  return new GraphQLError(domain.message, { originalError: domain, extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}), http: { status: 400 } } });
}

/** Parses with the token limit; a syntax error is thrown as graphql-js reports it. */
export function parseDocument(source: string): DocumentNode {
  try {
    return parse(source, { maxTokens: GRAPHQL_LIMITS.maxTokens });
  } catch (err) {
    // graphql-js reports the token limit as a syntax error ("Document contains more that N tokens")
    if (err instanceof GraphQLError && /contains more th(?:an|at) \d+ tokens/.test(err.message)) {
      throw limitError(`the document has more than ${fmt(GRAPHQL_LIMITS.maxTokens)} tokens; the token limit is ${fmt(GRAPHQL_LIMITS.maxTokens)}`);
    }
    throw err;
  }
}

/** Depth of a selection set, not descending into introspection fields; fragments are measured once. */
function depthMeter(fragments: Map<string, FragmentDefinitionNode>) {
  const memo = new Map<string, number>();
  const depthOf = (set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let deepest = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) deepest = Math.max(deepest, 1 + (sel.name.value.startsWith('__') ? 0 : depthOf(sel.selectionSet)));
      else if (sel.kind === Kind.INLINE_FRAGMENT) deepest = Math.max(deepest, depthOf(sel.selectionSet));
      else deepest = Math.max(deepest, fragmentDepth(sel.name.value));
    }
    return deepest;
  };
  const fragmentDepth = (name: string): number => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    memo.set(name, 0); // a cycle counts nothing here; NoFragmentCyclesRule refuses it
    const depth = depthOf(fragments.get(name)?.selectionSet);
    memo.set(name, depth);
    return depth;
  };
  return depthOf;
}

/** Refuses operations nested deeper than `max` selection levels (introspection fields exempt). */
export function depthLimit(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const depthOf = depthMeter(fragmentsOf(context.getDocument()));
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet);
        if (depth > max) context.reportError(asValidationError(limitError(`the operation is nested ${depth} levels deep; the depth limit is ${max}`), node));
      },
    };
  };
}

/**
 * Refuses more than `max` aliased or repeated fields at the root of an operation, or in
 * the whole document (every selection set, fragments expanded where they are spread):
 * 60,000 aliases of one field are as many resolver calls, and graphql-js compares
 * repeated fields pairwise while validating (up to ~0.5 s for one 10,000-token document).
 */
export function repeatedFieldsLimit(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
    // per fragment: its fields (a spread twice counts twice) and the names it selects without alias
    const memo = new Map<string, { total: number; plain: Set<string> }>();
    const fieldsOf = (set: SelectionSetNode | undefined, into: { total: number; plain: Set<string> }) => {
      for (const sel of set?.selections ?? []) {
        if (sel.kind === Kind.FIELD) {
          into.total += 1;
          if (!sel.alias) into.plain.add(sel.name.value);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) fieldsOf(sel.selectionSet, into);
        else {
          const f = fragmentFields(sel.name.value);
          into.total += f.total;
          for (const name of f.plain) into.plain.add(name);
        }
      }
      return into;
    };
    const fragmentFields = (name: string) => {
      const known = memo.get(name);
      if (known) return known;
      memo.set(name, { total: 0, plain: new Set() }); // cycles: refused by NoFragmentCyclesRule
      const f = fieldsOf(fragments.get(name)?.selectionSet, { total: 0, plain: new Set() });
      memo.set(name, f);
      return f;
    };
    // every field beyond the first plain occurrence of each name is aliased or repeated
    const repeatedIn = (set: SelectionSetNode) => {
      const f = fieldsOf(set, { total: 0, plain: new Set() });
      return f.total - f.plain.size;
    };
    const count = (n: number) => (n > 1e9 ? 'over a billion' : fmt(n));
    let inDocument = 0;
    let refused = false;
    return {
      OperationDefinition(node) {
        const repeated = repeatedIn(node.selectionSet);
        inDocument += repeated;
        if (repeated > max) {
          refused = true;
          context.reportError(asValidationError(limitError(`${count(repeated)} aliased or repeated root-level fields; the limit is ${max}`), node));
        }
      },
      Field(node) {
        if (node.selectionSet) inDocument += repeatedIn(node.selectionSet);
      },
      Document: {
        leave(node) {
          if (!refused && inDocument > max) {
            context.reportError(asValidationError(limitError(`${count(inDocument)} aliased or repeated fields in the document; the limit is ${max}`), node));
          }
        },
      },
    };
  };
}

/**
 * Refuses an operation that selects `__schema` more than once (aliased, repeated, or
 * through fragments). Introspection costs nothing by the cost limit and needs no key, yet
 * each full `__schema` answer is ~100 KB built on the main thread: 40 aliases of it in one
 * request took a second and 3.9 MB, for anyone. Every client introspects once.
 */
export function schemaIntrospectionLimit(): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
    const memo = new Map<string, number>();
    const count = (set: SelectionSetNode | undefined): number => {
      let n = 0;
      for (const sel of set?.selections ?? []) {
        if (sel.kind === Kind.FIELD) n += sel.name.value === '__schema' ? 1 : 0;
        else if (sel.kind === Kind.INLINE_FRAGMENT) n += count(sel.selectionSet);
        else {
          const name = sel.name.value;
          if (!memo.has(name)) {
            memo.set(name, 0); // cycles: refused by NoFragmentCyclesRule
            memo.set(name, count(fragments.get(name)?.selectionSet));
          }
          n += memo.get(name)!;
        }
      }
      return n;
    };
    return {
      OperationDefinition(node) {
        const n = count(node.selectionSet);
        if (n > 1) context.reportError(asValidationError(limitError(`the operation selects __schema ${n > 1e9 ? 'over a billion' : fmt(n)} times; the limit is once per operation`), node));
      },
    };
  };
}

/** The rules our limits add to graphql-js's; Apollo gets them as validationRules. */
export const limitRules: ValidationRule[] = [depthLimit(GRAPHQL_LIMITS.maxDepth), repeatedFieldsLimit(GRAPHQL_LIMITS.maxRepeatedFields), schemaIntrospectionLimit()];

/** Our limits alone (linear in the document); empty when it is within them. */
export function checkLimits(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
  return validate(schema, document, limitRules);
}

/** Limits first, then graphql-js's rules (what graphql-ws would run), for the websocket. */
export function validateDocument(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
  const refused = checkLimits(schema, document);
  return refused.length ? refused : validate(schema, document, specifiedRules);
}

/**
 * The `first` each page field takes, as its service checks it: a page asked with another
 * fetches nothing (the field's error names `first`), so it counts none and that error,
 * not the cost limit, tells the caller what to change.
 */
const PAGE_RANGES: Readonly<Record<string, { min: number; max: number }>> = {
  'Query.tickets': TICKET_PAGE_RANGE,
  'Query.deliveries': DELIVERY_PAGE_RANGE,
  'Ticket.deliveries': DELIVERY_PAGE_RANGE,
};

/**
 * How many items a list or page field counts: its `first` argument (none when its service
 * refuses it: PAGE_RANGES); with none, or null, the default the field declares for `first`
 * (the page size its resolver applies to an absent or null first: TICKET_PAGE_SIZE,
 * DELIVERY_PAGE_SIZE …). `defaulted` is set when the field's default was counted;
 * undefined items: the field takes no `first`.
 */
function itemsCounted(coordinate: string, field: GraphQLField<unknown, unknown>, node: FieldNode, args: Record<string, unknown>): { items: number | undefined; defaulted: boolean } {
  const declared = field.args.find((a) => a.name === 'first')?.defaultValue;
  // graphql-js has put the default into an absent first already; a null stays null
  if (typeof args.first === 'number') {
    const given = (node.arguments ?? []).some((a) => a.name.value === 'first');
    const range = PAGE_RANGES[coordinate];
    if (range && (args.first < range.min || args.first > range.max)) return { items: 0, defaulted: false };
    return { items: Math.max(0, args.first), defaulted: !given && args.first === declared };
  }
  return typeof declared === 'number' ? { items: Math.max(0, declared), defaulted: true } : { items: undefined, defaulted: false };
}

/** An argument's value, or the default the field declares for it when it is null (as the resolvers read a null). */
function argumentOrDefault(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>, name: string): unknown {
  return args[name] ?? field.args.find((a) => a.name === name)?.defaultValue;
}

/**
 * Fields whose selection holds a list whose length is one of the field's arguments: the
 * field multiplies its selection by that length (an overestimate by at most the length for
 * whatever else it selects), and the list counts one each. `list` names it in the message.
 */
const SIZED_BY_PARENT: Readonly<Record<string, { list: string; size: (field: GraphQLField<unknown, unknown>, args: Record<string, unknown>) => number }>> = {
  // stats(hours) answers a bucket per clock hour of the period
  'Webhook.stats': {
    list: 'WebhookStats.buckets',
    size: (field, args) => {
      const hours = argumentOrDefault(field, args, 'hours');
      return typeof hours === 'number' ? statsBucketLimit(hours) : 0;
    },
  },
};
const LISTS_SIZED_BY_PARENT = new Set(Object.values(SIZED_BY_PARENT).map((s) => s.list));

/** The arguments the estimate reads: a variable in one of them changes it. */
const SIZE_ARGUMENTS = new Set(['first', 'hours']);

/**
 * Objects fetched: an object field counts 1 (times its list length) plus what it selects;
 * scalars count nothing. A list's length is itemsCounted; a page field (DeliveryPage)
 * multiplies its selection by that (its pageInfo too: an overestimate by at most the page).
 * A list that takes no `first` counts what it can hold: the model's bound, its parent's
 * argument (SIZED_BY_PARENT), or GROWING_LIST_SIZES / UNBOUNDED_LIST_SIZE where nothing
 * bounds it. Introspection counts nothing: graphql-js's MaxIntrospectionDepthRule bounds
 * it. Each list counted at a size the caller did not give is noted in `counted`
 * (coordinate → the largest size counted for it).
 */
const objectsFetched = (model: CostModel, counted: Map<string, number>): ComplexityEstimator => ({ type, field, node, args, childComplexity }) => {
  if (field.name.startsWith('__')) return 0;
  if (!isCompositeType(getNamedType(field.type))) return 0;
  const coordinate = `${type.name}.${field.name}`;
  const note = (at: string, n: number) => counted.set(at, Math.max(n, counted.get(at) ?? 0));
  const sized = SIZED_BY_PARENT[coordinate];
  if (sized) {
    const n = sized.size(field, args);
    note(sized.list, n);
    return 1 + n * childComplexity;
  }
  const { items, defaulted } = itemsCounted(coordinate, field, node, args);
  if (defaulted) note(coordinate, items!);
  if (isListType(getNullableType(field.type))) {
    // a page's nodes, and a list its parent sizes: one each here, the parent multiplies
    const pageNodes = field.name === 'nodes' && isObjectType(type) && 'pageInfo' in type.getFields();
    if (pageNodes || LISTS_SIZED_BY_PARENT.has(coordinate)) return 1 + childComplexity;
    if (items !== undefined) return items * (1 + childComplexity);
    const length = coordinate === 'Delivery.attempts' ? model.attempts : (GROWING_LIST_SIZES[coordinate] ?? UNBOUNDED_LIST_SIZE);
    note(coordinate, length);
    return length * (1 + childComplexity);
  }
  if (items !== undefined) return 1 + items * childComplexity;
  return 1 + childComplexity;
};

/** An operation's estimated cost and the list sizes it counted that the operation did not give. */
interface Estimate {
  cost: number;
  counted: ReadonlyMap<string, number>;
}

/**
 * The estimated number of objects the operation fetches; null when the variables do not
 * fit (execution reports that).
 */
export function operationCost(schema: GraphQLSchema, model: CostModel, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined): number | null {
  return estimate(schema, model, document, variables, operationName)?.cost ?? null;
}

/**
 * operationCost with what it counted. A document whose variables cannot change the
 * estimate (none is a size argument or a directive's argument) is estimated once per
 * operation name and model.
 */
function estimate(schema: GraphQLSchema, model: CostModel, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined): Estimate | null {
  if (costReadsVariables(document)) return estimateCost(schema, model, document, variables, operationName);
  let byDocument = knownCosts.get(model);
  if (!byDocument) knownCosts.set(model, (byDocument = new WeakMap()));
  let costs = byDocument.get(document);
  if (!costs) byDocument.set(document, (costs = new Map()));
  const key = operationName ?? '';
  if (costs.has(key)) return costs.get(key)!;
  const result = estimateCost(schema, model, document, variables, operationName);
  // null: these variables did not fit; the next request's may
  if (result !== null) costs.set(key, result);
  return result;
}

/** Costs of parsed documents (Apollo and graphql-ws reuse a document for the same text), per model. */
const knownCosts = new WeakMap<CostModel, WeakMap<DocumentNode, Map<string, Estimate>>>();
const readsVariables = new WeakMap<DocumentNode, boolean>();

/** Whether a variable is a size argument (SIZE_ARGUMENTS) or a directive's argument (@include/@skip) anywhere in the document. */
function costReadsVariables(document: DocumentNode): boolean {
  let reads = readsVariables.get(document);
  if (reads === undefined) {
    reads = false;
    const hasVariable = (node: ASTNode) => {
      let found = false;
      visit(node, { Variable: () => void (found = true) });
      return found;
    };
    visit(document, {
      Argument: (arg) => void (SIZE_ARGUMENTS.has(arg.name.value) && hasVariable(arg.value) && (reads = true)),
      Directive: (d) => void ((d.arguments ?? []).some((a) => hasVariable(a.value)) && (reads = true)),
    });
    readsVariables.set(document, reads);
  }
  return reads;
}

function estimateCost(schema: GraphQLSchema, model: CostModel, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined): Estimate | null {
  const counted = new Map<string, number>();
  try {
    const cost = getComplexity({ schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined, estimators: [objectsFetched(model, counted)] });
    return { cost, counted };
  } catch (err) {
    // the library's bound on fragment expansion (10,000 selections): far beyond any cost we accept
    if (err instanceof GraphQLError && /maximum allowed number of nodes/.test(err.message)) return { cost: Number.POSITIVE_INFINITY, counted };
    return null;
  }
}

/** The cost-limit refusal for this operation, or null when it is within the limit. */
export function costLimitError(schema: GraphQLSchema, model: CostModel, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined): GraphQLError | null {
  const result = estimate(schema, model, document, variables, operationName);
  if (result === null || result.cost <= model.maxCost) return null;
  const estimated = Number.isFinite(result.cost) ? `up to ${fmt(result.cost)} objects` : 'more objects than can be counted';
  const counted = [...result.counted].map(([coordinate, size]) => `${coordinate} ${fmt(size)}`).join(', ');
  return limitError(
    `the operation would fetch ${estimated}; the cost limit is ${fmt(model.maxCost)}. A list counts its first argument, or without one (or with null) its default page size; ` +
      'a list that takes no first counts the most it can hold, or an estimate where nothing bounds it' +
      (counted ? ` (counted here: ${counted})` : '') +
      ': ask for fewer',
  );
}

/**
 * Our limits on a document's text, before anything else looks at it: empty when it is
 * within them, or when it does not parse at all (the caller reports syntax errors).
 */
export function checkSource(schema: GraphQLSchema, source: string): readonly GraphQLError[] {
  // clients send the same few documents again and again: one that passed is not parsed again
  if (withinLimits.has(source)) return [];
  const errors = checkSourceUncached(schema, source);
  if (!errors.length && source.length <= MAX_REMEMBERED_SOURCE) {
    if (withinLimits.size >= MAX_REMEMBERED_SOURCES) withinLimits.clear();
    withinLimits.add(source);
  }
  return errors;
}

/** Documents known to be within the limits (the schema is fixed for the process). */
const withinLimits = new Set<string>();
const MAX_REMEMBERED_SOURCES = 1_000;
const MAX_REMEMBERED_SOURCE = 16 * 1024;

function checkSourceUncached(schema: GraphQLSchema, source: string): readonly GraphQLError[] {
  let document: DocumentNode;
  try {
    document = parseDocument(source);
  } catch (err) {
    if (err instanceof GraphQLError && err.originalError instanceof DomainError) return [err];
    return [];
  }
  return checkLimits(schema, document);
}

export type PreparedOperation = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: readonly GraphQLError[] };

/** Parse, limits, graphql-js validation and cost: the websocket's whole check of one operation. */
export function prepareOperation(schema: GraphQLSchema, model: CostModel, source: unknown, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined): PreparedOperation {
  if (typeof source !== 'string') return { errors: [limitError('must be a GraphQL document (a string)')] };
  let document: DocumentNode;
  try {
    document = parseDocument(source);
  } catch (err) {
    if (err instanceof GraphQLError) return { errors: [withCode(err, 'GRAPHQL_PARSE_FAILED')] };
    throw err;
  }
  const invalid = validateDocument(schema, document);
  if (invalid.length) return { errors: invalid.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) };
  const tooCostly = costLimitError(schema, model, document, variables, operationName);
  return tooCostly ? { errors: [tooCostly] } : { document };
}

/**
 * graphql-js's own refusal with the code Apollo gives it over HTTP, so that the websocket
 * answers alike; one of our limits (its domain error inside) keeps its own.
 */
function withCode(error: GraphQLError, code: 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED'): GraphQLError {
  if (error.extensions.code !== undefined || error.originalError) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions: { ...error.extensions, code } });
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  return fragments;
}

/** The limit error located at `node`, keeping the domain error formatGraphQLError maps. */
function asValidationError(error: GraphQLError, node: ASTNode): GraphQLError {
  return new GraphQLError(error.message, { nodes: [node], originalError: error.originalError, extensions: error.extensions });
}
