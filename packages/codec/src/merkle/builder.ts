/** Incremental shard Merkle root over a stream, in O(log n) memory. */
import { checkLeafSize, EMPTY_NODE, hashNode, subtreeRoot, treeHeight } from './hash.ts';
import { _hasher } from './hasher.ts';
import { MERKLE_LEAF_SIZE } from './constants.ts';

/** Bytes hashed per complete subtree on the bulk path (leafSize * 2^chunkHeight). */
const CHUNK_BYTES = 64 * 1024;

export interface MerkleBuilderResult {
  root: Uint8Array;
  leafCount: number;
  byteLength: number;
}

/**
 * Computes a shard's root from appended bytes of any chunking. Whole 64 KiB chunks are hashed in
 * bulk straight from the caller's array (leaves and levels in one call per ~1 MiB); their roots
 * go into a binary counter of pending left siblings, one per height. Only the bytes of an
 * unfinished chunk are buffered.
 */
export class MerkleBuilder {
  readonly leafSize: number;
  readonly #chunkHeight: number;
  #buffer: Uint8Array | undefined;
  #buffered = 0;
  #byteLength = 0;
  #chunks = 0;
  /** #pending[h]: a complete left subtree at height h waiting for its right sibling. */
  readonly #pending: (Uint8Array | undefined)[] = [];
  #finished = false;

  constructor(leafSize: number = MERKLE_LEAF_SIZE) {
    checkLeafSize(leafSize);
    this.leafSize = leafSize;
    this.#chunkHeight = Math.log2(CHUNK_BYTES / leafSize);
  }

  get byteLength(): number {
    return this.#byteLength;
  }

  append(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
    if (this.#finished) throw new Error('MerkleBuilder: append after finish');
    this.#byteLength += bytes.length;
    let pos = 0;
    if (this.#buffered > 0) {
      const take = Math.min(bytes.length, CHUNK_BYTES - this.#buffered);
      this.#buffer!.set(bytes.subarray(0, take), this.#buffered);
      this.#buffered += take;
      pos = take;
      if (this.#buffered < CHUNK_BYTES) return;
      this.#pushChunks(this.#buffer!);
      this.#buffered = 0;
    }
    const whole = Math.floor((bytes.length - pos) / CHUNK_BYTES) * CHUNK_BYTES;
    if (whole > 0) {
      this.#pushChunks(bytes.subarray(pos, pos + whole));
      pos += whole;
    }
    if (pos < bytes.length) {
      this.#buffer ??= new Uint8Array(CHUNK_BYTES);
      this.#buffer.set(bytes.subarray(pos));
      this.#buffered = bytes.length - pos;
    }
  }

  #pushChunks(bytes: Uint8Array): void {
    const roots = _hasher().subtreeRoots(bytes, this.leafSize, this.#chunkHeight);
    for (let r = 0; r < roots.length; r += 32) {
      let node = roots.subarray(r, r + 32);
      let h = this.#chunkHeight;
      for (let left = this.#pending[h]; left !== undefined; left = this.#pending[h]) {
        node = hashNode(left, node);
        this.#pending[h] = undefined;
        h++;
      }
      this.#pending[h] = node.slice();
      this.#chunks++;
    }
  }

  /** The root over everything appended (one zero leaf if nothing was). The builder is then spent. */
  finish(): MerkleBuilderResult {
    if (this.#finished) throw new Error('MerkleBuilder: finish called twice');
    this.#finished = true;
    const leafCount = Math.max(1, Math.ceil(this.#byteLength / this.leafSize));
    const height = treeHeight(leafCount);
    const tail = this.#buffer?.subarray(0, this.#buffered) ?? new Uint8Array(0);
    this.#buffer = undefined;
    if (this.#chunks === 0) {
      return {
        root: subtreeRoot(tail, this.leafSize, height),
        leafCount,
        byteLength: this.#byteLength,
      };
    }
    // Fold the partial chunk (absent if empty) with the pending left subtrees, bottom-up.
    let node: Uint8Array | undefined =
      tail.length > 0 ? subtreeRoot(tail, this.leafSize, this.#chunkHeight) : undefined;
    for (let h = this.#chunkHeight; h < height; h++) {
      const left = this.#pending[h];
      if (left !== undefined) node = hashNode(left, node ?? EMPTY_NODE);
      else if (node !== undefined) node = hashNode(node, EMPTY_NODE);
    }
    const root = this.#pending[height] ?? node!;
    return { root, leafCount, byteLength: this.#byteLength };
  }
}
