import { NotEnoughPiecesError } from '../errors.ts';
import { simdSupported } from '../wasm.ts';
import { mulMatrixJs } from './kernel-js.ts';
import { SimdKernel } from './kernel-simd.ts';
import { cauchyParityMatrix, invertMatrix, multiplyMatrices } from './matrix.ts';

/** The implementation of the GF(2^8) matrix kernel: WebAssembly SIMD128 or plain JavaScript. */
export type ErasureKernel = 'simd' | 'js';

export interface ReedSolomonOptions {
  /**
   * Which kernel computes the products. Both give identical bytes; 'simd' is 10-20x faster.
   * Asking for 'simd' on an engine without WebAssembly SIMD128 throws.
   *
   * @default 'auto' (simd when the engine validates SIMD128, else js)
   */
  kernel?: ErasureKernel | 'auto';
}

/** out[r] = XOR_j coef[r * cols + j] * inputs[j], over the first `length` bytes of each piece. */
type MulMatrix = (
  coef: Uint8Array,
  rows: number,
  cols: number,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  length: number,
) => void;

/** Erasure patterns whose decoding matrices are kept (a repairer sees the same few repeatedly). */
const INVERSE_CACHE_SIZE = 16;

let simdKernel: SimdKernel | undefined;
function simdMul(): MulMatrix {
  // One module instance for the whole realm: calls are synchronous, so coders can share it.
  simdKernel ??= new SimdKernel();
  const kernel = simdKernel;
  return (coef, rows, cols, inputs, outputs, length) =>
    kernel.mulMatrix(coef, rows, cols, inputs, outputs, length);
}

/**
 * A systematic Reed-Solomon erasure code over GF(2^8): k data pieces, m parity pieces, and any k
 * of the n = k + m pieces rebuild all of them. The encoding matrix is the identity on top of an
 * m x k Cauchy matrix, so every k-row subset is invertible.
 */
export class ReedSolomon {
  readonly k: number;
  readonly m: number;
  readonly n: number;
  readonly kernel: ErasureKernel;
  /** The m x k parity rows of the encoding matrix, row-major. */
  readonly #parity: Uint8Array;
  readonly #mul: MulMatrix;
  /** Inverses of the k x k submatrices for recent sets of pieces used to decode (LRU). */
  readonly #inverses = new Map<string, Uint8Array>();

  constructor(k: number, m: number, options: ReedSolomonOptions = {}) {
    if (!Number.isInteger(k) || k < 1 || k > 256) {
      throw new RangeError(`k must be an integer in 1..256, got ${String(k)}`);
    }
    if (!Number.isInteger(m) || m < 0 || k + m > 256) {
      throw new RangeError(`m must be an integer >= 0 with k + m <= 256, got ${String(m)}`);
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError('options must be an object');
    }
    const requested = options.kernel ?? 'auto';
    if (requested !== 'auto' && requested !== 'simd' && requested !== 'js') {
      throw new RangeError(
        `options.kernel must be 'auto', 'simd' or 'js', got ${String(requested)}`,
      );
    }
    if (requested === 'simd' && !simdSupported()) {
      throw new RangeError("options.kernel is 'simd' but this engine has no WebAssembly SIMD128");
    }
    this.k = k;
    this.m = m;
    this.n = k + m;
    this.kernel = requested === 'auto' ? (simdSupported() ? 'simd' : 'js') : requested;
    this.#mul = this.kernel === 'simd' ? simdMul() : mulMatrixJs;
    this.#parity = cauchyParityMatrix(k, m);
  }

  /** k data pieces of equal length -> m parity pieces (new arrays). */
  encode(data: readonly Uint8Array[]): Uint8Array[] {
    const length = checkPieces(data, this.k, 'data');
    const parity = Array.from({ length: this.m }, () => new Uint8Array(length));
    this.#mul(this.#parity, this.m, this.k, data, parity, length);
    return parity;
  }

  /** Same as encode, writing into caller-provided parity buffers (no allocation). */
  encodeInto(data: readonly Uint8Array[], parity: readonly Uint8Array[]): void {
    const length = checkPieces(data, this.k, 'data');
    const parityLength = checkPieces(parity, this.m, 'parity');
    if (this.m > 0 && parityLength !== length) {
      throw new RangeError(
        `parity pieces must have the data pieces' length ${length}, got ${parityLength}`,
      );
    }
    this.#mul(this.#parity, this.m, this.k, data, parity, length);
  }

  /**
   * Rebuilds the pieces at the `wanted` indices (default: the missing data pieces) from any k
   * present ones, and returns them (new arrays) in the order of `wanted`. `pieces` has length n,
   * with null (or undefined) where a piece is missing. Missing parity pieces can be rebuilt too.
   *
   * @throws NotEnoughPiecesError when fewer than k pieces are present
   */
  reconstruct(pieces: readonly (Uint8Array | null)[], wanted?: readonly number[]): Uint8Array[] {
    const { length, targets } = this.#checkReconstruct(pieces, wanted);
    const outputs = targets.map(() => new Uint8Array(length));
    this.#rebuild(pieces, targets, outputs, length);
    return outputs;
  }

  /**
   * Same as reconstruct, writing into caller-provided buffers (one per wanted index, each of the
   * pieces' length) instead of allocating: fresh large buffers are slow to first touch in some
   * engines, so a caller that decodes segment after segment can reuse its own.
   */
  reconstructInto(
    pieces: readonly (Uint8Array | null)[],
    wanted: readonly number[] | undefined,
    outputs: readonly Uint8Array[],
  ): void {
    const { length, targets } = this.#checkReconstruct(pieces, wanted);
    const outputLength = checkPieces(outputs, targets.length, 'outputs');
    if (targets.length > 0 && outputLength !== length) {
      throw new RangeError(`outputs must have the pieces' length ${length}, got ${outputLength}`);
    }
    this.#rebuild(pieces, targets, outputs, length);
  }

  /** Validates reconstruct's arguments; returns the piece length and the indices to rebuild. */
  #checkReconstruct(
    pieces: readonly (Uint8Array | null)[],
    wanted: readonly number[] | undefined,
  ): { length: number; targets: readonly number[] } {
    const { k, n } = this;
    if (!Array.isArray(pieces)) throw new TypeError('pieces must be an array');
    if (pieces.length !== n) {
      throw new RangeError(`pieces must have length n = ${n}, got ${pieces.length}`);
    }
    let present = 0;
    let length = -1;
    for (let i = 0; i < n; i++) {
      const piece: unknown = pieces[i];
      if (piece === null || piece === undefined) continue;
      if (!(piece instanceof Uint8Array)) {
        throw new TypeError(`pieces[${i}] must be a Uint8Array, null or undefined`);
      }
      if (length === -1) length = piece.length;
      else if (piece.length !== length) {
        throw new RangeError(
          `pieces must all have the same length: pieces[${i}] has ${piece.length}, expected ${length}`,
        );
      }
      present++;
    }
    if (present < k) {
      throw new NotEnoughPiecesError(
        `need ${k} of the ${n} pieces to reconstruct, only ${present} present`,
      );
    }
    if (wanted === undefined) {
      const missing: number[] = [];
      for (let i = 0; i < k; i++) if (pieces[i] == null) missing.push(i);
      return { length, targets: missing };
    }
    if (!Array.isArray(wanted)) throw new TypeError('wanted must be an array of indices');
    for (const w of wanted) {
      if (!Number.isInteger(w) || w < 0 || w >= n) {
        throw new RangeError(`wanted indices must be integers in 0..${n - 1}, got ${String(w)}`);
      }
    }
    return { length, targets: wanted };
  }

  /** Writes piece targets[t] into outputs[t]: copied when present, else decoded. */
  #rebuild(
    pieces: readonly (Uint8Array | null)[],
    targets: readonly number[],
    outputs: readonly Uint8Array[],
    length: number,
  ): void {
    const { k } = this;
    const toBuild: number[] = [];
    for (let t = 0; t < targets.length; t++) {
      const piece = pieces[targets[t]!];
      if (piece != null) outputs[t]!.set(piece);
      else toBuild.push(t);
    }
    if (toBuild.length === 0) return;

    // Decode from the first k present pieces: data pieces come first, and the more of them,
    // the closer the decoding matrix is to the identity.
    const used: number[] = [];
    for (let i = 0; used.length < k; i++) if (pieces[i] != null) used.push(i);
    const inverse = this.#inverseFor(used);
    const coef = new Uint8Array(toBuild.length * k);
    for (let b = 0; b < toBuild.length; b++) {
      const index = targets[toBuild[b]!]!;
      const row =
        index < k
          ? inverse.subarray(index * k, (index + 1) * k)
          : multiplyMatrices(
              this.#parity.subarray((index - k) * k, (index - k + 1) * k),
              inverse,
              1,
              k,
              k,
            );
      coef.set(row, b * k);
    }
    const inputs = used.map((i) => pieces[i]!);
    const built = toBuild.map((t) => outputs[t]!);
    this.#mul(coef, toBuild.length, k, inputs, built, length);
  }

  /** Inverse of the rows `used` of the encoding matrix (k x k), from the LRU cache if recent. */
  #inverseFor(used: readonly number[]): Uint8Array {
    const { k } = this;
    const key = used.join(',');
    const cached = this.#inverses.get(key);
    if (cached !== undefined) {
      this.#inverses.delete(key);
      this.#inverses.set(key, cached);
      return cached;
    }
    const sub = new Uint8Array(k * k);
    for (let r = 0; r < k; r++) {
      const index = used[r]!;
      if (index < k) sub[r * k + index] = 1;
      else sub.set(this.#parity.subarray((index - k) * k, (index - k + 1) * k), r * k);
    }
    const inverse = invertMatrix(sub, k);
    this.#inverses.set(key, inverse);
    if (this.#inverses.size > INVERSE_CACHE_SIZE) {
      this.#inverses.delete(this.#inverses.keys().next().value!);
    }
    return inverse;
  }
}

/** Checks `count` pieces of equal length and returns that length (0 when count is 0). */
function checkPieces(pieces: readonly Uint8Array[], count: number, name: string): number {
  if (!Array.isArray(pieces)) throw new TypeError(`${name} must be an array of Uint8Array`);
  if (pieces.length !== count) {
    throw new RangeError(`${name} must hold ${count} pieces, got ${pieces.length}`);
  }
  let length = 0;
  for (let i = 0; i < count; i++) {
    const piece: unknown = pieces[i];
    if (!(piece instanceof Uint8Array)) throw new TypeError(`${name}[${i}] must be a Uint8Array`);
    if (i === 0) length = piece.length;
    else if (piece.length !== length) {
      throw new RangeError(
        `${name} pieces must all have the same length: ${name}[${i}] has ${piece.length}, expected ${length}`,
      );
    }
  }
  return length;
}
