// The compliance suite against the filesystem store, plus what only a filesystem can get wrong:
// ids escaping the directory, crash leftovers on disk, a full disk.
import { mkdtemp, readdir, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { FsShardStore, translateFsError } from '../src/fs.ts';
import type { ShardStore } from '../src/index.ts';
import { describeShardStore, newId, pattern } from './compliance.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cairn-store-'));
}

describeShardStore(
  'fs',
  async ({ quota }) => {
    const dir = await tempDir();
    const opened: ShardStore[] = [];
    const openStore = async () => {
      const s = await FsShardStore.open(quota === undefined ? { dir } : { dir, quota });
      opened.push(s);
      return s;
    };
    const store = await openStore();
    return {
      store,
      reopen: openStore,
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { memoryProbe: () => process.memoryUsage().arrayBuffers },
);

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

test('fs: no id escapes the store directory', async () => {
  const parent = await tempDir();
  dirs.push(parent);
  const dir = join(parent, 'store');
  const store = await FsShardStore.open({ dir });
  const before = await listTree(parent);
  for (const id of [
    '../x',
    '../../' + 'a'.repeat(58),
    '..',
    '/tmp/x',
    'shards/../../x',
    '%2e%2e',
    'a'.repeat(64) + '/../x',
  ])
    await expect(store.create(id, 1)).rejects.toMatchObject({ name: 'InvalidShardIdError' });
  expect(await listTree(parent)).toEqual(before);
  await store.close();
});

test('fs: layout on disk, and leftovers of a crash are cleared on open', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const store = await FsShardStore.open({ dir });
  const id = newId();
  const w = await store.create(id, 10, { meta: new Uint8Array([1, 2]) });
  await w.write(pattern(1, 0, 10));
  expect(await readdir(join(dir, 'tmp'))).toHaveLength(1);
  await w.commit();
  expect(await listTree(dir)).toEqual(['shards', `shards/${id}`, `shards/${id}.json`, 'tmp']);
  expect(new Uint8Array(await readFile(join(dir, 'shards', id)))).toEqual(pattern(1, 0, 10));
  const side = JSON.parse(await readFile(join(dir, 'shards', id + '.json'), 'utf8'));
  expect(side).toMatchObject({ v: 1, size: 10, meta: 'AQI=' });
  await store.close();
  // What a crash can leave: temp files, a sidecar whose data never got renamed, stray names.
  const orphan = newId();
  await writeFile(join(dir, 'tmp', 'abc'), 'partial');
  await mkdir(join(dir, 'tmp', 'nested'));
  await writeFile(join(dir, 'shards', orphan + '.json'), '{"v":1,"size":5,"createdAt":1}');
  const again = await FsShardStore.open({ dir });
  expect(await again.has(orphan)).toBe(false);
  expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  expect(await listTree(join(dir, 'shards'))).toEqual([id, `${id}.json`]);
  expect(await again.info(id)).toMatchObject({ size: 10, meta: new Uint8Array([1, 2]) });
  expect((await again.usage()).used).toBe(10);
  await again.close();
});

test('fs: a data file whose sidecar is lost is still a shard (no meta)', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const store = await FsShardStore.open({ dir });
  const id = newId();
  const w = await store.create(id, 3, { meta: new Uint8Array([9]) });
  await w.write(new Uint8Array([1, 2, 3]));
  await w.commit();
  await store.close();
  await rm(join(dir, 'shards', id + '.json'));
  const again = await FsShardStore.open({ dir });
  const info = await again.info(id);
  expect(info).toMatchObject({ id, size: 3 });
  expect(info!.meta).toBeUndefined();
  await again.close();
});

test('fs: ENOSPC surfaces as QuotaExceededError with the cause attached', async () => {
  // A real ENOSPC: /dev/full fails every write with it.
  const err = await writeFile('/dev/full', 'x').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'ENOSPC' });
  const translated = translateFsError(err);
  expect(translated).toMatchObject({ name: 'QuotaExceededError', cause: err });
  expect(translateFsError(Object.assign(new Error('x'), { code: 'EDQUOT' }))).toMatchObject({
    name: 'QuotaExceededError',
  });
  const other = new Error('other');
  expect(translateFsError(other)).toBe(other);
});
