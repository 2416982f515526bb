/**
 * Browser adapters: `@cairn/store/browser`. IndexedDB works everywhere; the Origin Private File
 * System is faster for large shards where it exists.
 */
import { IdbShardStore } from './idb.ts';
import { OpfsShardStore, opfsAvailable } from './opfs.ts';
import type { ShardStore } from './types.ts';

export { IdbShardStore, translateIdbError, type IdbShardStoreInit } from './idb.ts';
export {
  OpfsShardStore,
  opfsAvailable,
  translateOpfsError,
  type OpfsShardStoreInit,
} from './opfs.ts';

export interface BrowserStorageStatus {
  /** The browser promised not to evict this origin's storage under pressure. */
  persisted: boolean;
  /** Bytes the browser lets this origin use (all storage kinds together). */
  quota: number;
  /** Bytes this origin uses now. */
  usage: number;
}

/**
 * Asks for persistent storage (once; browsers may grant it silently, prompt, or refuse) and
 * reports the origin's quota and usage, for a browser host to show and to size its store's quota.
 */
export async function browserStorageStatus(): Promise<BrowserStorageStatus> {
  const storage = navigator.storage;
  let persisted = (await storage.persisted?.()) ?? false;
  if (!persisted) persisted = (await storage.persist?.().catch(() => false)) ?? false;
  const { quota = 0, usage = 0 } = (await storage.estimate?.()) ?? {};
  return { persisted, quota, usage };
}

export interface ChooseBrowserStoreInit {
  /** The OPFS directory name or IndexedDB database name. */
  name: string;
  /** @default Infinity */
  quota?: number;
}

/** OPFS where this browser has it, else IndexedDB. */
export async function chooseBrowserStore(init: ChooseBrowserStoreInit): Promise<ShardStore> {
  const quota = init.quota === undefined ? {} : { quota: init.quota };
  if (await opfsAvailable()) return OpfsShardStore.open({ dirName: init.name, ...quota });
  return IdbShardStore.open({ name: init.name, ...quota });
}
