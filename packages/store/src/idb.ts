/**
 * IndexedDB adapter (browser): shards as fixed-size chunk records.
 *
 * Database `name`, version 1, three object stores:
 * - `chunks`: key `[writeId, chunkIndex]`, value a `Uint8Array` of `chunkSize` bytes (the last
 *   chunk of a shard may be shorter). Chunks are keyed by a random per-write id, not the shard id,
 *   so the chunks of a half-written shard can never be mistaken for a committed one.
 * - `shards`: key `id`, value `{ id, size, createdAt, meta?, writeId, chunkSize }`. Written in
 *   the same (durability 'strict') transaction that deletes the `writes` record: the commit point.
 * - `writes`: key `writeId`, value `{ writeId, id, size, startedAt }` for each write in progress.
 *   On open, every `writes` record is a leftover of a crash: its chunks and the record are deleted.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { BaseShardStore, type BaseStoreInit, type WriteSink } from './base.ts';
import { QuotaExceededError, ShardNotFoundError } from './errors.ts';
import type { ShardInfo } from './types.ts';

export interface IdbShardStoreInit extends BaseStoreInit {
  /** IndexedDB database name. */
  name: string;
  /** Bytes per chunk record for new shards (existing shards keep theirs). @default 262144 */
  chunkSize?: number;
}

interface IdbEntry extends ShardInfo {
  writeId: string;
  chunkSize: number;
}

interface WriteRecord {
  writeId: string;
  id: string;
  size: number;
  startedAt: number;
}

interface StoreSchema extends DBSchema {
  chunks: { key: [string, number]; value: Uint8Array };
  shards: { key: string; value: IdbEntry };
  writes: { key: string; value: WriteRecord };
}

/** Chunk puts in flight per writer before `write()` waits (bounds memory to this many chunks). */
const IN_FLIGHT = 4;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function chunkRange(writeId: string, first = 0, last = Infinity): IDBKeyRange {
  return IDBKeyRange.bound([writeId, first], [writeId, last]);
}

/** The browser's QuotaExceededError (a DOMException, possibly as a transaction's error). */
export function translateIdbError(err: unknown): unknown {
  const name = (err as { name?: unknown })?.name;
  if (name === 'QuotaExceededError' && !(err instanceof QuotaExceededError))
    return new QuotaExceededError('browser storage is full', { cause: err });
  return err;
}

export class IdbShardStore extends BaseShardStore<IdbEntry> {
  readonly kind = 'indexeddb' as const;
  readonly name: string;
  readonly #chunkSize: number;
  #db!: IDBPDatabase<StoreSchema>;

  private constructor(init: IdbShardStoreInit) {
    super(init);
    this.name = init.name;
    const chunkSize = init.chunkSize ?? 256 * 1024;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
      throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
    this.#chunkSize = chunkSize;
  }

  /** Open (or create) the database, deleting what interrupted writes left behind. */
  static async open(init: IdbShardStoreInit): Promise<IdbShardStore> {
    if (typeof init?.name !== 'string' || init.name === '')
      throw new TypeError('name must be a non-empty string');
    const store = new IdbShardStore(init);
    await store.#load();
    return store;
  }

  async #load(): Promise<void> {
    this.#db = await openDB<StoreSchema>(this.name, 1, {
      upgrade(db) {
        db.createObjectStore('chunks');
        db.createObjectStore('shards', { keyPath: 'id' });
        db.createObjectStore('writes', { keyPath: 'writeId' });
      },
    });
    const leftovers = await this.#db.getAll('writes');
    if (leftovers.length > 0) {
      const tx = this.#db.transaction(['chunks', 'writes'], 'readwrite');
      for (const w of leftovers) {
        void tx.objectStore('chunks').delete(chunkRange(w.writeId));
        void tx.objectStore('writes').delete(w.writeId);
      }
      await tx.done;
    }
    for (const entry of await this.#db.getAll('shards')) this.index.set(entry.id, entry);
    this.recount();
  }

  protected override translate(err: unknown): unknown {
    const translated = translateIdbError(err);
    return translated === err ? super.translate(err) : translated;
  }

  protected async begin(id: string, size: number): Promise<WriteSink<IdbEntry>> {
    const db = this.#db;
    const writeId = randomId();
    const chunkSize = this.#chunkSize;
    await db.put('writes', { writeId, id, size, startedAt: Date.now() });
    // One chunk buffer, reused: put() clones its value synchronously.
    const buffer = new Uint8Array(Math.min(chunkSize, Math.max(size, 1)));
    let fill = 0;
    let nextIndex = 0;
    const inFlight: Promise<void>[] = [];
    let failure: unknown;
    const putChunk = (value: Uint8Array) => {
      const tx = db.transaction('chunks', 'readwrite');
      void tx.store.put(value, [writeId, nextIndex++]).catch(() => {});
      const done = tx.done.catch((err: unknown) => {
        failure ??= err;
      });
      inFlight.push(done);
    };
    const drain = async (limit: number) => {
      while (inFlight.length > limit) await inFlight.shift();
      if (failure !== undefined) throw failure;
    };
    return {
      append: async (chunk) => {
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(chunk.length - at, buffer.length - fill);
          buffer.set(chunk.subarray(at, at + n), fill);
          fill += n;
          at += n;
          if (fill === buffer.length) {
            putChunk(buffer);
            fill = 0;
            await drain(IN_FLIGHT - 1);
          }
        }
      },
      commit: async (info) => {
        // A subarray would clone its whole ArrayBuffer, so the short last chunk is a copy.
        if (fill > 0) putChunk(buffer.slice(0, fill));
        await drain(0);
        const entry: IdbEntry = { ...info, writeId, chunkSize: buffer.length };
        const tx = db.transaction(['shards', 'writes'], 'readwrite', { durability: 'strict' });
        void tx.objectStore('shards').put(entry);
        void tx.objectStore('writes').delete(writeId);
        await tx.done;
        return entry;
      },
      discard: async () => {
        await Promise.allSettled(inFlight);
        const tx = db.transaction(['chunks', 'writes'], 'readwrite');
        void tx.objectStore('chunks').delete(chunkRange(writeId));
        void tx.objectStore('writes').delete(writeId);
        await tx.done;
      },
    };
  }

  protected async readRange(entry: IdbEntry, offset: number, length: number): Promise<Uint8Array> {
    const { chunkSize, writeId } = entry;
    const first = Math.floor(offset / chunkSize);
    const last = Math.floor((offset + length - 1) / chunkSize);
    const chunks = await this.#db.getAll('chunks', chunkRange(writeId, first, last));
    if (chunks.length !== last - first + 1)
      throw new ShardNotFoundError(`shard ${entry.id} was deleted during the read`);
    if (chunks.length === 1) {
      const start = offset - first * chunkSize;
      const only = chunks[0]!;
      return start === 0 && length === only.length ? only : only.slice(start, start + length);
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const [i, chunk] of chunks.entries()) {
      const chunkStart = (first + i) * chunkSize;
      const from = Math.max(offset - chunkStart, 0);
      const to = Math.min(offset + length - chunkStart, chunk.length);
      out.set(chunk.subarray(from, to), at);
      at += to - from;
    }
    return out;
  }

  protected async remove(entry: IdbEntry): Promise<void> {
    const tx = this.#db.transaction(['shards', 'chunks'], 'readwrite');
    void tx.objectStore('shards').delete(entry.id);
    void tx.objectStore('chunks').delete(chunkRange(entry.writeId));
    await tx.done;
  }

  protected async closeBacking(): Promise<void> {
    this.#db.close();
    this.index.clear();
  }
}
