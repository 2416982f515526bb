// browserStorageStatus and chooseBrowserStore in Chromium.
import { expect, test } from 'vitest';
import { browserStorageStatus, chooseBrowserStore, opfsAvailable } from '../src/browser.ts';

test('browserStorageStatus reports persistence, quota and usage', async () => {
  const status = await browserStorageStatus();
  expect(typeof status.persisted).toBe('boolean');
  expect(status.quota).toBeGreaterThan(0);
  expect(status.usage).toBeGreaterThanOrEqual(0);
});

test('chooseBrowserStore picks OPFS in Chromium', async () => {
  expect(await opfsAvailable()).toBe(true);
  const name = `cairn-store-choose-${Date.now()}`;
  const store = await chooseBrowserStore({ name, quota: 1000 });
  expect(store.kind).toBe('opfs');
  expect((await store.usage()).quota).toBe(1000);
  await store.close();
  await (await navigator.storage.getDirectory()).removeEntry(name, { recursive: true });
});
