/**
 * Systematic Reed-Solomon erasure coding over GF(2^8), with a WebAssembly SIMD128 kernel and a
 * plain JavaScript one that give identical bytes.
 *
 * @example
 * ```ts
 * const rs = new ReedSolomon(10, 4);
 * const parity = rs.encode(data); // data: 10 Uint8Arrays of equal length
 * const pieces = [...data, ...parity].map((p, i) => (lost.includes(i) ? null : p));
 * const rebuilt = rs.reconstruct(pieces, lost); // any 4 lost pieces, data or parity
 * ```
 */
export { ReedSolomon, type ErasureKernel, type ReedSolomonOptions } from './reed-solomon.ts';
