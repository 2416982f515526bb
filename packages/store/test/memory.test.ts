// The compliance suite against the in-memory store, in Node and in Chromium.
import { MemoryShardStore } from '../src/index.ts';
import { describeShardStore } from './compliance.ts';

describeShardStore(
  'memory',
  async ({ quota }) => {
    const store = new MemoryShardStore(quota === undefined ? {} : { quota });
    return { store, cleanup: () => store.close() };
  },
  { bigShard: 16 * 2 ** 20 },
);
