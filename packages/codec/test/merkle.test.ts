import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterEach, describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import { _simdHasher, _useHasher, jsHasher } from '../src/merkle/hasher.ts';
import {
  EMPTY_NODE,
  MERKLE_LEAF_SIZE,
  MerkleBuilder,
  MerkleTree,
  decodeProof,
  encodeProof,
  hashLeaves,
  hashNodePairs,
  subtreeRoot,
  verifyProof,
} from '../src/merkle/index.ts';
import vectors from '../vectors/merkle-sha256-v1.json' with { type: 'json' };

/** The format by its definition, one noble sha256 call per node (independent of the fast path). */
function naive(data: Uint8Array, leafSize: number) {
  const leafCount = Math.max(1, Math.ceil(data.length / leafSize));
  let height = 0;
  while (2 ** height < leafCount) height++;
  const memo = new Map<string, Uint8Array>();
  const node = (h: number, pos: number): Uint8Array => {
    if (pos * 2 ** h >= leafCount) return new Uint8Array(32);
    const key = `${h}/${pos}`;
    let v = memo.get(key);
    if (!v) {
      if (h === 0) {
        const m = new Uint8Array(1 + leafSize);
        m.set(data.subarray(pos * leafSize, (pos + 1) * leafSize), 1);
        v = sha256(m);
      } else {
        const m = new Uint8Array(65);
        m[0] = 1;
        m.set(node(h - 1, 2 * pos), 1);
        m.set(node(h - 1, 2 * pos + 1), 33);
        v = sha256(m);
      }
      memo.set(key, v);
    }
    return v;
  };
  return { leafCount, height, node, root: node(height, 0) };
}

function bytes(length: number, seed = length): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

function paddedLeaf(data: Uint8Array, leafSize: number, i: number): Uint8Array {
  const leaf = new Uint8Array(leafSize);
  leaf.set(data.subarray(i * leafSize, (i + 1) * leafSize));
  return leaf;
}

afterEach(() => {
  _useHasher('auto');
});

const simd = _simdHasher();

describe('hash paths', () => {
  test('SIMD is used where supported (Node 22 and Chromium have it)', () => {
    expect(simd).not.toBeNull();
  });

  test('SIMD and JS hashMany agree byte for byte, including counts not divisible by 4', () => {
    if (!simd) return;
    fc.assert(
      fc.property(
        fc.constantFrom(32, 64, 128, 256, 512, 1024, 2048, 4096),
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 0, max: 1 }),
        fc.integer(),
        (len, count, prefix, seed) => {
          const src = bytes(len * count, seed);
          const a = new Uint8Array(32 * count + 5);
          const b = new Uint8Array(32 * count + 5);
          simd.hashMany(prefix, src, len, a, 5);
          jsHasher.hashMany(prefix, src, len, b, 5);
          expect(toHex(a)).toBe(toHex(b));
          const m = new Uint8Array(len + 1);
          m[0] = prefix;
          m.set(src.subarray((count - 1) * len), 1);
          expect(toHex(a.subarray(5 + 32 * (count - 1)))).toBe(toHex(sha256(m)));
        },
      ),
      { numRuns: 150 },
    );
  });

  test('SIMD and JS subtreeRoots agree, across batch boundaries', () => {
    if (!simd) return;
    for (const [leafSize, height, count] of [
      [32, 11, 3],
      [256, 8, 17],
      [1024, 6, 33],
      [4096, 4, 5],
      [64, 0, 7],
    ] as const) {
      const src = bytes(leafSize * 2 ** height * count, leafSize + count);
      expect(toHex(simd.subtreeRoots(src, leafSize, height))).toBe(
        toHex(jsHasher.subtreeRoots(src, leafSize, height)),
      );
    }
  });

  test('hashLeaves and hashNodePairs match the definition', () => {
    const data = bytes(5 * 256 + 3);
    const leaves = hashLeaves(data, 256);
    expect(leaves.length).toBe(6 * 32);
    const ref = naive(data, 256);
    for (let i = 0; i < 6; i++)
      expect(toHex(leaves.subarray(32 * i, 32 * i + 32))).toBe(toHex(ref.node(0, i)));
    const pairs = hashNodePairs(leaves);
    for (let i = 0; i < 3; i++)
      expect(toHex(pairs.subarray(32 * i, 32 * i + 32))).toBe(toHex(ref.node(1, i)));
    expect(hashLeaves(new Uint8Array(0), 32).length).toBe(32);
    expect(() => hashNodePairs(new Uint8Array(32))).toThrow(RangeError);
    expect(() => hashLeaves(data, 100)).toThrow(RangeError);
    expect(() => hashLeaves(data, 8192)).toThrow(RangeError);
  });
});

describe.each(['auto', 'js'] as const)('MerkleTree (%s hasher)', (which) => {
  test('roots match the naive reference; every leaf proof verifies', () => {
    _useHasher(which);
    for (const leafSize of [32, 256, 1024]) {
      for (const leafCount of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, which === 'js' ? 100 : 1000]) {
        const data = bytes(leafCount * leafSize - (leafCount > 1 ? 7 : 0), leafCount);
        const tree = MerkleTree.build(data, leafSize);
        const ref = naive(data, leafSize);
        expect(tree.leafCount).toBe(leafCount);
        expect(tree.height).toBe(ref.height);
        expect(toHex(tree.root)).toBe(toHex(ref.root));
        for (let i = 0; i < leafCount; i++) {
          const proof = tree.proof(i);
          expect(proof.length).toBe(tree.height);
          const leaf = paddedLeaf(data, leafSize, i);
          expect(verifyProof({ root: tree.root, leafCount, index: i, proof, leaf, leafSize })).toBe(
            true,
          );
        }
      }
    }
  });
});

describe('verifyProof rejects', () => {
  const leafSize = 256;
  for (const leafCount of [2, 3, 5, 9, 33]) {
    test(`tampered proofs, ${leafCount} leaves`, () => {
      const data = bytes(leafCount * leafSize - 1);
      const tree = MerkleTree.build(data, leafSize);
      const ok = { root: tree.root, leafCount, leafSize };
      for (let i = 0; i < leafCount; i++) {
        const leaf = paddedLeaf(data, leafSize, i);
        const proof = tree.proof(i);
        expect(verifyProof({ ...ok, index: i, proof, leaf })).toBe(true);
        // the wrong index (any other position, same leaf and proof)
        for (let j = 0; j < leafCount + 2; j++) {
          if (j !== i) expect(verifyProof({ ...ok, index: j, proof, leaf })).toBe(false);
        }
        const flip = (b: Uint8Array, bit: number): Uint8Array => {
          const c = b.slice();
          c[bit >> 3]! ^= 1 << (bit & 7);
          return c;
        };
        expect(
          verifyProof({ ...ok, index: i, proof, leaf: flip(leaf, (i * 37) % (8 * leafSize)) }),
        ).toBe(false);
        for (let l = 0; l < proof.length; l++) {
          const bad = proof.slice();
          bad[l] = flip(proof[l]!, (l * 13 + i) % 256);
          expect(verifyProof({ ...ok, index: i, proof: bad, leaf })).toBe(false);
        }
        expect(verifyProof({ ...ok, root: flip(tree.root, i % 256), index: i, proof, leaf })).toBe(
          false,
        );
        expect(verifyProof({ ...ok, index: i, proof: proof.slice(1), leaf })).toBe(false);
        expect(verifyProof({ ...ok, index: i, proof: [...proof, EMPTY_NODE], leaf })).toBe(false);
        // a different leafCount changes the height or the bound
        expect(verifyProof({ ...ok, leafCount: i, index: i, proof, leaf })).toBe(false);
      }
      // index >= leafCount, even with a proof that folds to the root through absent nodes
      const lastProof = tree.proof(leafCount - 1);
      expect(
        verifyProof({ ...ok, index: leafCount, proof: lastProof, leaf: new Uint8Array(leafSize) }),
      ).toBe(false);
      expect(
        verifyProof({ ...ok, index: -1, proof: lastProof, leaf: new Uint8Array(leafSize) }),
      ).toBe(false);
      expect(
        verifyProof({ ...ok, index: 0.5, proof: lastProof, leaf: new Uint8Array(leafSize) }),
      ).toBe(false);
    });
  }

  test('an absent position cannot be proven as a zero node', () => {
    const tree = MerkleTree.build(bytes(3 * 256), 256);
    // position 3 is absent: its value is the zero node and its siblings are real
    const proof = tree.subtreeProof(0, 2).map((s, l) => (l === 0 ? tree.node(0, 2) : s));
    expect(verifyProof({ root: tree.root, leafCount: 3, index: 3, proof, node: EMPTY_NODE })).toBe(
      false,
    );
  });

  test('a shorter leaf is zero-padded; a longer one fails', () => {
    const data = bytes(2 * 256 + 10);
    const tree = MerkleTree.build(data, 256);
    const p = { root: tree.root, leafCount: 3, index: 2, proof: tree.proof(2), leafSize: 256 };
    expect(verifyProof({ ...p, leaf: data.subarray(512) })).toBe(true);
    expect(verifyProof({ ...p, leaf: new Uint8Array(257) })).toBe(false);
  });
});

describe('MerkleBuilder', () => {
  test('same root as MerkleTree.build and the naive reference, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(32, 64, 256, 1024, 4096),
        fc.integer({ min: 0, max: 300_000 }),
        fc.array(fc.integer({ min: 0, max: 90_000 }), { maxLength: 12 }),
        fc.boolean(),
        (leafSize, length, cuts, useJs) => {
          _useHasher(useJs ? 'js' : 'auto');
          const data = bytes(length, leafSize + length);
          const builder = new MerkleBuilder(leafSize);
          const points = [...new Set(cuts.map((c) => c % (length + 1)))].sort((a, b) => a - b);
          let prev = 0;
          for (const p of [...points, length]) {
            builder.append(data.subarray(prev, p));
            prev = p;
          }
          const got = builder.finish();
          const tree = MerkleTree.build(data, leafSize);
          expect(got.byteLength).toBe(length);
          expect(got.leafCount).toBe(tree.leafCount);
          expect(toHex(got.root)).toBe(toHex(tree.root));
          if (length <= 40_000) expect(toHex(got.root)).toBe(toHex(naive(data, leafSize).root));
          _useHasher('auto');
        },
      ),
      { numRuns: 60 },
    );
  });

  test('chunk-boundary sizes match the naive reference', () => {
    for (const leafSize of [256, 1024]) {
      for (const length of [0, 1, 65535, 65536, 65537, 131072, 3 * 65536 + 1000, 4 * 65536]) {
        const data = bytes(length);
        const builder = new MerkleBuilder(leafSize);
        builder.append(data);
        expect(toHex(builder.finish().root)).toBe(toHex(naive(data, leafSize).root));
      }
    }
  });

  test('the default leaf size and misuse', () => {
    const b = new MerkleBuilder();
    expect(b.leafSize).toBe(MERKLE_LEAF_SIZE);
    b.finish();
    expect(() => b.append(new Uint8Array(1))).toThrow();
    expect(() => new MerkleBuilder(48)).toThrow(RangeError);
  });
});

describe('pieces (aligned subtrees)', () => {
  test('piece roots and subtree proofs verify against the shard root, short final piece included', () => {
    for (const [leafSize, height, length] of [
      [256, 2, 9 * 256 - 5],
      [1024, 3, 8 * 1024 * 5],
      [1024, 3, 8 * 1024 * 5 + 1],
      [32, 4, 1000],
      [256, 0, 700],
      [1024, 8, 256 * 1024 * 3 + 77 * 1024],
    ] as const) {
      const shard = bytes(length);
      const tree = MerkleTree.build(shard, leafSize);
      const pieceSize = leafSize * 2 ** height;
      const pieces = Math.ceil(length / pieceSize);
      const ref = naive(shard, leafSize);
      for (let s = 0; s < pieces; s++) {
        const piece = shard.subarray(s * pieceSize, (s + 1) * pieceSize);
        const node = subtreeRoot(piece, leafSize, height);
        expect(toHex(node)).toBe(toHex(ref.node(height, s)));
        expect(toHex(node)).toBe(toHex(tree.node(height, s)));
        const proof = tree.subtreeProof(height, s);
        expect(proof.length).toBe(tree.height - height);
        const p = { root: tree.root, leafCount: tree.leafCount, index: s, proof, node, height };
        expect(verifyProof(p)).toBe(true);
        expect(verifyProof({ ...p, index: s + 1 })).toBe(false);
        expect(verifyProof({ ...p, height: height + 1, proof: proof.slice(1) })).toBe(false);
      }
    }
  });

  test('subtreeRoot of one leaf is the leaf hash; too many bytes throw', () => {
    const leaf = bytes(100);
    expect(toHex(subtreeRoot(leaf, 256, 0))).toBe(toHex(hashLeaves(leaf, 256)));
    expect(() => subtreeRoot(bytes(257), 256, 0)).toThrow(RangeError);
  });

  test('level(h) holds the present nodes', () => {
    const tree = MerkleTree.build(bytes(5 * 32), 32);
    expect(tree.level(0).length).toBe(5 * 32);
    expect(tree.level(1).length).toBe(3 * 32);
    expect(tree.level(3)).toEqual(tree.root);
    expect(toHex(MerkleTree.fromLeafHashes(tree.level(0), 32).root)).toBe(toHex(tree.root));
  });
});

describe('published vectors (vectors/merkle-sha256-v1.json)', () => {
  test('the implementation reproduces every vector', () => {
    expect(vectors.vectors.length).toBeGreaterThan(10);
    const leafCounts = new Set(
      vectors.vectors.filter((v) => v.leafSize === MERKLE_LEAF_SIZE).map((v) => v.leafCount),
    );
    for (const n of [1, 2, 3, 4, 7, 8, 33]) expect(leafCounts.has(n)).toBe(true);
    expect(vectors.vectors.some((v) => v.leafSize === 256)).toBe(true);
    for (const v of vectors.vectors) {
      const data = fromHex(v.data);
      expect(data.length).toBe(v.byteLength);
      const tree = MerkleTree.build(data, v.leafSize);
      expect(toHex(tree.root)).toBe(v.root);
      expect(tree.leafCount).toBe(v.leafCount);
      expect(tree.height).toBe(v.height);
      const builder = new MerkleBuilder(v.leafSize);
      builder.append(data);
      expect(toHex(builder.finish().root)).toBe(v.root);
      for (const p of v.proofs) {
        const proof = tree.proof(p.index);
        expect(proof.map(toHex)).toEqual(p.proof);
        expect(toHex(encodeProof(proof))).toBe(p.calldata);
        const leaf = fromHex(p.leaf);
        const args = {
          root: fromHex(v.root),
          leafCount: v.leafCount,
          index: p.index,
          leafSize: v.leafSize,
        };
        expect(verifyProof({ ...args, leaf, proof: decodeProof(fromHex(p.calldata)) })).toBe(true);
        expect(verifyProof({ ...args, node: fromHex(p.leafHash), proof })).toBe(true);
      }
      for (const s of v.subtrees) {
        const node = subtreeRoot(data.subarray(s.bytes[0], s.bytes[1]), v.leafSize, s.height);
        expect(toHex(node)).toBe(s.node);
        expect(tree.subtreeProof(s.height, s.index).map(toHex)).toEqual(s.proof);
        const p = { root: tree.root, leafCount: v.leafCount, index: s.index, height: s.height };
        expect(verifyProof({ ...p, node, proof: s.proof.map(fromHex) })).toBe(true);
      }
    }
  });
});
