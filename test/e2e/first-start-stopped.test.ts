/**
 * The first start creates the administrator admin@localhost and prints its key, which
 * exists nowhere else. Stopped while it starts (Ctrl-C, a supervisor's SIGTERM), it still
 * prints that key before it stops: the next start creates no administrator (one exists),
 * so a key not shown then would never be.
 */
import { afterAll, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { cliServers, gqlAt } from '../support/child.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const dir = tempDir('first-start');
const servers = cliServers();

afterAll(async () => {
  await servers.stop();
  dir.remove();
});

const serve = (port: number) => servers.start(dir.path, port);

it('SIGTERM during the first start: the generated administrator’s key is printed before it stops, and works at the next start', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const first = serve(port);
  // the stop handlers are in place once it starts its database (src/cli.ts); a fresh DATA_DIR takes seconds to create
  await waitFor(() => /starting the embedded PostgreSQL/.test(first.output()), { timeoutMs: 30_000, intervalMs: 10, what: 'the start to begin' });
  first.proc.kill('SIGTERM');
  expect((await first.exited).code).toBe(0);
  // stopped while starting: it never listened
  expect(first.output()).toMatch(/SIGTERM: stopping/);
  expect(first.output()).not.toMatch(/listening on/);
  const key = /API key \(shown once, keep it\): (\S+)/.exec(first.output())?.[1];
  expect(key, first.output()).toBeDefined();

  const second = serve(port);
  const url = await second.url();
  expect(second.output()).not.toMatch(/API key/);
  expect((await gqlAt(url, key!, '{ me { email role } }')).me).toEqual({ email: 'admin@localhost', role: 'ADMIN' });
  second.proc.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
});
