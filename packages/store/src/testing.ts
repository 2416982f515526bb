/**
 * `@cairn/store/testing`: a store that misbehaves on demand, for tests of what hosts and clients do
 * when a host's disk lies or hangs. It wraps a real store and passes everything through until a
 * fault is switched on.
 */
import type {
  AbortOptions,
  CreateOptions,
  ShardInfo,
  ShardStore,
  ShardUsage,
  ShardWriter,
  StreamOptions,
} from './types.ts';

export interface StoreFaults {
  /** Reads of these shard ids (all, when `true`) return bytes with one bit flipped per 1 KiB. */
  corrupt?: boolean | ReadonlySet<string>;
  /** Reads of these shard ids (all, when `true`) never settle until their signal aborts. */
  stall?: boolean | ReadonlySet<string>;
}

function hit(fault: boolean | ReadonlySet<string> | undefined, id: string): boolean {
  return fault === true || (fault instanceof Set && fault.has(id));
}

export class FaultyShardStore implements ShardStore {
  readonly inner: ShardStore;
  /** Switch faults on and off at any time. */
  faults: StoreFaults = {};

  constructor(inner: ShardStore, faults: StoreFaults = {}) {
    this.inner = inner;
    this.faults = faults;
  }

  get kind(): ShardStore['kind'] {
    return this.inner.kind;
  }

  create(id: string, size: number, options?: CreateOptions): Promise<ShardWriter> {
    return this.inner.create(id, size, options);
  }

  async read(id: string, offset: number, length: number, options?: AbortOptions) {
    await this.#maybeStall(id, options?.signal);
    const bytes = await this.inner.read(id, offset, length, options);
    return hit(this.faults.corrupt, id) ? corrupted(bytes) : bytes;
  }

  async *stream(id: string, options?: StreamOptions): AsyncIterable<Uint8Array> {
    await this.#maybeStall(id, options?.signal);
    for await (const chunk of this.inner.stream(id, options))
      yield hit(this.faults.corrupt, id) ? corrupted(chunk) : chunk;
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

  async #maybeStall(id: string, signal: AbortSignal | undefined): Promise<void> {
    if (!hit(this.faults.stall, id)) return;
    await new Promise<never>((_, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
  }
}

function corrupted(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  for (let i = 7; i < out.byteLength; i += 1024) out[i]! ^= 0x01;
  return out;
}
