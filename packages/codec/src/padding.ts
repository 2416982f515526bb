/**
 * Size-class padding. A stored file's size is visible to every host, so the plaintext is padded
 * before encryption to a size that reveals only a coarse class: Padmé (Nikitin et al., "Reducing
 * Metadata Leakage from Encrypted Files and Communication with PURBs", PETS 2019), which leaks
 * O(log log L) bits of the length L and costs at most 12% overhead (less for larger files).
 * Everything below MIN_PADDED_SIZE is padded to it, so small files all look alike.
 */

export const MIN_PADDED_SIZE = 1024;

/** Padmé: keep the top floor(log2 E)+1 bits of L (E = floor(log2 L)), round the rest up. */
export function padme(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`padme: length must be a non-negative safe integer, got ${length}`);
  }
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lowBits = e - s;
  const unit = 2 ** lowBits;
  return Math.ceil(length / unit) * unit;
}

/** The stored plaintext size for a file of `length` bytes. */
export function paddedSize(length: number): number {
  return length <= MIN_PADDED_SIZE ? MIN_PADDED_SIZE : padme(length);
}
