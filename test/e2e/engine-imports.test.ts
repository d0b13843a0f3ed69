/**
 * An engine thread (the dispatcher's, the delivery thread: src/cli.ts) imports src/main.ts
 * and serves no HTTP: it must not load the HTTP stack (GraphQL, Apollo, type-graphql,
 * express), which costs each thread about 0.7 s of CPU at every start. main.ts imports it
 * where HTTP is served. Checked on the built server (dist/, as `npm start` runs it), in a
 * process of its own: the packages loaded through CommonJS once main.js is imported.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The packages of `names` loaded once `module` (a path under dist/) is imported. The probe runs
 * without blocking this worker's event loop: the test apps it keeps for later files run on it.
 */
async function loadedBy(module: string, names: string[]): Promise<string[]> {
  const probe = `
    import { createRequire } from 'node:module';
    // what main.js imports first (src/main.ts): type-graphql's decorators need it loaded
    import 'reflect-metadata';
    await import(${JSON.stringify(`./dist/${module}`)});
    const cache = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(${JSON.stringify(names)}.filter((p) => cache.some((k) => k.includes('/node_modules/' + p + '/')))));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const HTTP_STACK = ['graphql', 'express'];

it('main.js, as an engine thread imports it, loads no package of the HTTP stack; the HTTP server does', async () => {
  const [engine, http] = await Promise.all([loadedBy('main.js', HTTP_STACK), loadedBy('http/index.js', HTTP_STACK)]);
  expect(engine).toEqual([]);
  // the probe sees them where they are loaded
  expect(http).toEqual(HTTP_STACK);
}, 30_000);
