/** Merkle hashing primitives (format sha256-v1; see README.md). */
import { _hasher, LEAF_PREFIX, NODE_PREFIX } from './hasher.ts';
import { hashPrefixedJs } from './sha256.ts';

/** The value of an absent subtree at any height: 32 zero bytes. */
export const EMPTY_NODE: Uint8Array = new Uint8Array(32);

/** Throws a RangeError unless `leafSize` is a power of two in 32..4096. */
export function checkLeafSize(leafSize: number): void {
  if (
    !Number.isInteger(leafSize) ||
    leafSize < 32 ||
    leafSize > 4096 ||
    (leafSize & (leafSize - 1)) !== 0
  ) {
    throw new RangeError(`leafSize must be a power of two in 32..4096, got ${leafSize}`);
  }
}

function checkBytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

/** Leaves of a shard of `byteLength` bytes: max(1, ceil(byteLength / leafSize)). */
export function leafCountOf(byteLength: number, leafSize: number): number {
  return Math.max(1, Math.ceil(byteLength / leafSize));
}

/** Tree height for `leafCount` leaves: ceil(log2(leafCount)), 0 for one leaf. */
export function treeHeight(leafCount: number): number {
  let h = 0;
  while (2 ** h < leafCount) h++;
  return h;
}

/**
 * Leaf hashes SHA256(0x00 || leaf) of `data` cut into `leafSize`-byte leaves, the last one
 * zero-padded: max(1, ceil(len / leafSize)) * 32 bytes. Batched on the fast path.
 */
export function hashLeaves(data: Uint8Array, leafSize: number): Uint8Array {
  checkBytes('data', data);
  checkLeafSize(leafSize);
  const count = leafCountOf(data.length, leafSize);
  const full = Math.floor(data.length / leafSize);
  const out = new Uint8Array(32 * count);
  if (full > 0)
    _hasher().hashMany(LEAF_PREFIX, data.subarray(0, full * leafSize), leafSize, out, 0);
  if (full < count) {
    const last = new Uint8Array(leafSize);
    last.set(data.subarray(full * leafSize));
    hashPrefixedJs(LEAF_PREFIX, last, 0, leafSize, 1, out, 32 * full);
  }
  return out;
}

/** Parent hashes SHA256(0x01 || left || right) of consecutive pairs: 2p * 32 bytes -> p * 32. */
export function hashNodePairs(children: Uint8Array): Uint8Array {
  checkBytes('children', children);
  if (children.length % 64 !== 0) {
    throw new RangeError(
      `children must be a whole number of 64-byte pairs, got ${children.length} bytes`,
    );
  }
  const out = new Uint8Array(children.length / 2);
  _hasher().hashMany(NODE_PREFIX, children, 64, out, 0);
  return out;
}

/** Largest subtree (bytes) hashed in one fused call. */
export const FUSED_MAX = 1 << 20;

const _pair = new Uint8Array(64);
/** SHA256(0x01 || left || right) for one pair (scalar path). */
export function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  _pair.set(left, 0);
  _pair.set(right, 32);
  const out = new Uint8Array(32);
  hashPrefixedJs(NODE_PREFIX, _pair, 0, 64, 1, out, 0);
  return out;
}

/** SHA256(0x00 || leaf) for one leaf, zero-padded to leafSize (scalar path). */
export function hashLeaf(leaf: Uint8Array, leafSize: number): Uint8Array {
  checkLeafSize(leafSize);
  if (leaf.length > leafSize)
    throw new RangeError(`leaf has ${leaf.length} bytes, more than leafSize ${leafSize}`);
  const padded = leaf.length === leafSize ? leaf : new Uint8Array(leafSize);
  if (padded !== leaf) padded.set(leaf);
  const out = new Uint8Array(32);
  hashPrefixedJs(LEAF_PREFIX, padded, 0, leafSize, 1, out, 0);
  return out;
}

/**
 * The level above `level` (concatenated 32-byte nodes): an odd last node is paired with an
 * absent (zero) sibling.
 */
export function nextLevel(level: Uint8Array): Uint8Array {
  const n = level.length / 32;
  const pairs = n >>> 1;
  const out = new Uint8Array(32 * Math.ceil(n / 2));
  if (pairs > 0) _hasher().hashMany(NODE_PREFIX, level.subarray(0, 64 * pairs), 64, out, 0);
  if (n % 2 === 1) out.set(hashNode(level.subarray(32 * (n - 1)), EMPTY_NODE), 32 * pairs);
  return out;
}

/**
 * Root of the aligned subtree of height `height` whose leaves are `bytes` (absent leaves past
 * the end count as zero nodes): the root a piece of leafSize * 2^height bytes, or a shorter final
 * piece, contributes to its shard's tree.
 */
export function subtreeRoot(bytes: Uint8Array, leafSize: number, height: number): Uint8Array {
  checkBytes('bytes', bytes);
  checkLeafSize(leafSize);
  if (!Number.isInteger(height) || height < 0 || height > 48)
    throw new RangeError(`bad height ${height}`);
  const n = leafCountOf(bytes.length, leafSize);
  if (n > 2 ** height) {
    throw new RangeError(
      `${bytes.length} bytes do not fit a subtree of height ${height} with leafSize ${leafSize}`,
    );
  }
  // A full piece goes through the fused kernel: leaves and levels stay in WebAssembly memory.
  if (bytes.length === leafSize * 2 ** height && bytes.length <= FUSED_MAX) {
    return _hasher().subtreeRoots(bytes, leafSize, height);
  }
  let node = hashLeaves(bytes, leafSize);
  let h = 0;
  for (; node.length > 32; h++) node = nextLevel(node);
  for (; h < height; h++) node = hashNode(node, EMPTY_NODE);
  return node;
}
