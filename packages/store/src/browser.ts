/**
 * Browser adapters: `@cairn/store/browser`. IndexedDB works everywhere; the Origin Private File
 * System is faster for large shards where it exists.
 */

export { IdbShardStore, translateIdbError, type IdbShardStoreInit } from './idb.ts';
