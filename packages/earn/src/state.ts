// Small key-value stores for the cursors of the host daemon and the watcher. The chain is the
// source of truth: losing the state costs a rescan from the deployment block, never a proof.

/** Where a daemon keeps its cursor (last scanned block, known deals, totals): strings by key. */
export interface StateStore {
  get(key: string): string | undefined | null | Promise<string | undefined | null>;
  set(key: string, value: string): void | Promise<void>;
}

/** In memory (lost on reload; share one instance between daemons to model a restart). */
export class MemoryState implements StateStore {
  readonly #map = new Map<string, string>();
  get(key: string): string | undefined {
    return this.#map.get(key);
  }
  set(key: string, value: string): void {
    this.#map.set(key, value);
  }
}

/** The subset of the Web Storage API used here (localStorage, sessionStorage). */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Over `localStorage` (browser tab, PWA): synchronous and per origin. `prefix` keeps the keys
 * apart from the app's own. A full quota surfaces as the error `setItem` throws.
 */
export class LocalStorageState implements StateStore {
  readonly #storage: WebStorageLike;
  readonly #prefix: string;
  constructor(storage?: WebStorageLike, prefix = 'cairn-earn:') {
    const s = storage ?? (globalThis as { localStorage?: WebStorageLike }).localStorage;
    if (!s) throw new TypeError('LocalStorageState: no localStorage here; pass a storage');
    this.#storage = s;
    this.#prefix = prefix;
  }
  get(key: string): string | null {
    return this.#storage.getItem(this.#prefix + key);
  }
  set(key: string, value: string): void {
    this.#storage.setItem(this.#prefix + key, value);
  }
}
