/** deskhooks as a child process, started the way `npm start` starts it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  proc: ChildProcess;
  output: () => string;
  /**
   * The URL the server listens on once it says so, or null once it has exited without
   * listening (its output then read to the end), whichever comes first; rejects after
   * `timeoutMs` with the output so far.
   */
  listening: (timeoutMs?: number) => Promise<string | null>;
  /** as `listening`, but a server that exited instead is an error carrying its output */
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
  const LISTENING = /listening on (http:\/\/\S+)/;
  // stdout and stderr closed: the output is whole ('exit' may come before the last of it)
  let closed = false;
  const onChange = new Set<() => void>();
  const changed = () => onChange.forEach((f) => f());
  proc.stdout!.on('data', (d) => ((out += d), changed()));
  proc.stderr!.on('data', (d) => ((out += d), changed()));
  proc.on('close', () => ((closed = true), changed()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = (timeoutMs = 120_000) =>
    new Promise<string | null>((resolve, reject) => {
      const settle = () => {
        const url = LISTENING.exec(out)?.[1];
        if (!url && !closed) return;
        end();
        resolve(url ?? null);
      };
      const timer = setTimeout(() => {
        end();
        reject(new Error(`deskhooks neither listened nor exited within ${timeoutMs} ms; its output: ${out}`));
      }, timeoutMs);
      const end = () => {
        clearTimeout(timer);
        onChange.delete(settle);
      };
      onChange.add(settle);
      settle();
    });
  return {
    proc,
    output: () => out,
    exited,
    listening,
    url: async () => {
      const url = await listening();
      if (url === null) throw new Error(`deskhooks exited (${proc.exitCode ?? proc.signalCode}) without listening: ${out}`);
      return url;
    },
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
