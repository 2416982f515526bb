/**
 * Running the codec's heavy work in a Web Worker (browser only; Node callers use the in-thread
 * SegmentEncoder, which is what `encodeFile` does by default).
 *
 * ```ts
 * const worker = spawnCodecWorker();
 * const encoding = encodeFile(file.stream(), { engine: worker.engine });
 * ```
 */
import * as Comlink from 'comlink';
import type { DecodeEngine } from '../decoder.ts';
import type { SegmentEngine, SegmentEngineInit } from '../encoder.ts';
import type { Manifest } from '../manifest/index.ts';
import type { CodecWorkerApi } from './codec-worker.ts';

export interface CodecWorker {
  /** Pass as `EncodeOptions.engine`: each file gets its own encoder inside the worker. */
  engine: (init: SegmentEngineInit) => Promise<SegmentEngine>;
  /** Pass as `DecodeOptions.engine`: pieces are verified and segments rebuilt in the worker. */
  decoder(manifest: Manifest, fileKey: Uint8Array): Promise<DecodeEngine & { close(): void }>;
  terminate(): void;
}

export function spawnCodecWorker(): CodecWorker {
  const worker = new Worker(new URL('./codec-worker.ts', import.meta.url), {
    type: 'module',
    name: 'cairn-codec',
  });
  const remote = Comlink.wrap<CodecWorkerApi>(worker);
  return {
    engine: async (init) => {
      // Keys cross the boundary as copies; the caller's arrays stay usable.
      const encoder = await remote.createEncoder(init);
      return {
        encode: (index, last, plaintext) => {
          // Transfer the plaintext segment instead of copying it (the caller hands it over).
          const owned =
            plaintext.byteOffset === 0 && plaintext.byteLength === plaintext.buffer.byteLength
              ? plaintext
              : plaintext.slice();
          return encoder.encode(
            index,
            last,
            Comlink.transfer(owned, [owned.buffer as ArrayBuffer]),
          );
        },
        finish: () => encoder.finish(),
        close: () => encoder[Comlink.releaseProxy](),
      };
    },
    decoder: async (manifest, fileKey) => {
      const decoder = await remote.createDecoder(manifest, fileKey);
      return {
        verifyPiece: (shard, segment, piece, proof) =>
          decoder.verifyPiece(shard, segment, piece, [...proof]),
        decodeSegment: (segment, pieces) => decoder.decodeSegment(segment, [...pieces]),
        close: () => decoder[Comlink.releaseProxy](),
      };
    },
    terminate: () => {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
