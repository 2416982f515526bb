/**
 * @packageDocumentation
 *
 * Where hosts keep shards: the `ShardStore` interface, its errors, and the in-memory adapter.
 * Filesystem (Node) adapter: `@cairn/store/fs`; IndexedDB and OPFS adapters:
 * `@cairn/store/browser`.
 *
 * @example
 * ```ts
 * import { MemoryShardStore, shardIdOf } from '@cairn/store';
 * const store = new MemoryShardStore({ quota: 1 << 30 });
 * const writer = await store.create(shardIdOf(root), size, { meta: deal });
 * for await (const piece of incoming) await writer.write(piece);
 * await writer.commit();
 * const leaf = await store.read(shardIdOf(root), 1024 * i, 1024);
 * ```
 */
export type {
  AbortOptions,
  CreateOptions,
  ShardInfo,
  ShardStore,
  ShardStoreKind,
  ShardUsage,
  ShardWriter,
  StreamOptions,
} from './types.ts';
export * from './errors.ts';
export { DEFAULT_STREAM_CHUNK, MAX_META_BYTES, SHARD_ID_PATTERN } from './constants.ts';
export {
  BaseShardStore,
  checkRange,
  isShardId,
  shardIdOf,
  type BaseStoreInit,
  type WriteSink,
} from './base.ts';
export { MemoryShardStore, type MemoryShardStoreInit } from './memory.ts';
