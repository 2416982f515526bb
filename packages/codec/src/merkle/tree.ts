/** A whole shard's Merkle tree in memory, for proofs; and proof verification. */
import { equalBytes } from '../bytes.ts';
import {
  checkLeafSize,
  EMPTY_NODE,
  hashLeaf,
  hashLeaves,
  hashNode,
  nextLevel,
  treeHeight,
} from './hash.ts';
import { MERKLE_LEAF_SIZE } from './constants.ts';

export class MerkleTree {
  readonly root: Uint8Array;
  readonly leafCount: number;
  readonly height: number;
  readonly leafSize: number;
  /** #levels[h]: the nodes at height h, 32 bytes each; absent nodes are not stored. */
  readonly #levels: Uint8Array[];

  private constructor(levels: Uint8Array[], leafSize: number) {
    this.#levels = levels;
    this.leafSize = leafSize;
    this.leafCount = levels[0]!.length / 32;
    this.height = levels.length - 1;
    this.root = levels[this.height]!.slice();
  }

  /** Hashes a whole shard (zero-padding its last leaf) and keeps every level. */
  static build(shard: Uint8Array, leafSize: number = MERKLE_LEAF_SIZE): MerkleTree {
    checkLeafSize(leafSize);
    const levels: Uint8Array[] = [hashLeaves(shard, leafSize)];
    while (levels[levels.length - 1]!.length > 32)
      levels.push(nextLevel(levels[levels.length - 1]!));
    return new MerkleTree(levels, leafSize);
  }

  /** Rebuilds a tree from its leaf hashes (as kept by a host, say) without the shard's bytes. */
  static fromLeafHashes(leafHashes: Uint8Array, leafSize: number = MERKLE_LEAF_SIZE): MerkleTree {
    checkLeafSize(leafSize);
    if (leafHashes.length === 0 || leafHashes.length % 32 !== 0) {
      throw new RangeError(
        `leafHashes must be a non-empty multiple of 32 bytes, got ${leafHashes.length}`,
      );
    }
    const levels: Uint8Array[] = [leafHashes.slice()];
    while (levels[levels.length - 1]!.length > 32)
      levels.push(nextLevel(levels[levels.length - 1]!));
    return new MerkleTree(levels, leafSize);
  }

  /** The H sibling hashes, bottom-up, proving leaf `leafIndex`. */
  proof(leafIndex: number): Uint8Array[] {
    return this.subtreeProof(0, leafIndex);
  }

  /** The H - height sibling hashes proving the node at (height, index), e.g. a piece's subtree root. */
  subtreeProof(height: number, index: number): Uint8Array[] {
    if (!Number.isInteger(height) || height < 0 || height > this.height) {
      throw new RangeError(`height must be an integer in 0..${this.height}, got ${height}`);
    }
    const count = this.#levels[height]!.length / 32;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(
        `index must be an integer in 0..${count - 1} at height ${height}, got ${index}`,
      );
    }
    const siblings: Uint8Array[] = [];
    let i = index;
    for (let h = height; h < this.height; h++, i = Math.floor(i / 2)) {
      const s = i % 2 === 0 ? i + 1 : i - 1;
      const level = this.#levels[h]!;
      siblings.push(32 * s < level.length ? level.slice(32 * s, 32 * s + 32) : EMPTY_NODE.slice());
    }
    return siblings;
  }

  /** The node at (height, index), or 32 zero bytes if it is absent. */
  node(height: number, index: number): Uint8Array {
    const level = this.level(height);
    return 32 * index < level.length
      ? level.slice(32 * index, 32 * index + 32)
      : EMPTY_NODE.slice();
  }

  /** The present nodes at height h, concatenated (a copy): ceil(leafCount / 2^h) * 32 bytes. */
  level(h: number): Uint8Array {
    if (!Number.isInteger(h) || h < 0 || h > this.height) {
      throw new RangeError(`height must be an integer in 0..${this.height}, got ${h}`);
    }
    return this.#levels[h]!.slice();
  }
}

export interface VerifyProofParameters {
  /** The shard's Merkle root. */
  root: Uint8Array;
  leafCount: number;
  /** Index of the leaf, or of the node at `height`. */
  index: number;
  /** Sibling hashes bottom-up (from `height` to the root). */
  proof: readonly Uint8Array[];
  /** The leaf's bytes; shorter than leafSize (the last leaf) is zero-padded. Needs leafSize. */
  leaf?: Uint8Array;
  /** Required with `leaf`. */
  leafSize?: number;
  /** Instead of `leaf`: the node value at `height` (a leaf hash, or a subtree root). */
  node?: Uint8Array;
  /** Height of `node`; 0 by default. */
  height?: number;
}

/**
 * Checks a proof: true iff index addresses a present node, the proof has exactly H - height
 * siblings, and folding them by the index bits yields the root. Never throws on bad proofs;
 * throws TypeError/RangeError only for malformed arguments (no leaf and no node, say).
 */
export function verifyProof(p: VerifyProofParameters): boolean {
  const height = p.height ?? 0;
  let value: Uint8Array;
  if (p.node !== undefined) {
    value = p.node;
  } else if (p.leaf !== undefined) {
    if (p.leafSize === undefined)
      throw new TypeError('verifyProof: leafSize is required with leaf');
    if (height !== 0) throw new RangeError('verifyProof: a leaf is at height 0');
    if (p.leaf.length > p.leafSize) return false;
    value = hashLeaf(p.leaf, p.leafSize);
  } else {
    throw new TypeError('verifyProof: give leaf or node');
  }
  if (!Number.isSafeInteger(p.leafCount) || p.leafCount < 1) return false;
  if (!Number.isInteger(height) || height < 0) return false;
  const H = treeHeight(p.leafCount);
  if (height > H || p.proof.length !== H - height) return false;
  if (!Number.isSafeInteger(p.index) || p.index < 0 || p.index * 2 ** height >= p.leafCount)
    return false;
  if (value.length !== 32 || p.root.length !== 32) return false;
  let i = p.index;
  for (const sibling of p.proof) {
    if (sibling.length !== 32) return false;
    value = i % 2 === 0 ? hashNode(value, sibling) : hashNode(sibling, value);
    i = Math.floor(i / 2);
  }
  return equalBytes(value, p.root);
}

/** The wire (and on-chain calldata) encoding of a proof: the siblings concatenated, bottom-up. */
export function encodeProof(proof: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(32 * proof.length);
  proof.forEach((s, l) => out.set(s, 32 * l));
  return out;
}

export function decodeProof(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length % 32 !== 0)
    throw new RangeError(`a proof is a multiple of 32 bytes, got ${bytes.length}`);
  return Array.from({ length: bytes.length / 32 }, (_, l) => bytes.slice(32 * l, 32 * l + 32));
}
