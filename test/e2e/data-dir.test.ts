/**
 * One DATA_DIR, one deskhooks: a second server started on the DATA_DIR of a running one
 * is refused, naming DATA_DIR and the running process, and leaves the running one and its
 * embedded PostgreSQL alone. The PostgreSQL of a deskhooks killed with SIGKILL is an
 * orphan: the next start takes it over, data kept.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/db/embedded.js';
import { gqlAt } from '../support/child.js';
import { tempDir, type TempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'data-dir-admin-key-0123456789abc';

interface Server {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dir: TempDir;
const started: Server[] = [];

/** deskhooks (dist/cli.js) on the test's DATA_DIR */
async function serve(port: number): Promise<Server> {
  const proc = spawn(process.execPath, ['dist/cli.js'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATA_DIR: dir.path, PORT: String(port), HOST: '127.0.0.1', BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com', BOOTSTRAP_ADMIN_API_KEY: KEY, DESKHOOKS_DELIVERY_THREAD: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const server = { proc, output: () => out, exited };
  started.push(server);
  return server;
}

const listening = (s: Server) =>
  waitFor(() => {
    if (s.proc.exitCode !== null) throw new Error(`deskhooks exited (${s.proc.exitCode}): ${s.output()}`);
    return /listening on (http:\/\/\S+)/.exec(s.output())?.[1];
  }, { timeoutMs: 60_000, intervalMs: 50, what: 'deskhooks to listen' });

const postmasterPid = () => Number(readFileSync(join(dir.path, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  dir = tempDir('data-dir');
});

afterAll(async () => {
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  await Promise.all(started.map((s) => s.exited));
  // a PostgreSQL a failed test left orphaned
  if (existsSync(join(dir.path, 'pg', 'postmaster.pid')) && alive(postmasterPid())) process.kill(postmasterPid(), 'SIGQUIT');
  dir?.remove();
});

it('a second server on a running one’s DATA_DIR is refused, the first keeps its database; an orphaned one is taken over', { timeout: 90_000 }, async () => {
  const first = await serve(await freePort());
  const firstUrl = await listening(first);
  const ticket = (await gqlAt(firstUrl, KEY, `mutation { createTicket(input: { title: "kept", description: "d" }) { id } }`)).createTicket.id;
  const postgres = postmasterPid();

  const second = await serve(await freePort());
  await waitFor(() => second.proc.exitCode !== null || /listening on/.test(second.output()), { timeoutMs: 60_000, what: 'the second server to exit or listen' });
  expect(second.output()).not.toMatch(/listening on/);
  expect(second.proc.exitCode).toBe(1);
  expect(second.output()).toContain(`DATA_DIR ${dir.path} is in use by another deskhooks process (pid ${first.proc.pid}`);
  // the first server's PostgreSQL was left alone: it answers as before
  expect(alive(postgres)).toBe(true);
  expect(postmasterPid()).toBe(postgres);
  expect((await fetch(`${firstUrl}/healthz`)).status).toBe(200);
  expect((await gqlAt(firstUrl, KEY, `query($id: ID!) { ticket(id: $id) { title } }`, { id: ticket })).ticket.title).toBe('kept');

  // killed outright, the first leaves its PostgreSQL behind: the next start takes it over
  first.proc.kill('SIGKILL');
  await first.exited;
  expect(alive(postgres)).toBe(true);
  const third = await serve(await freePort());
  const thirdUrl = await listening(third);
  expect(alive(postgres)).toBe(false);
  expect((await gqlAt(thirdUrl, KEY, `query($id: ID!) { ticket(id: $id) { title } }`, { id: ticket })).ticket.title).toBe('kept');
  third.proc.kill('SIGTERM');
  expect((await third.exited).code).toBe(0);
});
