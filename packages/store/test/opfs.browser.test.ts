// The compliance suite against the OPFS store on Chromium's main thread (createWritable path),
// plus its crash leftovers.
import { expect, test } from 'vitest';
import { OpfsShardStore, translateOpfsError } from '../src/browser.ts';
import type { ShardStore } from '../src/index.ts';
import { describeShardStore, newId, pattern } from './compliance.ts';

let n = 0;
const dirName = () => `cairn-store-test-${Date.now()}-${n++}`;

async function removeDir(name: string) {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(name, { recursive: true }).catch(() => {});
}

async function names(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const out: string[] = [];
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys())
    out.push(name);
  return out.sort();
}

describeShardStore(
  'opfs',
  async ({ quota }) => {
    const name = dirName();
    const opened: ShardStore[] = [];
    const openStore = async () => {
      const s = await OpfsShardStore.open(
        quota === undefined ? { dirName: name } : { dirName: name, quota },
      );
      opened.push(s);
      return s;
    };
    const store = await openStore();
    return {
      store,
      reopen: openStore,
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await removeDir(name);
      },
    };
  },
  { bigShard: 16 * 2 ** 20, roundTrips: 8 },
);

test('opfs: layout, and a crashed write leaves nothing after the next open', async () => {
  const name = dirName();
  const store = await OpfsShardStore.open({ dirName: name });
  const id = newId();
  const c = await store.create(id, 3000, { meta: new Uint8Array([4, 5]) });
  await c.write(pattern(2, 0, 3000));
  await c.commit();
  const w = await store.create(newId(), 10_000);
  await w.write(pattern(1, 0, 5500));
  const base = await (await navigator.storage.getDirectory()).getDirectoryHandle(name);
  expect(await names(base)).toEqual(['shards', 'tmp']);
  expect(await names(await base.getDirectoryHandle('shards'))).toEqual([id, id + '.json']);
  // A sidecar whose data never arrived, as if a crash came between the two moves.
  const orphan = newId();
  const shards = await base.getDirectoryHandle('shards');
  await shards.getFileHandle(orphan + '.json', { create: true });
  await w.abort(); // the main-thread writable keeps its swap file until closed; a real crash drops it
  const again = await OpfsShardStore.open({ dirName: name });
  expect(await names(await base.getDirectoryHandle('tmp'))).toEqual([]);
  expect(await names(shards)).toEqual([id, id + '.json']);
  expect(await again.info(id)).toMatchObject({ size: 3000, meta: new Uint8Array([4, 5]) });
  expect(await again.read(id, 100, 10)).toEqual(pattern(2, 100, 10));
  await Promise.all([store.close(), again.close()]);
  await removeDir(name);
});

test('opfs: the browser QuotaExceededError becomes the store’s', () => {
  const dom = new DOMException('full', 'QuotaExceededError');
  expect(translateOpfsError(dom)).toMatchObject({ name: 'QuotaExceededError', cause: dom });
});
