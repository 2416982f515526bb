/**
 * Scratch benchmark of the shard Merkle tree (Node: `node packages/codec/bench/merkle-local.ts`;
 * the browser figures come from running `runMerkleLocal` in a temporary vitest browser test).
 * Prints MB/s of shard bytes beside WebCrypto SHA-256 over one big buffer, measured in the same run.
 */
import { _useHasher, _simdHasher } from '../src/merkle/hasher.ts';
import { MerkleBuilder, MerkleTree } from '../src/merkle/index.ts';
import { pseudoRandomBytes, throughput } from './harness.ts';

export async function runMerkleLocal(
  log: (line: string) => void,
  seconds = 1,
): Promise<Record<string, number>> {
  const size = 4 * 1024 * 1024;
  const shard = pseudoRandomBytes(size, 7);
  const results: Record<string, number> = {};
  const put = (name: string, mbs: number): void => {
    results[name] = mbs;
    log(`${name.padEnd(34)} ${mbs.toFixed(0).padStart(6)} MB/s`);
  };
  put(
    'webcrypto sha256 (4 MiB, one call)',
    await throughput(
      size,
      () => globalThis.crypto.subtle.digest('SHA-256', shard as Uint8Array<ArrayBuffer>),
      { seconds },
    ),
  );
  const hashers: ('simd' | 'js')[] = _simdHasher() ? ['simd', 'js'] : ['js'];
  for (const which of hashers) {
    _useHasher(which);
    for (const leafSize of [256, 512, 1024, 4096]) {
      put(
        `${which} tree L=${leafSize}`,
        await throughput(size, () => MerkleTree.build(shard, leafSize), { seconds }),
      );
      put(
        `${which} builder L=${leafSize}`,
        await throughput(
          size,
          () => {
            const b = new MerkleBuilder(leafSize);
            for (let i = 0; i < size; i += 256 * 1024) b.append(shard.subarray(i, i + 256 * 1024));
            return b.finish();
          },
          { seconds },
        ),
      );
      if (which === 'js' && leafSize !== 1024) continue;
    }
  }
  _useHasher('auto');
  return results;
}

if (typeof process !== 'undefined' && process.argv[1]?.endsWith('merkle-local.ts')) {
  await runMerkleLocal(console.log, Number(process.argv[2] ?? 1));
}
