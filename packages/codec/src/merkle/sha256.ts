/**
 * Plain-JS SHA-256 of prefixed fixed-length messages: the fallback when WebAssembly SIMD128 is
 * missing, and the scalar path for single nodes (proof verification, builder folding). Works on
 * 32-bit words in preallocated arrays: no allocation per message.
 *
 * Every Merkle hash is SHA256(prefix || body) with a one-byte prefix and a body whose length is
 * a power of two >= 32, so the padding of the final block is known in advance: the body's last
 * byte (or last 33 bytes when the body is 32 bytes), 0x80 and the bit length.
 */

/** SHA-256 round constants (FIPS 180-4, 4.2.2); shared with the SIMD kernel's generator. */
export const SHA256_K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
/** SHA-256 initial hash value (FIPS 180-4, 5.3.3). */
export const SHA256_IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const _W = new Int32Array(64);
const _S = new Int32Array(8);

function _compress(): void {
  const W = _W;
  const S = _S;
  for (let t = 16; t < 64; t++) {
    const x = W[t - 15]!;
    const y = W[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
  }
  let a = S[0]!,
    b = S[1]!,
    c = S[2]!,
    d = S[3]!,
    e = S[4]!,
    f = S[5]!,
    g = S[6]!,
    h = S[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + SHA256_K[t]! + W[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  S[0] = (S[0]! + a) | 0;
  S[1] = (S[1]! + b) | 0;
  S[2] = (S[2]! + c) | 0;
  S[3] = (S[3]! + d) | 0;
  S[4] = (S[4]! + e) | 0;
  S[5] = (S[5]! + f) | 0;
  S[6] = (S[6]! + g) | 0;
  S[7] = (S[7]! + h) | 0;
}

/** Loads 16 words of message bytes starting one byte before `pos` (the prefix takes that byte). */
function _loadWords(src: Uint8Array, pos: number, from: number, to: number): void {
  const W = _W;
  for (let t = from; t < to; t++) {
    const i = pos + 4 * t - 1;
    W[t] = (src[i]! << 24) | (src[i + 1]! << 16) | (src[i + 2]! << 8) | src[i + 3]!;
  }
}

/**
 * out[outOff + 32i ..] = SHA256(prefix || src[off + i*len .. off + (i+1)*len]) for i < count.
 * `len` is a power of two >= 32. `out` may alias `src` when outOff <= off (in-place reduction of
 * a level: each message is read in full before its digest is written, and digests are smaller).
 */
export function hashPrefixedJs(
  prefix: number,
  src: Uint8Array,
  off: number,
  len: number,
  count: number,
  out: Uint8Array,
  outOff: number,
): void {
  const W = _W;
  const S = _S;
  const fullBlocks = len >>> 6;
  for (let m = 0; m < count; m++) {
    const p = off + m * len;
    S.set(SHA256_IV);
    for (let b = 0; b < fullBlocks; b++) {
      if (b === 0) {
        W[0] = (prefix << 24) | (src[p]! << 16) | (src[p + 1]! << 8) | src[p + 2]!;
        _loadWords(src, p, 1, 16);
      } else {
        _loadWords(src, p + 64 * b, 0, 16);
      }
      _compress();
    }
    const last = (src[p + len - 1]! << 24) | 0x800000;
    if (len === 32) {
      W[0] = (prefix << 24) | (src[p]! << 16) | (src[p + 1]! << 8) | src[p + 2]!;
      _loadWords(src, p, 1, 8);
      W[8] = last;
      W.fill(0, 9, 15);
      W[15] = 33 * 8;
    } else {
      W[0] = last;
      W.fill(0, 1, 15);
      W[15] = (len + 1) * 8;
    }
    _compress();
    const o = outOff + 32 * m;
    for (let i = 0; i < 8; i++) {
      const s = S[i]!;
      out[o + 4 * i] = s >>> 24;
      out[o + 4 * i + 1] = s >>> 16;
      out[o + 4 * i + 2] = s >>> 8;
      out[o + 4 * i + 3] = s;
    }
  }
}
