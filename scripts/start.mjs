#!/usr/bin/env node
// `npm start`: compile the server when dist/ is missing or older than a source file, build the
// admin console when web/dist is missing or older than web/'s sources (or the contract its
// typed documents come from), then run.
// package.json execs this script, so that npm's own process forwards SIGTERM/SIGINT to it
// and exits only once the server has stopped; src/launcher.ts covers npm being killed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = join(root, 'dist', 'cli.js');

function newestMtime(dir, skip = new Set()) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (skip.has(path)) continue;
    const st = statSync(path);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(path, skip) : st.mtimeMs);
  }
  return newest;
}

const stale = !existsSync(entry) || newestMtime(join(root, 'src')) > statSync(entry).mtimeMs
  || statSync(join(root, 'package.json')).mtimeMs > statSync(entry).mtimeMs;
if (stale) {
  console.log('deskhooks: building (tsc)…');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const web = join(root, 'web');
const webIndex = join(web, 'dist', 'index.html');
const webStale = !existsSync(webIndex)
  || Math.max(
    newestMtime(web, new Set([join(web, 'dist'), join(web, 'src', 'gql')])),
    statSync(join(root, 'src', 'schema', 'contract.graphql')).mtimeMs,
    statSync(join(root, 'package.json')).mtimeMs,
  ) > statSync(webIndex).mtimeMs;
if (webStale) {
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) {
    // installed without devDependencies: the API runs, the console answers 503 until built
    console.warn('deskhooks: the admin console is not built and Vite is not installed (npm install, then npm run build:web)');
  } else {
    console.log('deskhooks: building the admin console (vite)…');
    const r = spawnSync(process.execPath, [vite, 'build', '--config', join(web, 'vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit', cwd: root });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
await import(entry);
