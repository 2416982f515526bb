// The codec worker (comlink, transferables) produces byte-identical shards to the in-thread
// encoder, and the UI thread stays free while it works.
import { expect, test } from 'vitest';
import { generateFileId, generateFileKey } from '../src/crypto/index.ts';
import { spawnCodecWorker } from '../src/worker/index.ts';
import { FileDecoder } from '../src/decoder.ts';
import { equalBytes } from '../src/bytes.ts';
import { collect, hosts, randomData, store } from './helpers.ts';

test('worker encoding equals in-thread encoding, and decodes', async () => {
  const data = randomData(12 * 2 ** 20 + 99);
  const fileKey = generateFileKey();
  const fileId = generateFileId();
  const worker = spawnCodecWorker();
  try {
    // Count event-loop turns on this thread while the worker encodes.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const inWorker = await store([data], { fileKey, fileId, engine: worker.engine });
    clearInterval(timer);
    const inThread = await store([data], { fileKey, fileId });
    expect(
      inWorker.manifest.roots.map((r, j) => equalBytes(r, inThread.manifest.roots[j]!)),
    ).not.toContain(false);
    inWorker.shards.forEach((s, j) => expect(equalBytes(s, inThread.shards[j]!)).toBe(true));
    expect(ticks).toBeGreaterThan(0);
    const decoder = await FileDecoder.open(inWorker.sealed, fileKey);
    const engine = await worker.decoder(decoder.manifest, fileKey);
    const lost = (shard: number) => shard < decoder.manifest.m;
    expect(
      equalBytes(await collect(decoder.decode(hosts(inWorker, { lost }), { engine })), data),
    ).toBe(true);
    engine.close();
  } finally {
    worker.terminate();
  }
});
