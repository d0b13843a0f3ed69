/**
 * Compiling a template: our own scanner (scan.ts) admits only known tag paths, then Eta
 * turns the result into a function.
 *
 * Eta never parses the admin's text. We hand it an AST we built (through a `processAST`
 * plugin, Eta itself parses an empty string): literal text as string nodes, encoded so it
 * stays a string literal in the generated JavaScript, and each tag as the interpolation
 * `it[k]`. At render time `it` is an array of strings we have already looked up (own
 * properties only, see lookup.ts) and escaped, so the generated code can read nothing
 * else: not the context, not globals, not prototypes.
 */
import { Eta, type TemplateFunction } from 'eta/core';
import type { TemplateContext } from './types.js';
import type { TemplateScope } from './catalogue.js';
import type { Escaper, XmlEscapers } from './escape.js';
import { lookupPath, toText } from './lookup.js';
import { scanTemplate, TemplateError } from './scan.js';

export interface CompiledTemplate {
  readonly source: string;
  readonly scope: TemplateScope;
  /** the paths the template reads, aliases resolved, each once, in order of appearance */
  readonly paths: readonly string[];
  /**
   * Renders with `ctx`; `escape` is applied to every value, and for a tag inside an XML
   * CDATA section or quoted attribute value the escaper `xml` gives for that place instead
   * (none given: `escape`). A value renders as: strings
   * as they are, finite numbers in plain decimal notation (no exponent), booleans via
   * String, a Date as ISO 8601, null/undefined/missing
   * as '', objects and arrays as '' (a tag names a leaf, see lookup.ts). With `maxLength`,
   * a result that would be longer throws a RenderedTooLongError before it is built (a tag
   * repeated in a template, on a long value, would otherwise build it whole first).
   */
  render(ctx: TemplateContext, escape: Escaper, xml?: XmlEscapers, maxLength?: number): string;
}

/** A render whose result would be longer than the `maxLength` it was given. */
export class RenderedTooLongError extends Error {
  constructor(readonly length: number, readonly maxLength: number) {
    super(`the rendered text would be ${length.toLocaleString('en-US')} characters, over the limit of ${maxLength.toLocaleString('en-US')}`);
  }
}

type EtaNode = string | { t: 'i'; val: string };

const eta = new Eta({
  tags: ['{{', '}}'],
  autoEscape: false, // values arrive escaped for their destination
  autoFilter: false,
  autoTrim: false, // Eta's default would eat the newline after a tag
  rmWhitespace: false,
  useWith: false,
  debug: false,
  cache: false,
  functionHeader: '',
  varName: 'it',
});

/**
 * Literal text as the inside of the single-quoted JS string Eta emits
 * (`__eta.res+='…'`): JSON.stringify escapes backslashes, control characters and lone
 * surrogates; single quotes and U+2028/U+2029 are escaped on top.
 */
function literal(text: string): string {
  return JSON.stringify(text)
    .slice(1, -1)
    .replace(/'/g, "\\'")
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function build(source: string, scope: TemplateScope): CompiledTemplate {
  const parts = scanTemplate(source, scope);
  const paths: string[] = [];
  const seen = new Set<string>();
  // one value per path and escaping (in a CDATA section, in an attribute value, elsewhere)
  const slots: { segments: string[]; place: keyof XmlEscapers | null; uses: number }[] = [];
  const slot = new Map<string, number>();
  let literalLength = 0;
  const ast: EtaNode[] = parts.map((p) => {
    if (typeof p === 'string') {
      literalLength += p.length;
      return literal(p);
    }
    if (!seen.has(p.path)) paths.push(p.path);
    seen.add(p.path);
    const place = p.xml === 'cdata' || p.xml === 'attribute' ? p.xml : null;
    const key = `${place ?? ''}:${p.path}`;
    let k = slot.get(key);
    if (k === undefined) {
      k = slots.push({ segments: p.path.split('.'), place, uses: 0 }) - 1;
      slot.set(key, k);
    }
    slots[k]!.uses++;
    return { t: 'i', val: `it[${k}]` };
  });
  const fn: TemplateFunction = eta.withConfig({ plugins: [{ processAST: () => ast }] }).compile('');
  const n = slots.length;
  return Object.freeze({
    source,
    scope,
    paths: Object.freeze(paths),
    render(ctx: TemplateContext, escape: Escaper, xml?: XmlEscapers, maxLength?: number): string {
      const values = new Array<string>(n);
      let length = literalLength;
      for (let k = 0; k < n; k++) {
        const { segments, place, uses } = slots[k]!;
        values[k] = ((place && xml?.[place]) || escape)(toText(lookupPath(ctx, segments)));
        length += uses * values[k]!.length;
      }
      if (maxLength !== undefined && length > maxLength) throw new RenderedTooLongError(length, maxLength);
      return fn.call(eta, values) as string;
    },
  });
}

/** Bounded cache by (scope, source): oldest-used entries go first. */
export const TEMPLATE_CACHE_MAX = 5_000;
const cache = new Map<string, CompiledTemplate>();

/**
 * Compiles `source` for `scope`, or throws a TemplateError naming the first refused tag
 * and its line:column. Results are cached; errors are not.
 */
export function compileTemplate(source: string, scope: TemplateScope): CompiledTemplate {
  const key = scope + '\u0000' + source;
  const hit = cache.get(key);
  if (hit) {
    // Refresh recency: re-insert at the end of the Map's insertion order.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const compiled = build(source, scope);
  if (cache.size >= TEMPLATE_CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

/** The TemplateError for `source`, or null when it compiles. */
export function checkTemplate(source: string, scope: TemplateScope): TemplateError | null {
  try {
    compileTemplate(source, scope);
    return null;
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
}

/** Compiles (cached) and renders in one step. */
export function renderTemplate(source: string, scope: TemplateScope, ctx: TemplateContext, escape: Escaper): string {
  return compileTemplate(source, scope).render(ctx, escape);
}

/** The paths `source` reads (aliases resolved, each once); throws a TemplateError if it does not compile. */
export function templateTagsUsed(source: string): readonly string[] {
  // successComment is the widest scope: every path is known there.
  return compileTemplate(source, 'successComment').paths;
}

/** For tests and memory pressure. */
export function clearTemplateCache(): void {
  cache.clear();
}

export function templateCacheSize(): number {
  return cache.size;
}
