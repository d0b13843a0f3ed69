/**
 * One DATA_DIR, one deskhooks: a second server started on the DATA_DIR of a running one
 * is refused, naming DATA_DIR and the running process, and leaves the running one and its
 * embedded PostgreSQL alone. The PostgreSQL of a deskhooks killed with SIGKILL is an
 * orphan: the next start takes it over, data kept. A DATA_DIR that cannot be made or written
 * is refused naming DATA_DIR, before anything starts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, isAlive } from '../../src/db/embedded.js';
import { cliServers, gqlAt } from '../support/child.js';
import { tempDir, type TempDir } from '../support/temp.js';

const KEY = 'data-dir-admin-key-0123456789abc';

let dir: TempDir;
const servers = cliServers();

/** deskhooks on the test's DATA_DIR */
const serve = (port: number) => servers.start(dir.path, port, { BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: KEY });

const postmasterPid = () => Number(readFileSync(join(dir.path, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);


beforeAll(() => {
  dir = tempDir('data-dir');
});

afterAll(async () => {
  await servers.stop();
  // a PostgreSQL a failed test left orphaned
  if (existsSync(join(dir.path, 'pg', 'postmaster.pid')) && isAlive(postmasterPid())) process.kill(postmasterPid(), 'SIGQUIT');
  dir?.remove();
});

it('a second server on a running one’s DATA_DIR is refused, the first keeps its database; an orphaned one is taken over', { timeout: 90_000 }, async () => {
  const first = serve(await freePort());
  const firstUrl = await first.url();
  const ticket = (await gqlAt(firstUrl, KEY, `mutation { createTicket(input: { title: "kept", description: "d" }) { id } }`)).createTicket.id;
  const postgres = postmasterPid();

  const second = serve(await freePort());
  expect(await second.listening(60_000)).toBeNull();
  expect(second.proc.exitCode).toBe(1);
  expect(second.output()).toContain(`DATA_DIR ${dir.path} is in use by another deskhooks process (pid ${first.proc.pid}`);
  // the first server's PostgreSQL was left alone: it answers as before
  expect(isAlive(postgres)).toBe(true);
  expect(postmasterPid()).toBe(postgres);
  expect((await fetch(`${firstUrl}/healthz`)).status).toBe(200);
  expect((await gqlAt(firstUrl, KEY, `query($id: ID!) { ticket(id: $id) { title } }`, { id: ticket })).ticket.title).toBe('kept');

  // killed outright, the first leaves its PostgreSQL behind: the next start takes it over
  first.proc.kill('SIGKILL');
  await first.exited;
  expect(isAlive(postgres)).toBe(true);
  const third = serve(await freePort());
  const thirdUrl = await third.url();
  expect(isAlive(postgres)).toBe(false);
  expect((await gqlAt(thirdUrl, KEY, `query($id: ID!) { ticket(id: $id) { title } }`, { id: ticket })).ticket.title).toBe('kept');
  third.proc.kill('SIGTERM');
  expect((await third.exited).code).toBe(0);
});

it('a DATA_DIR that cannot be made or written (here: under a file) is refused naming DATA_DIR and why, before anything starts', { timeout: 30_000 }, async () => {
  const file = join(dir.path, 'a-file');
  writeFileSync(file, 'not a folder');
  const server = servers.start(join(file, 'data'), await freePort());
  expect((await server.exited).code).toBe(1);
  expect(server.output()).toContain(`DATA_DIR ${join(file, 'data')} cannot be used (ENOTDIR: not a directory): set DATA_DIR to a folder this user can create and write`);
  expect(server.output()).not.toMatch(/starting the embedded PostgreSQL/);
});

it.skipIf(!existsSync('/proc/self'))('a DATA_DIR whose parent refuses new folders (/proc) is refused naming DATA_DIR, not waited on', { timeout: 30_000 }, async () => {
  const server = servers.start('/proc/deskhooks-data', await freePort());
  expect((await server.exited).code).toBe(1);
  expect(server.output()).toContain('DATA_DIR /proc/deskhooks-data cannot be used (ENOENT: no such file or directory): set DATA_DIR to a folder this user can create and write');
});
