import { sveltekit } from '@sveltejs/kit/vite';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { chromiumLaunchOptions } from './scripts/browser.ts';

// Package tests run twice: in Node and in a real headless Chromium, because the pure packages
// must behave the same in both. `*.node.test.ts` files run only in Node, `*.browser.test.ts`
// only in the browser. The SvelteKit plugin is for the app build only; the test projects below
// are inline (no `extends`), so they do not load it.
const packageTests = 'packages/*/test/**/*.test.ts';

export default defineConfig({
  plugins: [sveltekit()],
  server: { fs: { allow: ['packages'] } },
  // The plugin-timing report is noise on a 2-core machine where any build is "slow".
  build: { rolldownOptions: { checks: { pluginTimings: false } } },
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: [packageTests, 'relay/test/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['**/*.browser.test.ts', '**/node_modules/**'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'chromium',
          include: [packageTests],
          // A loopback relay and a Node host for the browser-to-host WebRTC tests.
          globalSetup: ['packages/peer/test/global-setup.ts'],
          exclude: ['**/*.node.test.ts', '**/node_modules/**'],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: chromiumLaunchOptions() }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
