/**
 * The portable kernel: out[r] = XOR_j coef[r][j] * in[j] over GF(2^8), with one 256-byte row of
 * the product table per coefficient. Pieces are read and written four bytes at a time through
 * Uint32Array views (nearly twice as fast in V8 as byte loops); pieces that are not 4-byte
 * aligned go through an aligned scratch block. Byte order does not matter: each lane of a word
 * is looked up and put back in the same lane.
 */
import { _MUL_TABLE } from './gf256.ts';

/** Words per block: pieces are processed in blocks so the inputs of a block stay in cache. */
const BLOCK_WORDS = 4096;

let scratch = new Uint32Array(0);

function scratchFor(slots: number): Uint32Array {
  if (scratch.length < slots * BLOCK_WORDS) scratch = new Uint32Array(slots * BLOCK_WORDS);
  return scratch;
}

export function mulMatrixJs(
  coef: Uint8Array,
  rows: number,
  cols: number,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  length: number,
): void {
  const words = length >>> 2;
  if (words > 0) mulWords(coef, rows, cols, inputs, outputs, words);
  for (let i = words << 2; i < length; i++) {
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let j = 0; j < cols; j++)
        acc ^= _MUL_TABLE[(coef[r * cols + j]! << 8) | inputs[j]![i]!]!;
      outputs[r]![i] = acc;
    }
  }
}

function mulWords(
  coef: Uint8Array,
  rows: number,
  cols: number,
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  words: number,
): void {
  // A view over each piece when it is aligned, else a slot of scratch (copied per block).
  const inViews: Uint32Array[] = [];
  const outViews: Uint32Array[] = [];
  let slots = 0;
  const slotOf: number[] = [];
  for (let j = 0; j < cols; j++) {
    const a = inputs[j]!;
    if ((a.byteOffset & 3) === 0) {
      inViews.push(new Uint32Array(a.buffer, a.byteOffset, words));
      slotOf.push(-1);
    } else {
      inViews.push(new Uint32Array(0));
      slotOf.push(slots++);
    }
  }
  for (let r = 0; r < rows; r++) {
    const a = outputs[r]!;
    if ((a.byteOffset & 3) === 0) {
      outViews.push(new Uint32Array(a.buffer, a.byteOffset, words));
      slotOf.push(-1);
    } else {
      outViews.push(new Uint32Array(0));
      slotOf.push(slots++);
    }
  }
  const s = slots > 0 ? scratchFor(slots) : scratch;
  const sBytes = new Uint8Array(s.buffer, 0, slots * BLOCK_WORDS * 4);
  for (let j = 0; j < cols; j++) {
    const slot = slotOf[j]!;
    if (slot >= 0) inViews[j] = s.subarray(slot * BLOCK_WORDS, (slot + 1) * BLOCK_WORDS);
  }
  for (let r = 0; r < rows; r++) {
    const slot = slotOf[cols + r]!;
    if (slot >= 0) outViews[r] = s.subarray(slot * BLOCK_WORDS, (slot + 1) * BLOCK_WORDS);
  }

  for (let start = 0; start < words; start += BLOCK_WORDS) {
    const count = Math.min(BLOCK_WORDS, words - start);
    for (let j = 0; j < cols; j++) {
      const slot = slotOf[j]!;
      if (slot >= 0) {
        const from = start << 2;
        sBytes.set(inputs[j]!.subarray(from, from + (count << 2)), slot * BLOCK_WORDS * 4);
      }
    }
    for (let r = 0; r < rows; r++) {
      const outSlot = slotOf[cols + r]!;
      const out = outViews[r]!;
      const outStart = outSlot >= 0 ? 0 : start;
      let first = true;
      for (let j = 0; j < cols; j++) {
        const c = coef[r * cols + j]!;
        if (c === 0) continue;
        const inStart = slotOf[j]! >= 0 ? 0 : start;
        mulWordsRow(c << 8, inViews[j]!, inStart, out, outStart, count, first);
        first = false;
      }
      if (first) out.fill(0, outStart, outStart + count);
      if (outSlot >= 0) {
        const at = outSlot * BLOCK_WORDS * 4;
        outputs[r]!.set(sBytes.subarray(at, at + (count << 2)), start << 2);
      }
    }
  }
}

function mulWordsRow(
  base: number,
  inp: Uint32Array,
  inStart: number,
  out: Uint32Array,
  outStart: number,
  count: number,
  first: boolean,
): void {
  const t = _MUL_TABLE;
  const delta = outStart - inStart;
  const end = inStart + count;
  if (first) {
    for (let i = inStart; i < end; i++) {
      const x = inp[i]!;
      out[i + delta] =
        t[base | (x & 255)]! |
        (t[base | ((x >>> 8) & 255)]! << 8) |
        (t[base | ((x >>> 16) & 255)]! << 16) |
        (t[base | (x >>> 24)]! << 24);
    }
  } else {
    for (let i = inStart; i < end; i++) {
      const x = inp[i]!;
      out[i + delta]! ^=
        t[base | (x & 255)]! |
        (t[base | ((x >>> 8) & 255)]! << 8) |
        (t[base | ((x >>> 16) & 255)]! << 16) |
        (t[base | (x >>> 24)]! << 24);
    }
  }
}
