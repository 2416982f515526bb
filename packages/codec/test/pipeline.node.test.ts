// Hundreds of MiB streamed through the whole pipeline with default parameters: generated on the
// fly, never held whole as plaintext; compared by a running SHA-256.
import { sha256 } from '@noble/hashes/sha2.js';
import { expect, test } from 'vitest';
import { FileDecoder } from '../src/decoder.ts';
import { toHex } from '../src/bytes.ts';
import { hosts, store } from './helpers.ts';

const MiB = 2 ** 20;

function* generated(total: number, hash: ReturnType<typeof sha256.create>) {
  let x = 0x9e3779b9;
  for (let sent = 0; sent < total;) {
    const n = Math.min(1 * MiB + 13, total - sent);
    const chunk = new Uint8Array(n);
    const words = new Uint32Array(chunk.buffer, 0, n >>> 2);
    for (let i = 0; i < words.length; i++)
      words[i] = x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    hash.update(chunk);
    sent += n;
    yield chunk;
  }
}

test('a 300 MiB stream round-trips with m shards lost', async () => {
  const size = 300 * MiB + 4321;
  const inHash = sha256.create();
  const stored = await store(generated(size, inHash), { name: 'big.bin' });
  expect(stored.manifest.size).toBe(size);
  const { m } = stored.manifest;
  const decoder = await FileDecoder.open(stored.sealed, stored.fileKey);
  const outHash = sha256.create();
  let outBytes = 0;
  // The first m shards are gone for the whole file (the worst case: data shards).
  for await (const chunk of decoder.decode(hosts(stored, { lost: (shard) => shard < m }))) {
    outHash.update(chunk);
    outBytes += chunk.length;
  }
  expect(outBytes).toBe(size);
  expect(toHex(outHash.digest())).toBe(toHex(inHash.digest()));
});
