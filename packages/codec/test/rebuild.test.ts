// Rebuilding lost shards without the file key: the same bytes as the lost shard, from any k
// verified pieces of the others; liars are routed around; too few shards is a clear error.
import { describe, expect, it } from 'vitest';
import {
  MalformedError,
  MerkleTree,
  NotEnoughPiecesError,
  ShardRebuilder,
  concatBytes,
  decodeShardSet,
  encodeShardSet,
  shardSetOf,
} from '../src/index.ts';
import { flipBit, hosts, randomData, store } from './helpers.ts';

async function rebuilt(
  rebuilder: ShardRebuilder,
  want: number[],
  fetcher: Parameters<ShardRebuilder['rebuild']>[1],
  options: Parameters<ShardRebuilder['rebuild']>[2] = {},
): Promise<Uint8Array[]> {
  const parts: Uint8Array[][] = want.map(() => []);
  for await (const { pieces } of rebuilder.rebuild(want, fetcher, options))
    pieces.forEach((p, i) => parts[i]!.push(p));
  return parts.map((p) => concatBytes(...p));
}

describe('ShardRebuilder', () => {
  it('regenerates lost data and parity shards byte for byte, never asking the lost ones', async () => {
    const stored = await store(randomData(700_000), { k: 3, m: 3, pieceSize: 64 * 1024 });
    const set = shardSetOf(stored.manifest);
    const rebuilder = new ShardRebuilder(set);
    const asked = new Set<number>();
    const fetcher = hosts(stored, {
      lost: (shard) => {
        asked.add(shard);
        return shard === 1 || shard === 4;
      },
    });
    const [one, four] = await rebuilt(rebuilder, [1, 4], fetcher);
    expect(one).toEqual(stored.shards[1]);
    expect(four).toEqual(stored.shards[4]);
    expect(asked.has(1) || asked.has(4)).toBe(false);
    // The same root as in the manifest: a host will accept it against the original deal terms.
    expect(MerkleTree.build(four!, stored.layout.leafSize).root).toEqual(stored.manifest.roots[4]);
  });

  it('routes around a shard that lies, and fails clearly when fewer than k are left', async () => {
    const stored = await store(randomData(300_000), { k: 2, m: 2, pieceSize: 64 * 1024 });
    const rebuilder = new ShardRebuilder(shardSetOf(stored.manifest));
    const liar = hosts(stored, {
      tamper: (shard, _segment, piece) => (shard === 0 ? flipBit(piece, 5) : undefined),
    });
    const [three] = await rebuilt(rebuilder, [3], liar, { hedge: 1 });
    expect(three).toEqual(stored.shards[3]);

    const err = await rebuilt(rebuilder, [3], liar, { gone: [2] }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(NotEnoughPiecesError);
    await expect(rebuilt(rebuilder, [2, 3], liar, { gone: [1] })).rejects.toThrow(RangeError);
    await expect(rebuilt(rebuilder, [3, 3], liar)).rejects.toThrow(/distinct/);
    await expect(rebuilt(rebuilder, [], liar)).rejects.toThrow(/nothing/);
  });

  it('a shard set round-trips its canonical bytes; malformed ones are refused', async () => {
    const stored = await store(randomData(10_000), { k: 2, m: 1 });
    const set = shardSetOf(stored.manifest);
    const bytes = encodeShardSet(set);
    expect(decodeShardSet(bytes)).toEqual(set);
    expect(() => decodeShardSet(bytes.subarray(0, bytes.length - 1))).toThrow(MalformedError);
    expect(() => decodeShardSet(concatBytes(bytes, new Uint8Array(1)))).toThrow(MalformedError);
    const badVersion = bytes.slice();
    badVersion[0] = 9;
    expect(() => decodeShardSet(badVersion)).toThrow(/version 9/);
    expect(() => decodeShardSet(new Uint8Array(20_000))).toThrow(MalformedError);
    expect(() => encodeShardSet({ ...set, roots: set.roots.slice(1) })).toThrow(RangeError);
  });
});
