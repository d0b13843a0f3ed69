/**
 * `npm start` stopped the ways supervisors, container runtimes and terminals stop it:
 * SIGTERM to npm's pid, npm killed outright (SIGKILL), Ctrl-C (SIGINT to the whole
 * process group) and a closed terminal (SIGHUP to the group). Each time, within 10 s,
 * the port is free and no process of the tree (npm, node, PostgreSQL) is left, the stop
 * was the graceful one, and the data is there at the next start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/db/embedded.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';
import { gqlAt } from '../support/child.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const STOP_LIMIT_MS = 10_000;

interface NpmStart {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` in the project root, as a user types it; `group`: its own process group, as a terminal job */
function npmStart(env: Record<string, string>, group = false): NpmStart {
  const proc = spawn('npm', ['start'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', npm_config_update_notifier: 'false', npm_config_fund: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, output: () => out, exited };
}

async function listening(s: NpmStart): Promise<string> {
  return waitFor(
    () => {
      if (s.proc.exitCode !== null) throw new Error(`npm start exited (${s.proc.exitCode}): ${s.output()}`);
      return /listening on (http:\/\/\S+)/.exec(s.output())?.[1];
    },
    // a first start may compile (tsc) and create the cluster (initdb)
    { timeoutMs: 150_000, what: 'deskhooks to listen', intervalMs: 50 },
  );
}

/** `pid` and all its descendants, from /proc */
function processTree(pid: number): Map<number, string> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const tree = new Map<number, string>();
  const queue = [pid];
  while (queue.length > 0 && tree.size < 500) {
    const p = queue.shift()!;
    try {
      tree.set(p, readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
    } catch {
      continue;
    }
    queue.push(...(children.get(p) ?? []));
  }
  return tree;
}

/** running: exists and is not a zombie waiting to be reaped */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** every pid of `tree` gone and the port free; how long that took from `since` */
async function allGone(tree: Map<number, string>, port: number, since: number): Promise<number> {
  await waitFor(async () => [...tree.keys()].every((p) => !running(p)) && (await portFree(port)), {
    timeoutMs: STOP_LIMIT_MS + 5_000,
    intervalMs: 50,
    what: `no process left (still running: ${[...tree].filter(([p]) => running(p)).map(([p, c]) => `${p} ${c}`).join(', ')}) and port ${port} free`,
  });
  return Date.now() - since;
}

let dataDir: string;
let port: number;
let env: Record<string, string>;
let receiver: Receiver;
let release: () => void = () => {};
const seen = new Map<number, string>();
let key = '';
let ticketId = '';

const gql = (query: string, variables: Record<string, unknown> = {}) => gqlAt(`http://127.0.0.1:${port}`, key, query, variables);

/** starts, checks the data of the earlier runs, and returns the tree to watch */
async function start(group = false): Promise<{ s: NpmStart; tree: Map<number, string> }> {
  const s = npmStart(env, group);
  await listening(s);
  const tree = processTree(s.proc.pid!);
  for (const [p, c] of tree) seen.set(p, c);
  const commands = [...tree.values()];
  expect(commands.some((c) => /scripts\/start\.mjs/.test(c))).toBe(true);
  expect(commands.some((c) => /postgres/.test(c))).toBe(true);
  if (ticketId) expect((await gql(`query($id: ID!) { ticket(id: $id) { title } }`, { id: ticketId })).ticket.title).toBe('kept across stops');
  return { s, tree };
}

beforeAll(async () => {
  dataDir = tempDir('stop').path;
  port = await freePort();
  receiver = await startReceiver(() => new Promise((resolve) => (release = () => resolve({ status: 200, body: 'ok' }))));
  env = {
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    DESKHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    DESKHOOKS_SWEEP_INTERVAL: '1s',
  };
}, 30_000);

afterAll(async () => {
  release();
  // whatever a failed test left behind; a pid is killed only while it still runs the command recorded for it
  for (const [pid, command] of seen) if (running(pid) && processTree(pid).get(pid) === command) process.kill(pid, 'SIGKILL');
  await receiver?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('stopping npm start', () => {
  it('SIGTERM to npm’s pid stops the server gracefully; npm exits only once nothing is left', async () => {
    const { s, tree } = await start();
    key = /API key \(shown once, keep it\): (\S+)/.exec(s.output())?.[1] ?? '';
    ticketId = (await gql(`mutation { createTicket(input: { title: "kept across stops", description: "d" }) { id } }`)).createTicket.id;

    const since = Date.now();
    s.proc.kill('SIGTERM');
    const npmExit = await Promise.race([s.exited, new Promise<null>((r) => setTimeout(() => r(null), STOP_LIMIT_MS))]);
    expect(npmExit, 'npm exited within 10 s').not.toBeNull();
    // a supervisor waits for the pid it signalled: when npm is gone, so is the server
    expect([...tree].filter(([p]) => running(p))).toEqual([]);
    expect(await portFree(port)).toBe(true);
    expect(Date.now() - since).toBeLessThan(STOP_LIMIT_MS);
    expect(npmExit!.code).toBe(0);
    expect(s.output()).toMatch(/SIGTERM: stopping[\s\S]*\bstopped\b/);
  }, 200_000);

  it('SIGKILL of npm: the server notices and stops gracefully, nothing left within 10 s', async () => {
    const { s, tree } = await start();
    const since = Date.now();
    s.proc.kill('SIGKILL');
    const took = await allGone(tree, port, since);
    expect(took).toBeLessThan(STOP_LIMIT_MS);
    expect(s.output()).toMatch(/the process that started deskhooks \(pid \d+\) is gone: stopping[\s\S]*\bstopped\b/);
  }, 200_000);

  it('Ctrl-C (SIGINT to the process group): the attempt in flight finishes and is recorded before PostgreSQL stops', async () => {
    const { s, tree } = await start(true);
    const webhookId = (
      await gql(`mutation($input: WebhookInput!) { createWebhook(input: $input) { id } }`, {
        input: { name: 'slow', method: 'POST', url: `${receiver.url}/hook`, format: 'JSON', body: '{"ticket": "{{ ticket.id }}"}' },
      })
    ).createWebhook.id;
    const deliveryId = (await gql(`mutation($w: ID!, $t: ID!) { testWebhook(id: $w, ticketId: $t) { id } }`, { w: webhookId, t: ticketId })).testWebhook.id;
    await receiver.waitForRequests(1);

    const since = Date.now();
    process.kill(-s.proc.pid!, 'SIGINT');
    await waitFor(() => /SIGINT: stopping/.test(s.output()), { what: 'the stop to begin', timeoutMs: STOP_LIMIT_MS });
    release(); // the receiver answers while deskhooks stops
    const took = await allGone(tree, port, since);
    expect(took).toBeLessThan(STOP_LIMIT_MS);
    expect(s.output()).toMatch(/\bstopped\b/);
    expect(s.output()).not.toMatch(/ error /);

    // the answer was recorded: after a restart the delivery has succeeded, sent once
    const again = await start();
    const d = (await gql(`query($id: ID!) { delivery(id: $id) { status attempts { statusCode } } }`, { id: deliveryId })).delivery;
    expect(d).toEqual({ status: 'SUCCEEDED', attempts: [{ statusCode: 200 }] });
    expect(receiver.requests).toHaveLength(1);
    again.s.proc.kill('SIGTERM');
    await allGone(again.tree, port, Date.now());
  }, 300_000);

  it('a closed terminal (SIGHUP to the process group): the same graceful stop', async () => {
    const { s, tree } = await start(true);
    const since = Date.now();
    process.kill(-s.proc.pid!, 'SIGHUP');
    expect(await allGone(tree, port, since)).toBeLessThan(STOP_LIMIT_MS);
    expect(s.output()).toMatch(/SIGHUP: stopping[\s\S]*\bstopped\b/);
  }, 200_000);

  it('the data survived every stop', async () => {
    const { s, tree } = await start();
    expect((await gql('{ me { email } }')).me.email).toBe('admin@localhost');
    const since = Date.now();
    s.proc.kill('SIGTERM');
    await allGone(tree, port, since);
  }, 200_000);
});
