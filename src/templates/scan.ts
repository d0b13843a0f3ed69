/**
 * The allow-list. Splits a template into literal text and tags, refusing anything that is
 * not `{{ <known path> }}` or a HelpDeskEddy alias `{name}`. Runs before Eta ever sees the
 * template: Eta only receives the result (see compile.ts), so no text an admin typed is
 * parsed as Eta syntax or JavaScript.
 */
import {
  FORBIDDEN_SEGMENTS,
  HDE_ALIASES,
  PATH_RE,
  isKnownPath,
  scopesOf,
  type TemplateScope,
} from './catalogue.js';

/**
 * A template refused at compile time. `tag` is the offending tag as written (`{{ x }}`,
 * or `{{` when unclosed); `line` and `column` are 1-based, the column counted in
 * characters (code points) and pointing at the tag's first brace.
 */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(
    message: string,
    readonly tag: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

/**
 * Where a tag stands if the template is read as XML: in a comment (`<!-- … -->`), in a
 * CDATA section (`<![CDATA[ … ]]>`), in a processing instruction or the XML declaration
 * (`<? … ?>`), in a quoted attribute value (`<sms text="…">`) or anywhere else. Decided
 * from the literal text before the tag; only an XML body makes use of it.
 */
export type XmlPosition = 'comment' | 'cdata' | 'pi' | 'attribute' | 'other';

/** Where the literal text so far leaves an XML reader: in content, inside a tag, in a quoted attribute value, or in a section. */
type XmlState = 'content' | 'tag' | 'attr"' | "attr'" | 'comment' | 'cdata' | 'pi';

const POSITION_OF: Readonly<Record<XmlState, XmlPosition>> = {
  content: 'other',
  tag: 'other',
  'attr"': 'attribute',
  "attr'": 'attribute',
  comment: 'comment',
  cdata: 'cdata',
  pi: 'pi',
};

/** A tag found in the template: the dotted path it reads, as written at `index`. */
export interface TagPart {
  path: string;
  /** the tag as written, e.g. `{{ ticket.id }}` or `{ticket_id}` */
  raw: string;
  /** where the tag starts in the source (UTF-16 index) */
  index: number;
  xml: XmlPosition;
}
export type Part = string | TagPart;

/** 1-based line and column (in code points) of `index`. */
export function positionOf(source: string, index: number): { line: number; column: number } {
  const before = source.slice(0, index);
  const lineStart = before.lastIndexOf('\n') + 1;
  let line = 1;
  for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
  return { line, column: Array.from(before.slice(lineStart)).length + 1 };
}

const HDE_TAG = /\{([a-z_]+)\}/y;
const MAX_SHOWN = 80;

function shown(raw: string): string {
  return raw.length > MAX_SHOWN ? raw.slice(0, MAX_SHOWN - 1) + '…' : raw;
}

function fail(source: string, index: number, raw: string, what: string, hint = ''): never {
  const { line, column } = positionOf(source, index);
  throw new TemplateError(`${what} at ${line}:${column}${hint}`, shown(raw), line, column);
}

const HINT = '; a tag is {{ path }}, e.g. {{ ticket.id }}';

/** Why `inner` (the text between the braces) is not a plain path. */
function whyNotAPath(inner: string): string {
  if (inner.includes('<%') || inner.includes('%>')) return 'code is not allowed';
  if (/^\s*[=~]/.test(inner)) return 'Eta output tags ("{{=", "{{~") are not allowed';
  if (/^[-_]|[-_]$/.test(inner)) return 'Eta whitespace control ("{{-", "-}}") is not allowed';
  if (inner.includes('(')) return 'function calls are not allowed';
  if (/[[\]]/.test(inner)) return 'brackets are not allowed';
  if (/["'`]/.test(inner)) return 'quotes are not allowed';
  if (/[-+*/%<>=!&|?:,;^~{}]/.test(inner)) return 'operators are not allowed';
  if (/\S\s+\S/.test(inner)) return 'a tag holds one path';
  return 'only letters, digits, "_" and "." are allowed';
}

/** Checks one `{{ … }}` tag and returns its path, or throws a TemplateError. */
function checkTag(source: string, index: number, raw: string, inner: string, scope: TemplateScope): string {
  const path = inner.trim();
  if (path === '') fail(source, index, raw, `empty tag "${shown(raw)}"`, HINT);
  if (!PATH_RE.test(path) || /^[-_]|[-_]$/.test(inner)) {
    fail(source, index, raw, `invalid tag "${shown(raw)}"`, `: ${whyNotAPath(inner)}${HINT}`);
  }
  for (const segment of path.split('.')) {
    if (FORBIDDEN_SEGMENTS.has(segment)) fail(source, index, raw, `"${segment}" is not allowed in tag "${shown(raw)}"`);
  }
  if (!isKnownPath(path, scope)) {
    const elsewhere = scopesOf(path);
    if (elsewhere.length > 0) {
      fail(source, index, raw, `tag "${path}" is only available in ${elsewhere.join(', ')}`);
    }
    fail(source, index, raw, `unknown tag "${shown(path)}"`);
  }
  return path;
}

/** What opens and what closes an XML comment, a CDATA section and a processing instruction. */
const XML_SECTIONS: readonly { state: 'comment' | 'cdata' | 'pi'; open: string; close: string }[] = [
  { state: 'comment', open: '<!--', close: '-->' },
  { state: 'cdata', open: '<![CDATA[', close: ']]>' },
  { state: 'pi', open: '<?', close: '?>' },
];

/** The XML state after the literal `text`, starting in `state`. */
function xmlStateAfter(text: string, state: XmlState): XmlState {
  let at = 0;
  while (at < text.length) {
    switch (state) {
      case 'comment':
      case 'cdata':
      case 'pi': {
        const { close } = XML_SECTIONS.find((s) => s.state === state)!;
        const end = text.indexOf(close, at);
        if (end === -1) return state;
        at = end + close.length;
        state = 'content';
        break;
      }
      case 'content': {
        const lt = text.indexOf('<', at);
        if (lt === -1) return state;
        const section = XML_SECTIONS.find((s) => text.startsWith(s.open, lt));
        state = section ? section.state : 'tag';
        at = lt + (section ? section.open.length : 1);
        break;
      }
      case 'tag': {
        let i = at;
        while (i < text.length && text[i] !== '"' && text[i] !== "'" && text[i] !== '>') i++;
        if (i === text.length) return state;
        state = text[i] === '>' ? 'content' : text[i] === '"' ? 'attr"' : "attr'";
        at = i + 1;
        break;
      }
      case 'attr"':
      case "attr'": {
        const end = text.indexOf(state === 'attr"' ? '"' : "'", at);
        if (end === -1) return state;
        state = 'tag';
        at = end + 1;
        break;
      }
    }
  }
  return state;
}

/**
 * Splits `source` into literal text and tags, checking every tag for `scope`.
 * Literal text keeps every character: braces that do not form a tag stay literal.
 */
export function scanTemplate(source: string, scope: TemplateScope): Part[] {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  // the XML state after the literal text of the parts pushed so far
  let xml: XmlState = 'content';
  const pushText = (): void => {
    if (!text) return;
    parts.push(text);
    xml = xmlStateAfter(text, xml);
    text = '';
  };
  for (;;) {
    const open = source.indexOf('{', i);
    if (open === -1) {
      text += source.slice(i);
      break;
    }
    text += source.slice(i, open);
    if (source.startsWith('{{', open)) {
      // "{{{" would be either a literal "{" before a tag or Mustache's raw output; refuse
      // rather than guess.
      if (source[open + 2] === '{') fail(source, open, '{{{', 'unexpected "{{{"', HINT);
      const close = source.indexOf('}}', open + 2);
      const inner = close === -1 ? '' : source.slice(open + 2, close);
      if (close === -1 || inner.includes('{{')) fail(source, open, '{{', 'unclosed tag "{{"');
      const raw = source.slice(open, close + 2);
      const path = checkTag(source, open, raw, inner, scope);
      pushText();
      parts.push({ path, raw, index: open, xml: POSITION_OF[xml] });
      i = close + 2;
      continue;
    }
    HDE_TAG.lastIndex = open;
    const m = HDE_TAG.exec(source);
    if (m && Object.hasOwn(HDE_ALIASES, m[1]!)) {
      pushText();
      parts.push({ path: HDE_ALIASES[m[1]!]!, raw: m[0], index: open, xml: POSITION_OF[xml] });
      i = open + m[0].length;
      continue;
    }
    text += '{';
    i = open + 1;
  }
  pushText();
  return parts;
}

/**
 * The literal text before the first tag of `source` and that tag's 1-based position, or
 * null when `source` has no tag. Throws a TemplateError like scanTemplate.
 */
export function textBeforeFirstTag(source: string, scope: TemplateScope): { text: string; line: number; column: number } | null {
  const parts = scanTemplate(source, scope);
  const first = parts.findIndex((p) => typeof p !== 'string');
  if (first === -1) return null;
  const text = parts.slice(0, first).join('');
  return { text, ...positionOf(source, text.length) };
}
