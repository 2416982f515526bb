/**
 * Web Worker entry: runs SegmentEncoder instances off the UI thread. Spawned by
 * `spawnCodecWorker()`; speaks comlink.
 */
import * as Comlink from 'comlink';
import { SegmentEncoder, type SegmentEngineInit } from '../encoder.ts';

const api = {
  async createEncoder(init: SegmentEngineInit) {
    const encoder = await SegmentEncoder.create(init);
    return Comlink.proxy({
      kernel: encoder.kernel,
      async encode(index: number, last: boolean, plaintext: Uint8Array) {
        const out = await encoder.encode(index, last, plaintext);
        return Comlink.transfer(out, [out.buffer]);
      },
      finish: () => encoder.finish(),
    });
  },
};

export type CodecWorkerApi = typeof api;

Comlink.expose(api);
