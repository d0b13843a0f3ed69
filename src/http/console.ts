/**
 * The admin console (web/, built into config.consoleDir by `npm run build:web`) served at `/`
 * by the api role:
 * - /assets/*: Vite's content-hashed files, cached for a year (`immutable`); a missing one is a
 *   404, never the page;
 * - other files of the build (icons …): revalidated on each use (`no-cache`);
 * - any other GET or HEAD for a page — no file extension, outside /graphql, /api, /healthz and
 *   /assets — is a client-side route: index.html, `no-cache`, so that a new build is picked up
 *   at once;
 * - the page and the build's other files carry a Content-Security-Policy: this server only,
 *   never framed;
 * - without a build, those pages are a 503 saying how to build it; the API is unaffected.
 * A browser opening /graphql itself (Accept: text/html, no query) is sent to the explorer.
 */
import express, { type RequestHandler, type Router } from 'express';
import { join } from 'node:path';

const YEAR_S = 365 * 24 * 60 * 60;
/**
 * The page's policy: everything from this server (the websocket included), nothing from
 * another host; inline styles (React's style attributes, the editor's) and data: fonts and
 * images; never inside another site's frame.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
const PAGE_HEADERS = { 'Cache-Control': 'no-cache', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' };
/** paths the console never answers for: the API's, and the assets' (a missing asset is a 404) */
const NOT_PAGES = /^\/(graphql|api|healthz|assets)(\/|$)/;

/** GET /graphql without a query from a browser's address bar → /explorer (GraphiQL). */
export const explorerRedirect: RequestHandler = (req, res, next) => {
  // a client preferring JSON (or indifferent: */*) gets the API's answer
  if (req.query.query !== undefined || req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) !== 'text/html') return next();
  res.redirect(302, '/explorer');
};

export function consoleRouter(dir: string): Router {
  const router = express.Router();
  const index = join(dir, 'index.html');
  router.use('/assets', express.static(join(dir, 'assets'), { index: false, maxAge: YEAR_S * 1000, immutable: true, redirect: false, setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff') }));
  router.use('/assets', (_req, res) => void res.status(404).type('text/plain').send('not found'));
  // index.html asked for by name too: the page's headers on every file here
  router.use(express.static(dir, { index: false, redirect: false, cacheControl: false, setHeaders: (res) => res.set(PAGE_HEADERS) }));
  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_PAGES.test(req.path) || /\.[^/]*$/.test(req.path)) return next();
    res.sendFile(index, { cacheControl: false, headers: PAGE_HEADERS }, (err) => {
      if (!err) return;
      if (res.headersSent) return void res.end();
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return next(err);
      res.status(503).set('Cache-Control', 'no-store').type('html').send(notBuiltPage());
    });
  });
  return router;
}

function notBuiltPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>deskhooks: the admin console is not built</title></head>
<body><main>
<h1>The admin console is not built</h1>
<p>The console folder (<code>DESKHOOKS_CONSOLE_DIR</code>, by default <code>web/dist</code>) holds no
<code>index.html</code>. Run <code>npm run build:web</code>
(or <code>npm start</code>, which builds it when it is missing or stale), then reload this page.</p>
<p>The API is available meanwhile: <code>POST /graphql</code>, <code>/api/v2</code>.</p>
</main></body></html>
`;
}
