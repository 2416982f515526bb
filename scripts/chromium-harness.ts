// One way to run pages of this repository in headless Chromium: a Vite dev server on loopback
// serving the repository root (so a page can import any package's sources), and Playwright's
// Chromium found by ./browser.ts. Used by the browser end-to-end and earning tests
// (tests/**), `npm run bench` (scripts/bench.ts, packages/earn/bench) and the network profiler
// (packages/drive/bench/net-profile.ts).
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumLaunchOptions, findChromium, NO_BROWSER_MESSAGE } from './browser.ts';

const root = join(import.meta.dirname, '..');

export interface ChromiumHarnessOptions {
  /**
   * The HTML pages (paths or globs from the repository root) the harness will open. Vite scans
   * their imports before the first page loads: a dependency found later is optimised on the fly
   * and every open page reloads, mid-test.
   */
  entries: string[];
  /**
   * Names Vite's dependency cache (`node_modules/.vite-<cache>`). Each user has its own: two
   * Vite servers re-optimising one shared cache (test files run in parallel) reload each
   * other's pages.
   */
  cache: string;
}

export interface OpenPageOptions {
  /** Resolve only once `document.title` is this (the page's module has run). */
  readyTitle?: string;
  /** @default 120 000 ms (the first load may wait for Vite to optimise dependencies) */
  timeoutMs?: number;
  /** Called before navigating (to expose functions, listen to the console...). */
  before?: (page: Page) => Promise<void> | void;
}

export interface ChromiumHarness {
  readonly browser: Browser;
  readonly vite: ViteDevServer;
  /** `http://127.0.0.1:<port>/<path>` */
  url(path: string): string;
  /**
   * Opens `path` in a new page in a new context (its own storage: OPFS, IndexedDB,
   * localStorage), logging the page's uncaught errors
   * and any reload of its main frame (Vite re-optimising: a test would lose its page state).
   */
  openPage(
    path: string,
    options?: OpenPageOptions,
  ): Promise<{ context: BrowserContext; page: Page }>;
  /** Waits for the page (after a reload of its own) to set `document.title` to `title`. */
  ready(page: Page, title: string, timeoutMs?: number): Promise<void>;
  /** Closes every context, the browser and the server. */
  close(): Promise<void>;
}

/**
 * Starts Vite (no file watching, no HMR: an edited source file must not reload the pages) and
 * Chromium. Throws with a hint on how to get a Chromium when none is found.
 */
export async function startChromiumHarness(
  options: ChromiumHarnessOptions,
): Promise<ChromiumHarness> {
  if (!findChromium()) throw new Error(NO_BROWSER_MESSAGE);
  const vite = await createServer({
    configFile: false,
    root,
    logLevel: 'error',
    cacheDir: join(root, 'node_modules', `.vite-${options.cache}`),
    optimizeDeps: { entries: options.entries },
    server: { port: 0, host: '127.0.0.1', fs: { allow: [root] }, watch: null, hmr: false },
  });
  let browser: Browser;
  try {
    await vite.listen();
    browser = await chromium.launch(chromiumLaunchOptions());
  } catch (err) {
    await vite.close();
    throw err;
  }
  const address = vite.httpServer?.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const contexts: BrowserContext[] = [];
  const url = (path: string) => `http://127.0.0.1:${port}/${path.replace(/^\//, '')}`;
  const ready = async (page: Page, title: string, timeoutMs = 120_000) => {
    await page.waitForFunction((t) => document.title === t, title, { timeout: timeoutMs });
  };
  return {
    browser,
    vite,
    url,
    ready,
    async openPage(path, o = {}) {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error('[page error]', err));
      let navigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame() && navigations++ > 0)
          console.error('[page reloaded]', frame.url());
      });
      await o.before?.(page);
      await page.goto(url(path), { timeout: o.timeoutMs ?? 120_000 });
      if (o.readyTitle !== undefined) await ready(page, o.readyTitle, o.timeoutMs);
      return { context, page };
    },
    async close() {
      await Promise.allSettled(contexts.map((c) => c.close()));
      await browser.close().catch(() => {});
      await vite.close();
    },
  };
}
