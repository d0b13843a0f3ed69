/**
 * Browser tests: the built console (web/dist) in real headless Chromium, driven by playwright-core.
 *
 *   import { test, expect, signIn, runAxe } from '../support/browser.js';
 *
 *   test('sign in', async ({ page, app, keys }) => {
 *     await signIn(page, app.url, keys.admin);          // or page.goto(`${app.url}/webhooks`) …
 *     expect(await runAxe(page)).toEqual([]);            // serious/critical axe-core violations
 *   });
 *
 * `test` is test/support/fixtures.ts's test (so `app`, `startApp`, `startReceiver`, `clock` are
 * there too: `app` serves the built console at `/`, the API at /graphql) plus:
 * - `browser`: one Chromium per test worker, shared by its files (CHROMIUM_PATH, default /usr/bin/chromium);
 * - `page`: a page in a fresh browser context (no storage shared with other tests), closed at
 *   the end; requests to any host other than the app's that the console's Content-Security-
 *   Policy lets through (navigations) are aborted and listed in `offHost`;
 * - `keys`: API keys of an ADMIN, an AGENT and a CLIENT on `app`.
 * A test asking for `browser` is skipped, with the reason, when Chromium is missing, and one
 * asking for `page` also when the built console is — except under CI=true, where either fails
 * the test (.ci/run installs Chromium; `npm test` builds the console). A test serving another
 * console (startApp({ DESKHOOKS_CONSOLE_DIR })) takes `browser` and opens its own context.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Request } from 'playwright-core';
import { test as base, createUser } from './fixtures.js';
import { ADMIN_KEY } from './app.js';

export { expect } from 'vitest';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** the console the test apps serve (src/config.ts's default DESKHOOKS_CONSOLE_DIR) */
export const CONSOLE_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Why Chromium cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `no Chromium at ${CHROMIUM_PATH}: apt-get install chromium, or set CHROMIUM_PATH`;
}

/** Why the built console is not there, or undefined when it is. */
export function consoleMissing(): string | undefined {
  return existsSync(join(CONSOLE_DIR, 'index.html')) ? undefined : `the console is not built (no ${CONSOLE_DIR}/index.html): run npm run build:web`;
}

/** Skips the test with the reason — or, under CI=true, fails it. */
function unavailable(reason: string, skip: (note: string) => never): never {
  if (process.env.CI === 'true') throw new Error(`browser tests cannot run: ${reason} (CI=true: a failure, not a skip)`);
  return skip(reason);
}

/** Chromium headless with a temporary profile of its own (playwright removes it at close). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS, timeout: 30_000 });
}

export interface Keys {
  admin: string;
  agent: string;
  client: string;
}

export interface BrowserFixtures {
  browser: Browser;
  page: Page;
  keys: Keys;
  /** requests the page made to another host than the app's (aborted): the console bundles everything */
  offHost: string[];
}

export const test = base.extend<BrowserFixtures & { launched: Browser | string; built: void }>({
  // the reason as a string when the browser cannot run; the tests asking for it skip (or fail in CI).
  // One Chromium for the test files of a worker (each test has a context of its own), closed when the worker ends
  launched: [async ({}, use) => {
    const reason = chromiumMissing();
    const browser = reason ? undefined : await launchBrowser();
    await use(browser ?? reason!);
    await browser?.close();
  }, { scope: 'worker' }],
  browser: async ({ launched, skip }, use) => {
    if (typeof launched === 'string') unavailable(launched, skip);
    await use(launched as Browser);
  },
  offHost: async ({}, use) => use([]),
  // before `app` (set up in this order), so that a skipped test starts no app
  built: async ({ skip }, use) => {
    const missing = consoleMissing();
    if (missing) unavailable(missing, skip);
    await use();
  },
  page: async ({ built: _built, browser, app, offHost }, use) => {
    const context = await browser.newContext({ baseURL: app.url });
    const own = new URL(app.url).host;
    // the context's one route: every request is settled here once (holdOperation's holds included)
    const holds: Hold[] = [];
    holdsOf.set(context, holds);
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.host === own || url.protocol === 'data:' || url.protocol === 'blob:') {
        const body = route.request().postData() ?? '';
        for (const hold of holds) {
          if (!hold.named.test(body)) continue;
          hold.seen.push(route.request());
          await hold.held;
        }
        return route.continue();
      }
      offHost.push(url.href);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await use(page);
    await context.close();
  },
  keys: async ({ app }, use) => {
    const [agent, client] = await Promise.all([
      createUser(app, { name: 'Agent', email: 'agent@example.com', role: 'AGENT' }),
      createUser(app, { name: 'Client', email: 'client@example.com', role: 'CLIENT' }),
    ]);
    await use({ admin: ADMIN_KEY, agent: agent.key, client: client.key });
  },
});

export const it = test;

/**
 * Opens the console at `path` (default `/`), signs in with `key` through the form (field "API
 * key", button "Sign in") and waits for the navigation ("Deliveries" is there for every staff role).
 */
export async function signIn(page: Page, baseUrl: string, key: string, path = '/'): Promise<void> {
  await page.goto(new URL(path, baseUrl).href);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Deliveries', exact: true }).first().waitFor();
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  /** CSS selectors of the offending elements, with axe's summary for each */
  nodes: { target: string; summary: string }[];
}

const axeSource = () => (axeSourceCache ??= `${readFileSync(fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url)), 'utf8')};undefined`);
let axeSourceCache: string | undefined;

/**
 * Runs axe-core on the page as it is now (or on the element `selector`), returning the
 * violations of impact "serious" or "critical": `expect(await runAxe(page)).toEqual([])`.
 */
export async function runAxe(page: Page, selector?: string): Promise<AxeViolation[]> {
  // these functions run in the page (its globals typed here by hand: this file compiles for Node)
  // evaluated, not added as a <script>: the console's Content-Security-Policy refuses inline scripts
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource());
  const violations = await page.evaluate(async (context) => {
    const win = globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: any[] }> }; document: unknown };
    const result = await win.axe.run(context ?? win.document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id as string,
      impact: v.impact as string,
      help: v.help as string,
      nodes: (v.nodes as any[]).map((n) => ({ target: (n.target as string[]).join(' '), summary: n.failureSummary as string })),
    }));
  }, selector);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The text of the element(s) a control's aria-describedby names (its hint, its error). */
export async function description(control: Locator): Promise<string> {
  const ids = (await control.getAttribute('aria-describedby'))?.split(/\s+/) ?? [];
  const texts = await Promise.all(ids.map((id) => control.page().locator(`[id="${id}"]`).textContent()));
  return texts.join(' ');
}

/** The document inside page.evaluate (the tests are compiled without the DOM library). */
type FocusDom = { document: { activeElement: unknown } };
type Raf = { requestAnimationFrame(f: () => void): number };

/** The focused element's id ('' for <body>, which a disabled or replaced control leaves focus on). */
export const focusedId = (page: Page): Promise<string> =>
  page.evaluate(() => ((globalThis as unknown as FocusDom).document.activeElement as { id?: string } | null)?.id ?? '');

/** Resolves once the page has painted twice from now: what it was handed before (an answer, a live event) has rendered. */
export const painted = (page: Page): Promise<void> =>
  page.evaluate(() => new Promise<void>((done) => (globalThis as unknown as Raf).requestAnimationFrame(() => (globalThis as unknown as Raf).requestAnimationFrame(done))));

type AnnounceDom = {
  document: { getElementById(id: string): { textContent: string | null } | null };
  MutationObserver: new (cb: () => void) => { observe(target: unknown, options: object): void };
  __announced?: Record<string, string[]>;
};

/**
 * Records every text the live region `#id` is given from now on, in order: what a screen reader
 * is handed (a sentence given twice, as a new node, is recorded twice). The function returned
 * reads the record.
 */
export async function recordAnnouncements(page: Page, id: string): Promise<() => Promise<string[]>> {
  await page.evaluate((regionId) => {
    const g = globalThis as unknown as AnnounceDom;
    const region = g.document.getElementById(regionId);
    if (!region) throw new Error(`no live region #${regionId} in the page`);
    const said: string[] = [];
    (g.__announced ??= {})[regionId] = said;
    new g.MutationObserver(() => {
      if (region.textContent) said.push(region.textContent);
    }).observe(region, { childList: true, characterData: true, subtree: true });
  }, id);
  return () => page.evaluate((regionId) => (globalThis as unknown as AnnounceDom).__announced![regionId]!, id);
}

/** Whether `control` has the focus. */
export const hasFocus = (control: Locator): Promise<boolean> => control.evaluate((e) => e === (globalThis as unknown as FocusDom).document.activeElement);

/**
 * Answers the page's dialogs (a leave guard's confirm, beforeunload): OK while `accept` is
 * true, else Cancel; `questions` lists what they asked, in order.
 */
export function answerDialogs(page: Page): { questions: string[]; accept: boolean } {
  const dialogs = { questions: [] as string[], accept: false };
  page.on('dialog', (d) => {
    dialogs.questions.push(d.message());
    void (dialogs.accept ? d.accept() : d.dismiss());
  });
  return dialogs;
}

interface Hold {
  named: RegExp;
  seen: Request[];
  held: Promise<void>;
}
/** the holds of the `page` fixture's contexts, which their one route applies */
const holdsOf = new WeakMap<BrowserContext, Hold[]>();

/**
 * While `failing` is true, the page's requests for the named GraphQL operations fail: answered
 * as by a proxy whose upstream is down (`unavailable`: 503 with an HTML page), or refused as a
 * connection (`refused`); other requests go on as usual. Set `failing` to false to let them by;
 * `failed` counts the requests failed so far.
 */
export async function failOperations(page: Page, operations: readonly string[], how: 'unavailable' | 'refused' = 'unavailable'): Promise<{ failing: boolean; failed: number }> {
  const state = { failing: true, failed: 0 };
  const named = new RegExp(`(?:query|mutation|subscription)\\s+(?:${operations.join('|')})\\b`);
  await page.route('**/graphql', (route) => {
    if (!state.failing || !named.test(route.request().postData() ?? '')) return route.fallback();
    state.failed++;
    return how === 'refused' ? route.abort('connectionrefused') : route.fulfill({ status: 503, contentType: 'text/html', body: '<html>Service Unavailable</html>' });
  });
  return state;
}

/**
 * Holds the page's GraphQL requests of the operation named `operation` (e.g. ConsoleRedeliver:
 * not ConsoleRedeliverMany) until `release` is called, and lists them (also those made after,
 * for as long as the page lives). A test's busy states and second presses are seen while the
 * request is held. Only for the `page` fixture's page: its context's route applies the hold.
 */
export function holdOperation(page: Page, operation: string): { seen: Request[]; release: () => void } {
  const holds = holdsOf.get(page.context());
  if (!holds) throw new Error("holdOperation: not the page fixture's page");
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const hold: Hold = { named: new RegExp(`(?:query|mutation|subscription)\\s+${operation}\\b`), seen: [], held };
  holds.push(hold);
  return { seen: hold.seen, release };
}

export interface AckHold {
  /** resolves once the server's connection_ack is being held */
  held: Promise<void>;
  release(): void;
}

/**
 * The page's websockets to /graphql pass through unchanged, except that `next()` holds the
 * server's connection_ack of the next connection until its `release`: graphql-ws subscribes
 * only once acknowledged, so what the test does while an ack is held reaches the server before
 * the page's subscriptions do.
 */
export async function holdConnectionAcks(page: Page): Promise<{ next(): AckHold }> {
  let armed: (AckHold & { markHeld(): void; released: Promise<void> }) | null = null;
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage(async (message) => {
      const hold = armed;
      if (hold && typeof message === 'string' && (JSON.parse(message) as { type?: string }).type === 'connection_ack') {
        armed = null;
        hold.markHeld();
        await hold.released;
      }
      ws.send(message);
    });
  });
  return {
    next() {
      let markHeld!: () => void;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (markHeld = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      armed = { held, release, markHeld, released };
      return { held, release };
    },
  };
}
