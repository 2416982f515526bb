// The compliance suite against the IndexedDB store in Chromium, plus its crash leftovers.
import { deleteDB, openDB } from 'idb';
import { expect, test } from 'vitest';
import { IdbShardStore, translateIdbError } from '../src/browser.ts';
import type { ShardStore } from '../src/index.ts';
import { describeShardStore, newId, pattern } from './compliance.ts';

let n = 0;
const dbName = () => `cairn-store-test-${Date.now()}-${n++}`;

describeShardStore(
  'indexeddb',
  async ({ quota }) => {
    const name = dbName();
    const opened: ShardStore[] = [];
    const openStore = async () => {
      const s = await IdbShardStore.open(quota === undefined ? { name } : { name, quota });
      opened.push(s);
      return s;
    };
    const store = await openStore();
    return {
      store,
      reopen: openStore,
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await deleteDB(name);
      },
    };
  },
  { bigShard: 16 * 2 ** 20, roundTrips: 8 },
);

test('indexeddb: a crashed write leaves no chunks after the next open', async () => {
  const name = dbName();
  const store = await IdbShardStore.open({ name, chunkSize: 1000 });
  const w = await store.create(newId(), 10_000);
  await w.write(pattern(1, 0, 5500));
  const committed = newId();
  const c = await store.create(committed, 2500);
  await c.write(pattern(2, 0, 2500));
  await c.commit();
  // Open again without closing or aborting, as after a crash.
  const again = await IdbShardStore.open({ name, chunkSize: 1000 });
  const db = await openDB(name);
  expect(await db.count('writes')).toBe(0);
  expect(await db.count('chunks')).toBe(3);
  expect(await db.count('shards')).toBe(1);
  expect(await again.read(committed, 999, 1002)).toEqual(pattern(2, 999, 1002));
  await again.delete(committed);
  expect(await db.count('chunks')).toBe(0);
  db.close();
  await Promise.all([store.close(), again.close()]);
  await deleteDB(name);
});

test('indexeddb: the browser QuotaExceededError becomes the store’s', () => {
  const dom = new DOMException('full', 'QuotaExceededError');
  expect(translateIdbError(dom)).toMatchObject({ name: 'QuotaExceededError', cause: dom });
  const other = new DOMException('x', 'AbortError');
  expect(translateIdbError(other)).toBe(other);
});
