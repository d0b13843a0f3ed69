/**
 * A PORT another process listens on stops the start before anything starts (exit 2, one
 * line naming PORT): no embedded PostgreSQL, and no first administrator created whose key
 * would be shown only once the server listens — the next start, on a free port, still
 * creates it and shows its key.
 */
import { afterAll, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { cliServers, gqlAt } from '../support/child.js';
import { tempDir } from '../support/temp.js';

const dir = tempDir('port-in-use');
const servers = cliServers('SIGTERM');
let taken: net.Server | null = null;

afterAll(async () => {
  await servers.stop();
  taken?.close();
  dir.remove();
});

const serve = (port: number) => servers.start(dir.path, port);

it('a PORT in use: refused naming it before the database starts; the next start on a free port shows the first administrator’s key', { timeout: 60_000 }, async () => {
  taken = net.createServer();
  await new Promise<void>((resolve) => taken!.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as net.AddressInfo).port;

  const refused = serve(port);
  expect(await refused.listening(30_000)).toBeNull();
  expect(refused.proc.exitCode).toBe(2);
  expect(refused.output()).toContain(`PORT=${port} cannot be listened on at 127.0.0.1 (EADDRINUSE: another process listens there)`);
  expect(refused.output()).not.toMatch(/API key|WebSocket/);
  expect(existsSync(join(dir.path, 'pg'))).toBe(false);

  // the port freed, the same DATA_DIR: the first start that listens creates the administrator and shows its key
  await new Promise((resolve) => taken!.close(resolve));
  taken = null;
  const server = serve(port);
  const url = await server.url();
  const key = /API key \(shown once, keep it\): (\S+)/.exec(server.output())?.[1];
  expect(key).toBeDefined();
  expect((await gqlAt(url, key!, '{ me { email } }')).me.email).toBe('admin@localhost');
  server.proc.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});
