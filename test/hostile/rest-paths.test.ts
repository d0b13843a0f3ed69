/**
 * REST paths whose id is not valid percent-encoded UTF-8 (`/tickets/%E0%A4%A/`) are refused
 * with 400 saying the path could not be read — not "the request body could not be read",
 * which sent the caller looking at a body it may not even have sent. Nothing is written.
 */
import { describe } from 'vitest';
import { createTicket, getTicket, test } from '../support/fixtures.js';

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
