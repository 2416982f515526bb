// A shard store that counts what is read from it (isomorphic): wraps a host's real store so the
// earning benchmark and tests can say how many bytes a proof reads, and whether any read took a
// whole shard.
import type {
  AbortOptions,
  CreateOptions,
  ShardInfo,
  ShardStore,
  ShardUsage,
  ShardWriter,
  StreamOptions,
} from '@cairn/store';

export interface ReadCounts {
  /** read() and stream() calls */
  calls: number;
  /** bytes they returned */
  bytes: number;
  /** the most bytes one call returned */
  largest: number;
  /** calls that returned a whole shard (offset 0, its full size), when the size was known */
  wholeShard: number;
}

const empty = (): ReadCounts => ({ calls: 0, bytes: 0, largest: 0, wholeShard: 0 });

export class CountingStore implements ShardStore {
  readonly inner: ShardStore;
  #counts = empty();
  readonly #sizes = new Map<string, number>();

  constructor(inner: ShardStore) {
    this.inner = inner;
  }

  get kind(): ShardStore['kind'] {
    return this.inner.kind;
  }

  /** What was read since the last reset. */
  counts(): ReadCounts {
    return { ...this.#counts };
  }

  reset(): void {
    this.#counts = empty();
  }

  async #size(id: string): Promise<number | undefined> {
    let size = this.#sizes.get(id);
    if (size === undefined) {
      size = (await this.inner.info(id))?.size;
      if (size !== undefined) this.#sizes.set(id, size);
    }
    return size;
  }

  #count(bytes: number, whole: boolean): void {
    const c = this.#counts;
    c.calls++;
    c.bytes += bytes;
    c.largest = Math.max(c.largest, bytes);
    if (whole) c.wholeShard++;
  }

  create(id: string, size: number, options?: CreateOptions): Promise<ShardWriter> {
    return this.inner.create(id, size, options);
  }

  async read(id: string, offset: number, length: number, options?: AbortOptions) {
    const bytes = await this.inner.read(id, offset, length, options);
    const size = await this.#size(id);
    this.#count(bytes.byteLength, offset === 0 && size !== undefined && bytes.byteLength === size);
    return bytes;
  }

  async *stream(id: string, options?: StreamOptions): AsyncIterable<Uint8Array> {
    let n = 0;
    for await (const chunk of this.inner.stream(id, options)) {
      n += chunk.byteLength;
      yield chunk;
    }
    const size = await this.#size(id);
    this.#count(n, (options?.offset ?? 0) === 0 && size !== undefined && n === size);
  }

  has(id: string): Promise<boolean> {
    return this.inner.has(id);
  }

  info(id: string): Promise<ShardInfo | undefined> {
    return this.inner.info(id);
  }

  list(): AsyncIterable<ShardInfo> {
    return this.inner.list();
  }

  delete(id: string): Promise<boolean> {
    this.#sizes.delete(id);
    return this.inner.delete(id);
  }

  usage(): Promise<ShardUsage> {
    return this.inner.usage();
  }

  setQuota(quota: number): void {
    this.inner.setQuota(quota);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
