/**
 * Arithmetic in GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), generator 2.
 * Addition is XOR; multiplication goes through log/exp tables. Everything is computed once at
 * module load (a few microseconds) rather than shipped as constants.
 */

export const GF_POLYNOMIAL = 0x11d;

/** exp[i] = 2^i, doubled in length so exp[log a + log b] needs no reduction mod 255. */
export const _EXP = new Uint8Array(512);
/** log[a] for a != 0; log[0] is unused (0). */
export const _LOG = new Uint8Array(256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    _EXP[i] = x;
    _LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= GF_POLYNOMIAL;
  }
  for (let i = 255; i < 512; i++) _EXP[i] = _EXP[i - 255]!;
}

/** The full 256 x 256 product table: row c (MUL_TABLE.subarray(c << 8, (c + 1) << 8)) is y -> c*y. */
export const _MUL_TABLE = new Uint8Array(65536);
{
  for (let a = 1; a < 256; a++) {
    const la = _LOG[a]!;
    const row = a << 8;
    for (let b = 1; b < 256; b++) _MUL_TABLE[row | b] = _EXP[la + _LOG[b]!]!;
  }
}

export function gfMul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : _EXP[_LOG[a]! + _LOG[b]!]!;
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('gfInv: 0 has no inverse in GF(2^8)');
  return _EXP[255 - _LOG[a]!]!;
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('gfDiv: division by 0 in GF(2^8)');
  return a === 0 ? 0 : _EXP[_LOG[a]! + 255 - _LOG[b]!]!;
}
