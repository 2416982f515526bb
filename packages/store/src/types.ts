/** What a store knows about one committed shard. */
export interface ShardInfo {
  /** 64 lower-case hex characters: the hex of the shard's 32-byte Merkle root. */
  id: string;
  /** Bytes. */
  size: number;
  /** Milliseconds since the epoch at which the shard was committed. */
  createdAt: number;
  /** A small opaque record kept beside the shard (e.g. the deal), at most `MAX_META_BYTES`. */
  meta?: Uint8Array;
}

export interface ShardUsage {
  /** Bytes counted against the quota: committed shards plus reservations of writes in progress. */
  used: number;
  /** The part of `used` reserved by writes in progress. */
  reserved: number;
  quota: number;
  /** Committed shards. */
  shards: number;
}

export interface AbortOptions {
  signal?: AbortSignal;
}

export interface CreateOptions extends AbortOptions {
  meta?: Uint8Array;
}

export interface StreamOptions extends AbortOptions {
  /** @default 0 */
  offset?: number;
  /** @default the rest of the shard */
  length?: number;
  /** Largest chunk yielded. @default 262144 (256 KiB, one piece) */
  chunkSize?: number;
}

export type ShardStoreKind = 'memory' | 'indexeddb' | 'opfs' | 'fs';

/**
 * Where a host keeps shards. One instance owns its backing directory or database: opening two
 * stores on the same backing at once is not supported (the second would clear the first's
 * writes in progress as crash leftovers).
 */
export interface ShardStore {
  readonly kind: ShardStoreKind;
  /**
   * Begin writing a shard of known total size. Reserves quota first: throws `QuotaExceededError`
   * if it does not fit, before any byte is written; `ShardExistsError` if the id is committed or
   * being written. With `signal`, aborting it aborts the writer.
   */
  create(id: string, size: number, options?: CreateOptions): Promise<ShardWriter>;
  /** Bytes [offset, offset + length): `RangeError` if outside the shard. */
  read(id: string, offset: number, length: number, options?: AbortOptions): Promise<Uint8Array>;
  /** A whole shard or a range, in chunks of at most `chunkSize` (bounded memory). */
  stream(id: string, options?: StreamOptions): AsyncIterable<Uint8Array>;
  has(id: string): Promise<boolean>;
  info(id: string): Promise<ShardInfo | undefined>;
  /** Committed shards, in id order. */
  list(): AsyncIterable<ShardInfo>;
  /** Remove a committed shard and free its quota; false if there was none. */
  delete(id: string): Promise<boolean>;
  usage(): Promise<ShardUsage>;
  /** Change the quota; lowering it below `used` deletes nothing but refuses new shards. */
  setQuota(quota: number): void;
  /** Aborts writes in progress; every later call throws `StoreClosedError`. Idempotent. */
  close(): Promise<void>;
}

export interface ShardWriter {
  readonly id: string;
  readonly size: number;
  /** Bytes accepted so far. */
  readonly written: number;
  /**
   * Append bytes in order (any chunking; calls made without awaiting are queued in call order).
   * Writing past the declared size throws `RangeError`. Do not modify `chunk` until the
   * promise settles. Any failure aborts the writer.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Make the shard visible; durable on return. Throws `IncompleteShardError` (and aborts) unless
   * exactly `size` bytes were written; `WriterClosedError` if already committed or aborted.
   */
  commit(): Promise<ShardInfo>;
  /** Drop everything written and free the reservation. Idempotent; a no-op after commit. */
  abort(): Promise<void>;
}
