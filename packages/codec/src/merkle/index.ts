/**
 * Shard Merkle trees, format sha256-v1 (see README.md): leafHash = SHA256(0x00 || leaf),
 * nodeHash = SHA256(0x01 || left || right), absent subtrees are 32 zero bytes, proofs are bound
 * to the leaf index. Hashing runs 4 messages at a time in WebAssembly SIMD128 when available.
 *
 * @example
 * ```ts
 * const tree = MerkleTree.build(shard);
 * const proof = tree.proof(7);
 * verifyProof({ root: tree.root, leafCount: tree.leafCount, index: 7, proof, leaf, leafSize: tree.leafSize });
 * ```
 */
export { MERKLE_LEAF_SIZE } from './constants.ts';
export {
  EMPTY_NODE,
  hashLeaves,
  hashNodePairs,
  hashNode,
  hashLeaf,
  subtreeRoot,
  treeHeight,
  leafCountOf,
} from './hash.ts';
export { MerkleBuilder, type MerkleBuilderResult } from './builder.ts';
export {
  MerkleTree,
  verifyProof,
  encodeProof,
  decodeProof,
  type VerifyProofParameters,
} from './tree.ts';
