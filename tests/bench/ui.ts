// Does the page keep drawing frames while a file is encrypted, erasure-coded and hashed? The
// app runs that work in a Web Worker (comlink): this page encodes the same 64 MiB twice, once
// with the worker engine and once in the page's own thread (the baseline), and watches the
// frames with requestAnimationFrame. Printed: the longest gap between two frames in each run
// (16.7 ms is one frame at 60 Hz) and how many frames took over 50 ms.
import { encodeFile, type EncodeOptions } from '../../packages/codec/src/encoder.ts';
import { spawnCodecWorker } from '../../packages/codec/src/worker/index.ts';
import { pseudoRandomBytes } from '../../packages/codec/bench/harness.ts';

const SIZE = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const send = (type: string, payload?: unknown) =>
  console.log(`CAIRN-BENCH ${JSON.stringify({ type, payload })}`);

/** Chunks of pseudo-random bytes, made as they are read (bounded memory). */
async function* source(): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < SIZE; off += CHUNK) yield pseudoRandomBytes(CHUNK, off / CHUNK + 1);
}

interface Frames {
  longestGapMs: number;
  over50: number;
  frames: number;
}

/** Watches frames until `stop` resolves. */
function watchFrames(stop: Promise<unknown>): Promise<Frames> {
  return new Promise((resolve) => {
    let last = performance.now();
    const out: Frames = { longestGapMs: 0, over50: 0, frames: 0 };
    let done = false;
    void stop.finally(() => (done = true));
    const tick = (now: number) => {
      const gap = now - last;
      last = now;
      out.frames++;
      out.longestGapMs = Math.max(out.longestGapMs, gap);
      if (gap > 50) out.over50++;
      if (done) resolve(out);
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

/** Encodes `bytes` (default: the 64 MiB source) and drains the pieces; resolves with the ms. */
async function encode(
  engine?: EncodeOptions['engine'],
  bytes: Parameters<typeof encodeFile>[0] = source(),
): Promise<number> {
  const t0 = performance.now();
  const encoding = encodeFile(bytes, { k: 10, m: 10, ...(engine ? { engine } : {}) });
  for await (const segment of encoding) void segment;
  return performance.now() - t0;
}

async function run(): Promise<void> {
  send('start');
  const worker = spawnCodecWorker();
  try {
    // Warm up both paths (WASM compile, worker start) so neither run pays for it.
    await encode(worker.engine, pseudoRandomBytes(CHUNK));
    await encode(undefined, pseudoRandomBytes(CHUNK));
    const inWorker = encode(worker.engine);
    const workerFrames = await watchFrames(inWorker);
    const workerMs = await inWorker;
    const inPage = encode();
    const pageFrames = await watchFrames(inPage);
    const pageMs = await inPage;
    const mbs = (ms: number) => (SIZE / 1e6 / (ms / 1000)).toFixed(0);
    send('result', {
      bench: 'app.ui.longest-frame-gap',
      env: 'chromium',
      value: workerFrames.longestGapMs,
      unit: 'ms',
      baseline: pageFrames.longestGapMs,
      ratio: workerFrames.longestGapMs / pageFrames.longestGapMs,
      note:
        `64 MiB encoded RS(10,10) in the codec worker at ${mbs(workerMs)} MB/s: ` +
        `${workerFrames.over50} of ${workerFrames.frames} frames over 50 ms; baseline the same ` +
        `work in the page's thread at ${mbs(pageMs)} MB/s: ${pageFrames.over50} of ` +
        `${pageFrames.frames} frames over 50 ms`,
    });
    send('done');
  } finally {
    worker.terminate();
  }
}

run().catch((err: Error) => send('error', err.stack ?? err.message));
