/**
 * Web Worker entry: runs SegmentEncoder instances off the UI thread. Spawned by
 * `spawnCodecWorker()`; speaks comlink.
 */
import * as Comlink from 'comlink';
import { FileDecoder } from '../decoder.ts';
import { SegmentEncoder, type SegmentEngineInit } from '../encoder.ts';
import type { Manifest } from '../manifest/index.ts';

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
  async createDecoder(manifest: Manifest, fileKey: Uint8Array) {
    const decoder = await FileDecoder.create(manifest, fileKey);
    return Comlink.proxy({
      verifyPiece: (shard: number, segment: number, piece: Uint8Array, proof: Uint8Array[]) =>
        decoder.verifyPiece(shard, segment, piece, proof),
      async decodeSegment(segment: number, pieces: (Uint8Array | null)[]) {
        const out = await decoder.decodeSegment(segment, pieces);
        const owned =
          out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
        return Comlink.transfer(owned, [owned.buffer as ArrayBuffer]);
      },
    });
  },
};

export type CodecWorkerApi = typeof api;

Comlink.expose(api);
