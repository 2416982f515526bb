// Runs inside a dedicated worker for opfs-worker.browser.test.ts: exercises the sync access
// handle write path, which exists only in workers, and reports what it saw.
import { OpfsShardStore } from '../src/opfs.ts';
import { pattern } from './compliance.ts';

const MiB = 2 ** 20;

async function run(dirName: string) {
  const store = await OpfsShardStore.open({ dirName, quota: 64 * MiB });
  const id = 'ab'.repeat(32);
  const size = 5 * MiB + 123;
  const data = pattern(5, 0, size);
  let t = performance.now();
  const w = await store.create(id, size, { meta: new Uint8Array([1]) });
  for (let at = 0; at < size; at += 300_000) await w.write(data.subarray(at, at + 300_000));
  await w.commit();
  const writeMs = performance.now() - t;
  t = performance.now();
  const parts: Uint8Array[] = [];
  for await (const p of store.stream(id, { chunkSize: MiB })) parts.push(p);
  const readMs = performance.now() - t;
  const back = new Uint8Array(size);
  let at = 0;
  for (const p of parts) back.set(p, (at += p.length) - p.length);
  const same = back.every((b, i) => b === data[i]);
  const leaf = await store.read(id, 4096, 1024);
  // A writer left open (sync handles lock the file), then the store reopened.
  const crashed = await store.create('cd'.repeat(32), 1000);
  await crashed.write(new Uint8Array(10));
  const again = await OpfsShardStore.open({ dirName, quota: 64 * MiB });
  const ids: string[] = [];
  for await (const info of again.list()) ids.push(info.id);
  const usage = await again.usage();
  const over = await again.create('ef'.repeat(32), 64 * MiB).then(
    () => 'created',
    (e: Error) => e.name,
  );
  await crashed.abort();
  await store.close();
  await again.close();
  return {
    same,
    leafOk: leaf.every((b, i) => b === data[4096 + i]),
    ids,
    usage,
    over,
    writeMBps: size / 1e6 / (writeMs / 1000),
    readMBps: size / 1e6 / (readMs / 1000),
    syncAccess: 'createSyncAccessHandle' in FileSystemFileHandle.prototype,
  };
}

self.onmessage = (e: MessageEvent<string>) => {
  run(e.data).then(
    (result) => self.postMessage({ result }),
    (err: Error) => self.postMessage({ error: `${err.name}: ${err.message}` }),
  );
};
