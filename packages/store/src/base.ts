// The rules every adapter shares (validation, quota ledger, writer state machine, in-memory
// index), so an adapter implements only moving bytes. Pure: no platform APIs.
import { DEFAULT_STREAM_CHUNK, MAX_META_BYTES, SHARD_ID_PATTERN } from './constants.ts';
import {
  IncompleteShardError,
  InvalidShardIdError,
  QuotaExceededError,
  ShardExistsError,
  ShardNotFoundError,
  StoreClosedError,
  StoreError,
  WriterClosedError,
} from './errors.ts';
import type {
  AbortOptions,
  CreateOptions,
  ShardInfo,
  ShardStore,
  ShardStoreKind,
  ShardUsage,
  ShardWriter,
  StreamOptions,
} from './types.ts';

/** True if `id` is a valid shard id (64 lower-case hex characters). */
export function isShardId(id: unknown): id is string {
  return typeof id === 'string' && SHARD_ID_PATTERN.test(id);
}

/** The shard id of a 32-byte Merkle root. */
export function shardIdOf(root: Uint8Array): string {
  if (!(root instanceof Uint8Array)) throw new TypeError('root must be a Uint8Array');
  if (root.length !== 32) throw new RangeError(`root must be 32 bytes, got ${root.length}`);
  let hex = '';
  for (const b of root) hex += b.toString(16).padStart(2, '0');
  return hex;
}

export function checkId(id: unknown): asserts id is string {
  if (!isShardId(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : typeof id;
    throw new InvalidShardIdError(`shard id must be 64 lower-case hex characters, got ${shown}`);
  }
}

function checkCount(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative safe integer, got ${String(value)}`);
}

/** Throws `RangeError` unless [offset, offset + length) lies within a shard of `size` bytes. */
export function checkRange(size: number, offset: unknown, length: unknown): void {
  checkCount('offset', offset);
  checkCount('length', length);
  if (offset + length > size)
    throw new RangeError(`range [${offset}, ${offset + length}) is outside the shard (${size} B)`);
}

function checkQuota(quota: unknown): asserts quota is number {
  if (typeof quota !== 'number' || Number.isNaN(quota) || quota < 0)
    throw new RangeError(`quota must be a non-negative number, got ${String(quota)}`);
}

function copyInfo(info: ShardInfo): ShardInfo {
  const out: ShardInfo = { id: info.id, size: info.size, createdAt: info.createdAt };
  if (info.meta) out.meta = info.meta.slice();
  return out;
}

/** An adapter's side of one write: where the bytes go until commit. */
export interface WriteSink<E extends ShardInfo> {
  /** Append in order; called one at a time. */
  append(chunk: Uint8Array): Promise<void>;
  /** Make durable and visible under `info.id`; returns the index entry. */
  commit(info: ShardInfo): Promise<E>;
  /** Remove everything written; must not throw for a sink that partly failed. */
  discard(): Promise<void>;
}

export interface BaseStoreInit {
  /** Bytes this store may hold. @default Infinity */
  quota?: number;
}

export abstract class BaseShardStore<E extends ShardInfo = ShardInfo> implements ShardStore {
  abstract readonly kind: ShardStoreKind;
  /** Committed shards. Adapters fill it on open. */
  protected readonly index = new Map<string, E>();
  readonly #writers = new Map<string, Writer<E>>();
  readonly #deleting = new Map<string, Promise<unknown>>();
  #committed = 0;
  #reserved = 0;
  #quota: number;
  #closed = false;

  constructor(init: BaseStoreInit = {}) {
    const quota = init.quota ?? Infinity;
    checkQuota(quota);
    this.#quota = quota;
  }

  /** Adapters call this after filling `index` on open. */
  protected recount(): void {
    this.#committed = 0;
    for (const e of this.index.values()) this.#committed += e.size;
  }

  protected abstract begin(id: string, size: number): Promise<WriteSink<E>>;
  protected abstract readRange(entry: E, offset: number, length: number): Promise<Uint8Array>;
  protected abstract remove(entry: E): Promise<void>;
  protected abstract closeBacking(): Promise<void>;

  /** Default streaming: one `readRange` per chunk. Adapters override to keep a handle open. */
  protected async *streamRange(
    entry: E,
    offset: number,
    length: number,
    chunkSize: number,
    signal?: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    const end = offset + length;
    for (let at = offset; at < end; at += chunkSize) {
      signal?.throwIfAborted();
      yield await this.readRange(entry, at, Math.min(chunkSize, end - at));
    }
  }

  /** Turns a platform error into the store's own where one fits; adapters extend. */
  protected translate(err: unknown): unknown {
    if (this.#closed && !(err instanceof StoreError))
      return new StoreClosedError('store closed', { cause: err });
    return err;
  }

  #open(): void {
    if (this.#closed) throw new StoreClosedError(`${this.kind} store is closed`);
  }

  #entry(id: string): E {
    const entry = this.index.get(id);
    if (!entry) throw new ShardNotFoundError(`no shard ${id}`);
    return entry;
  }

  async create(id: string, size: number, options: CreateOptions = {}): Promise<ShardWriter> {
    checkId(id);
    checkCount('size', size);
    const { meta, signal } = options;
    if (meta !== undefined) {
      if (!(meta instanceof Uint8Array)) throw new TypeError('meta must be a Uint8Array');
      if (meta.length > MAX_META_BYTES)
        throw new RangeError(`meta must be at most ${MAX_META_BYTES} bytes, got ${meta.length}`);
    }
    signal?.throwIfAborted();
    this.#open();
    const deleting = this.#deleting.get(id);
    if (deleting) await deleting.catch(() => {});
    this.#open();
    // From here to the reservation nothing awaits, so concurrent creates see each other.
    if (this.index.has(id) || this.#writers.has(id))
      throw new ShardExistsError(`shard ${id} already exists or is being written`);
    if (this.#committed + this.#reserved + size > this.#quota)
      throw new QuotaExceededError(
        `shard of ${size} B does not fit: ${this.#committed + this.#reserved} of ${this.#quota} B used`,
      );
    this.#reserved += size;
    const writer = new Writer<E>(this, id, size, meta?.slice());
    this.#writers.set(id, writer);
    try {
      writer.sink = await this.begin(id, size);
    } catch (err) {
      this.#release(writer);
      throw this.translate(err);
    }
    if (this.#closed) {
      await writer.abort();
      this.#open();
    }
    writer.watch(signal);
    return writer;
  }

  /** @internal called by Writer */
  _committed(writer: Writer<E>, entry: E): void {
    this.#release(writer);
    this.index.set(entry.id, entry);
    this.#committed += entry.size;
  }

  /** @internal called by Writer */
  _released(writer: Writer<E>): void {
    this.#release(writer);
  }

  /** @internal */
  _translate(err: unknown): unknown {
    return this.translate(err);
  }

  #release(writer: Writer<E>): void {
    if (this.#writers.get(writer.id) !== writer) return;
    this.#writers.delete(writer.id);
    this.#reserved -= writer.size;
  }

  async read(
    id: string,
    offset: number,
    length: number,
    options: AbortOptions = {},
  ): Promise<Uint8Array> {
    checkId(id);
    options.signal?.throwIfAborted();
    this.#open();
    const entry = this.#entry(id);
    checkRange(entry.size, offset, length);
    if (length === 0) return new Uint8Array(0);
    try {
      return await this.readRange(entry, offset, length);
    } catch (err) {
      throw this.translate(err);
    }
  }

  async *stream(id: string, options: StreamOptions = {}): AsyncGenerator<Uint8Array> {
    checkId(id);
    const { signal, chunkSize = DEFAULT_STREAM_CHUNK } = options;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
      throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
    signal?.throwIfAborted();
    this.#open();
    const entry = this.#entry(id);
    const offset = options.offset ?? 0;
    const length = options.length ?? entry.size - (typeof offset === 'number' ? offset : 0);
    checkRange(entry.size, offset, length);
    if (length === 0) return;
    try {
      yield* this.streamRange(entry, offset, length, chunkSize, signal);
    } catch (err) {
      throw this.translate(err);
    }
  }

  async has(id: string): Promise<boolean> {
    checkId(id);
    this.#open();
    return this.index.has(id);
  }

  async info(id: string): Promise<ShardInfo | undefined> {
    checkId(id);
    this.#open();
    const entry = this.index.get(id);
    return entry && copyInfo(entry);
  }

  async *list(): AsyncGenerator<ShardInfo> {
    this.#open();
    const entries = [...this.index.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const e of entries) yield copyInfo(e);
  }

  async delete(id: string): Promise<boolean> {
    checkId(id);
    this.#open();
    const entry = this.index.get(id);
    if (!entry) return false;
    // Invisible at once; the quota is freed when the bytes are gone.
    this.index.delete(id);
    const removal = this.remove(entry);
    this.#deleting.set(id, removal);
    try {
      await removal;
    } catch (err) {
      this.index.set(id, entry);
      throw this.translate(err);
    } finally {
      this.#deleting.delete(id);
    }
    this.#committed -= entry.size;
    return true;
  }

  async usage(): Promise<ShardUsage> {
    this.#open();
    return {
      used: this.#committed + this.#reserved,
      reserved: this.#reserved,
      quota: this.#quota,
      shards: this.index.size,
    };
  }

  setQuota(quota: number): void {
    checkQuota(quota);
    this.#quota = quota;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#writers.values()].map((w) => w.abort()));
    await this.closeBacking();
  }
}

type WriterState = 'open' | 'committing' | 'committed' | 'aborted';

class Writer<E extends ShardInfo> implements ShardWriter {
  sink!: WriteSink<E>;
  #state: WriterState = 'open';
  #accepted = 0;
  #written = 0;
  #queue: Promise<void> = Promise.resolve();
  #reason: unknown;
  #signalReason: unknown;
  #unwatch: (() => void) | undefined;
  #aborting: Promise<void> | undefined;
  #committing: Promise<ShardInfo> | undefined;
  readonly #store: BaseShardStore<E>;
  readonly #meta: Uint8Array | undefined;

  readonly id: string;
  readonly size: number;

  constructor(store: BaseShardStore<E>, id: string, size: number, meta: Uint8Array | undefined) {
    this.id = id;
    this.size = size;
    this.#store = store;
    this.#meta = meta;
  }

  get written(): number {
    return this.#written;
  }

  watch(signal: AbortSignal | undefined): void {
    if (!signal) return;
    const onAbort = () => {
      this.#signalReason = signal.reason;
      void this.abort();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unwatch = () => signal.removeEventListener('abort', onAbort);
  }

  #closedError(): unknown {
    if (this.#signalReason !== undefined) return this.#signalReason;
    return new WriterClosedError(`writer for ${this.id} is ${this.#state}`, {
      cause: this.#reason,
    });
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError());
    if (!(chunk instanceof Uint8Array))
      return Promise.reject(new TypeError('chunk must be a Uint8Array'));
    if (this.#accepted + chunk.length > this.size) {
      const err = new RangeError(
        `writing ${chunk.length} B at ${this.#accepted} passes the declared size ${this.size}`,
      );
      this.#reason = err;
      return this.abort().then(() => Promise.reject(err));
    }
    this.#accepted += chunk.length;
    const run = this.#queue.then(async () => {
      if (this.#state === 'aborted') throw this.#closedError();
      if (chunk.length === 0) return;
      try {
        await this.sink.append(chunk);
        this.#written += chunk.length;
      } catch (err) {
        const translated = this.#store._translate(err);
        this.#reason ??= translated;
        await this.#abort(false);
        throw translated;
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  commit(): Promise<ShardInfo> {
    if (this.#state !== 'open') return Promise.reject(this.#closedError());
    this.#state = 'committing';
    this.#committing = this.#commit();
    return this.#committing;
  }

  async #commit(): Promise<ShardInfo> {
    await this.#queue;
    if (this.#state === 'aborted') throw this.#reason ?? this.#closedError();
    if (this.#written !== this.size) {
      const err = new IncompleteShardError(
        `shard ${this.id}: ${this.#written} of ${this.size} B written`,
      );
      this.#reason = err;
      await this.#abort(false);
      throw err;
    }
    const info: ShardInfo = { id: this.id, size: this.size, createdAt: Date.now() };
    if (this.#meta) info.meta = this.#meta;
    let entry: E;
    try {
      entry = await this.sink.commit(info);
    } catch (err) {
      const translated = this.#store._translate(err);
      this.#reason = translated;
      await this.#abort(false);
      throw translated;
    }
    this.#state = 'committed';
    this.#unwatch?.();
    this.#store._committed(this, entry);
    return copyInfo(entry);
  }

  abort(): Promise<void> {
    if (this.#state === 'committed') return Promise.resolve();
    if (this.#aborting) return this.#aborting;
    // A commit in flight decides: it either commits or aborts by itself.
    if (this.#state === 'committing')
      return this.#committing!.then(
        () => {},
        () => {},
      );
    return this.#abort(true);
  }

  #abort(drain: boolean): Promise<void> {
    if (this.#aborting) return this.#aborting;
    this.#state = 'aborted';
    this.#unwatch?.();
    this.#aborting = (async () => {
      if (drain) await this.#queue;
      try {
        await this.sink?.discard();
      } finally {
        this.#store._released(this);
      }
    })();
    return this.#aborting;
  }
}
