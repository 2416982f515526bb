import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { drip, inputsHash as generatedHash, tokenBalance, verifyShardProof } from '../src/index.ts';
import { generatedPath, inputsHash } from '../src/node.ts';
import { setup, type Fixture } from './helpers.ts';

interface Vector {
  leafSize: number;
  leafCount: number;
  height: number;
  root: string;
  proofs: { index: number; leaf: string; calldata: string }[];
}

const vectors = (
  JSON.parse(
    readFileSync(new URL('../../codec/vectors/merkle-sha256-v1.json', import.meta.url), 'utf8'),
  ) as { vectors: Vector[] }
).vectors;

describe('toolchain', () => {
  it('src/generated/abis.ts is up to date with contracts/*.sol (else run scripts/compile.ts)', () => {
    expect(readFileSync(generatedPath, 'utf8')).toContain(inputsHash());
    expect(generatedHash).toBe(inputsHash());
  });
});

describe('ShardMerkle verifier against the codec vectors', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setup();
  });
  afterAll(() => f?.stop());

  const verify = (root: string, v: Vector, index: number, leaf: string, proof: string) =>
    verifyShardProof(f.reader, {
      root: `0x${root}` as Hex,
      leafCount: BigInt(v.leafCount),
      leafSize: v.leafSize,
      index: BigInt(index),
      leaf: `0x${leaf}`,
      proof: `0x${proof}`,
    });

  it('deploys a funded faucet on the local chain that hands out test tokens', async () => {
    expect(f.config.faucet).toBeDefined();
    expect(await tokenBalance(f.reader, f.reporter.account)).toBe(0n);
    await drip(f.reporter);
    expect(await tokenBalance(f.reader, f.reporter.account)).toBe(10_000n * 10n ** 18n);
  });

  it('accepts every published proof', async () => {
    let n = 0;
    for (const v of vectors) {
      for (const p of v.proofs) {
        expect(
          await verify(v.root, v, p.index, p.leaf, p.calldata),
          `leafSize ${v.leafSize} count ${v.leafCount} i ${p.index}`,
        ).toBe(true);
        n++;
      }
    }
    expect(n).toBeGreaterThan(30);
  });

  it('rejects a wrong index, a flipped leaf bit, a short proof and a wrong leaf length', async () => {
    for (const v of vectors.filter((x) => x.leafCount > 2)) {
      const p = v.proofs[v.proofs.length - 1]!;
      const other = (p.index + 1) % v.leafCount;
      expect(await verify(v.root, v, other, p.leaf, p.calldata)).toBe(false);
      const flipped =
        (parseInt(p.leaf.slice(0, 2), 16) ^ 1).toString(16).padStart(2, '0') + p.leaf.slice(2);
      expect(await verify(v.root, v, p.index, flipped, p.calldata)).toBe(false);
      expect(await verify(v.root, v, p.index, p.leaf, p.calldata.slice(64))).toBe(false);
      expect(await verify(v.root, v, p.index, p.leaf.slice(2), p.calldata)).toBe(false);
      expect(await verify(v.root, v, v.leafCount, p.leaf, p.calldata)).toBe(false);
    }
  });
});
