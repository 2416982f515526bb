import { BaseShardStore, type BaseStoreInit, type WriteSink } from './base.ts';
import type { ShardInfo } from './types.ts';

interface MemoryEntry extends ShardInfo {
  bytes: Uint8Array;
}

export type MemoryShardStoreInit = BaseStoreInit;

/**
 * Shards in memory: for tests and for peers that only relay. Each shard is one buffer of its
 * declared size, allocated at `create()`, so `quota` bounds the memory used.
 */
export class MemoryShardStore extends BaseShardStore<MemoryEntry> {
  readonly kind = 'memory' as const;

  constructor(init: MemoryShardStoreInit = {}) {
    super(init);
  }

  protected async begin(_id: string, size: number): Promise<WriteSink<MemoryEntry>> {
    const bytes = new Uint8Array(size);
    let at = 0;
    return {
      append: async (chunk) => {
        bytes.set(chunk, at);
        at += chunk.length;
      },
      commit: async (info) => ({ ...info, bytes }),
      discard: async () => {},
    };
  }

  protected async readRange(entry: MemoryEntry, offset: number, length: number) {
    return entry.bytes.slice(offset, offset + length);
  }

  protected async remove(): Promise<void> {}

  protected async closeBacking(): Promise<void> {
    this.index.clear();
  }
}
