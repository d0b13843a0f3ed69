/**
 * An answer the HTTP client (undici, whose parser is strict and cannot be made lenient)
 * refused as not HTTP/1.1, read again from its bytes as a lenient HTTP/1.1 reader would:
 * line endings of a bare LF, header lines folded onto the next (obs-fold), spaces before a
 * header's colon, Content-Length beside chunked (chunked wins, RFC 9112 §6.3), and
 * Content-Length given more than once with one value (`Content-Length: 8` twice, or `8, 8`:
 * that value, RFC 9110 §8.6; different values leave the body's end unknown). Pure:
 * bytes in, status, headers and body out.
 *
 * Only what had arrived when the client gave up is there: the body is null unless its end
 * is known (its Content-Length, or the last chunk, had come).
 */

export interface LenientAnswer {
  statusCode: number;
  /** lower-case names; repeated headers joined with ", " */
  headers: Record<string, string>;
  /** null: not all of the body had come, or its end cannot be told */
  body: Buffer | null;
}

const STATUS_LINE = /^HTTP\/\d(?:\.\d)? ([1-5]\d\d)(?:[ \t][^\r\n]*)?\r?\n/;

/** Where the line that starts at `from` ends (its LF) and where the next begins, or null. */
function lineEnd(bytes: Buffer, from: number): { end: number; next: number } | null {
  const lf = bytes.indexOf(0x0a, from);
  if (lf === -1) return null;
  return { end: lf > from && bytes[lf - 1] === 0x0d ? lf - 1 : lf, next: lf + 1 };
}

/** The body of a chunked answer, or null when its last chunk had not come (or a chunk size is not hex). */
function dechunk(bytes: Buffer, from: number): Buffer | null {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const line = lineEnd(bytes, at);
    if (line === null) return null;
    const size = /^\s*([0-9A-Fa-f]+)\s*(?:;.*)?$/.exec(bytes.toString('latin1', at, line.end));
    if (!size) return null;
    const n = parseInt(size[1]!, 16);
    if (n === 0) return Buffer.concat(parts);
    if (line.next + n > bytes.length) return null;
    parts.push(bytes.subarray(line.next, line.next + n));
    at = line.next + n;
    const after = lineEnd(bytes, at);
    if (after === null || after.end !== at) return null;
    at = after.next;
  }
}

/**
 * The answer in `bytes` (those of one answer, from its first byte), or null when it does not
 * start with an HTTP status line. Interim answers (1xx but 101) before it are read past, as
 * RFC 9110 §15.2 has a client do; when only they had come, the last one is returned.
 */
export function readLenientAnswer(bytes: Buffer): LenientAnswer | null {
  let answer = readOne(bytes, 0);
  while (answer !== null && answer.statusCode < 200 && answer.statusCode !== 101 && answer.next < bytes.length) {
    const final = readOne(bytes, answer.next);
    if (final === null) break;
    answer = final;
  }
  return answer && { statusCode: answer.statusCode, headers: answer.headers, body: answer.body };
}

/**
 * Whether the answer's headers leave the end of its body unknowable, whatever bytes come:
 * not chunked, and a Content-Length that names no single length (different values, or not
 * a number).
 */
export function bodyEndUnknowable(headers: Record<string, string>): boolean {
  return !isChunked(headers) && 'content-length' in headers && contentLength(headers['content-length']) === null;
}

/** Whether the body is sent chunked (its last transfer coding; chunked wins over Content-Length, RFC 9112 §6.3). */
const isChunked = (headers: Record<string, string>): boolean => /(?:^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '');

/** The length a Content-Length names: one decimal value, or the same one repeated ("8, 8"); null otherwise. */
function contentLength(value: string | undefined): number | null {
  const values = new Set((value ?? '').split(',').map((v) => v.trim()));
  const [only] = values;
  return values.size === 1 && only !== undefined && /^\d+$/.test(only) ? Number(only) : null;
}

/** One answer starting at `from`, and where the bytes after its head begin. */
function readOne(bytes: Buffer, from: number): (LenientAnswer & { next: number }) | null {
  const status = STATUS_LINE.exec(bytes.toString('latin1', from, Math.min(bytes.length, from + 8192)));
  if (!status) return null;
  const statusCode = Number(status[1]);
  const lines: string[] = [];
  let at = from + status[0].length;
  let complete = false;
  for (;;) {
    const line = lineEnd(bytes, at);
    if (line === null) break;
    const text = bytes.toString('latin1', at, line.end);
    at = line.next;
    if (text === '') {
      complete = true;
      break;
    }
    // obs-fold: a line starting with a space or tab continues the header before it
    if (/^[ \t]/.test(text) && lines.length > 0) lines[lines.length - 1] += ' ' + text.trim();
    else lines.push(text);
  }
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  if (!complete) return { statusCode, headers, body: null, next: bytes.length };
  if (statusCode < 200 || statusCode === 204 || statusCode === 304) return { statusCode, headers, body: Buffer.alloc(0), next: at };
  if (isChunked(headers)) return { statusCode, headers, body: dechunk(bytes, at), next: at };
  const length = contentLength(headers['content-length']);
  if (length === null || at + length > bytes.length) return { statusCode, headers, body: null, next: at };
  return { statusCode, headers, body: bytes.subarray(at, at + length), next: at };
}
