#!/usr/bin/env node
// `npm run bundle-size [-- --json | --summary]`: the built console's (web/dist) size gzipped (-9), in two
// parts: what the first page load fetches — index.html, the files it links (script, module
// preloads, style sheets) and the modules those import statically — and the explorer: the
// lazy chunk(s) named Explorer and what they import that the first load did not (and, for
// information, all it loads once opened). Exits 1 when
// the first load is over the budget (400 KB gzip) or the build is missing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 400;
const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'web', 'dist');
const json = process.argv.includes('--json');
const summary = process.argv.includes('--summary');

if (!existsSync(join(dist, 'index.html'))) {
  console.error('bundle-size: no web/dist/index.html: run npm run build:web first');
  process.exit(1);
}

const read = (file) => readFileSync(join(dist, file));
const gzipped = (file) => gzipSync(read(file), { level: 9 }).length;

/**
 * The files a JS module imports (`import … from "./x.js"`, `import "./x.js"`; with `dynamic`
 * also `import("./x.js")`), as paths under dist. Workers (`new URL("./x.js", import.meta.url)`)
 * are not counted: they load when an editor needs them.
 */
function imports(file, dynamic) {
  if (!file.endsWith('.js')) return [];
  const code = read(file).toString('utf8');
  const found = new Set();
  const pattern = dynamic ? /(?:\bfrom\s*|\bimport\s*\(?\s*)["'`](\.{1,2}\/[^"'`]+)["'`]/g : /(?:\bfrom\s*|\bimport\s*)["'`](\.{1,2}\/[^"'`]+)["'`]/g;
  for (const m of code.matchAll(pattern)) found.add(posix.join(posix.dirname(file), m[1]));
  return [...found];
}

/** `files` and everything they import, transitively, but `skip` */
function closure(files, { skip = new Set(), dynamic = false } = {}) {
  const seen = new Set();
  const todo = [...files];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f) || skip.has(f) || !existsSync(join(dist, f))) continue;
    seen.add(f);
    todo.push(...imports(f, dynamic));
  }
  return seen;
}

const html = read('index.html').toString('utf8');
const linked = [...html.matchAll(/\b(?:src|href)="\/([^"]+)"/g)].map((m) => m[1]).filter((f) => existsSync(join(dist, f)));
const initial = closure(linked);
initial.add('index.html');

const assets = readdirSync(join(dist, 'assets')).map((f) => `assets/${f}`);
const explorerEntries = assets.filter((f) => /(^|\/)Explorer[-.]/.test(f));
const explorer = closure(explorerEntries, { skip: initial });
const explorerOpened = closure(explorerEntries, { skip: initial, dynamic: true });

const part = (files) => {
  const list = [...files].sort().map((file) => ({ file, bytes: read(file).length, gzipBytes: gzipped(file) }));
  const gzipBytes = list.reduce((n, f) => n + f.gzipBytes, 0);
  return { files: list, gzipBytes, gzipKB: Math.round((gzipBytes / 1024) * 10) / 10 };
};
const first = part(initial);
const lazy = part(explorer);
const opened = part(explorerOpened);
const report = { budgetKB: BUDGET_KB, withinBudget: first.gzipKB <= BUDGET_KB, initial: first, explorer: lazy, explorerOpened: { gzipBytes: opened.gzipBytes, gzipKB: opened.gzipKB, files: opened.files.map((f) => f.file) } };

if (json) {
  console.log(JSON.stringify(report, null, 2));
} else if (summary) {
  console.log(`console: first load ${first.gzipKB} KB gzip (budget ${BUDGET_KB} KB), explorer chunk ${lazy.gzipKB} KB gzip`);
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const show = (title, p) => {
    console.log(`${title}: ${p.gzipKB} KB gzip`);
    for (const f of p.files) console.log(`  ${f.file.padEnd(48)} ${kb(f.bytes).padStart(10)} ${kb(f.gzipBytes).padStart(10)} gzip`);
  };
  show(`console, first load (budget ${BUDGET_KB} KB)`, first);
  show('explorer chunk (lazy, with its static imports)', lazy);
  console.log(`explorer once opened, with the chunks it loads on demand (workers apart): ${opened.gzipKB} KB gzip in ${opened.files.length} files`);
}
if (!report.withinBudget) {
  console.error(`bundle-size: the console's first load is ${first.gzipKB} KB gzip, over the budget of ${BUDGET_KB} KB`);
  process.exit(1);
}
