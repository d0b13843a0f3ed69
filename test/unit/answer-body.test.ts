/**
 * An answer's body is decompressed as its Content-Encoding says (answer-body.ts), capped
 * in decompressed bytes; what cannot be decompressed is kept as it came, with a problem
 * in words for the user; an error of the transport still rejects.
 */
import { PassThrough, Readable } from 'node:stream';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readAnswerBody } from '../../src/delivery/answer-body.js';

const text = '{"result":{"message_id":"m-1","text":"Доставлено"}}';
const bytes = Buffer.from(text);

/** A body as undici gives it: a Readable of Buffers, here in chunks of `size` bytes. */
function body(data: Buffer, size = 7): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

describe('readAnswerBody', () => {
  it.each([
    [null, bytes],
    ['identity', bytes],
    ['gzip', gzipSync(bytes)],
    ['x-gzip', gzipSync(bytes)],
    ['GZIP', gzipSync(bytes)],
    ['deflate', deflateSync(bytes)],
    ['deflate', deflateRawSync(bytes)], // raw deflate, as some servers send it
    ['br', brotliCompressSync(bytes)],
    ['gzip, identity', gzipSync(bytes)],
  ])('Content-Encoding %j: the body as written', async (encoding, data) => {
    for (const size of [1, 7, 64 * 1024]) {
      expect(await readAnswerBody(body(data, size), encoding, 1024)).toEqual({ bytes, truncated: false, problem: null });
    }
  });

  it.each([
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('%s: a stream that ends before the body does: the body is not read on (the connection is let go)', async (coding, compress) => {
    const stream = new PassThrough();
    stream.write(compress(Buffer.from('hello')));
    stream.write(Buffer.alloc(1000, 7)); // what follows the end of the compressed stream, and more may come
    const read = await readAnswerBody(stream, coding, 1024);
    expect(read).toEqual({ bytes: Buffer.from('hello'), truncated: false, problem: null });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.destroyed).toBe(true);
  });

  it.each([null, 'gzip', 'deflate', 'br', 'zstd'])('an empty body is empty (Content-Encoding %j)', async (encoding) => {
    expect(await readAnswerBody(body(Buffer.alloc(0)), encoding, 1024)).toEqual({ bytes: Buffer.alloc(0), truncated: false, problem: null });
  });

  it('the cap counts decompressed bytes: a decompression bomb stops at it, truncated', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros in about 64 KiB
    expect(bomb.length).toBeLessThan(100 * 1024);
    const source = body(bomb, 16 * 1024);
    const r = await readAnswerBody(source, 'gzip', 1024 * 1024);
    expect(r).toMatchObject({ truncated: true, problem: null });
    expect(r.bytes).toEqual(Buffer.alloc(1024 * 1024));
    expect(source.destroyed).toBe(true); // the rest is never read
  });

  it('a body exactly as long as the cap is whole', async () => {
    expect(await readAnswerBody(body(gzipSync(bytes)), 'gzip', bytes.length)).toEqual({ bytes, truncated: false, problem: null });
    const cut = await readAnswerBody(body(gzipSync(bytes)), 'gzip', bytes.length - 1);
    expect(cut).toEqual({ bytes: bytes.subarray(0, bytes.length - 1), truncated: true, problem: null });
  });

  it.each([
    ['zstd', 'answer body not decompressed: it is compressed as "zstd", which deskhooks cannot decompress (it can gzip, deflate and br); it is kept as it came'],
    ['gzip, gzip', 'answer body not decompressed: it is compressed more than once (Content-Encoding "gzip, gzip"); it is kept as it came'],
  ])('Content-Encoding %j: kept as it came, with the problem', async (encoding, problem) => {
    const data = gzipSync(gzipSync(bytes));
    expect(await readAnswerBody(body(data), encoding, 1024)).toEqual({ bytes: data, truncated: false, problem });
    expect(await readAnswerBody(body(data), encoding, 10)).toEqual({ bytes: data.subarray(0, 10), truncated: true, problem });
  });

  it.each([
    ['gzip', bytes, 'not valid gzip (incorrect header check)'],
    ['gzip', Buffer.concat([gzipSync(bytes), Buffer.from('trailing')]), 'not valid gzip (incorrect header check)'],
    ['gzip', gzipSync(bytes).subarray(0, 30), 'not valid gzip (unexpected end of file)'],
    ['deflate', Buffer.from([0xff, ...bytes]), 'not valid deflate ('],
    ['br', bytes, 'not valid br (Decompression failed)'],
  ])('a %s body that does not decompress: kept as it came, with the problem', async (encoding, data, why) => {
    const r = await readAnswerBody(body(data), encoding, 1024);
    expect(r).toMatchObject({ bytes: data, truncated: false });
    expect(r.problem).toMatch(/^answer body not decompressed: it is /);
    expect(r.problem).toContain(why);
    expect(r.problem).toMatch(/; it is kept as it came$/);
  });

  it('a body that fails at once and is longer than the cap: its first bytes, truncated, with the problem', async () => {
    const r = await readAnswerBody(body(bytes), 'gzip', 10);
    expect(r).toEqual({ bytes: bytes.subarray(0, 10), truncated: true, problem: expect.stringContaining('not valid gzip (incorrect header check)') });
  });

  it('an error of the transport rejects, decompressing or not', async () => {
    for (const encoding of [null, 'gzip']) {
      const source = new PassThrough();
      const read = readAnswerBody(source, encoding, 1024);
      source.write(gzipSync(bytes).subarray(0, 10));
      source.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
      await expect(read).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    }
  });
});
