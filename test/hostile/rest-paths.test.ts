/**
 * REST paths whose id is not valid percent-encoded UTF-8 (`/tickets/%E0%A4%A/`) are refused
 * with 400 saying the path could not be read — not "the request body could not be read",
 * which sent the caller looking at a body it may not even have sent. Nothing is written.
 *
 * Ids (the ticket in the path, `user_id`) are whole numbers read by their value however
 * they are written — 2, 2.0, "2", " 2 ", "02"; what is no whole number is 400 naming the
 * field, and nothing is written.
 */
import { describe } from 'vitest';
import { createTicket, createUser, getTicket, test } from '../support/fixtures.js';

const it = test;

describe('REST: a path that does not decode', () => {
  it('is 400 naming the path and the parameter, for reads and posts; nothing is written', async ({ app, expect }) => {
    const ticketId = await createTicket(app, 'rest paths');
    for (const [method, path] of [['GET', '/tickets/%E0%A4%A/'], ['POST', '/tickets/%FF/comments/'], ['POST', '/tickets/%C0%AF/posts/']] as const) {
      const res = await fetch(`${app.url}/api/v2${path}`, {
        method,
        headers: { authorization: app.adminAuth, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        body: method === 'POST' ? '{"text": "hello"}' : undefined,
      });
      expect(res.status, path).toBe(400);
      const [problem] = ((await res.json()) as any).errors;
      expect(problem, path).toMatchObject({ code: 'BAD_USER_INPUT', field: null });
      expect(problem.message, path).toMatch(/^the request path could not be read: Failed to decode param '%[^']+' \(not valid percent-encoded UTF-8\)$/);
    }
    expect((await getTicket(app, ticketId)).posts).toEqual([]);
  });
});

describe('REST: ids', () => {
  it('a ticket id or user_id is read by its value (01, " 2 ", 2.0); what is no whole number is 400 naming id or user_id; nothing is written', async ({ app, expect }) => {
    const ticketId = await createTicket(app, 'rest ids');
    const agent = await createUser(app, { name: 'Agent', email: 'agent@example.com', role: 'AGENT' });
    const rest = (method: string, path: string, body?: string, contentType = 'application/json') =>
      fetch(`${app.url}/api/v2${path}`, { method, headers: { authorization: app.adminAuth, ...(body === undefined ? {} : { 'content-type': contentType }) }, body });

    for (const written of [`0${ticketId}`, `%20${ticketId}%20`, `${ticketId}.0`]) {
      const res = await rest('GET', `/tickets/${written}/`);
      expect(res.status, written).toBe(200);
      expect(((await res.json()) as any).data.id, written).toBe(Number(ticketId));
    }
    const posted: [string, string, string][] = [
      [`/tickets/0${ticketId}/comments/`, JSON.stringify({ text: 'padded path', user_id: ` ${agent.id} ` }), 'application/json'],
      [`/tickets/${ticketId}/comments/`, `{"text": "a float", "user_id": ${agent.id}.0}`, 'application/json'],
      [`/tickets/${ticketId}/posts/`, new URLSearchParams({ text: 'a form', user_id: `0${agent.id}\n` }).toString(), 'application/x-www-form-urlencoded'],
    ];
    for (const [path, body, type] of posted) {
      const res = await rest('POST', path, body, type);
      expect(res.status, body).toBe(200);
      expect(((await res.json()) as any).data, body).toMatchObject({ ticket_id: Number(ticketId), user_id: Number(agent.id) });
    }
    const written = (await getTicket(app, ticketId)).posts.map((p) => [p.text, p.author?.id]);
    expect(written).toEqual([['padded path', agent.id], ['a float', agent.id], ['a form', agent.id]]);

    const refused: [string, string, string | undefined, string, string][] = [
      ['GET', '/tickets/abc/', undefined, 'id', 'id: must be a ticket id, a positive whole number such as 2; got "abc"'],
      ['GET', '/tickets/1.5/', undefined, 'id', 'id: must be a ticket id, a positive whole number such as 2; got "1.5"'],
      ['POST', '/tickets/-1/comments/', '{"text": "x"}', 'id', 'id: must be a ticket id, a positive whole number such as 2; got "-1"'],
      ['POST', `/tickets/${ticketId}/comments/`, '{"text": "x", "user_id": "2 3"}', 'user_id', 'user_id: must be a user id, a positive whole number such as 2; got "2 3"'],
      ['POST', `/tickets/${ticketId}/comments/`, '{"text": "x", "user_id": 2.5}', 'user_id', 'user_id: must be a user id, a positive whole number; got 2.5'],
      ['POST', `/tickets/${ticketId}/comments/`, '{"text": "x", "user_id": true}', 'user_id', 'user_id: must be a user id, a positive whole number such as 2; got a boolean'],
      ['POST', `/tickets/${ticketId}/comments/`, '{"text": "x", "user_id": 0}', 'user_id', 'user_id: must be a user id, a positive whole number; got 0'],
      // past 2^53 a JSON number is read as another one (9007199254740993 as …992): not a user to post as by chance
      ['POST', `/tickets/${ticketId}/comments/`, '{"text": "x", "user_id": 9007199254740993}', 'user_id', 'user_id: must be a user id; a JSON number past 2^53 is not read exactly: send it as a string of digits'],
    ];
    for (const [method, path, body, field, message] of refused) {
      const res = await rest(method, path, body);
      expect(res.status, `${method} ${path} ${body}`).toBe(400);
      expect(((await res.json()) as any).errors, `${method} ${path} ${body}`).toEqual([{ code: 'BAD_USER_INPUT', field, message }]);
    }
    // a whole number naming no row is not found, as before
    expect((await rest('GET', '/tickets/999999/')).status).toBe(404);
    expect((await getTicket(app, ticketId)).posts).toHaveLength(3);
  });
});
