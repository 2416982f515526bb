/**
 * The shard store the host role writes to and reads from. `@cairn/store` provides the real
 * adapters (IndexedDB, OPFS, filesystem); this is the narrow interface the protocols need, and an
 * in-memory implementation for tests and short-lived hosts.
 */

export interface ShardWriter {
  /** Appends bytes; the store may persist them at once or at commit. */
  write(bytes: Uint8Array): Promise<void>;
  /** Makes the shard readable under its id. */
  commit(): Promise<void>;
  /** Drops everything written; nothing stays stored. */
  abort(): Promise<void>;
}

export interface ShardStore {
  /** Starts writing a shard of exactly `size` bytes. */
  create(id: string, size: number): Promise<ShardWriter>;
  /** `length` bytes at `offset` of a committed shard (fewer only past its end). */
  read(id: string, offset: number, length: number): Promise<Uint8Array>;
  has(id: string): Promise<boolean>;
  delete(id: string): Promise<void>;
  /** Bytes held by committed shards. */
  usage(): Promise<number>;
}

/** Keeps shards in memory. `peek` exposes the stored bytes (tests corrupt them through it). */
export class MemoryShardStore implements ShardStore {
  readonly #shards = new Map<string, Uint8Array>();

  async create(id: string, size: number): Promise<ShardWriter> {
    const bytes = new Uint8Array(size);
    let at = 0;
    let done = false;
    const shards = this.#shards;
    return {
      async write(chunk) {
        if (done) throw new Error('shard writer is closed');
        if (at + chunk.byteLength > size) throw new RangeError(`shard ${id} is ${size} bytes`);
        bytes.set(chunk, at);
        at += chunk.byteLength;
      },
      async commit() {
        if (done) throw new Error('shard writer is closed');
        if (at !== size) throw new RangeError(`shard ${id}: wrote ${at} of ${size} bytes`);
        done = true;
        shards.set(id, bytes);
      },
      async abort() {
        done = true;
      },
    };
  }

  async read(id: string, offset: number, length: number): Promise<Uint8Array> {
    const bytes = this.#shards.get(id);
    if (bytes === undefined) throw new Error(`no shard ${id}`);
    return bytes.slice(offset, offset + length);
  }

  async has(id: string): Promise<boolean> {
    return this.#shards.has(id);
  }

  async delete(id: string): Promise<void> {
    this.#shards.delete(id);
  }

  async usage(): Promise<number> {
    let total = 0;
    for (const b of this.#shards.values()) total += b.byteLength;
    return total;
  }

  /** The stored bytes themselves (not a copy), or undefined. */
  peek(id: string): Uint8Array | undefined {
    return this.#shards.get(id);
  }
}
