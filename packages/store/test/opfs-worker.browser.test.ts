// The OPFS store inside a dedicated worker, where it writes through sync access handles.
import { expect, test } from 'vitest';

test('opfs in a worker: sync access handle writes round-trip and survive a reopen', async () => {
  const dirName = `cairn-store-worker-${Date.now()}`;
  const worker = new Worker(new URL('./opfs-worker.ts', import.meta.url), { type: 'module' });
  try {
    const reply = await new Promise<{ result?: Record<string, unknown>; error?: string }>(
      (resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(e.message));
        worker.postMessage(dirName);
      },
    );
    expect(reply.error).toBeUndefined();
    expect(reply.result).toMatchObject({
      syncAccess: true,
      same: true,
      leafOk: true,
      ids: ['ab'.repeat(32)],
      usage: { used: 5 * 2 ** 20 + 123, reserved: 0, shards: 1 },
      over: 'QuotaExceededError',
    });
  } finally {
    worker.terminate();
    await (await navigator.storage.getDirectory()).removeEntry(dirName, { recursive: true });
  }
});
