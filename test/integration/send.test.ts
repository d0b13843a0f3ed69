/**
 * send.ts against REAL node:http servers on 127.0.0.1 (never a mocked client).
 * Waits are on states (a request arrived, a promise settled), never on guessed sleeps.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGzip, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSender, type Sender } from '../../src/delivery/send.js';
import type { RenderedRequest } from '../../src/domain/index.js';

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  port: number;
  base: string;
  seen: Seen[];
  connections: number;
  /** resolves with the next request's path once it has fully arrived */
  nextRequest(): Promise<string>;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

async function startServer(): Promise<TestServer> {
  const waiters: ((path: string) => void)[] = [];
  const state = { seen: [] as Seen[], connections: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      state.seen.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      waiters.shift()?.(path);
      route(path, res);
    });
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    get seen() {
      return state.seen;
    },
    get connections() {
      return state.connections;
    },
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function route(path: string, res: http.ServerResponse): void {
  switch (path) {
    case '/json':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"result":{"message_id":"m-1"}}');
      return;
    case '/fail':
      res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      return;
    case '/redirect':
      res.writeHead(302, { location: '/elsewhere' }).end();
      return;
    case '/hang':
      return; // never answers
    case '/cut-body':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '64' });
      res.write('partial', () => res.socket?.destroy()); // ...and the connection ends there
      return;
    case '/huge-headers':
      res.writeHead(200, { 'content-type': 'text/plain', 'x-trace': 'a'.repeat(20_000) }).end('ok');
      return;
    case '/huge-headers-503':
      res.writeHead(503, { 'retry-after': '120', 'content-security-policy': 'a'.repeat(20_000) }).end('busy');
      return;
    case '/slow-body':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial'); // ...and never ends
      return;
    case '/big': {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      // Write 3 MiB honouring back-pressure; the client may hang up part way.
      const pump = (): void => {
        while (sent < 3 * MiB && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => {});
      pump();
      return;
    }
    case '/utf8':
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('xéééé');
      return;
    case '/xml-1251':
      // the encoding declared only in the XML prolog, as SMS gateways do
      res.writeHead(200, { 'content-type': 'text/xml' }).end(SMS_REPLY_1251);
      return;
    case '/json-latin1':
      res.writeHead(200, { 'content-type': 'application/json; charset=iso-8859-1' }).end(Buffer.from('{"name":"é"}', 'latin1'));
      return;
    case '/gzip':
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"result":{"message_id":"m-1","text":"Доставлено"}}'));
      return;
    case '/gzip-corrupt':
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end('{"result":"not compressed"}');
      return;
    case '/gzip-bomb': {
      // 'a' × 4 GiB, gzipped as it is sent (about 4 MiB on the wire): sent until the client hangs up
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      const gzip = createGzip();
      gzip.pipe(res);
      const chunk = Buffer.alloc(1024 * 1024, 'a');
      let sent = 0;
      const pump = (): void => {
        while (sent < 4096 * MiB && !res.destroyed) {
          sent += chunk.length;
          if (!gzip.write(chunk)) return void gzip.once('drain', pump);
        }
        gzip.end();
      };
      res.on('close', () => {
        bomb.stoppedAt = sent;
        gzip.destroy();
      });
      res.on('error', () => {});
      pump();
      return;
    }
    default:
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  }
}

const SMS_REPLY = '<?xml version="1.0" encoding="windows-1251"?><reply><result>Доставлено</result></reply>';
/** windows-1251: А..я are 0xC0..0xFF */
const SMS_REPLY_1251 = Buffer.from([...SMS_REPLY].map((c) => (c >= 'А' && c <= 'я' ? c.charCodeAt(0) - 0x350 : c.charCodeAt(0))));
/** how much of the bomb was written when the client hung up */
const bomb = { stoppedAt: -1 };

const get = (url: string): RenderedRequest => ({ method: 'GET', url, headers: {}, body: null });

let server: TestServer;
let open: Sender[] = [];

function sender(opts: Partial<Parameters<typeof createSender>[0]> = {}): Sender {
  const s = createSender({ timeoutMs: 5000, allowPrivateNetworks: true, ...opts });
  open.push(s);
  return s;
}

beforeAll(async () => {
  server = await startServer();
});
afterEach(async () => {
  await Promise.all(open.map((s) => s.close()));
  open = [];
});
afterAll(async () => {
  await server.close();
});

describe('send: responses', () => {
  it('200 with JSON: success, body, content type, timing', async () => {
    const before = Date.now();
    const r = await sender().send(get(`${server.base}/json`), {});
    expect(r).toMatchObject({
      statusCode: 200,
      errorClass: 'none',
      error: null,
      responseBody: '{"result":{"message_id":"m-1"}}',
      responseContentType: 'application/json',
      responseTruncated: false,
    });
    expect(r.startedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('500: http_status, the status line as error, the body kept', async () => {
    const r = await sender().send(get(`${server.base}/fail`), {});
    expect(r).toMatchObject({ statusCode: 500, errorClass: 'http_status', error: 'HTTP 500 Internal Server Error', responseBody: 'boom' });
  });

  it('302: success, and the Location is NOT requested', async () => {
    const count = server.seen.length;
    const r = await sender().send(get(`${server.base}/redirect`), {});
    expect(r).toMatchObject({ statusCode: 302, errorClass: 'none', error: null });
    expect(server.seen.slice(count).map((s) => s.path)).toEqual(['/redirect']);
  });

  it('reuses one pooled keep-alive connection across sends', async () => {
    const s = sender();
    const before = server.connections;
    for (let i = 0; i < 6; i++) expect((await s.send(get(`${server.base}/json`), {})).errorClass).toBe('none');
    // undici may open a second socket when a send follows the previous body's end within
    // the same tick (the first socket is not yet marked free); after that both are reused.
    expect(server.connections - before).toBeLessThanOrEqual(2);
  });
});

describe('send: what is sent', () => {
  it('sends method, body, the request headers and extraHeaders (extra wins, case-insensitively)', async () => {
    const req: RenderedRequest = {
      method: 'POST',
      url: `${server.base}/hook?x=1`,
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'deskhooks/0.1.0', 'X-Custom': 'v', authorization: 'should be replaced' },
      body: '{"a":"é"}',
    };
    const r = await sender().send(req, { Authorization: 'Bearer t0k', 'X-Deskhooks-Delivery': 'd-1', 'X-Deskhooks-Attempt': '2' });
    expect(r.errorClass).toBe('none');
    const seen = server.seen.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', path: '/hook?x=1', body: '{"a":"é"}' });
    expect(seen.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'deskhooks/0.1.0',
      'x-custom': 'v',
      authorization: 'Bearer t0k',
      'x-deskhooks-delivery': 'd-1',
      'x-deskhooks-attempt': '2',
    });
  });
});

describe('send: failures', () => {
  it('a server that never answers: timeout after ~timeoutMs, statusCode null', async () => {
    const arrived = server.nextRequest();
    const r = await sender({ timeoutMs: 500 }).send(get(`${server.base}/hang`), {});
    expect(await arrived).toBe('/hang');
    expect(r).toMatchObject({ statusCode: null, errorClass: 'timeout', error: 'timed out after 500 ms', responseBody: null });
    expect(r.durationMs).toBeGreaterThanOrEqual(490);
    expect(r.durationMs).toBeLessThan(3000);
  });

  it('the timeout covers the body too (headers came, the body never ends)', async () => {
    const r = await sender({ timeoutMs: 500 }).send(get(`${server.base}/slow-body`), {});
    expect(r).toMatchObject({
      statusCode: 200,
      errorClass: 'timeout',
      error: 'timed out after 500 ms while reading the body of the HTTP 200 answer: its status and headers had come, so the receiver may have acted on the request',
    });
  });

  it('a body cut off after the status (the connection ends part way): network, the error says the answer had begun', async () => {
    const r = await sender().send(get(`${server.base}/cut-body`), {});
    expect(r).toMatchObject({ statusCode: 200, errorClass: 'network', responseBody: null });
    expect(r.error).toMatch(/^connection closed by the server \(UND_ERR_SOCKET\) while reading the body of the HTTP 200 answer: its status and headers had come, so the receiver may have acted on the request$/);
  });

  it("headers over the HTTP client's limit: the answer came, so its status decides (a 200 is not sent again); the note names the limit", async () => {
    const limit = `the answer's status line and headers are over the ${http.maxHeaderSize.toLocaleString('en-US')} bytes the HTTP client reads; it was read leniently`;
    const ok = await sender().send(get(`${server.base}/huge-headers`), {});
    expect(ok).toMatchObject({ statusCode: 200, errorClass: 'none', error: null, responseContentType: 'text/plain' });
    // (its body too, when all of it had come with the head)
    expect(ok.responseNote?.startsWith(limit)).toBe(true);
    // a 503 asking to wait: its Retry-After is read too
    const busy = await sender().send(get(`${server.base}/huge-headers-503`), {});
    expect(busy).toMatchObject({ statusCode: 503, errorClass: 'http_status', error: 'HTTP 503 Service Unavailable', retryAfter: '120' });
  });

  it('the caller aborting (shutdown) is reported as network "aborted"', async () => {
    const controller = new AbortController();
    const arrived = server.nextRequest();
    const pending = sender().send(get(`${server.base}/hang`), {}, controller.signal);
    await arrived;
    controller.abort();
    expect(await pending).toMatchObject({ statusCode: null, errorClass: 'network', error: 'aborted: worker shutting down' });
    const early = await sender().send(get(`${server.base}/json`), {}, AbortSignal.abort());
    expect(early.errorClass).toBe('network');
  });

  it('connection refused: network, with code and address', async () => {
    const gone = await startServer();
    const port = gone.port;
    await gone.close(); // nothing listens on this port any more
    const r = await sender().send(get(`http://127.0.0.1:${port}/`), {});
    expect(r).toMatchObject({ statusCode: null, errorClass: 'network', error: `connection refused (ECONNREFUSED 127.0.0.1:${port})` });
  });

  it.each([
    ['', 'invalid URL: the rendered URL is empty'],
    ['/relative/path', 'invalid URL: the rendered URL is not an absolute URL'],
    ['ftp://127.0.0.1/x', 'invalid URL: scheme "ftp:" is not supported (use http or https)'],
    ['http://user:secret@127.0.0.1/x', 'invalid URL: a user name or password in the URL is not supported; use the webhook auth setting'],
  ])('invalid URL %j → invalid_url, nothing sent', async (url, error) => {
    const count = server.seen.length;
    const r = await sender().send(get(url), {});
    expect(r).toMatchObject({ statusCode: null, errorClass: 'invalid_url', error });
    expect(server.seen.length).toBe(count);
  });
});

describe('send: response size cap', () => {
  it('reads at most 1 MiB of a 3 MiB body and flags it truncated', async () => {
    const r = await sender().send(get(`${server.base}/big`), {});
    expect(r).toMatchObject({ statusCode: 200, errorClass: 'none', responseTruncated: true });
    expect(Buffer.byteLength(r.responseBody!)).toBe(MiB);
    expect(r.responseBody!.length).toBeLessThanOrEqual(MiB);
  });

  it('a cut never leaves half a UTF-8 character', async () => {
    // "xéééé": 1 + 4×2 bytes; a 4-byte cap ends inside the second "é"
    const r = await sender({ maxResponseBytes: 4 }).send(get(`${server.base}/utf8`), {});
    expect(r).toMatchObject({ responseBody: 'xé', responseTruncated: true });
    const whole = await sender({ maxResponseBytes: 9 }).send(get(`${server.base}/utf8`), {});
    expect(whole).toMatchObject({ responseBody: 'xéééé', responseTruncated: false });
  });
});

describe("send: the answer's encoding and compression", () => {
  it('a windows-1251 XML answer declared only in its prolog is read as windows-1251', async () => {
    const r = await sender().send(get(`${server.base}/xml-1251`), {});
    expect(r).toMatchObject({ statusCode: 200, errorClass: 'none', responseBody: SMS_REPLY, responseContentType: 'text/xml', responseTruncated: false });
  });

  it('an iso-8859-1 JSON answer declared in its Content-Type is read as iso-8859-1', async () => {
    const r = await sender().send(get(`${server.base}/json-latin1`), {});
    expect(r).toMatchObject({ statusCode: 200, errorClass: 'none', responseBody: '{"name":"é"}' });
  });

  it('a gzip answer is decompressed (deskhooks sent no Accept-Encoding)', async () => {
    const r = await sender().send(get(`${server.base}/gzip`), {});
    expect(server.seen.at(-1)!.headers['accept-encoding']).toBeUndefined();
    expect(r).toMatchObject({ statusCode: 200, errorClass: 'none', error: null, responseBody: '{"result":{"message_id":"m-1","text":"Доставлено"}}', responseTruncated: false });
    expect(r.responseNote ?? null).toBeNull();
  });

  it('a gzip bomb stops at the cap of decompressed bytes, truncated, and the rest is not read', async () => {
    const r = await sender().send(get(`${server.base}/gzip-bomb`), {});
    expect(r).toMatchObject({ statusCode: 200, errorClass: 'none', responseTruncated: true });
    expect(r.responseBody).toBe('a'.repeat(MiB));
    await expect.poll(() => bomb.stoppedAt).toBeGreaterThanOrEqual(0);
    expect(bomb.stoppedAt).toBeLessThan(4096 * MiB);
  });

  it('a gzip answer that does not decompress: kept as it came, the status decides, a note says why', async () => {
    const r = await sender().send(get(`${server.base}/gzip-corrupt`), {});
    expect(r).toMatchObject({
      statusCode: 200,
      errorClass: 'none',
      error: null,
      responseBody: '{"result":"not compressed"}',
      responseNote: 'answer body not decompressed: it is not valid gzip (incorrect header check); it is kept as it came',
    });
  });
});

describe('send: address guard (allowPrivateNetworks=false)', () => {
  const hosts = ['127.0.0.1', 'localhost', '[::1]', '127.1.2.3', '2130706433', '0.0.0.0', '[::ffff:127.0.0.1]'];

  it.each(hosts)('http://%s:<port>/ → refused_address, the server sees nothing', async (host) => {
    const before = { requests: server.seen.length, connections: server.connections };
    const r = await sender({ allowPrivateNetworks: false }).send(get(`http://${host}:${server.port}/json`), { Authorization: 'Bearer t' });
    expect(r.statusCode).toBeNull();
    expect(r.errorClass).toBe('refused_address');
    expect(r.error).toMatch(/^webhook host "[^"]+" (is|resolves to [^,]+,) (a|an) .*address.*; set DESKHOOKS_ALLOW_PRIVATE_NETWORKS=true to allow it$/);
    // Confirm the server is alive and still counting, then that nothing came from the refused send.
    expect((await sender().send(get(`${server.base}/json`), {})).errorClass).toBe('none');
    expect(server.seen.length).toBe(before.requests + 1);
    expect(server.connections).toBe(before.connections + 1);
  });

  it('localhost is refused through the guarded lookup with the documented message', async () => {
    const r = await sender({ allowPrivateNetworks: false }).send(get(`http://localhost:${server.port}/`), {});
    expect(r.error).toMatch(/^webhook host "localhost" resolves to (127\.0\.0\.1|::1), a loopback address; set DESKHOOKS_ALLOW_PRIVATE_NETWORKS=true to allow it$/);
  });

  it('the same loopback target is reached when private networks are allowed', async () => {
    const r = await sender({ allowPrivateNetworks: true }).send(get(`http://localhost:${server.port}/json`), {});
    expect(r.errorClass).toBe('none');
  });
});
