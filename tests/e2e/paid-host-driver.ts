// The Node side of the paid browser host page (paid-host.ts): opens it in its own browser context,
// hears its daemon's events, and calls its API with bigints intact. Used by
// tests/earning.node.test.ts and the earn benchmark (packages/earn/bench).
import type { BrowserContext, Page } from 'playwright';
import type { ReadCounts } from '../../packages/earn/bench/counting-store.ts';
import type { ChromiumHarness } from '../../scripts/chromium-harness.ts';
import {
  PAID_HOST_EVENT,
  PAID_HOST_READY,
  fromWire,
  toWire,
  type PaidHostPageInit,
  type PaidHostStarted,
  type WireHostEvent,
} from './paid-host-wire.ts';

export const PAID_HOST_PAGE = 'tests/e2e/paid-host.html';

export interface PaidHostPageHandle {
  readonly page: Page;
  readonly context: BrowserContext;
  start(init: PaidHostPageInit): Promise<PaidHostStarted>;
  stop(): Promise<void>;
  /** startPaidHost's status (bigints revived), without the traffic map. */
  status(): Promise<Record<string, unknown>>;
  reads(): Promise<ReadCounts>;
  resetReads(): Promise<void>;
  /** Reloads the page (the daemon dies with it, as when a user reloads the tab); start again. */
  reload(): Promise<void>;
}

export async function openPaidHostPage(
  harness: ChromiumHarness,
  onEvent: (event: WireHostEvent) => void,
): Promise<PaidHostPageHandle> {
  const { page, context } = await harness.openPage(PAID_HOST_PAGE, {
    readyTitle: PAID_HOST_READY,
    // Exposed on the page: it survives reloads.
    before: async (p) => {
      await p.exposeFunction(PAID_HOST_EVENT, (e: string) => onEvent(fromWire(e)));
    },
  });
  return {
    page,
    context,
    async start(init) {
      const answer = await page.evaluate((w) => window.cairnPaidHost.start(w), toWire(init));
      return fromWire<PaidHostStarted>(answer);
    },
    stop: () => page.evaluate(() => window.cairnPaidHost.stop()),
    async status() {
      return fromWire(await page.evaluate(() => window.cairnPaidHost.status()));
    },
    reads: () => page.evaluate(() => window.cairnPaidHost.reads()),
    resetReads: () => page.evaluate(() => window.cairnPaidHost.resetReads()),
    async reload() {
      await page.reload();
      await harness.ready(page, PAID_HOST_READY);
    },
  };
}
