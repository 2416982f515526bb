// Peak memory while encoding a 1 GiB stream (Node; run in a fresh process by scripts/bench.ts).
// Prints one JSON result. Baseline: the same process's RSS before encoding starts.
import { encodeFile } from '../src/encoder.ts';
import { pseudoRandomBytes } from './harness.ts';

const GiB = 2 ** 30;
const chunk = pseudoRandomBytes(1 << 20, 3);

async function* source(total: number) {
  for (let sent = 0; sent < total; sent += chunk.length) {
    yield chunk.subarray(0, Math.min(chunk.length, total - sent));
  }
}

const mib = (b: number) => b / 2 ** 20;
globalThis.gc?.();
const idle = process.memoryUsage.rss();
let peak = idle;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage.rss());
};
const timer = setInterval(sample, 20);
let bytes = 0;
const t0 = performance.now();
const encoding = encodeFile(source(GiB), { name: 'one-gib.bin' });
for await (const segment of encoding) {
  for (const piece of segment.pieces) bytes += piece.length;
  sample();
}
clearInterval(timer);
const seconds = (performance.now() - t0) / 1000;
const manifest = encoding.manifest();
if (manifest.size !== GiB) throw new Error('encoded size mismatch');
console.log(
  JSON.stringify({
    bench: 'codec.pipeline.peak-memory-1GiB',
    env: 'node',
    value: Math.round(mib(peak)),
    unit: 'MiB',
    baseline: Math.round(mib(idle)),
    ratio: peak / idle,
    note: `peak RSS; baseline = RSS before encoding; ${(GiB / 1e6 / seconds).toFixed(0)} MB/s, ${(bytes / GiB).toFixed(2)}x stored`,
  }),
);
