/**
 * RenderedRequest → AttemptResult over one pooled undici Agent. No database, never throws:
 * every failure is classified (the class decides retry or not, see policy.ts).
 *
 * - The timeout covers the whole attempt, connect to last body byte (one AbortSignal per
 *   attempt; undici's own headers/body timeouts are coarse and only kept as a backstop).
 *   A body that times out or is cut off after the status came fails the attempt, and its
 *   error says the answer had begun.
 * - Redirects are never followed (undici 7 default; no redirect interceptor here).
 * - At most `maxResponseBytes` of the body are read, then the stream is destroyed; a
 *   compressed body is decompressed as it arrives and the cap counts its decompressed
 *   bytes (answer-body.ts). One that cannot be is kept as it came, with a note saying why.
 * - The body is read in its own encoding (charset.ts: a BOM, the Content-Type's charset,
 *   an XML declaration's, else UTF-8).
 * - Whatever the answer holds comes out storable (storable.ts): invalid bytes and U+0000
 *   become U+FFFD in the body, as they do in its Content-Type and errors.
 * - Unless private networks are allowed, every connection goes through the address guard:
 *   IP literals are checked before connecting, names through the guarded lookup.
 * - An answer undici refuses as not HTTP/1.1 (bare LF line endings, a folded header,
 *   Content-Length beside chunked), or whose status line and headers are over the client's
 *   limit (Node's maxHeaderSize), came after the request was sent: the receiver has it
 *   and may have acted. undici's parser cannot be made lenient, so the bytes of the
 *   answer are kept as they are read (answerTaps) and read again leniently
 *   (lenient-answer.ts): its status then decides the attempt, as for any answer, with a
 *   note saying what was malformed. Only when no status line can be read does it fail (and
 *   is retried), its error saying the receiver got the request.
 * - A request that went out on a kept-alive connection which the receiver closed before one
 *   byte of answer came (it closed the connection as idle just as the request was sent: an
 *   idle timeout shorter than the client's, not announced) is sent once more, at once, on a
 *   new connection (another idle one may be stale too: at most MAX_RESENDS times), within
 *   the same attempt and its deadline, with a note saying so. The
 *   receiver had not answered, so it most likely had not read it; it would otherwise be sent
 *   again at the next retry anyway (delivery is at-least-once, X-Deskhooks-Delivery the same).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { maxHeaderSize } from 'node:http';
import { Readable } from 'node:stream';
import { Agent, buildConnector, request } from 'undici';
import { REFUSED_CODE, checkHostLiteral, guardedLookup } from './address-guard.js';
import type { AttemptResult } from './types.js';
import type { RenderedRequest } from '../domain/index.js';
import { headerValueAsUtf8Bytes } from '../templates/index.js';
import { storableText } from './storable.js';
import { readAnswerBody } from './answer-body.js';
import { answerText } from './charset.js';
import { bodyEndUnknowable, readLenientAnswer } from './lenient-answer.js';
import { statusText } from './status-text.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface SenderOptions {
  /** one attempt's whole time, connect to last byte */
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  /** body bytes kept; default 1 MiB */
  maxResponseBytes?: number;
  /** sockets per origin; default unlimited */
  connections?: number;
}

export interface Sender {
  /** `signal` aborting means "shutting down"; it never rejects */
  send(req: RenderedRequest, extraHeaders: Record<string, string>, signal?: AbortSignal): Promise<AttemptResult>;
  close(): Promise<void>;
}

type Failure = Pick<AttemptResult, 'errorClass' | 'error'>;

export function createSender(opts: SenderOptions): Sender {
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const agent = new Agent({
    pipelining: 1,
    connections: opts.connections ?? null,
    // Backstops only: the attempt's AbortSignal fires first and is precise.
    headersTimeout: opts.timeoutMs + 1000,
    bodyTimeout: opts.timeoutMs + 1000,
    connect: connector(opts),
  });

  async function send(req: RenderedRequest, extraHeaders: Record<string, string>, signal?: AbortSignal): Promise<AttemptResult> {
    const startedAt = new Date();
    const t0 = performance.now();
    let statusCode: number | null = null;
    let responseContentType: string | null = null;
    /** the note of a request sent again after its kept-alive connection closed under it: first among the attempt's notes */
    let resent: string | null = null;
    const done = (rest: Partial<AttemptResult>): AttemptResult => {
      const result: AttemptResult = {
        startedAt,
        durationMs: Math.round(performance.now() - t0),
        statusCode,
        error: null,
        errorClass: 'none',
        responseBody: null,
        responseContentType,
        responseTruncated: false,
        ...rest,
      };
      if (resent !== null) result.responseNote = joinNotes(resent, result.responseNote ?? null);
      // an error message or a note may quote the answer (a parser error, a header)
      if (result.error !== null) result.error = storableText(result.error);
      if (result.responseNote) result.responseNote = storableText(result.responseNote);
      if (result.responseContentType !== null) result.responseContentType = storableText(result.responseContentType);
      return result;
    };

    const target = checkUrl(req.url, opts.allowPrivateNetworks);
    if ('errorClass' in target) return done(target);
    if (signal?.aborted) return done(SHUTTING_DOWN);

    const abort = attemptSignal(opts.timeoutMs, signal);
    try {
      const send = () =>
        request(target.url, {
          dispatcher: agent,
          method: req.method,
          headers: mergeHeaders(req.headers, extraHeaders),
          body: req.body ?? undefined,
          signal: abort.signal,
        });
      let res: Awaited<ReturnType<typeof send>>;
      for (let resends = 0; ; resends++) {
        try {
          res = await send();
          break;
        } catch (err) {
          const closed = abort.cause() === null && resends < MAX_RESENDS ? closedUnanswered(err) : null;
          if (closed === null) throw err;
          resent = `the receiver closed the kept-alive connection the request went out on before answering (${closed}), so the request was sent again on another connection`;
        }
      }
      statusCode = res.statusCode;
      responseContentType = answerContentType(res.headers['content-type']);
      const retryAfter = res.headers['retry-after'];
      const encoding = res.headers['content-encoding'];
      const body = await readAnswerBody(res.body, (Array.isArray(encoding) ? encoding.join(', ') : encoding) ?? null, maxBytes);
      const failed = statusCode >= 400;
      return done({
        errorClass: failed ? 'http_status' : 'none',
        error: failed ? statusText(statusCode) : null,
        responseBody: answerText(body.bytes, responseContentType, body.truncated),
        responseTruncated: body.truncated,
        responseNote: body.problem,
        retryAfter: (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null,
      });
    } catch (err) {
      if (abort.cause() === 'shutdown') return done(SHUTTING_DOWN);
      const timedOut = abort.cause() === 'timeout';
      if (!timedOut && bodilessAnswer(statusCode, err)) return done({ responseBody: '' });
      const malformed = timedOut ? null : malformedAnswer(statusCode, err);
      if (malformed) {
        const read = await readMalformed(malformed, malformedBytes.get(malformed.error), maxBytes, err);
        statusCode = read.statusCode ?? statusCode;
        responseContentType = read.responseContentType ?? responseContentType;
        return done(read);
      }
      const failure: Failure = timedOut ? { errorClass: 'timeout', error: `timed out after ${opts.timeoutMs} ms` } : describeError(err);
      // the status line and headers came, the body did not end: the receiver answered, and
      // may have acted on the request, though the attempt failed (and is retried)
      if (statusCode === null) return done(failure);
      return done({ ...failure, error: `${failure.error} while reading the body of the HTTP ${statusCode} answer: its status and headers had come, so the receiver may have acted on the request` });
    } finally {
      abort.dispose();
    }
  }

  return {
    send,
    close: () => agent.close(),
  };
}

/**
 * One attempt's signal: aborts at the deadline or when the caller's (shutdown) signal does.
 * Not AbortSignal.any/timeout: on Node 20, AbortSignal.any keeps every combined signal
 * alive as long as the long-lived shutdown signal (nodejs/node#55351), and a
 * AbortSignal.timeout timer cannot be cleared when the attempt ends early.
 */
function attemptSignal(timeoutMs: number, caller?: AbortSignal) {
  const controller = new AbortController();
  let cause: 'timeout' | 'shutdown' | null = null;
  const stop = (why: 'timeout' | 'shutdown') => {
    cause ??= why;
    controller.abort(new Error(why === 'timeout' ? `timed out after ${timeoutMs} ms` : 'aborted: worker shutting down'));
  };
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const onShutdown = () => stop('shutdown');
  caller?.addEventListener('abort', onShutdown, { once: true });
  return {
    signal: controller.signal,
    cause: () => cause,
    dispose: () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onShutdown);
    },
  };
}

const SHUTTING_DOWN: Failure = { errorClass: 'network', error: 'aborted: worker shutting down' };

/**
 * The undici connector. With the guard on, IP-literal hosts are checked here (net.connect
 * skips `lookup` for them) and names resolve through the guarded lookup, so the socket
 * connects to the address that was checked. Every socket's answers are tapped (tapAnswers).
 */
function connector(opts: SenderOptions): buildConnector.connector {
  const base = buildConnector({
    timeout: opts.timeoutMs + 1000,
    ...(opts.allowPrivateNetworks ? {} : { lookup: guardedLookup }),
  });
  subscribeAnswerTaps();
  return (options, callback) => {
    const refused = opts.allowPrivateNetworks ? null : checkHostLiteral(options.hostname);
    if (refused) {
      callback(refused, null);
      return;
    }
    base(options, (err, socket) => {
      if (socket) tapAnswers(socket);
      callback(err, socket as never);
    });
  };
}

// ---------------------------------------------------------------- answers undici refuses

/** The most a tap keeps of one answer's head and the bytes read with it: the body's cap and the head's. */
const TAP_MAX = DEFAULT_MAX_RESPONSE_BYTES + maxHeaderSize;

/**
 * The bytes undici has read of the answer in progress on each of our sockets, from its
 * request's headers on (one request at a time per socket: pipelining 1) until undici has
 * read the answer's head (`on`): only an answer whose head undici refused is read again.
 */
interface Tap {
  chunks: Buffer[];
  size: number;
  on: boolean;
}
const answerTaps = new WeakMap<object, Tap>();
/** The socket each request of ours is being sent on. */
const requestSockets = new WeakMap<object, object>();
/** How many requests each of our sockets has carried so far: more than one, it was kept alive and reused. */
const socketRequests = new WeakMap<object, number>();
/** Errors of requests that went out on a reused socket the receiver closed before a byte of answer came (closedUnanswered). */
const closedBeforeAnswer = new WeakSet<object>();
/** The bytes of the answer an undici error was raised on. */
const malformedBytes = new WeakMap<object, Buffer>();

/** Keeps what undici reads from `socket` (it reads with socket.read(); the stream is left as it is). */
function tapAnswers(socket: { read(size?: number): unknown }): void {
  const tap: Tap = { chunks: [], size: 0, on: false };
  const read = socket.read;
  socket.read = function (this: unknown, size?: number) {
    const chunk = read.call(this, size);
    if (tap.on && Buffer.isBuffer(chunk) && tap.size < TAP_MAX) {
      tap.chunks.push(chunk);
      tap.size += chunk.length;
    }
    return chunk;
  };
  answerTaps.set(socket, tap);
}

let tapsSubscribed = false;

/** undici's diagnostics channels say when a request goes out on a socket, when its answer's head was read and when it fails. */
function subscribeAnswerTaps(): void {
  if (tapsSubscribed) return;
  tapsSubscribed = true;
  const tapOf = (request: object): Tap | undefined => {
    const socket = requestSockets.get(request);
    return socket ? answerTaps.get(socket) : undefined;
  };
  const restart = (tap: Tap | undefined, on: boolean): void => {
    if (!tap) return;
    tap.chunks = [];
    tap.size = 0;
    tap.on = on;
  };
  diagnosticsChannel.subscribe('undici:client:sendHeaders', (message) => {
    const { request, socket } = message as { request: object; socket: object };
    if (!answerTaps.has(socket)) return;
    requestSockets.set(request, socket);
    socketRequests.set(socket, (socketRequests.get(socket) ?? 0) + 1);
    restart(answerTaps.get(socket), true);
  });
  diagnosticsChannel.subscribe('undici:request:headers', (message) => restart(tapOf((message as { request: object }).request), false));
  diagnosticsChannel.subscribe('undici:request:error', (message) => {
    const { request, error } = message as { request: object; error: unknown };
    const tap = tapOf(request);
    if (tap && typeof error === 'object' && error !== null && tap.size > 0) malformedBytes.set(error, Buffer.concat(tap.chunks));
    const socket = requestSockets.get(request);
    if (tap?.on && tap.size === 0 && socket && (socketRequests.get(socket) ?? 0) > 1 && typeof error === 'object' && error !== null) closedBeforeAnswer.add(error);
  });
}

/** How many times one attempt's request is sent again after a kept-alive connection closed under it. */
const MAX_RESENDS = 3;

/** The receiver closing (or resetting) a connection under a request. */
const CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * What closed the kept-alive connection a request went out on, before one byte of its answer
 * came (`ECONNRESET`, …), or null when the request failed otherwise: on a new connection,
 * after an answer had begun, or not because the connection closed.
 */
function closedUnanswered(err: unknown): string | null {
  const stale = findError(err, (e) => closedBeforeAnswer.has(e));
  const closed = stale && findError(stale, (e) => CLOSED_CODES.has(e.code ?? ''));
  return closed ? (closed.code ?? null) : null;
}

const joinNotes = (a: string | null, b: string | null): string | null => (a && b ? `${a}; ${b}` : a ?? b);

/** An answer undici gave up on: its error, and what undici said was wrong. */
interface Refused {
  error: object;
  reason: string;
  /** undici dropped the connection at an interim 100 Continue it does not read past */
  interim?: true;
  /** its head is over the HTTP client's limit: valid HTTP/1.1, only too long for undici */
  overLimit?: true;
}

/** What is wrong with an answer whose head is over the HTTP client's limit (Node's --max-http-header-size). */
const HEAD_OVER_LIMIT = `the answer's status line and headers are over the ${maxHeaderSize.toLocaleString('en-US')} bytes the HTTP client reads`;

/**
 * The error of an answer whose head undici refused, or null: one it read as not HTTP/1.1,
 * one whose head is over its limit, or one that began with an interim 100 Continue. A
 * Content-Length mismatch before the headers were handed over is one too (undici reports
 * Content-Length beside chunked so); after them, it is a body cut short.
 */
function malformedAnswer(statusCode: number | null, err: unknown): Refused | null {
  // its head was read: a body undici cannot read is one cut short (retried)
  if (statusCode !== null) return null;
  const overflow = findError(err, (e) => e.code === 'UND_ERR_HEADERS_OVERFLOW');
  if (overflow) return { error: overflow, reason: HEAD_OVER_LIMIT, overLimit: true };
  const parser = findError(err, (e) => (e as Error).name === 'HTTPParserError');
  if (parser) return { error: parser, reason: /\((.*)\)$/.exec(parser.message ?? '')?.[1] ?? parser.message ?? 'unreadable' };
  // undici asserts a status of at least 100 where its parser reads a status line ("HTTP/1.1 000")
  const below100 = findError(err, (e) => e.code === 'ERR_ASSERTION' && /statusCode >= 100/.test(e.message ?? ''));
  if (below100) return { error: below100, reason: 'its status code is below 100' };
  const interim = findError(err, (e) => e.code === 'UND_ERR_SOCKET' && e.message === 'bad response');
  if (interim) return { error: interim, reason: 'an interim 100 Continue', interim: true };
  const mismatch = findError(err, (e) => e.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH');
  return mismatch ? { error: mismatch, reason: 'its body does not match its Content-Length' } : null;
}

/** What is malformed in the answer's head, in words, from its bytes. */
function malformations(head: string, headers: Record<string, string>): string[] {
  const found: string[] = [];
  if (/(?:^|[^\r])\n/.test(head)) found.push('lines end in a bare LF, not CRLF');
  if (/\n[ \t]/.test(head)) found.push('a header is folded onto the next line (obs-fold)');
  if (/\n[^:\r\n]*[ \t]:/.test(head)) found.push('a header name is followed by white space before its colon');
  if ('content-length' in headers && /chunked/i.test(headers['transfer-encoding'] ?? '')) found.push('Content-Length is sent together with Transfer-Encoding: chunked');
  else if (headers['content-length']?.includes(',')) found.push('Content-Length is given more than once');
  return found;
}

/**
 * The attempt made of an answer undici refused: read leniently, the final answer's status
 * decides as for any answer (the note says what was wrong); without one (no status line, or
 * only an interim 1xx had come) it is a failed attempt whose error says the receiver got
 * the request.
 */
async function readMalformed(refused: Refused, bytes: Buffer | undefined, maxBytes: number, err: unknown): Promise<Partial<AttemptResult>> {
  const answer = bytes ? readLenientAnswer(bytes) : null;
  if (!answer || (answer.statusCode < 200 && answer.statusCode !== 101)) {
    // the answer after an interim 100 Continue had not come when undici dropped the connection
    if (refused.interim) return describeError(err);
    const what = answer ? 'no final status (only an interim answer)' : 'no status line';
    const wrong = refused.overLimit ? refused.reason : `the answer is not valid HTTP/1.1 (${refused.reason})`;
    return {
      errorClass: 'network',
      error: `${wrong} and ${what} could be read from it; the receiver received the request and may have acted on it`,
    };
  }
  // the head ends at its first empty line
  const ends = [bytes!.indexOf('\n\r\n'), bytes!.indexOf('\n\n')].filter((i) => i !== -1);
  const headEnd = ends.length > 0 ? Math.min(...ends) + 1 : bytes!.length;
  const what = malformations(bytes!.toString('latin1', 0, headEnd), answer.headers);
  const { statusCode, headers } = answer;
  const contentType = answerContentType(headers['content-type']);
  const read = answer.body === null ? null : await readAnswerBody(Readable.from([answer.body]), headers['content-encoding'] ?? null, maxBytes);
  const firstLine = bytes!.toString('latin1', 0, Math.max(0, bytes!.indexOf('\n'))).trim();
  const wrong = refused.interim
    ? `the answer began with an interim "${firstLine}", which the HTTP client (undici) does not read past`
    : refused.overLimit
      ? refused.reason
      : `the answer is not valid HTTP/1.1 (${what.length > 0 ? what.join('; ') : refused.reason})`;
  const note =
    `${wrong}; it was read leniently` +
    (read === null
      ? `, its status ${statusCode} and headers but not its body, ${bodyEndUnknowable(headers) ? 'whose end cannot be told: its Content-Length names no single length' : 'which had not all come when the HTTP client gave up'}`
      : '');
  const failed = statusCode >= 400;
  return {
    statusCode,
    responseContentType: contentType,
    errorClass: failed ? 'http_status' : 'none',
    error: failed ? statusText(statusCode) : null,
    responseBody: read === null ? null : answerText(read.bytes, contentType, read.truncated),
    responseTruncated: read?.truncated ?? false,
    responseNote: read?.problem ? `${note}; ${read.problem}` : note,
    retryAfter: headers['retry-after'] ?? null,
    ...(read === null ? { bodyUnread: true } : {}),
  };
}

/**
 * The Content-Type an answer is read by. Given more than once (a proxy adding one beside the
 * application's: two headers, or one joined with commas), the last media type wins, as
 * browsers read it (the Fetch standard's "extract a MIME type": the wildcard is passed over);
 * commas inside quoted parameters do not separate.
 */
function answerContentType(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const types = (Array.isArray(value) ? value : [value])
    .flatMap((v) => v.match(/(?:[^,"]|"(?:[^"\\]|\\.)*"?)+/g) ?? [])
    .map((t) => t.trim())
    .filter((t) => /^[^;\s]+\/[^;\s]+/.test(t) && !t.startsWith('*/*'));
  return types.at(-1) ?? (Array.isArray(value) ? value[0] ?? null : value);
}

/** Parse and pre-check the URL: scheme, credentials, and IP literals (a clear error before any socket). */
function checkUrl(raw: string, allowPrivate: boolean): { url: URL } | Failure {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    const hint = raw.trim() === '' ? 'the rendered URL is empty' : 'the rendered URL is not an absolute URL';
    return { errorClass: 'invalid_url', error: `invalid URL: ${hint}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { errorClass: 'invalid_url', error: `invalid URL: scheme "${url.protocol}" is not supported (use http or https)` };
  }
  if (url.username !== '' || url.password !== '') {
    // undici would silently drop them; credentials belong in the webhook's auth setting.
    return { errorClass: 'invalid_url', error: 'invalid URL: a user name or password in the URL is not supported; use the webhook auth setting' };
  }
  if (!allowPrivate) {
    const refused = checkHostLiteral(url.hostname);
    if (refused) return { errorClass: 'refused_address', error: refused.message };
  }
  return { url };
}

/** Header names are case-insensitive: extraHeaders (auth, delivery id, attempt) win over the webhook's own. */
function mergeHeaders(base: Record<string, string>, extra: Record<string, string>): Record<string, string> {
  const byLower = new Map<string, [string, string]>();
  // undici refuses header values beyond Latin-1 (a Cyrillic title in a header): send their UTF-8 bytes
  for (const [k, v] of [...Object.entries(base), ...Object.entries(extra)]) byLower.set(k.toLowerCase(), [k, headerValueAsUtf8Bytes(v)]);
  return Object.fromEntries(byLower.values());
}

interface ErrLike {
  code?: string;
  message?: string;
  address?: string;
  port?: number;
  hostname?: string;
  cause?: unknown;
  errors?: unknown[];
}

/** Depth-limited search through cause / AggregateError.errors. */
function findError(err: unknown, pred: (e: ErrLike) => boolean, depth = 0): ErrLike | null {
  if (depth > 5 || typeof err !== 'object' || err === null) return null;
  const e = err as ErrLike;
  if (pred(e)) return e;
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const hit = findError(inner, pred, depth + 1);
    if (hit) return hit;
  }
  return null;
}

const NETWORK_PHRASES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
};

/**
 * A 204 or 304 has no body whatever its Content-Length says (RFC 9110 §8.6: a 304 may give
 * the length of the representation it stands for): undici reports such a Content-Length as
 * a mismatch after the whole answer was read, which says nothing against the answer.
 */
function bodilessAnswer(statusCode: number | null, err: unknown): boolean {
  return (statusCode === 204 || statusCode === 304) && findError(err, (e) => e.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') !== null;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function describeError(err: unknown): Failure {
  const refused = findError(err, (e) => e.code === REFUSED_CODE);
  if (refused) return { errorClass: 'refused_address', error: refused.message ?? 'refused address' };
  // Happy-eyeballs failures arrive as an AggregateError: the first attempt's error says most.
  const e = findError(err, (x) => typeof x.code === 'string') ?? (err as ErrLike | null) ?? {};
  const code = e.code ?? '';
  if (TIMEOUT_CODES.has(code)) return { errorClass: 'timeout', error: `timed out (${code})` };
  if (code === 'UND_ERR_INVALID_ARG') {
    // A header or method undici refuses: it will never succeed, so it is final like a bad URL.
    return { errorClass: 'invalid_url', error: `invalid request: ${e.message ?? code}` };
  }
  if (/CERT|^ERR_TLS|^ERR_SSL/.test(code)) return { errorClass: 'network', error: `TLS error: ${e.message} (${code})` };
  const where = e.address ? ` ${e.address}${e.port ? `:${e.port}` : ''}` : e.hostname ? ` ${e.hostname}` : '';
  // undici drops the connection on a 100 Continue before the answer and on a 101 it did not
  // ask for (RFC 9110 has clients read past a 1xx; undici does not): say so, not "closed"
  if (code === 'UND_ERR_SOCKET' && e.message === 'bad response') {
    return { errorClass: 'network', error: `the answer began with an interim 100 Continue, which the HTTP client (undici) does not read past; the receiver may have acted on the request (${code}${where})` };
  }
  if (code === 'UND_ERR_SOCKET' && e.message === 'bad upgrade') {
    return { errorClass: 'network', error: `the receiver switched protocols (101) though no upgrade was asked for (${code}${where})` };
  }
  if (code === 'UND_ERR_HEADERS_OVERFLOW') return { errorClass: 'network', error: `${HEAD_OVER_LIMIT} (${code}${where})` };
  const phrase = NETWORK_PHRASES[code];
  if (phrase) return { errorClass: 'network', error: `${phrase} (${code}${where})` };
  return { errorClass: 'network', error: `${e.message ?? String(err)}${code ? ` (${code}${where})` : ''}` };
}
