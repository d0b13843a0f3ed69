/**
 * An answer's bytes as text, in the encoding they were written in. The encoding is the
 * first of these that the platform's TextDecoder knows (Node with full ICU knows
 * windows-1251, koi8-r, iso-8859-*, utf-16le, shift_jis, …):
 *
 * 1. a byte order mark (UTF-8, UTF-16LE, UTF-16BE): the bytes' own mark wins over any
 *    label, as in browsers;
 * 2. the `charset` parameter of the Content-Type — but for an XML answer whose bytes are
 *    not UTF-8 while the charset says utf-8 (a web server's default beside a script's
 *    windows-1251 XML), the encoding its declaration names;
 * 3. for an XML answer (a Content-Type naming xml, or a body starting with `<?xml`), the
 *    encoding of its XML declaration (white space may come before it) — SMS gateways often
 *    declare windows-1251 only there. A declaration that reads as ASCII is not UTF-16, whatever it says;
 * 4. UTF-8.
 *
 * An unknown or unsupported label is passed over, never an error. Bytes invalid in the
 * encoding become U+FFFD, and the text comes out storable (storable.ts). Pure.
 */
import { storableText } from './storable.js';

const BOMS: [number[], string][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

/** The TextDecoder encoding for `label`, or null when the platform does not know it. */
function knownEncoding(label: string): string | null {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return null; // RangeError: unknown, or one TextDecoder refuses ("replacement", "x-user-defined")
  }
}

function bomEncoding(bytes: Uint8Array): string | null {
  for (const [mark, encoding] of BOMS) if (mark.every((b, i) => bytes[i] === b)) return encoding;
  return null;
}

/** The `charset` parameter of a Content-Type, unquoted; null when there is none. */
export function charsetParameter(contentType: string | null): string | null {
  for (const param of (contentType ?? '').split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').trim();
    return value === '' ? null : value;
  }
  return null;
}

/** The TextDecoder encoding the `charset` of a Content-Type names; null when it names none, or one the platform does not know. */
export function charsetEncoding(contentType: string | null): string | null {
  const charset = charsetParameter(contentType);
  return charset === null ? null : knownEncoding(charset);
}

// the declaration is ASCII in every encoding a label can name (UTF-16 has its BOM, rule 1);
// white space before it (a blank line from a PHP script) does not hide it
const XML_DECLARATION = /^[ \t\r\n]*<\?xml\s[^?>]*?\bencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._:-]*)\1/;
/** a declaration is short; more is never read */
const DECLARATION_BYTES = 256;

/** The encoding named by an XML declaration at the start of `bytes` (after white space); null when there is none. */
export function xmlDeclaredEncoding(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, DECLARATION_BYTES)).toString('latin1');
  return XML_DECLARATION.exec(head)?.[2] ?? null;
}

function isXml(contentType: string | null, bytes: Uint8Array): boolean {
  const mediaType = (contentType ?? '').split(';')[0]!.toLowerCase();
  return mediaType.includes('xml') || xmlDeclaredStart(bytes);
}

function xmlDeclaredStart(bytes: Uint8Array): boolean {
  return [...'<?xml'].every((c, i) => bytes[i] === c.charCodeAt(0));
}

/** The TextDecoder encoding an answer's bytes are read in (the rules above). */
export function answerEncoding(bytes: Uint8Array, contentType: string | null): string {
  const bom = bomEncoding(bytes);
  if (bom) return bom;
  const declared = charsetEncoding(contentType);
  const named = xmlNamedEncoding(contentType, bytes);
  // a web server's default `charset=utf-8` beside an XML answer its script wrote in the
  // encoding its declaration names: bytes that are not UTF-8 are read as the declaration says
  if (declared === 'utf-8' && named !== null && named !== 'utf-8' && !isUtf8(bytes)) return named;
  return declared ?? named ?? 'utf-8';
}

/** The encoding an XML answer's declaration names (rule 3), or null. */
function xmlNamedEncoding(contentType: string | null, bytes: Uint8Array): string | null {
  if (!isXml(contentType, bytes)) return null;
  const label = xmlDeclaredEncoding(bytes);
  const named = label === null ? null : knownEncoding(label);
  return named && !named.startsWith('utf-16') ? named : null;
}

/** Whether `bytes` are UTF-8 (an incomplete character at the end counts as such: a cut body ends so). */
function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** `text` without the U+0000s it ends in; a loop from the end (a regex /\u0000+$/ is quadratic in a long run of NULs that something follows). */
function withoutTrailingNuls(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return end === text.length ? text : text.slice(0, end);
}

/**
 * An answer's bytes as storable text, in their encoding. `cut`: the bytes are the first
 * part of a longer body (the read cap), which may end inside a character; that part
 * character is left out rather than read as U+FFFD (decoding as a stream that never
 * ends holds it back, in any encoding: UTF-8, UTF-16's odd byte or lone high surrogate,
 * a two-byte Shift_JIS character).
 *
 * NULs at the end of a whole answer are padding, no part of it: some embedded SMS
 * gateways answer from a fixed-size buffer, and an XML or JSON document followed by them
 * would not parse. They are dropped once decoded (in UTF-16 a character's own byte may be
 * 0x00), before the text is made storable (where a NUL becomes U+FFFD); a NUL anywhere else,
 * or at the end of a cut body (the answer goes on past it), stays.
 */
export function answerText(bytes: Uint8Array, contentType: string | null, cut = false): string {
  // ignoreBOM false (the default): the encoding's own BOM is not part of the text
  const decoder = new TextDecoder(answerEncoding(bytes, contentType));
  const text = decoder.decode(bytes, { stream: cut });
  return storableText(cut ? text : withoutTrailingNuls(text));
}
