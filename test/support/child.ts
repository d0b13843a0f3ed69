/** deskhooks as a child process, started the way `npm start` starts it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  proc: ChildProcess;
  output: () => string;
  url: () => Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startChild(env: Record<string, string>): Child {
  return spawnDeskhooks('scripts/start.mjs', env);
}

/** deskhooks' built server itself (`node dist/cli.js`), without the build steps of npm start: for tests of how it starts and stops */
export function startCli(env: Record<string, string>): Child {
  return spawnDeskhooks('dist/cli.js', env);
}

function spawnDeskhooks(script: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    output: () => out,
    exited,
    url: () =>
      waitFor(() => {
        if (proc.exitCode !== null) throw new Error(`deskhooks exited (${proc.exitCode}): ${out}`);
        return /listening on (http:\/\/\S+)/.exec(out)?.[1];
      }, { timeoutMs: 120_000, what: 'deskhooks to listen', intervalMs: 50 }),
  };
}

/** One GraphQL call to a deskhooks at `url` with a Bearer key; throws on errors, returns data. */
export async function gqlAt(url: string, key: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/**
 * Servers of one test file: `start` runs `dist/cli.js` (startCli) on `dataDir` and `port` at
 * 127.0.0.1 with deliveries on its main thread, `env` on top; `stop` (an afterAll) sends
 * `signal` to those still running and waits for every one to exit.
 */
export function cliServers(signal: NodeJS.Signals = 'SIGKILL') {
  const started: Child[] = [];
  return {
    start(dataDir: string, port: number, env: Record<string, string> = {}): Child {
      const server = startCli({ DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', DESKHOOKS_DELIVERY_THREAD: 'false', ...env });
      started.push(server);
      return server;
    },
    async stop(): Promise<void> {
      for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill(signal);
      await Promise.all(started.map((s) => s.exited));
    },
  };
}
