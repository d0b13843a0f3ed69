/**
 * A DATABASE_URL that cannot be used stops the start with one line naming DATABASE_URL
 * (host, port and database; never the password) and exit code 1, nothing listening: a
 * database that refuses the connection or the password, and one that takes the connection
 * and never answers (a hung server, a proxy whose server is gone), within its 10 s bound.
 */
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { freePort } from '../../src/db/embedded.js';
import { cliServers } from '../support/child.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { tempDir, type TempDir } from '../support/temp.js';

const PASSWORD = 'not-the-password-4711';
const servers = cliServers();
const cleanups: (() => unknown)[] = [];

afterAll(async () => {
  await servers.stop();
  for (const c of cleanups.reverse()) await c();
});

/** runs deskhooks (dist/cli.js) on `databaseUrl` until it exits (at most `ms`); its exit code, output and time taken */
async function startOn(databaseUrl: string, ms: number): Promise<{ code: number | null; output: string; tookMs: number }> {
  const dir: TempDir = tempDir('database-url');
  cleanups.push(() => dir.remove());
  const since = Date.now();
  const server = servers.start(dir.path, await freePort(), { DATABASE_URL: databaseUrl });
  expect(await server.listening(ms)).toBeNull();
  return { code: server.proc.exitCode, output: server.output(), tookMs: Date.now() - since };
}

describe('an unusable DATABASE_URL', () => {
  it.concurrent('a server that takes the connection and never answers: refused within the 10 s bound, naming DATABASE_URL', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => silent.close());
    const port = (silent.address() as net.AddressInfo).port;
    const { code, output, tookMs } = await startOn(`postgres://deskhooks:${PASSWORD}@127.0.0.1:${port}/helpdesk`, 25_000);
    expect(code).toBe(1);
    expect(output).toContain(`could not connect to the database of DATABASE_URL (127.0.0.1:${port}/helpdesk): it did not answer within 10 s`);
    expect(output).not.toContain(PASSWORD);
    expect(tookMs).toBeLessThan(20_000);
  });

  it.concurrent('nothing listening at its port: refused naming DATABASE_URL', async () => {
    const port = await freePort();
    const { code, output } = await startOn(`postgres://deskhooks:${PASSWORD}@127.0.0.1:${port}/helpdesk`, 20_000);
    expect(code).toBe(1);
    expect(output).toContain(`could not connect to the database of DATABASE_URL (127.0.0.1:${port}/helpdesk): connect ECONNREFUSED`);
    expect(output).not.toContain(PASSWORD);
  });

  it.concurrent('a wrong password: refused naming DATABASE_URL, the password not shown', async () => {
    const db: TestDatabase = await createTestDatabase({ empty: true });
    cleanups.push(() => db.drop());
    const url = new URL(db.url);
    url.password = PASSWORD;
    const { code, output } = await startOn(url.toString(), 20_000);
    expect(code).toBe(1);
    expect(output).toContain(`could not connect to the database of DATABASE_URL (${decodeURIComponent(url.hostname)}:${url.port}${url.pathname})`);
    expect(output).toMatch(/password authentication failed/);
    expect(output).not.toContain(PASSWORD);
  });
});
