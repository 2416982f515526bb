/**
 * Filesystem adapter (Node only): `@cairn/store/fs`.
 *
 * Layout under `dir`:
 * - `shards/<id>`: the shard's bytes, nothing else (a plain file: hash it, sendfile it).
 * - `shards/<id>.json`: `{ "v": 1, "size", "createdAt", "meta"? (base64) }`.
 * - `tmp/<writeId>` and `tmp/<writeId>.json`: writes in progress.
 *
 * Commit: fsync the data, write the sidecar to tmp + fsync + rename into `shards/`, then rename
 * the data into `shards/` (the commit point) and fsync the directory. On open `tmp/` is emptied
 * and a sidecar without its data file (a crash between the two renames) is removed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BaseShardStore, isShardId, type BaseStoreInit, type WriteSink } from './base.ts';
import { QuotaExceededError, ShardNotFoundError } from './errors.ts';
import type { ShardInfo } from './types.ts';

export interface FsShardStoreInit extends BaseStoreInit {
  /** The store's own directory (created if missing). */
  dir: string;
}

interface FsEntry extends ShardInfo {
  path: string;
}

interface Sidecar {
  v: 1;
  size: number;
  createdAt: number;
  meta?: string;
}

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

function codeOf(err: unknown): string | undefined {
  return (err as { code?: unknown })?.code as string | undefined;
}

/** A full disk (ENOSPC, EDQUOT) becomes `QuotaExceededError` with the original as `cause`. */
export function translateFsError(err: unknown): unknown {
  const code = codeOf(err);
  if (code && NO_SPACE.has(code))
    return new QuotaExceededError(`disk full (${code})`, { cause: err });
  if (code === 'ENOENT') return new ShardNotFoundError('shard file is gone', { cause: err });
  return err;
}

async function syncDir(path: string): Promise<void> {
  // Makes renames durable on Linux; some platforms refuse to open a directory, which is fine there.
  let fh;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch {
    // not supported here
  } finally {
    await fh?.close();
  }
}

export class FsShardStore extends BaseShardStore<FsEntry> {
  readonly kind = 'fs' as const;
  readonly dir: string;
  readonly #shards: string;
  readonly #tmp: string;

  private constructor(init: FsShardStoreInit) {
    super(init);
    this.dir = resolve(init.dir);
    this.#shards = join(this.dir, 'shards');
    this.#tmp = join(this.dir, 'tmp');
  }

  /** Open (or create) a store in `dir`, clearing what an interrupted run left behind. */
  static async open(init: FsShardStoreInit): Promise<FsShardStore> {
    if (typeof init?.dir !== 'string' || init.dir === '') throw new TypeError('dir must be a path');
    const store = new FsShardStore(init);
    await store.#load();
    return store;
  }

  async #load(): Promise<void> {
    await rm(this.#tmp, { recursive: true, force: true });
    await mkdir(this.#tmp, { recursive: true });
    await mkdir(this.#shards, { recursive: true });
    const names = new Set(await readdir(this.#shards));
    const ids = [...names].filter(isShardId);
    for (const name of names) {
      if (name.endsWith('.json') && isShardId(name.slice(0, -5)) && !names.has(name.slice(0, -5)))
        await rm(join(this.#shards, name), { force: true });
    }
    const batch = 64;
    for (let i = 0; i < ids.length; i += batch) {
      await Promise.all(ids.slice(i, i + batch).map((id) => this.#loadOne(id, names)));
    }
    this.recount();
  }

  async #loadOne(id: string, names: Set<string>): Promise<void> {
    const path = join(this.#shards, id);
    const st = await stat(path);
    const entry: FsEntry = { id, size: st.size, createdAt: Math.round(st.mtimeMs), path };
    if (names.has(id + '.json')) {
      try {
        const side = JSON.parse(await readFile(path + '.json', 'utf8')) as Sidecar;
        if (typeof side.createdAt === 'number') entry.createdAt = side.createdAt;
        if (typeof side.meta === 'string')
          entry.meta = new Uint8Array(Buffer.from(side.meta, 'base64'));
      } catch {
        // An unreadable sidecar loses only the meta; the bytes are still the shard.
      }
    }
    this.index.set(id, entry);
  }

  protected override translate(err: unknown): unknown {
    const translated = translateFsError(err);
    return translated === err ? super.translate(err) : translated;
  }

  protected async begin(_id: string, _size: number): Promise<WriteSink<FsEntry>> {
    const writeId = randomBytes(12).toString('hex');
    const tmpData = join(this.#tmp, writeId);
    const tmpSide = tmpData + '.json';
    const fh = await open(tmpData, 'wx');
    let position = 0;
    let closed = false;
    const closeFile = async () => {
      if (closed) return;
      closed = true;
      await fh.close();
    };
    return {
      append: async (chunk) => {
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, position);
          done += bytesWritten;
          position += bytesWritten;
        }
      },
      commit: async (info) => {
        await fh.sync();
        await closeFile();
        const side: Sidecar = { v: 1, size: info.size, createdAt: info.createdAt };
        if (info.meta) side.meta = Buffer.from(info.meta).toString('base64');
        const sideFile = await open(tmpSide, 'wx');
        try {
          await sideFile.writeFile(JSON.stringify(side));
          await sideFile.sync();
        } finally {
          await sideFile.close();
        }
        const path = join(this.#shards, info.id);
        await rename(tmpSide, path + '.json');
        await rename(tmpData, path);
        await syncDir(this.#shards);
        return { ...info, path };
      },
      discard: async () => {
        await closeFile().catch(() => {});
        await rm(tmpData, { force: true });
        await rm(tmpSide, { force: true });
      },
    };
  }

  protected async readRange(entry: FsEntry, offset: number, length: number): Promise<Uint8Array> {
    const fh = await open(entry.path, 'r');
    try {
      return await readFully(fh, offset, length);
    } finally {
      await fh.close();
    }
  }

  protected override async *streamRange(
    entry: FsEntry,
    offset: number,
    length: number,
    chunkSize: number,
    signal?: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    // One handle for the whole stream: a delete during the stream does not cut it short.
    const fh = await open(entry.path, 'r');
    try {
      const end = offset + length;
      for (let at = offset; at < end; at += chunkSize) {
        signal?.throwIfAborted();
        yield await readFully(fh, at, Math.min(chunkSize, end - at));
      }
    } finally {
      await fh.close();
    }
  }

  protected async remove(entry: FsEntry): Promise<void> {
    // Data first: a crash in between leaves a sidecar alone, which open removes.
    await unlink(entry.path).catch((err) => {
      if (codeOf(err) !== 'ENOENT') throw err;
    });
    await rm(entry.path + '.json', { force: true });
  }

  protected async closeBacking(): Promise<void> {
    this.index.clear();
  }
}

async function readFully(
  fh: Awaited<ReturnType<typeof open>>,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, offset + done);
    if (bytesRead === 0) throw new ShardNotFoundError('shard file is shorter than its record');
    done += bytesRead;
  }
  return out;
}
