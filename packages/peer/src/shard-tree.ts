/**
 * What a host keeps per shard to answer proofs without rereading the shard: the Merkle levels
 * from PROOF_BLOCK_BYTES-sized subtrees ("blocks") upwards, 32 bytes per 64 KiB (1/2048 of the
 * shard). Siblings below block height come from hashing the one block that holds the node.
 * The levels are computed while the shard streams in, in the same pass that checks its root.
 */
import { EMPTY_NODE, MerkleTree, leafCountOf, subtreeRoot, treeHeight } from '@cairn/codec';
import { PROOF_BLOCK_BYTES } from './constants.ts';

export interface ShardMeta {
  size: number;
  leafSize: number;
  leafCount: number;
  /** Full tree height H. */
  height: number;
  /** Height of one block's subtree (min of log2(PROOF_BLOCK_BYTES / leafSize) and H). */
  blockHeight: number;
  /** The tree over block roots: its level l is the shard tree's level blockHeight + l. */
  upper: MerkleTree;
  root: Uint8Array;
}

export function _blockHeight(size: number, leafSize: number): number {
  const h = treeHeight(leafCountOf(size, leafSize));
  return Math.min(Math.log2(Math.max(1, PROOF_BLOCK_BYTES / leafSize)), h);
}

/** Hashes a shard as it streams in, block by block. */
export class ShardTreeBuilder {
  readonly size: number;
  readonly leafSize: number;
  readonly blockHeight: number;
  readonly blockBytes: number;
  #buffer: Uint8Array;
  #buffered = 0;
  #received = 0;
  readonly #roots: Uint8Array[] = [];

  constructor(size: number, leafSize: number) {
    this.size = size;
    this.leafSize = leafSize;
    this.blockHeight = _blockHeight(size, leafSize);
    this.blockBytes = leafSize * 2 ** this.blockHeight;
    this.#buffer = new Uint8Array(Math.min(this.blockBytes, Math.max(size, 1)));
  }

  get received(): number {
    return this.#received;
  }

  append(bytes: Uint8Array): void {
    if (this.#received + bytes.byteLength > this.size)
      throw new RangeError(`more than ${this.size} bytes`);
    this.#received += bytes.byteLength;
    let pos = 0;
    while (pos < bytes.byteLength) {
      // Whole blocks straight from the caller's array when nothing is buffered.
      if (this.#buffered === 0 && bytes.byteLength - pos >= this.blockBytes) {
        this.#roots.push(
          subtreeRoot(bytes.subarray(pos, pos + this.blockBytes), this.leafSize, this.blockHeight),
        );
        pos += this.blockBytes;
        continue;
      }
      const take = Math.min(this.blockBytes - this.#buffered, bytes.byteLength - pos);
      this.#buffer.set(bytes.subarray(pos, pos + take), this.#buffered);
      this.#buffered += take;
      pos += take;
      if (this.#buffered === this.blockBytes) {
        this.#roots.push(subtreeRoot(this.#buffer, this.leafSize, this.blockHeight));
        this.#buffered = 0;
      }
    }
  }

  finish(): ShardMeta {
    if (this.#received !== this.size)
      throw new RangeError(`received ${this.#received} of ${this.size} bytes`);
    if (this.#buffered > 0 || this.#roots.length === 0) {
      this.#roots.push(
        subtreeRoot(this.#buffer.subarray(0, this.#buffered), this.leafSize, this.blockHeight),
      );
    }
    const flat = new Uint8Array(32 * this.#roots.length);
    this.#roots.forEach((r, i) => flat.set(r, 32 * i));
    // fromLeafHashes pairs nodes exactly as the shard tree does above block height.
    const upper = MerkleTree.fromLeafHashes(flat, this.leafSize);
    const leafCount = leafCountOf(this.size, this.leafSize);
    return {
      size: this.size,
      leafSize: this.leafSize,
      leafCount,
      height: treeHeight(leafCount),
      blockHeight: this.blockHeight,
      upper,
      root: upper.root,
    };
  }
}

/**
 * Sibling hashes (bottom-up) proving the node at (height, index). Below block height it reads
 * and hashes the one block that holds the node through `readBlock(offset, length)`.
 */
export async function _proveNode(
  meta: ShardMeta,
  height: number,
  index: number,
  readBlock: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<Uint8Array[]> {
  const siblings: Uint8Array[] = [];
  let upperIndex: number;
  if (height < meta.blockHeight) {
    const per = 2 ** (meta.blockHeight - height);
    const block = Math.floor(index / per);
    const blockBytes = meta.leafSize * 2 ** meta.blockHeight;
    const offset = block * blockBytes;
    const bytes = await readBlock(offset, Math.min(blockBytes, meta.size - offset));
    const local = MerkleTree.build(bytes, meta.leafSize);
    // A short final block has a lower tree; the missing levels have absent (zero) right siblings.
    const localIndex = index % per;
    if (height <= local.height) siblings.push(...local.subtreeProof(height, localIndex));
    while (siblings.length < meta.blockHeight - height) siblings.push(EMPTY_NODE.slice());
    upperIndex = block;
  } else {
    upperIndex = index;
  }
  const upperHeight = Math.max(0, height - meta.blockHeight);
  siblings.push(...meta.upper.subtreeProof(upperHeight, upperIndex));
  return siblings;
}
