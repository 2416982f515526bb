// Writes packages/codec/vectors/merkle-sha256-v1.json: fixed test vectors of the shard Merkle
// format (src/merkle/README.md) for other implementations, the Solidity verifier first. They are
// computed here by a deliberately naive, independent reference (one @noble/hashes sha256 call
// per node, recursive definition of the tree), not by the fast path; test/merkle.test.ts checks
// the fast path against this file. Run: node packages/codec/scripts/make-merkle-vectors.ts
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ZERO = new Uint8Array(32);

/** Deterministic vector bytes: SHA256("cairn merkle vector" || u32be(seed) || u32be(block)), concatenated. */
export function vectorData(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const label = new TextEncoder().encode('cairn merkle vector');
  for (let block = 0; block * 32 < length; block++) {
    const msg = new Uint8Array(label.length + 8);
    msg.set(label);
    new DataView(msg.buffer).setUint32(label.length, seed);
    new DataView(msg.buffer).setUint32(label.length + 4, block);
    out.set(sha256(msg).subarray(0, Math.min(32, length - block * 32)), block * 32);
  }
  return out;
}

/** The format by its definition: node(h, pos) over leafCount leaves, absent = 32 zero bytes. */
export class ReferenceTree {
  readonly data: Uint8Array;
  readonly leafSize: number;
  readonly leafCount: number;
  readonly height: number;
  constructor(data: Uint8Array, leafSize: number) {
    this.data = data;
    this.leafSize = leafSize;
    this.leafCount = Math.max(1, Math.ceil(data.length / leafSize));
    this.height = 0;
    while (2 ** this.height < this.leafCount) this.height++;
  }
  leaf(i: number): Uint8Array {
    const leaf = new Uint8Array(this.leafSize);
    leaf.set(this.data.subarray(i * this.leafSize, (i + 1) * this.leafSize));
    return leaf;
  }
  node(h: number, pos: number): Uint8Array {
    if (pos * 2 ** h >= this.leafCount) return ZERO;
    if (h === 0) return sha256(Uint8Array.of(0x00, ...this.leaf(pos)));
    return sha256(
      Uint8Array.of(0x01, ...this.node(h - 1, 2 * pos), ...this.node(h - 1, 2 * pos + 1)),
    );
  }
  get root(): Uint8Array {
    return this.node(this.height, 0);
  }
  proof(h: number, index: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let l = h; l < this.height; l++)
      out.push(this.node(l, Math.floor(index / 2 ** (l - h)) ^ 1));
    return out;
  }
}

interface Case {
  leafSize: number;
  byteLength: number;
  subtrees?: { height: number; indices: number[] }[];
}

const CASES: Case[] = [
  { leafSize: 1024, byteLength: 0 },
  { leafSize: 1024, byteLength: 1 },
  { leafSize: 1024, byteLength: 1024 },
  { leafSize: 1024, byteLength: 2048 },
  { leafSize: 1024, byteLength: 2500 },
  { leafSize: 1024, byteLength: 4096 },
  { leafSize: 1024, byteLength: 7 * 1024 - 100, subtrees: [{ height: 2, indices: [0, 1] }] },
  { leafSize: 1024, byteLength: 8192, subtrees: [{ height: 1, indices: [0, 3] }] },
  {
    leafSize: 1024,
    byteLength: 33 * 1024 - 1,
    subtrees: [
      { height: 2, indices: [0, 5, 8] },
      { height: 5, indices: [0, 1] },
    ],
  },
  { leafSize: 256, byteLength: 256 },
  { leafSize: 256, byteLength: 3 * 256 },
  { leafSize: 256, byteLength: 8 * 256 - 17 },
  { leafSize: 256, byteLength: 33 * 256, subtrees: [{ height: 3, indices: [0, 4] }] },
  { leafSize: 32, byteLength: 5 * 32 - 1 },
  { leafSize: 4096, byteLength: 3 * 4096 },
];

export function makeVectors(): unknown {
  return {
    format: 'cairn shard Merkle tree, sha256-v1',
    spec: 'packages/codec/src/merkle/README.md',
    leafHash: 'SHA256(0x00 || leaf), leaf zero-padded to leafSize',
    nodeHash: 'SHA256(0x01 || left || right)',
    absentNode: '32 zero bytes',
    vectors: CASES.map((c, seed) => {
      const data = vectorData(seed, c.byteLength);
      const t = new ReferenceTree(data, c.leafSize);
      const n = t.leafCount;
      const indices = [...new Set([0, Math.floor(n / 2), n - 1])];
      return {
        leafSize: c.leafSize,
        byteLength: c.byteLength,
        data: hex(data),
        leafCount: n,
        height: t.height,
        root: hex(t.root),
        proofs: indices.map((index) => {
          const proof = t.proof(0, index);
          return {
            index,
            leaf: hex(t.leaf(index)),
            leafHash: hex(t.node(0, index)),
            proof: proof.map(hex),
            calldata: hex(Uint8Array.from(proof.flatMap((s) => [...s]))),
          };
        }),
        subtrees: (c.subtrees ?? []).flatMap(({ height, indices: pieces }) =>
          pieces.map((index) => ({
            height,
            index,
            bytes: [
              index * c.leafSize * 2 ** height,
              Math.min(c.byteLength, (index + 1) * c.leafSize * 2 ** height),
            ],
            node: hex(t.node(height, index)),
            proof: t.proof(height, index).map(hex),
          })),
        ),
      };
    }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    'vectors',
    'merkle-sha256-v1.json',
  );
  writeFileSync(path, JSON.stringify(makeVectors(), null, 2) + '\n');
  console.log(`wrote ${path}`);
}
