/**
 * Small dense matrices over GF(2^8), stored row-major in a Uint8Array (rows * cols bytes).
 */
import { _MUL_TABLE, gfInv } from './gf256.ts';

/**
 * The m x k parity block of the systematic encoding matrix: a Cauchy matrix with rows
 * x_i = k + i and columns y_j = j, entry 1 / (x_i xor y_j). The x and y sets are disjoint, so
 * every square submatrix is invertible, and therefore so is every k-row subset of [I; C].
 */
export function cauchyParityMatrix(k: number, m: number): Uint8Array {
  const c = new Uint8Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < k; j++) c[i * k + j] = gfInv((k + i) ^ j);
  }
  return c;
}

/** Row `r` of the n x k encoding matrix [I; C] (a fresh array of length k). */
export function encodingRow(parity: Uint8Array, k: number, r: number): Uint8Array {
  if (r < k) {
    const row = new Uint8Array(k);
    row[r] = 1;
    return row;
  }
  return parity.slice((r - k) * k, (r - k + 1) * k);
}

/** Inverse of a k x k matrix by Gauss-Jordan elimination; throws if it is singular. */
export function invertMatrix(matrix: Uint8Array, k: number): Uint8Array {
  if (matrix.length !== k * k) throw new RangeError('invertMatrix: matrix is not k x k');
  const a = matrix.slice();
  const inv = new Uint8Array(k * k);
  for (let i = 0; i < k; i++) inv[i * k + i] = 1;
  for (let col = 0; col < k; col++) {
    let pivot = col;
    while (pivot < k && a[pivot * k + col] === 0) pivot++;
    if (pivot === k) throw new RangeError('invertMatrix: matrix is singular');
    if (pivot !== col) {
      swapRows(a, k, pivot, col);
      swapRows(inv, k, pivot, col);
    }
    const scale = gfInv(a[col * k + col]!) << 8;
    scaleRow(a, k, col, scale);
    scaleRow(inv, k, col, scale);
    for (let r = 0; r < k; r++) {
      const f = a[r * k + col]!;
      if (r === col || f === 0) continue;
      addScaledRow(a, k, r, col, f << 8);
      addScaledRow(inv, k, r, col, f << 8);
    }
  }
  return inv;
}

/** Product of an (rows x inner) and an (inner x cols) matrix. */
export function multiplyMatrices(
  a: Uint8Array,
  b: Uint8Array,
  rows: number,
  inner: number,
  cols: number,
): Uint8Array {
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < inner; t++) {
      const f = a[r * inner + t]!;
      if (f === 0) continue;
      const base = f << 8;
      for (let c = 0; c < cols; c++) out[r * cols + c]! ^= _MUL_TABLE[base | b[t * cols + c]!]!;
    }
  }
  return out;
}

function swapRows(a: Uint8Array, k: number, r1: number, r2: number): void {
  for (let c = 0; c < k; c++) {
    const t = a[r1 * k + c]!;
    a[r1 * k + c] = a[r2 * k + c]!;
    a[r2 * k + c] = t;
  }
}

function scaleRow(a: Uint8Array, k: number, r: number, base: number): void {
  for (let c = 0; c < k; c++) a[r * k + c] = _MUL_TABLE[base | a[r * k + c]!]!;
}

function addScaledRow(a: Uint8Array, k: number, dst: number, src: number, base: number): void {
  for (let c = 0; c < k; c++) a[dst * k + c]! ^= _MUL_TABLE[base | a[src * k + c]!]!;
}
