/**
 * Webhook response processing, pure: parse the body by its Content-Type, then apply the
 * webhook's response mappings (path → custom field or temporary field).
 *
 * The body is untrusted. XML entities from a DOCTYPE are never expanded
 * (`processEntities: false`, no "billion laughs"); only the five predefined entities and
 * numeric character references are decoded, by hand. Paths read own properties only
 * and refuse prototype keys.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { convertCustomFieldValue } from '../helpdesk/index.js';
import { readsExactly, type CustomFieldType, type ResponseMappingDef } from '../domain/index.js';
import { storableText, storableValue } from './storable.js';
import { charsetEncoding } from './charset.js';

export type ParsedKind = 'json' | 'xml' | 'form' | 'text';

export interface ParsedBody {
  kind: ParsedKind;
  value: unknown;
  /** for a text answer, why it has no paths: it did not parse as its declared type, or it declared none of JSON, XML and form data */
  note?: string;
}

export type PathSegment = string | number;

export interface MappingOutcome {
  /** converted values for ticket custom fields, by field key */
  customFields: Record<string, unknown>;
  /** temporary fields, by name ({{ temp.<name> }}) */
  temp: Record<string, unknown>;
  /** every value extracted from the response, by target field, before conversion */
  responseData: Record<string, unknown>;
  /** one line per skipped mapping or failed conversion, for the delivery record */
  notes: string[];
}

// ------------------------------------------------------------------ parsing

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeXmlEntities(text: string): string {
  return text.replace(/&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|(lt|gt|amp|quot|apos));/g, (all, hex?: string, dec?: string, name?: string) => {
    if (name) return XML_ENTITIES[name]!;
    const cp = hex ? parseInt(hex, 16) : Number(dec);
    const valid = cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    return valid ? String.fromCodePoint(cp) : all;
  });
}

/**
 * Element names the parser refuses (a prototype key: the whole answer would fail to parse)
 * or renames (an Object.prototype method's name: `toString` would become `__toString`).
 * They go through it under a name no XML element can have (a control character first), and
 * come back as the own properties they name (ownNames): `<r><constructor/><id>5</id></r>`
 * parses, `r.id` reads 5, and nothing reaches a prototype.
 */
const PARSER_RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);
const CARRIED = '\u0001';
let carried = false;

const xmlParser = new XMLParser({
  processEntities: false,
  transformTagName: (name) => {
    if (!PARSER_RESERVED_NAMES.has(name)) return name;
    carried = true;
    return CARRIED + name;
  },
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false, // <sms_id>1000001</sms_id> stays the string "1000001"
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true, // so the root element is the first key
  tagValueProcessor: (_name, value) => decodeXmlEntities(value),
  attributeValueProcessor: (_name, value) => decodeXmlEntities(value),
});

function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function declaredKind(contentType: string | null): ParsedKind {
  const t = mediaType(contentType);
  if (t === 'application/json' || t === 'text/json' || t.endsWith('+json')) return 'json';
  if (t === 'application/xml' || t === 'text/xml' || t.endsWith('+xml')) return 'xml';
  if (t === 'application/x-www-form-urlencoded') return 'form';
  return 'text';
}

/** Defines an own property even for a key like "__proto__" (plain assignment would set the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A name or value of form data: `+` is a space, and each run of percent-escapes is bytes in
 * the decoder's encoding (a character may take several), as application/x-www-form-urlencoded is
 * written by a server whose pages are in that encoding (`%C4%EE` is "До" in windows-1251).
 * A `%` without two hex digits after it stays as it is; bytes that are not text in the
 * encoding become U+FFFD.
 */
function formDecode(text: string, decoder: InstanceType<typeof TextDecoder>): string {
  return text
    .replace(/\+/g, ' ')
    .replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => decoder.decode(Uint8Array.from(run.slice(1).split('%'), (hex) => parseInt(hex, 16))));
}

/** Form data as URLSearchParams reads it, its escapes decoded in `encoding` (formDecode). */
function formPairs(text: string, encoding: string): [string, string][] {
  const decoder = new TextDecoder(encoding);
  return text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? [formDecode(pair, decoder), ''] : [formDecode(pair.slice(0, eq), decoder), formDecode(pair.slice(eq + 1), decoder)];
    });
}

/**
 * A repeated key becomes a list, like a repeated XML element. Its values are gathered first
 * and each list built once: an answer of a million `k=v` pairs costs linear time.
 */
function parseForm(text: string, encoding: string): Record<string, unknown> {
  const values = new Map<string, string[]>();
  for (const [k, v] of formPairs(text, encoding)) {
    const list = values.get(k);
    if (list) list.push(v);
    else values.set(k, [v]);
  }
  const out: Record<string, unknown> = {};
  for (const [k, list] of values) setOwn(out, k, list.length === 1 ? list[0] : list);
  return out;
}

/** White space as character references, which the parser's trimming of text leaves alone. */
const asReferences = (blank: string): string => [...blank].map((c) => `&#${c.charCodeAt(0)};`).join('');

/**
 * CDATA is literal text, but the parser would pass it through the same entity decoder as
 * ordinary text: escape it into ordinary text first (comments are skipped over, so a
 * CDATA marker inside a comment is left alone). The parser trims text: white space at
 * either end of a CDATA section is written as character references, so it is kept
 * (`<text><![CDATA[  indented]]></text>` reads "  indented").
 */
function cdataToText(xml: string): string {
  return xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>/g, (all, cdata?: string) =>
    cdata === undefined
      ? all
      : cdata
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, asReferences),
  );
}

function parseXml(text: string): unknown {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`${valid.err.msg} (line ${valid.err.line})`);
  carried = false;
  const parsed: unknown = xmlParser.parse(cdataToText(text));
  return carried ? ownNames(parsed) : parsed;
}

/** The parsed answer with the names carried through the parser (PARSER_RESERVED_NAMES) given back, as own properties, in their order. */
function ownNames(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ownNames);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) setOwn(out, key.startsWith(CARRIED) ? key.slice(CARRIED.length) : key, ownNames(v));
  return out;
}

// one JSON token after optional white space: a string (its escapes as written), a number, or anything else up to the next of those
const JSON_TOKEN = /[ \t\n\r]*(?:("(?:[^"\\]|\\.)*")|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|([^" \t\n\r\d-]+|.))/gy;

/**
 * JSON.parse, but a number a JavaScript number cannot hold exactly (an integer beyond
 * 2^53 — a 64-bit id —, a decimal of more digits than a double keeps, one out of its
 * range) becomes the string of its digits as written, so that a mapping or a success rule
 * sees the value the receiver sent, not a neighbour (12345678901234567890 read as
 * …567000, 0.10000000000000000001 as 0.1).
 */
export function parseJson(text: string): unknown {
  // a number of 15 significant digits or fewer (and no huge exponent) is always exact:
  // most answers need no second look
  if (!/\d(?:\.?\d){15}|[eE][+-]?\d{3}/.test(text)) return JSON.parse(text);
  let unsafe = false;
  let out = '';
  JSON_TOKEN.lastIndex = 0;
  for (let m = JSON_TOKEN.exec(text); m; m = JSON_TOKEN.exec(text)) {
    const number = m[2];
    if (number !== undefined && !readsExactly(number)) {
      unsafe = true;
      out += m[0].slice(0, m[0].length - number.length) + `"${number}"`;
    } else out += m[0];
  }
  return JSON.parse(unsafe ? out : text);
}

/**
 * White space and byte order marks before a JSON or XML document are no part of it: PHP
 * scripts and SMS gateways often send a blank line, spaces or a UTF-8 BOM (one the decoder
 * did not take as the body's mark, since something came before it) ahead of `<?xml …?>`,
 * which XML allows only at the very start.
 */
function withoutLeadingBlank(text: string): string {
  return text.replace(/^[\s\uFEFF]+/, '');
}

/**
 * White space and byte order marks around form data are no part of it: a script that
 * answers `status=OK&id=5` with `echo` ends it with a line break, which would otherwise be
 * the end of the last value (`5\n`, then written to a field, compared by a success rule).
 * Inside form data, white space is encoded (`+`, `%0A`): none of it is lost.
 */
function withoutBlankAround(text: string): string {
  return withoutLeadingBlank(text).replace(/[\s\uFEFF]+$/, '');
}

/** Why an answer that is text by its Content-Type has no paths, naming that Content-Type (text/html is often XML or JSON sent without its type). */
function plainTextNote(contentType: string | null): string {
  const type = mediaType(contentType);
  return `the response ${type ? `is ${type}` : 'has no Content-Type'}, and paths are read only from answers whose Content-Type is JSON, XML or form data`;
}

/**
 * The encoding of a form answer's percent-escapes: the charset its Content-Type names
 * (charset.ts), else UTF-8. Not UTF-16: its escapes would be bytes of a text that is
 * ASCII itself, which no server writes.
 */
function formEncoding(contentType: string | null): string {
  const declared = charsetEncoding(contentType);
  return declared && !declared.startsWith('utf-16') ? declared : 'utf-8';
}

/**
 * Parse a response body by its Content-Type; a body that does not parse falls back to
 * text. Every string of the result is storable (storable.ts): a JSON "\u0000" or a lone
 * "\ud800" escape, a form's %00, a NUL in the body are U+FFFD in the parsed value.
 * `cut`: the body is the first part of a longer answer (the sender's read cap, 1 MiB);
 * when it does not parse, the note says so rather than quote the parser on the missing end.
 */
export function parseResponseBody(body: string, contentType: string | null, cut = false): ParsedBody {
  const text = storableText(body);
  const kind = declaredKind(contentType);
  try {
    switch (kind) {
      case 'json':
        return { kind, value: storableValue(parseJson(withoutLeadingBlank(text))) };
      case 'xml':
        return { kind, value: storableValue(parseXml(withoutLeadingBlank(text))) };
      case 'form':
        return { kind, value: storableValue(parseForm(withoutBlankAround(text), formEncoding(contentType))) };
      default:
        return { kind: 'text', value: text, note: storableText(plainTextNote(contentType)) };
    }
  } catch (err) {
    const why =
      text.trim() === ''
        ? 'the body is empty'
        : cut
          ? 'the answer is longer than the 1 MiB deskhooks reads of it, and its first 1 MiB is not a whole document'
          : (err as Error).message;
    const note = `response declared ${mediaType(contentType)} but did not parse as ${kind.toUpperCase()} (${why}); kept as text`;
    return { kind: 'text', value: text, note: storableText(note) };
  }
}

// ------------------------------------------------------------------ paths

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PATH_LENGTH = 500;

/**
 * `result.message_id`, `items[0].id`, `a.b[2][0]`, `[0].id` (a top-level list) →
 * segments. Keys are any characters but `.`, `[`, `]` and white space (so `@_code` and
 * `#text` work). Throws an Error naming the position on bad syntax.
 */
export function parseMappingPath(path: string): PathSegment[] {
  const fail = (why: string, at: number): never => {
    throw new Error(`invalid mapping path ${JSON.stringify(path)}: ${why} at position ${at + 1}`);
  };
  if (typeof path !== 'string' || path.length === 0) throw new Error('invalid mapping path "": the path is empty');
  if (path.length > MAX_PATH_LENGTH) throw new Error(`invalid mapping path: longer than ${MAX_PATH_LENGTH} characters`);
  const out: PathSegment[] = [];
  let i = 0;
  let afterDot = false;
  while (i < path.length) {
    const c = path[i]!;
    if (c === '[') {
      if (afterDot) fail('"[" right after "." (write a[0], not a.[0])', i);
      const m = /^\[(\d+)\]/.exec(path.slice(i));
      if (!m) fail('expected an index like [0]', i);
      const n = Number(m![1]);
      if (!Number.isSafeInteger(n)) fail('index too large', i);
      out.push(n);
      i += m![0].length;
    } else if (c === '.') {
      if (out.length === 0 || afterDot) fail('empty key', i);
      afterDot = true;
      i++;
      continue;
    } else {
      const m = /^[^.[\]\s]+/.exec(path.slice(i));
      if (!m) fail(`unexpected ${JSON.stringify(c)}`, i);
      if (out.length > 0 && !afterDot) fail('expected "." or "[" before a key', i);
      const key = m![0];
      if (FORBIDDEN_KEYS.has(key)) fail(`key "${key}" is not allowed`, i);
      out.push(key);
      i += key.length;
    }
    afterDot = false;
  }
  if (afterDot) fail('empty key', path.length - 1);
  return out;
}

type Walk = { found: true; value: unknown } | { found: false; at: number; why: 'missing' | 'list' | 'not-list' };

/**
 * Own properties and real list indexes only: never the prototype chain, never `length`.
 *
 * `xml`: an element that occurs once is not a list in the parsed answer, but the same
 * element repeated is, so `message_info[0]` reads the element whether the answer has one
 * or several (an SMS gateway answers one per recipient); `[n]` with n > 0 on a single
 * element is not found, like any index past the end. The document itself is not an
 * element: a leading `[0]` stays strict. JSON and form answers stay strict: a list and a
 * single value are different things there, and the contract (RUNTIME.md: "dot-separated
 * keys with `[n]` indexes") gives XML alone this reading.
 */
function walk(value: unknown, segments: PathSegment[], xml = false): Walk {
  let cur = value;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (typeof seg === 'number') {
      if (xml && i > 0 && !Array.isArray(cur)) {
        if (seg > 0) return { found: false, at: i, why: 'missing' };
        continue; // [0] of the single element is the element
      }
      if (!Array.isArray(cur)) return { found: false, at: i, why: 'not-list' };
      if (seg >= cur.length) return { found: false, at: i, why: 'missing' };
      cur = cur[seg];
    } else {
      if (Array.isArray(cur)) return { found: false, at: i, why: 'list' };
      if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, seg)) return { found: false, at: i, why: 'missing' };
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return { found: true, value: cur };
}

/** The value at `path` (a string or parsed segments), or undefined when it is not there. */
export function getPath(value: unknown, path: string | PathSegment[]): unknown {
  const r = walk(value, typeof path === 'string' ? parseMappingPath(path) : path);
  return r.found ? r.value : undefined;
}

function prefixText(segments: PathSegment[], upTo: number): string {
  return segments.slice(0, upTo).reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

// ------------------------------------------------------------------ mappings

type Extracted = { ok: true; value: unknown } | { ok: false; note: string };

/** Resolve one mapping path to a single value, with a note that says why not. */
function extract(parsed: ParsedBody, path: string): Extracted {
  let segments: PathSegment[];
  try {
    segments = parseMappingPath(path);
  } catch (err) {
    return { ok: false, note: (err as Error).message };
  }
  // a text answer says why it is one (parsed.note): it did not parse as what it declared, or declared text
  if (parsed.kind === 'text') return { ok: false, note: `path "${path}" not found in the response: ${parsed.note ?? 'the response is text'}` };
  const r = walk(parsed.value, segments, parsed.kind === 'xml');
  if (!r.found) {
    if (r.why === 'list') return { ok: false, note: `path "${path}": "${prefixText(segments, r.at)}" is a list, add an [n] index` };
    return { ok: false, note: `path "${path}" not found in the response` };
  }
  let value = r.value;
  // An XML element with attributes is an object: its text is the scalar value
  // (empty when it has attributes only: <status code="0"/>).
  if (parsed.kind === 'xml' && isPlainObject(value)) {
    if (Object.hasOwn(value, '#text')) value = value['#text'];
    else if (Object.keys(value).every((k) => k.startsWith('@_'))) value = '';
  }
  if (Array.isArray(value)) return { ok: false, note: `path "${path}" is a list of ${value.length} values, add an [n] index` };
  if (isPlainObject(value)) return { ok: false, note: `path "${path}" is an object, not a single value; map one of its fields` };
  return { ok: true, value };
}

/**
 * The value at `path` in a parsed answer, as a success rule reads it: an XML element with
 * attributes reads as its text (empty when it has attributes only). Not found when the
 * path does not parse or leads nowhere.
 */
export function resolvePath(parsed: ParsedBody, path: string): { found: true; value: unknown } | { found: false } {
  let segments: PathSegment[];
  try {
    segments = parseMappingPath(path);
  } catch {
    return { found: false };
  }
  const r = walk(parsed.value, segments, parsed.kind === 'xml');
  if (!r.found) return { found: false };
  let value = r.value;
  if (parsed.kind === 'xml' && isPlainObject(value)) {
    if (Object.hasOwn(value, '#text')) value = value['#text'];
    else if (Object.keys(value).every((k) => k.startsWith('@_'))) value = '';
  }
  return { found: true, value };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Apply mappings in order. Nothing here is fatal: a missing path, a list without an
 * index, an unknown field or a failed conversion is skipped and noted.
 */
export function applyMappings(
  parsed: ParsedBody,
  mappings: ResponseMappingDef[],
  customFields: Map<string, { type: CustomFieldType; options: string[] }>,
): MappingOutcome {
  const out: MappingOutcome = { customFields: {}, temp: {}, responseData: {}, notes: [] };
  for (const m of mappings) {
    const got = extract(parsed, m.path);
    if (!got.ok) {
      out.notes.push(got.note);
      continue;
    }
    setOwn(out.responseData, m.field, got.value);
    if (m.target === 'TEMPORARY') {
      setOwn(out.temp, m.field, got.value);
      continue;
    }
    const def = customFields.get(m.field);
    if (!def) {
      out.notes.push(`path "${m.path}": custom field "${m.field}" does not exist`);
      continue;
    }
    // refused as the ticket service refuses it (a text too long, a number a NUMBER field cannot
    // hold exactly): noted and not written, never rounded or cut, and the other fields still are
    const converted = convertCustomFieldValue({ key: m.field, type: def.type, options: def.options }, got.value);
    if (converted.ok) setOwn(out.customFields, m.field, converted.value);
    else out.notes.push(`path "${m.path}": ${converted.error}${converted.inexact ? '; map it into a TEXT field instead' : ''}`);
  }
  return out;
}
