/**
 * Geometry of an encoded file: how many segments, how long each piece is, how long each shard
 * is and where piece s sits in the shard's Merkle tree. Derived from a handful of numbers in the
 * manifest, so nothing here is stored separately or can disagree with the manifest.
 */
import { MAX_PIECE_SIZE } from './constants.ts';

/** AES-GCM authentication tag appended to each encrypted segment. */
export const SEGMENT_TAG_SIZE = 16;

export interface LayoutParams {
  /** Plaintext bytes after size-class padding. */
  paddedSize: number;
  k: number;
  m: number;
  /** Bytes per piece of a full segment; leafSize * 2^h. */
  pieceSize: number;
  leafSize: number;
}

export interface Layout extends LayoutParams {
  n: number;
  /** Plaintext bytes per full segment: k * pieceSize - tag. */
  segmentSize: number;
  segmentCount: number;
  /**
   * Height of a piece's subtree in the shard's Merkle tree: log2(pieceSize / leafSize), or the
   * whole tree's height when the shard is shorter than one full piece (a one-segment file).
   */
  pieceHeight: number;
  /** Bytes of every shard (all shards of a file have the same length). */
  shardSize: number;
  /** Leaves of every shard's Merkle tree. */
  leafCount: number;
}

function isPowerOfTwo(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0 && (x & (x - 1)) === 0;
}

/** Validates erasure and piece parameters; RangeError naming the argument. */
export function checkLayoutParams(p: Omit<LayoutParams, 'paddedSize'>): void {
  if (!Number.isInteger(p.k) || p.k < 1)
    throw new RangeError(`k must be an integer >= 1, got ${p.k}`);
  if (!Number.isInteger(p.m) || p.m < 0)
    throw new RangeError(`m must be an integer >= 0, got ${p.m}`);
  if (p.k + p.m > 256) throw new RangeError(`k + m must be <= 256, got ${p.k + p.m}`);
  if (!isPowerOfTwo(p.leafSize) || p.leafSize < 32 || p.leafSize > 4096) {
    throw new RangeError(`leafSize must be a power of two in 32..4096, got ${p.leafSize}`);
  }
  if (
    !Number.isSafeInteger(p.pieceSize) ||
    p.pieceSize % p.leafSize !== 0 ||
    !isPowerOfTwo(p.pieceSize / p.leafSize) ||
    p.pieceSize > MAX_PIECE_SIZE
  ) {
    throw new RangeError(
      `pieceSize must be leafSize * 2^h and at most ${MAX_PIECE_SIZE}, got ${p.pieceSize}`,
    );
  }
  if (p.k * p.pieceSize <= SEGMENT_TAG_SIZE) {
    throw new RangeError('k * pieceSize must exceed the authentication tag');
  }
}

export function segmentSizeFor(k: number, pieceSize: number): number {
  return k * pieceSize - SEGMENT_TAG_SIZE;
}

export function layoutOf(p: LayoutParams): Layout {
  checkLayoutParams(p);
  if (!Number.isSafeInteger(p.paddedSize) || p.paddedSize < 0) {
    throw new RangeError(`paddedSize must be a non-negative safe integer, got ${p.paddedSize}`);
  }
  const segmentSize = segmentSizeFor(p.k, p.pieceSize);
  // Even an empty file has one segment: it carries the last-segment flag that guards truncation.
  const segmentCount = Math.max(1, Math.ceil(p.paddedSize / segmentSize));
  const lastPiece = pieceLengthOf(
    p.k,
    p.pieceSize,
    segmentSize,
    segmentCount,
    p.paddedSize,
    segmentCount - 1,
  );
  const shardSize = (segmentCount - 1) * p.pieceSize + lastPiece;
  const leafCount = Math.max(1, Math.ceil(shardSize / p.leafSize));
  return {
    ...p,
    n: p.k + p.m,
    segmentSize,
    segmentCount,
    // A single-segment shard may be smaller than one full piece: then the piece is the whole tree.
    pieceHeight: Math.min(Math.log2(p.pieceSize / p.leafSize), Math.ceil(Math.log2(leafCount))),
    shardSize,
    leafCount,
  };
}

function pieceLengthOf(
  k: number,
  pieceSize: number,
  segmentSize: number,
  segmentCount: number,
  paddedSize: number,
  index: number,
): number {
  if (index < segmentCount - 1) return pieceSize;
  const plain = paddedSize - (segmentCount - 1) * segmentSize;
  return Math.ceil((plain + SEGMENT_TAG_SIZE) / k);
}

/** Plaintext bytes (padded) carried by segment `index`. */
export function segmentPlainLength(layout: Layout, index: number): number {
  checkSegmentIndex(layout, index);
  if (index < layout.segmentCount - 1) return layout.segmentSize;
  return layout.paddedSize - (layout.segmentCount - 1) * layout.segmentSize;
}

/** Bytes of each of the n pieces of segment `index` (only the last segment's are shorter). */
export function pieceLength(layout: Layout, index: number): number {
  checkSegmentIndex(layout, index);
  return pieceLengthOf(
    layout.k,
    layout.pieceSize,
    layout.segmentSize,
    layout.segmentCount,
    layout.paddedSize,
    index,
  );
}

/** Byte offset of segment `index`'s piece within every shard. */
export function pieceOffset(layout: Layout, index: number): number {
  checkSegmentIndex(layout, index);
  return index * layout.pieceSize;
}

function checkSegmentIndex(layout: Layout, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= layout.segmentCount) {
    throw new RangeError(`segment index ${index} out of range 0..${layout.segmentCount - 1}`);
  }
}
