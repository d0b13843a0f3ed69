/**
 * REST bodies in a format the subset does not read: a POST whose body is text/plain,
 * multipart or carries no Content-Type is refused with 415 naming its Content-Type and the
 * two formats it takes, and nothing is written. (Unread, such a body used to pass for one
 * without `text`: "text: must not be empty", though the caller sent a text.)
 */
import net from 'node:net';
import { describe } from 'vitest';
import { createTicket, getTicket, test } from '../support/fixtures.js';

const it = test;

describe('REST: a body in another format than JSON or form fields', () => {
  it('is 415 naming its Content-Type; nothing is written; JSON (with a charset) and form bodies still post', async ({ app, expect }) => {
    const ticketId = await createTicket(app, 'rest bodies');
    const post = (path: string, body: RequestInit['body'], contentType?: string) =>
      fetch(`${app.url}/api/v2/tickets/${ticketId}/${path}/`, { method: 'POST', headers: { authorization: app.adminAuth, ...(contentType ? { 'content-type': contentType } : {}) }, body });
    const multipart = new FormData();
    multipart.set('text', 'hello');
    const refused: [string, NonNullable<RequestInit['body']>, string | undefined, string][] = [
      ['comments', 'text=hello', 'text/plain', 'Content-Type "text/plain"'],
      ['posts', '{"text": "hello"}', 'text/plain;charset=UTF-8', 'Content-Type "text/plain;charset=UTF-8"'],
      ['comments', multipart, undefined, 'Content-Type "multipart/form-data; boundary='],
      ['posts', new Blob(['{"text": "hello"}']), undefined, 'no Content-Type'],
    ];
    for (const [path, body, contentType, names] of refused) {
      const res = await post(path, body, contentType);
      expect(res.status, names).toBe(415);
      const [problem] = ((await res.json()) as any).errors;
      expect(problem).toMatchObject({ code: 'BAD_USER_INPUT', field: null });
      expect(problem.message).toContain(`the request body has ${names}`);
      expect(problem.message).toContain('send JSON (application/json) or form fields (application/x-www-form-urlencoded)');
    }
    expect((await getTicket(app, ticketId)).posts).toEqual([]);

    expect((await post('comments', '{"text": "json"}', 'application/json; charset=utf-8')).status).toBe(200);
    expect((await post('posts', 'text=form', 'application/x-www-form-urlencoded')).status).toBe(200);
    // the caller is known first: without credentials, 401 whatever the body's format
    const anonymous = await fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(anonymous.status).toBe(401);
    // no body at all is a body without text, as before
    const empty = await post('comments', undefined);
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as any).errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
    expect((await getTicket(app, ticketId)).posts.map((p) => p.text)).toEqual(['json', 'form']);
  });

  it('a JSON body that is not an object (a list, a string, a number, null, true) is 400 naming the body: it must be a JSON object; nothing is written', async ({ app, expect }) => {
    const ticketId = await createTicket(app, 'json shapes');
    const post = (path: string, body: string, auth = app.adminAuth) =>
      fetch(`${app.url}/api/v2/tickets/${ticketId}/${path}/`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body });
    for (const [path, body, is] of [
      ['comments', '[{"text": "hello"}]', 'a list'],
      ['posts', '[]', 'a list'],
      ['comments', '"hello"', 'a string'],
      ['posts', '42', 'a number'],
      ['comments', 'null', 'null'],
      ['posts', ' true ', 'a boolean'],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, body).toBe(400);
      const [problem] = ((await res.json()) as any).errors;
      expect(problem, body).toEqual({ code: 'BAD_USER_INPUT', field: 'body', message: `body: must be a JSON object such as {"text": "…"}, not ${is}` });
    }
    expect((await getTicket(app, ticketId)).posts).toEqual([]);
    // the caller is known first: without credentials, 401 whatever the body holds
    expect((await post('comments', '"hello"', '')).status).toBe(401);
    expect((await post('comments', '{"text": "an object"}')).status).toBe(200);
    expect((await getTicket(app, ticketId)).posts.map((p) => p.text)).toEqual(['an object']);
  });

  it('a form value that is not UTF-8 once percent-decoded (Windows-1251) is BAD_USER_INPUT naming the field, not stored as its percent-encoded text; a form declaring another charset (ISO-8859-1 too) is 415; UTF-8, "+" and a literal % still post', async ({ app, expect }) => {
    const ticketId = await createTicket(app, 'form charsets');
    const post = (body: string | Buffer) =>
      fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, { method: 'POST', headers: { authorization: app.adminAuth, 'content-type': 'application/x-www-form-urlencoded' }, body });
    for (const [body, field] of [['text=%CF%F0%E8%E2%E5%F2', 'text'], ['user_id=&text=ok%20%FF', 'text'], [Buffer.concat([Buffer.from('text='), Buffer.from([0xcf, 0xf0, 0xe8])]), 'text']] as const) {
      const res = await post(body);
      expect(res.status, String(body)).toBe(400);
      const [problem] = ((await res.json()) as any).errors;
      expect(problem).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(problem.message).toMatch(/^text: is not UTF-8 text once percent-decoded \(.*\); send form fields in UTF-8/);
    }
    expect((await getTicket(app, ticketId)).posts).toEqual([]);
    for (const body of ['text=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82', 'text=a+b', 'text=100%', Buffer.from('text=Привет', 'utf8')]) expect((await post(body)).status, String(body)).toBe(200);
    expect((await getTicket(app, ticketId)).posts.map((p) => p.text)).toEqual(['Привет', 'a b', '100%', 'Привет']);
    // a form declaring another charset than UTF-8 (ISO-8859-1 too, which the parser would decode itself) is refused, nothing written
    for (const charset of ['ISO-8859-1', 'latin1', 'windows-1251']) {
      for (const body of ['text=caf%C3%A9', 'text=caf%E9']) {
        const res = await fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, { method: 'POST', headers: { authorization: app.adminAuth, 'content-type': `application/x-www-form-urlencoded; charset=${charset}` }, body });
        expect(res.status, `${charset} ${body}`).toBe(415);
        expect(((await res.json()) as any).errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body', message: expect.stringMatching(/^the request body could not be read: unsupported charset "/) });
      }
    }
    expect((await getTicket(app, ticketId)).posts).toHaveLength(4);
    expect((await fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, { method: 'POST', headers: { authorization: app.adminAuth, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }, body: 'text=caf%C3%A9' })).status).toBe(200);
    expect((await getTicket(app, ticketId)).posts.at(-1)!.text).toBe('café');
    // the caller is known first: without credentials, 401 whatever the body holds
    const anonymous = await fetch(`${app.url}/api/v2/tickets/${ticketId}/comments/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'text=%FF' });
    expect(anonymous.status).toBe(401);
  });
});

/**
 * Sends a POST's head and only the start of the body its Content-Length announces, and
 * resolves with the answer's head: the server answers before reading the body or never.
 */
function postWithUnfinishedBody(url: string, path: string, headers: Record<string, string>): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no answer within 5 s');
    }, 5_000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer.slice(0, end));
    });
    const head = Object.entries({ host: `${hostname}:${port}`, 'content-type': 'application/json', 'content-length': '100000', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`POST /api/v2${path} HTTP/1.1\r\n${head}\r\n{"text": "`);
  });
}

describe('REST: credentials before the body', () => {
  it('without valid credentials a POST is 401 with the challenge before its body is read: a body still arriving, unreadable or too large is not parsed; nothing is written', async ({ app, expect }) => {
    const ticketId = await createTicket(app, 'credentials first');
    const challenge = 'Basic realm="deskhooks", charset="UTF-8", Bearer realm="deskhooks"';
    for (const auth of [{}, { authorization: 'Bearer dk_wrong' }] as Record<string, string>[]) {
      // the body's 100,000 announced bytes never come: the answer does not wait for them
      const head = await postWithUnfinishedBody(app.url, `/tickets/${ticketId}/comments/`, auth);
      expect(head, JSON.stringify(auth)).toMatch(/^HTTP\/1\.1 401 /);
      expect(head, JSON.stringify(auth)).toContain('\r\nWWW-Authenticate: Basic realm="deskhooks", charset="UTF-8"\r\nWWW-Authenticate: Bearer realm="deskhooks"');
      const post = (body: string) => fetch(`${app.url}/api/v2/tickets/${ticketId}/posts/`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body });
      for (const body of ['{"text": ', JSON.stringify({ text: 'x'.repeat(1024 * 1024) })]) {
        const res = await post(body);
        expect(res.status, `${JSON.stringify(auth)} ${body.slice(0, 12)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(challenge);
        expect(((await res.json()) as any).errors[0]).toMatchObject({ code: 'UNAUTHENTICATED', field: null });
      }
    }
    // a browser page of another site is refused before its body is read as well
    expect(await postWithUnfinishedBody(app.url, `/tickets/${ticketId}/comments/`, { authorization: app.adminAuth, origin: 'https://elsewhere.example' })).toMatch(/^HTTP\/1\.1 403 /);
    expect((await getTicket(app, ticketId)).posts).toEqual([]);
    // with credentials, the same body is read and judged as before
    const unreadable = await fetch(`${app.url}/api/v2/tickets/${ticketId}/posts/`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: app.adminAuth }, body: '{"text": ' });
    expect(unreadable.status).toBe(400);
    expect(((await unreadable.json()) as any).errors[0]).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
  });
});
