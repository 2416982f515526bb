/**
 * Origin Private File System adapter (browser).
 *
 * Layout under `navigator.storage.getDirectory()/<dirName>/`:
 * - `shards/<id>`: the shard's bytes; `shards/<id>.json`: `{ v: 1, size, createdAt, meta? }`
 *   (meta as an array of byte values).
 * - `tmp/<writeId>` and `tmp/<writeId>.json`: writes in progress.
 *
 * Commit: close the data file (flushes), write the sidecar in `tmp/` and move it into `shards/`,
 * then move the data file into `shards/` (the commit point: `FileSystemFileHandle.move`).
 * On open, `tmp/` is emptied and a sidecar without its data file is removed.
 *
 * In a dedicated worker, writes go through `createSyncAccessHandle()` (fastest); on the main
 * thread through `createWritable()`. Reads use `getFile()` and `Blob.slice`, which read only the
 * range asked for, in both.
 */
import { BaseShardStore, isShardId, type BaseStoreInit, type WriteSink } from './base.ts';
import { QuotaExceededError, ShardNotFoundError } from './errors.ts';
import type { ShardInfo } from './types.ts';

export interface OpfsShardStoreInit extends BaseStoreInit {
  /** Directory under the origin's OPFS root that this store owns. */
  dirName: string;
  /**
   * Write through sync access handles when the API is present (dedicated workers only).
   * @default true
   */
  syncAccess?: boolean;
}

interface OpfsEntry extends ShardInfo {
  file?: never;
}

interface Sidecar {
  v: 1;
  size: number;
  createdAt: number;
  meta?: number[];
}

// Parts of the OPFS API that TypeScript's DOM library does not declare (or only for workers).
interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}
interface MovableFileHandle extends FileSystemFileHandle {
  move(dir: FileSystemDirectoryHandle, name: string): Promise<void>;
  createSyncAccessHandle?: () => Promise<SyncAccessHandle>;
}
function namesIn(dir: FileSystemDirectoryHandle): AsyncIterable<string> {
  return (dir as unknown as { keys(): AsyncIterable<string> }).keys();
}

function nameOf(err: unknown): unknown {
  return (err as { name?: unknown })?.name;
}

/** True where this origin has an Origin Private File System with the calls this store uses. */
export async function opfsAvailable(): Promise<boolean> {
  if (typeof navigator === 'undefined' || typeof navigator.storage?.getDirectory !== 'function')
    return false;
  if (typeof FileSystemFileHandle === 'undefined' || !('move' in FileSystemFileHandle.prototype))
    return false;
  try {
    await navigator.storage.getDirectory();
    return true;
  } catch {
    return false; // e.g. private browsing in some browsers
  }
}

/** The browser's QuotaExceededError, and NotFoundError of a file deleted under us. */
export function translateOpfsError(err: unknown): unknown {
  const name = nameOf(err);
  if (name === 'QuotaExceededError' && !(err instanceof QuotaExceededError))
    return new QuotaExceededError('browser storage is full', { cause: err });
  if (name === 'NotFoundError') return new ShardNotFoundError('shard file is gone', { cause: err });
  return err;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function writeText(dir: FileSystemDirectoryHandle, name: string, text: string) {
  const fh = await dir.getFileHandle(name, { create: true });
  const w = await fh.createWritable();
  try {
    await w.write(text);
    await w.close();
  } catch (err) {
    await w.abort().catch(() => {});
    throw err;
  }
  return fh as MovableFileHandle;
}

export class OpfsShardStore extends BaseShardStore<OpfsEntry> {
  readonly kind = 'opfs' as const;
  readonly dirName: string;
  readonly #syncAccess: boolean;
  #shards!: FileSystemDirectoryHandle;
  #tmp!: FileSystemDirectoryHandle;

  private constructor(init: OpfsShardStoreInit) {
    super(init);
    this.dirName = init.dirName;
    this.#syncAccess = init.syncAccess ?? true;
  }

  /** Open (or create) the store's directory, clearing what interrupted writes left behind. */
  static async open(init: OpfsShardStoreInit): Promise<OpfsShardStore> {
    if (
      typeof init?.dirName !== 'string' ||
      !/^[\w.-]+$/.test(init.dirName) ||
      /^\.+$/.test(init.dirName)
    )
      throw new TypeError('dirName must be a plain directory name');
    const store = new OpfsShardStore(init);
    await store.#load();
    return store;
  }

  async #load(): Promise<void> {
    const root = await navigator.storage.getDirectory();
    const base = await root.getDirectoryHandle(this.dirName, { create: true });
    this.#tmp = await base.getDirectoryHandle('tmp', { create: true });
    // Leftovers of writes that never finished. A file still open for writing is locked
    // (NoModificationAllowedError): it belongs to a live writer elsewhere and is left alone; tmp/
    // is never listed, so it is invisible either way.
    const leftovers: string[] = [];
    for await (const name of namesIn(this.#tmp)) leftovers.push(name);
    for (const name of leftovers)
      await this.#tmp.removeEntry(name, { recursive: true }).catch((err: unknown) => {
        if (nameOf(err) !== 'NotFoundError' && nameOf(err) !== 'NoModificationAllowedError')
          throw err;
      });
    this.#shards = await base.getDirectoryHandle('shards', { create: true });
    const names = new Set<string>();
    for await (const name of namesIn(this.#shards)) names.add(name);
    for (const name of names) {
      if (name.endsWith('.json') && isShardId(name.slice(0, -5)) && !names.has(name.slice(0, -5)))
        await this.#shards.removeEntry(name);
    }
    await Promise.all([...names].filter(isShardId).map((id) => this.#loadOne(id, names)));
    this.recount();
  }

  async #loadOne(id: string, names: Set<string>): Promise<void> {
    const file = await (await this.#shards.getFileHandle(id)).getFile();
    const entry: OpfsEntry = { id, size: file.size, createdAt: file.lastModified };
    if (names.has(id + '.json')) {
      try {
        const sideFile = await (await this.#shards.getFileHandle(id + '.json')).getFile();
        const side = JSON.parse(await sideFile.text()) as Sidecar;
        if (typeof side.createdAt === 'number') entry.createdAt = side.createdAt;
        if (Array.isArray(side.meta)) entry.meta = Uint8Array.from(side.meta);
      } catch {
        // An unreadable sidecar loses only the meta.
      }
    }
    this.index.set(id, entry);
  }

  protected override translate(err: unknown): unknown {
    const translated = translateOpfsError(err);
    return translated === err ? super.translate(err) : translated;
  }

  protected async begin(_id: string, _size: number): Promise<WriteSink<OpfsEntry>> {
    const tmp = this.#tmp;
    const shards = this.#shards;
    const writeId = randomId();
    const fh = (await tmp.getFileHandle(writeId, { create: true })) as MovableFileHandle;
    const bytes = await this.#openBytes(fh);
    let sideHandle: MovableFileHandle | undefined;
    return {
      append: (chunk) => bytes.write(chunk),
      commit: async (info) => {
        await bytes.close();
        const side: Sidecar = { v: 1, size: info.size, createdAt: info.createdAt };
        if (info.meta) side.meta = Array.from(info.meta);
        sideHandle = await writeText(tmp, writeId + '.json', JSON.stringify(side));
        await sideHandle.move(shards, info.id + '.json');
        await fh.move(shards, info.id);
        return { ...info };
      },
      discard: async () => {
        await bytes.abort().catch(() => {});
        for (const name of [writeId, writeId + '.json'])
          await tmp.removeEntry(name).catch(() => {});
      },
    };
  }

  /** A sequential writer over a file: a sync access handle in a worker, else a writable stream. */
  async #openBytes(fh: MovableFileHandle): Promise<{
    write(chunk: Uint8Array): Promise<void>;
    close(): Promise<void>;
    abort(): Promise<void>;
  }> {
    if (this.#syncAccess && typeof fh.createSyncAccessHandle === 'function') {
      const handle = await fh.createSyncAccessHandle();
      let at = 0;
      let open = true;
      return {
        write: async (chunk) => {
          let done = 0;
          while (done < chunk.length) {
            const n = handle.write(chunk.subarray(done), { at: at + done });
            if (n <= 0) throw new QuotaExceededError('OPFS accepted no bytes');
            done += n;
          }
          at += done;
        },
        close: async () => {
          handle.flush();
          handle.close();
          open = false;
        },
        abort: async () => {
          if (open) handle.close();
          open = false;
        },
      };
    }
    const writable = await fh.createWritable();
    let open = true;
    return {
      write: (chunk) => writable.write(chunk as Uint8Array<ArrayBuffer>),
      close: async () => {
        open = false;
        await writable.close();
      },
      abort: async () => {
        if (open) await writable.abort();
        open = false;
      },
    };
  }

  async #file(entry: OpfsEntry): Promise<File> {
    return (await this.#shards.getFileHandle(entry.id)).getFile();
  }

  protected async readRange(entry: OpfsEntry, offset: number, length: number): Promise<Uint8Array> {
    const file = await this.#file(entry);
    return new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
  }

  protected override async *streamRange(
    entry: OpfsEntry,
    offset: number,
    length: number,
    chunkSize: number,
    signal?: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    const file = await this.#file(entry);
    const end = offset + length;
    for (let at = offset; at < end; at += chunkSize) {
      signal?.throwIfAborted();
      const part = file.slice(at, Math.min(at + chunkSize, end));
      yield new Uint8Array(await part.arrayBuffer());
    }
  }

  protected async remove(entry: OpfsEntry): Promise<void> {
    // Data first: a crash in between leaves a sidecar alone, which open removes.
    for (const name of [entry.id, entry.id + '.json'])
      await this.#shards.removeEntry(name).catch((err: unknown) => {
        if (nameOf(err) !== 'NotFoundError') throw err;
      });
  }

  protected async closeBacking(): Promise<void> {
    this.index.clear();
  }
}
