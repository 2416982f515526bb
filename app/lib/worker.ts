/**
 * The codec worker (comlink, from @cairn/codec/worker): segment encryption, Reed-Solomon coding
 * and Merkle hashing of uploads, and piece verification and decoding of downloads, run there so
 * the UI thread only moves bytes. One worker for the tab, started on first use.
 */
import { spawnCodecWorker, type CodecWorker } from '@cairn/codec/worker';

let worker: CodecWorker | undefined;

export function codecWorker(): CodecWorker | undefined {
  if (typeof Worker === 'undefined') return undefined;
  worker ??= spawnCodecWorker();
  return worker;
}
