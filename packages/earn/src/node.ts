// Node only: the daemon state in a JSON file (headless hosts, relays).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StateStore } from './state.ts';

/**
 * A JSON object in one file, written atomically (temporary file + rename) on every `set`, so a
 * crash leaves either the old or the new state. Values are small (cursors, deal lists).
 */
export class FileState implements StateStore {
  readonly path: string;
  #data: Record<string, string> | undefined;
  constructor(path: string) {
    this.path = path;
  }
  #load(): Record<string, string> {
    if (this.#data) return this.#data;
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
      this.#data =
        typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`earn state ${this.path} cannot be read: ${(err as Error).message}`, {
          cause: err,
        });
      this.#data = {};
    }
    return this.#data;
  }
  get(key: string): string | undefined {
    return this.#load()[key];
  }
  set(key: string, value: string): void {
    const data = this.#load();
    data[key] = value;
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 1) + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
