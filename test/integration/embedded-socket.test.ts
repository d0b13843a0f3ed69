/**
 * deskhooks reaches its embedded PostgreSQL through a Unix socket in the cluster's folder
 * (src/db/embedded.ts socketFolder), asked for its password as over TCP, and on 127.0.0.1
 * where no socket can be made there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, socketFolder, startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/embedded.js';
import { tempDir, type TempDir } from '../support/temp.js';

let dir: TempDir;
/** a comma, a space and a double quote in the path: PostgreSQL reads its socket folders as a list */
let dataDir: string;
let port: number;
let server: EmbeddedServer | null = null;

beforeAll(async () => {
  dir = tempDir('socket');
  dataDir = join(dir.path, 'data, "x"');
  port = await freePort();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

async function serverAddress(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // null on a Unix-socket connection
    const { rows } = await client.query('select host(inet_server_addr()) as addr');
    return rows[0].addr;
  } finally {
    await client.end();
  }
}

describe('the embedded PostgreSQL', () => {
  it('is reached through the Unix socket in its cluster folder, with the password', async () => {
    server = await startEmbeddedPostgres({ dataDir, port });
    const url = new URL(server.url);
    expect(decodeURIComponent(url.hostname)).toBe(join(dataDir, 'pg'));
    expect(await serverAddress(server.url)).toBeNull();
    url.password = 'wrong';
    await expect(serverAddress(url.toString())).rejects.toThrow(/password authentication failed/);
  }, 60_000);

  it('is reached on 127.0.0.1 when the socket cannot be made in that folder', async () => {
    await server!.stop();
    server = null;
    // something else already holds the socket's name: binding it fails, as on a file system without sockets
    mkdirSync(join(dataDir, 'pg', `.s.PGSQL.${port}`));
    const lines: string[] = [];
    server = await startEmbeddedPostgres({ dataDir, port, log: (line) => lines.push(line) });
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    expect(await serverAddress(server.url)).toBe('127.0.0.1');
    expect(lines.join('\n')).toContain('deskhooks reaches PostgreSQL on 127.0.0.1 instead');
  }, 60_000);

  it('uses 127.0.0.1 where the socket path would not fit sockaddr_un', () => {
    expect(socketFolder('/srv/deskhooks/pg', 5432)).toBe('/srv/deskhooks/pg');
    expect(socketFolder(`/${'d'.repeat(89)}/pg`, 5432)).toBe(`/${'d'.repeat(89)}/pg`); // 107 bytes with the socket's name
    expect(socketFolder(`/${'d'.repeat(90)}/pg`, 5432)).toBeNull();
  });
});
