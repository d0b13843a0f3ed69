import { describe, expect, it } from 'vitest';
import { readLenientAnswer } from '../../src/delivery/lenient-answer.js';

const read = (text: string) => {
  const a = readLenientAnswer(Buffer.from(text, 'latin1'));
  return a && { ...a, body: a.body === null ? null : a.body.toString('latin1') };
};

describe('readLenientAnswer: an answer undici refuses, read as a lenient HTTP/1.1 reader would', () => {
  it.each([
    ['bare LF line endings', 'HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\nok', 200, { 'content-type': 'text/plain', 'content-length': '2' }, 'ok'],
    ['a folded header', 'HTTP/1.1 201 Created\r\nX-A: one\r\n\t two\r\nContent-Length: 2\r\n\r\nok', 201, { 'x-a': 'one two', 'content-length': '2' }, 'ok'],
    ['white space before a colon', 'HTTP/1.0 200 OK\r\nContent-Length : 2\r\n\r\nokEXTRA', 200, { 'content-length': '2' }, 'ok'],
    ['Content-Length beside chunked (chunked wins)', 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3;x=y\r\n!!!\r\n0\r\n\r\n', 200, { 'content-length': '99', 'transfer-encoding': 'chunked' }, 'ok!!!'],
    ['repeated headers, joined', 'HTTP/1.1 503 Busy\nRetry-After: 5\nX-B: 1\nX-B: 2\nContent-Length: 0\n\n', 503, { 'retry-after': '5', 'x-b': '1, 2', 'content-length': '0' }, ''],
    ['a 204 carries no body', 'HTTP/1.1 204 No Content\nContent-Length: 10\n\n', 204, { 'content-length': '10' }, ''],
    ['interim answers are read past', 'HTTP/1.1 100 Continue\n\nHTTP/1.1 103 Early Hints\nLink: </a>\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok', 200, { 'content-length': '2' }, 'ok'],
    ['only an interim answer had come', 'HTTP/1.1 100 Continue\n\n', 100, {}, ''],
    ['Content-Length given twice with one value', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nokEXTRA', 200, { 'content-length': '2, 2' }, 'ok'],
    ['Content-Length listing one value twice', 'HTTP/1.1 200 OK\r\nContent-Length: 2 ,2\r\n\r\nok', 200, { 'content-length': '2 ,2' }, 'ok'],
    ['101 is no interim answer', 'HTTP/1.1 101 Switching Protocols\nUpgrade: x\n\nHTTP/1.1 200 OK\n\n', 101, { upgrade: 'x' }, ''],
  ])('%s', (_what, text, statusCode, headers, body) => {
    expect(read(text)).toEqual({ statusCode, headers, body });
  });

  it.each([
    ['a body shorter than its Content-Length', 'HTTP/1.1 200 OK\nContent-Length: 10\n\nok'],
    ['a chunked body without its last chunk', 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n'],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nzz\nok\n0\n\n'],
    ['a body read to the close of the connection', 'HTTP/1.1 200 OK\nContent-Type: text/plain\n\nok'],
    ['Content-Length given twice with different values', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!'],
    ['headers that had not all come', 'HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Len'],
  ])('the body is null (its end is not known): %s', (_what, text) => {
    expect(read(text)).toMatchObject({ statusCode: 200, body: null });
  });

  it.each(['OK, sent\r\n\r\n', 'HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.1 099 Low\r\n\r\n', 'HTTP/1.1 200 OK'])('no status line: null (%j)', (text) => {
    expect(read(text)).toBeNull();
  });
});
