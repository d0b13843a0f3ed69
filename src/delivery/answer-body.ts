/**
 * An answer's body as bytes: at most `max` of them, decompressed as its Content-Encoding
 * says. undici's `request` hands the body over as it came (it decompresses nothing), and
 * although deskhooks sends no Accept-Encoding, some receivers compress all the same.
 *
 * - gzip (x-gzip), deflate (zlib-wrapped, or raw as some servers send it) and br are
 *   decompressed with node:zlib as the bytes arrive. `max` caps the DECOMPRESSED bytes,
 *   as it caps an uncompressed body: a decompression bomb stops at `max`, truncated.
 *   (A stream that decompresses to nothing is bounded by the attempt's timeout, like a
 *   slow body: nothing of it is kept.)
 * - Any other encoding, more than one, or a stream that does not decompress leaves the
 *   body as it came (at most `max` bytes) with a `problem` saying why, in words for the
 *   user. It is not a failure of the attempt: the status decides that, as always.
 * - An empty body is empty whatever its Content-Encoding (a 204, a 304).
 * - A failure of the transport (a reset, the attempt's timeout) rejects, as reading an
 *   uncompressed body does.
 */
import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';

export interface AnswerBytes {
  bytes: Buffer;
  /** the body (decompressed, when it was) was longer than `max` and was cut */
  truncated: boolean;
  /** why the body is kept as it came, compressed; null when it is not */
  problem: string | null;
}

type Coding = 'gzip' | 'deflate' | 'br';

const CODINGS: Record<string, Coding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

/** At most `max` bytes, in order; `add` says false once a chunk did not fit whole. */
class Capped {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  cut = false;
  constructor(private readonly max: number) {}

  add(chunk: Buffer): boolean {
    if (this.cut) return false;
    if (this.size + chunk.length > this.max) {
      this.chunks.push(chunk.subarray(0, this.max - this.size));
      this.size = this.max;
      this.cut = true;
      return false;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  get empty(): boolean {
    return this.size === 0;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export async function readAnswerBody(body: Readable, contentEncoding: string | null, max: number): Promise<AnswerBytes> {
  // "identity" is no coding; codings are listed in the order they were applied
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return readAsItCame(body, max, null);
  const coding = codings.length === 1 ? CODINGS[codings[0]!] : undefined;
  if (coding) return readDecompressed(body, coding, max);
  const named = JSON.stringify(contentEncoding!.trim());
  const why = codings.length > 1 ? `compressed more than once (Content-Encoding ${named})` : `compressed as ${named}, which deskhooks cannot decompress (it can gzip, deflate and br)`;
  return readAsItCame(body, max, `answer body not decompressed: it is ${why}; it is kept as it came`);
}

async function readAsItCame(body: Readable, max: number, problem: string | null): Promise<AnswerBytes> {
  const kept = new Capped(max);
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (!kept.add(chunk)) break; // ends the iterator, which destroys the stream: the rest is never read
  }
  if (kept.cut) body.destroy();
  return { bytes: kept.bytes(), truncated: kept.cut, problem: kept.empty ? null : problem };
}

/** A zlib (RFC 1950) header: deflate, a window of at most 32 KiB, a check that divides by 31. */
function isZlibHeader(head: Buffer): boolean {
  return head.length >= 2 && (head[0]! & 0x0f) === 8 && head[0]! >> 4 <= 7 && (head[0]! * 256 + head[1]!) % 31 === 0;
}

function decompressor(coding: Coding, head: Buffer): Transform {
  if (coding === 'gzip') return createGunzip();
  if (coding === 'br') return createBrotliDecompress();
  // HTTP's deflate is zlib-wrapped, but some servers send raw deflate: the first bytes tell
  return isZlibHeader(head) ? createInflate() : createInflateRaw();
}

/**
 * The body written through the decompressor by hand, not piped: an error of the body
 * (the transport's) rejects, an error of the decompressor (the data's) only means the
 * body is kept as it came — so its bytes are kept too (at most `max`), until it fails.
 */
function readDecompressed(body: Readable, coding: Coding, max: number): Promise<AnswerBytes> {
  return new Promise<AnswerBytes>((resolve, reject) => {
    const received = new Capped(max);
    const decompressed = new Capped(max);
    let inflater: Transform | null = null;
    let head = Buffer.alloc(0); // deflate's first two bytes decide which deflate it is
    let failure: Error | null = null;
    let bodyEnded = false;
    let settled = false;

    const settle = (result: AnswerBytes): void => {
      settled = true;
      resolve(result);
    };
    const keepAsItCame = (): void => {
      if (!received.cut && !bodyEnded) return; // the rest of the body is still to be read
      if (!bodyEnded) body.destroy();
      const why = `answer body not decompressed: it is not valid ${coding} (${failure!.message}); it is kept as it came`;
      settle({ bytes: received.bytes(), truncated: received.cut, problem: why });
    };

    const start = (first: Buffer): Transform => {
      const z = decompressor(coding, first);
      z.on('data', (chunk: Buffer) => {
        if (settled || decompressed.add(chunk)) return;
        // beyond the cap (a bomb, or just a long body): the rest is never decompressed
        settle({ bytes: decompressed.bytes(), truncated: true, problem: null });
        z.destroy();
        body.destroy();
      });
      z.on('end', () => {
        if (settled) return;
        settle({ bytes: decompressed.bytes(), truncated: false, problem: null });
        // the stream ended before the body did: what follows it is never read
        if (!bodyEnded) body.destroy();
      });
      z.on('error', (err: Error) => {
        if (settled) return;
        failure = err;
        body.resume(); // it may wait for a 'drain' that will not come
        keepAsItCame();
      });
      return z;
    };
    const feed = (chunk: Buffer): void => {
      if (!inflater) {
        head = Buffer.concat([head, chunk]);
        if (head.length < 2 && !bodyEnded) return;
        inflater = start(head);
        chunk = head;
      }
      if (!inflater.write(chunk)) {
        body.pause();
        inflater.once('drain', () => body.resume());
      }
    };

    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      received.add(chunk);
      if (failure) keepAsItCame();
      else feed(chunk);
    });
    body.on('end', () => {
      bodyEnded = true;
      if (settled) return;
      if (received.empty) return settle({ bytes: Buffer.alloc(0), truncated: false, problem: null });
      if (failure) return keepAsItCame();
      if (!inflater) feed(Buffer.alloc(0));
      inflater!.end(); // 'end' or 'error' follows
    });
    body.on('error', (err: Error) => {
      if (settled) return;
      settled = true;
      inflater?.destroy();
      reject(err);
    });
  });
}
