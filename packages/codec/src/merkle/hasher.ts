/**
 * Batch hashing behind the tree: a SIMD128 WebAssembly path, and a plain-JS fallback chosen
 * automatically when the engine lacks SIMD. Both produce identical bytes (tested).
 */
import { simdSupported } from '../wasm.ts';
import { hashPrefixedJs } from './sha256.ts';
import { createSimdHasher } from './simd.ts';

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;

export interface MerkleHasher {
  readonly name: 'simd' | 'js';
  /**
   * Writes SHA256(prefix || message) for each `len`-byte message of `src` (src.length is a
   * multiple of len; len a power of two >= 32) to out[outOff + 32i ..].
   */
  hashMany(prefix: number, src: Uint8Array, len: number, out: Uint8Array, outOff: number): void;
  /**
   * Roots of consecutive complete subtrees of height `height` over `src`, whose length is a
   * multiple of leafSize * 2^height: leaves and levels hashed in bulk, only the roots returned.
   */
  subtreeRoots(src: Uint8Array, leafSize: number, height: number): Uint8Array;
}

export const jsHasher: MerkleHasher = {
  name: 'js',
  hashMany(prefix, src, len, out, outOff) {
    hashPrefixedJs(prefix, src, 0, len, src.length / len, out, outOff);
  },
  subtreeRoots(src, leafSize, height) {
    let nodes = src.length / leafSize;
    const level = new Uint8Array(32 * nodes);
    hashPrefixedJs(LEAF_PREFIX, src, 0, leafSize, nodes, level, 0);
    for (let h = 0; h < height; h++) {
      nodes >>>= 1;
      hashPrefixedJs(NODE_PREFIX, level, 0, 64, nodes, level, 0);
    }
    return level.slice(0, 32 * nodes);
  },
};

let simd: MerkleHasher | null | undefined;
/** The SIMD hasher, or null when this engine has no WebAssembly SIMD128. */
export function _simdHasher(): MerkleHasher | null {
  if (simd === undefined) {
    simd = null;
    if (simdSupported()) {
      try {
        simd = createSimdHasher();
      } catch {
        simd = null;
      }
    }
  }
  return simd;
}

let forced: MerkleHasher | undefined;
/** The hasher in use: SIMD when available, else plain JS. */
export function _hasher(): MerkleHasher {
  return forced ?? _simdHasher() ?? jsHasher;
}

/** For tests and benchmarks: pin a hasher ('auto' restores the automatic choice). */
export function _useHasher(which: 'simd' | 'js' | 'auto'): MerkleHasher {
  if (which === 'auto') forced = undefined;
  else if (which === 'js') forced = jsHasher;
  else {
    const s = _simdHasher();
    if (!s) throw new Error('WebAssembly SIMD128 is not supported here');
    forced = s;
  }
  return _hasher();
}
