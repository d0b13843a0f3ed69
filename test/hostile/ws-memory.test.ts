/**
 * The server's memory stays under 400 MiB RSS while 50
 * clients each send a websocket message over 1 MiB before authenticating (graphql-ws
 * parses connection_init before onConnect checks the key). Measured on a real server
 * process (`node scripts/start.mjs`, as `npm start` runs it): VmRSS of its process tree
 * sampled from /proc while the messages arrive, and the peak (VmHWM, reset first).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { freePort } from '../../src/db/embedded.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { tempDir, type TempDir } from '../support/temp.js';
import { startChild, type Child } from '../support/child.js';
import { hostileTally } from './tally.js';

const tally = hostileTally('graphql-limits');

const CLIENTS = 50;
/** each message: 8 MiB, so that buffering them (no maxPayload) would show far above the limit */
const MESSAGE_BYTES = 8 * 1024 * 1024;
const LIMIT_KIB = 400 * 1024;

let child: Child | undefined;
let url: string;
let dataDir: TempDir | undefined;
let database: TestDatabase | undefined;

const kib = (status: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);

/** pid and its descendants (the tree is fixed once the server listens) */
function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parentOf) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

function sumKib(pids: number[], field: 'VmRSS' | 'VmHWM'): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += kib(readFileSync(`/proc/${pid}/status`, 'utf8'), field) || 0;
    } catch {
      // exited
    }
  }
  return total;
}

beforeAll(async () => {
  dataDir = tempDir('wsmem');
  database = await createTestDatabase();
  child = startChild({
    DATABASE_URL: database.url,
    DATA_DIR: dataDir.path,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
    BOOTSTRAP_ADMIN_API_KEY: 'ws-memory-admin-key-0123456789',
  });
  url = await child.url();
}, 180_000);

afterAll(async () => {
  if (child && child.proc.exitCode === null) {
    child.proc.kill('SIGTERM');
    await child.exited;
  }
  await database?.drop();
  dataDir?.remove();
});

describe('50 clients each sending an 8 MiB message before authenticating', () => {
  it('keep the server under 400 MiB RSS; each socket is closed with 1009 and the server still answers', async () => {
    tally.tried(CLIENTS);
    const tree = processTree(child!.proc.pid!);
    // reset the peak (VmHWM) so that it covers the attack only; not allowed everywhere
    let peakReset = true;
    for (const pid of tree) {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        peakReset = false;
      }
    }
    const before = sumKib(tree, 'VmRSS');

    const head = Buffer.from('{"type":"connection_init","payload":{"authorization":"Bearer nobody","pad":"');
    const tail = Buffer.from('"}}');
    const message = Buffer.concat([head, Buffer.alloc(MESSAGE_BYTES - head.length - tail.length, 'x'), tail]);

    let sampled = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        sampled = Math.max(sampled, sumKib(tree, 'VmRSS'));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const started = Date.now();
    const codes = await Promise.all(
      Array.from(
        { length: CLIENTS },
        () =>
          new Promise<number>((resolve) => {
            // a zero mask leaves the frame unmasked in memory: the one shared buffer is sent as is
            const ws = new WebSocket(url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws', { generateMask: (mask) => void mask.fill(0) });
            ws.on('error', () => {});
            ws.on('open', () => ws.send(message));
            ws.on('close', (code) => resolve(code));
            // bounded: a server that neither closes nor answers fails the test below
            setTimeout(() => {
              ws.terminate();
              resolve(-1);
            }, 60_000).unref();
          }),
      ),
    );
    sampling = false;
    await sampler;
    const peak = peakReset ? Math.max(sampled, sumKib(tree, 'VmHWM')) : sampled;
    console.log(
      `ws-memory: ${CLIENTS} × ${MESSAGE_BYTES / 1024 / 1024} MiB messages in ${Date.now() - started} ms; RSS before ${Math.round(before / 1024)} MiB, ` +
        `peak ${Math.round(peak / 1024)} MiB (${peakReset ? 'VmHWM and samples' : 'samples'}), ${tree.length} process(es)`,
    );

    expect(peak).toBeLessThan(LIMIT_KIB);
    expect(codes).toEqual(Array(CLIENTS).fill(1009));
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(existsSync(`/proc/${child!.proc.pid}`)).toBe(true);
  }, 120_000);
});
