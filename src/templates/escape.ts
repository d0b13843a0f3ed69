/**
 * Escaping by destination: each rendered value is escaped for the place it lands in, so a
 * value can never change the structure around it (close a JSON string, open an XML
 * element, add a form field, start a new header line, change the URL's host).
 * Escapers take the value's text and return the text to insert.
 */
import { Buffer } from 'node:buffer';
import type { BodyFormat } from '../domain/index.js';

export type Escaper = (value: string) => string;

/** The escapers of the places in an XML body that read a value otherwise than element text. */
export interface XmlEscapers {
  cdata?: Escaper;
  attribute?: Escaper;
}
export type Destination = 'url' | 'json' | 'xml' | 'xmlCdata' | 'xmlAttribute' | 'form' | 'header' | 'text';

/** Lone surrogates → U+FFFD, as URLSearchParams and TextEncoder do (encodeURIComponent would throw). */
const HAS_LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(HAS_LONE_SURROGATE.source, 'g');
const toWellFormed = (s: string): string => (HAS_LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATES, '\uFFFD') : s);

/** A URL component: everything but unreserved characters is percent-encoded (UTF-8). */
export const escapeUrl: Escaper = (v) => encodeURIComponent(toWellFormed(v));

/**
 * The inside of a JSON string. JSON.stringify handles quotes, backslashes, control
 * characters and lone surrogates; U+2028/U+2029 are valid JSON but break JavaScript
 * (JSONP, inline scripts) on some receivers, so they are escaped too.
 */
export const escapeJson: Escaper = (v) => {
  const s = JSON.stringify(v);
  const inner = s.slice(1, -1);
  return /[\u2028\u2029]/.test(inner) ? inner.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029') : inner;
};

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // XML parsers turn a raw CR into LF (end-of-line handling); a character reference keeps it.
  '\r': '&#13;',
};
/** Characters XML 1.0 does not allow at all, even as references (incl. lone surrogates). */
const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Text content in XML 1.0. `]]>` cannot occur because `>` is escaped. Tabs and newlines
 * stay as they are: element content keeps them.
 */
export const escapeXml: Escaper = (v) => v.replace(XML_INVALID, '').replace(/[&<>"'\r]/g, (c) => XML_ENTITIES[c]!);

/**
 * A quoted attribute value in XML 1.0: as escapeXml, and tabs and newlines as character
 * references too, since a parser turns a raw one into a space there (attribute-value
 * normalisation) and the value would reach the receiver changed.
 */
export const escapeXmlAttribute: Escaper = (v) => escapeXml(v).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');

const CDATA_BREAK = ']]><![CDATA[';

/**
 * Text inside an XML CDATA section, read there without entity decoding: nothing is
 * entity-escaped, and a CDATA section cannot hold `]]>`, so every `]]>` is split over two
 * sections (`]]]]><![CDATA[>`). A CR goes out as `&#13;` between two sections (a raw CR
 * would be read as LF). A value that starts with `]` or `>`, or ends with `]`, gets a
 * section break on that side, so it cannot form `]]>` with the literal text next to it.
 */
export const escapeXmlCdata: Escaper = (v) => {
  let s = v
    .replace(XML_INVALID, '')
    .replace(/]]>/g, ']]' + CDATA_BREAK + '>')
    .replace(/\r/g, ']]>&#13;<![CDATA[');
  if (/^[\]>]/.test(s)) s = CDATA_BREAK + s;
  if (s.endsWith(']')) s += CDATA_BREAK;
  return s;
};

/**
 * application/x-www-form-urlencoded exactly as URLSearchParams serialises it: only
 * alphanumerics and `*-._` stay, space becomes `+`, the rest is percent-encoded UTF-8.
 */
export const escapeForm: Escaper = (v) =>
  encodeURIComponent(toWellFormed(v))
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

/**
 * A header value: CR, LF and every other control character (C0 except TAB, and DEL) are
 * removed, so a value can neither start a new header nor be refused by the HTTP client.
 */
export const escapeHeader: Escaper = (v) => v.replace(/[\u0000-\u0008\u000A-\u001F\u007F]/g, '');

/**
 * Not an escaper: the form in which a rendered header value goes on the wire. undici
 * refuses header values with characters above U+00FF (a Cyrillic ticket title, an emoji)
 * and sends the others as single bytes; this turns the value into its UTF-8 bytes, one
 * character per byte, so any text is sent, as UTF-8. ASCII values are returned as they
 * are. Apply it in the sender, not to the recorded request, which stays readable.
 */
export function headerValueAsUtf8Bytes(value: string): string {
  return /^[\u0000-\u007F]*$/.test(value) ? value : Buffer.from(toWellFormed(value), 'utf8').toString('latin1');
}

/** Plain text (comments, rule action values): nothing to escape. */
export const escapeText: Escaper = (v) => v;

export const ESCAPERS: Readonly<Record<Destination, Escaper>> = Object.freeze({
  url: escapeUrl,
  json: escapeJson,
  xml: escapeXml,
  xmlCdata: escapeXmlCdata,
  xmlAttribute: escapeXmlAttribute,
  form: escapeForm,
  header: escapeHeader,
  text: escapeText,
});

/**
 * The escaper for a webhook body of this format. A tag inside an XML CDATA section or
 * attribute value uses another one (see bodyXmlEscapers).
 */
export function bodyEscaper(format: BodyFormat): Escaper {
  switch (format) {
    case 'JSON':
      return escapeJson;
    case 'XML':
      return escapeXml;
    case 'FORM':
      return escapeForm;
  }
}

/** The escapers for a tag inside a CDATA section or an attribute value of a body of this format (only XML has them). */
export function bodyXmlEscapers(format: BodyFormat): XmlEscapers | undefined {
  return format === 'XML' ? { cdata: escapeXmlCdata, attribute: escapeXmlAttribute } : undefined;
}
