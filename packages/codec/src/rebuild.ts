/**
 * Repair's half of the data plane: regenerates exactly the shards that were lost, from any k
 * verified pieces per segment of the others, without the file key (shards are ciphertext and
 * Reed-Solomon works on them as they are). What it needs is a file's `ShardSet`: its layout and
 * the shards' Merkle roots, nothing that decrypts anything, so a mediator can repair for an owner
 * whose browser is closed.
 */
import { MalformedError } from './errors.ts';
import { ByteReader, ByteWriter } from './manifest/encoding.ts';
import { gatherSegments, verifyPieceOf, type GatherOptions, type PieceFetcher } from './decoder.ts';
import { ReedSolomon, type ErasureKernel } from './erasure/index.ts';
import { checkLayoutParams, layoutOf, pieceLength, type Layout } from './layout.ts';
import type { Manifest } from './manifest/index.ts';

/** The public shape of a file's shards: enough to verify and rebuild them, not to read them. */
export interface ShardSet {
  paddedSize: number;
  k: number;
  m: number;
  pieceSize: number;
  leafSize: number;
  /** n = k + m Merkle roots of 32 bytes, in shard order. */
  roots: Uint8Array[];
}

export function shardSetOf(manifest: Manifest): ShardSet {
  return {
    paddedSize: manifest.paddedSize,
    k: manifest.k,
    m: manifest.m,
    pieceSize: manifest.pieceSize,
    leafSize: manifest.merkle.leafSize,
    roots: manifest.roots.map((r) => r.slice()),
  };
}

const SHARD_SET_VERSION = 1;
/** Largest encoded shard set: 256 roots and the layout's few varints. */
export const MAX_SHARD_SET_SIZE = 64 + 256 * 32;

/** Canonical bytes of a shard set (what an owner hands a mediator, sealed or not). */
export function encodeShardSet(set: ShardSet): Uint8Array {
  checkShardSet(set);
  const w = new ByteWriter();
  w.u8(SHARD_SET_VERSION);
  w.varint(set.paddedSize).varint(set.k).varint(set.m).varint(set.pieceSize).varint(set.leafSize);
  for (const root of set.roots) w.bytes(root);
  return w.finish();
}

export function decodeShardSet(bytes: Uint8Array): ShardSet {
  if (bytes.byteLength > MAX_SHARD_SET_SIZE)
    throw new MalformedError(`a shard set is at most ${MAX_SHARD_SET_SIZE} bytes`);
  const r = new ByteReader(bytes);
  const version = r.u8('version');
  if (version !== SHARD_SET_VERSION)
    throw new MalformedError(`shard set version ${version} is not supported`);
  const paddedSize = r.varint('paddedSize');
  const k = r.varint('k', 256);
  const m = r.varint('m', 256);
  const pieceSize = r.varint('pieceSize', 2 ** 32);
  const leafSize = r.varint('leafSize', 2 ** 32);
  if (k + m > 256) throw new MalformedError(`k + m = ${k + m} exceeds 256`);
  const roots = Array.from({ length: k + m }, (_, i) => r.bytes(`root ${i}`, 32));
  r.end('shard set');
  const set = { paddedSize, k, m, pieceSize, leafSize, roots };
  try {
    checkShardSet(set);
  } catch (err) {
    throw new MalformedError((err as Error).message, { cause: err });
  }
  return set;
}

function checkShardSet(set: ShardSet): void {
  checkLayoutParams({ k: set.k, m: set.m, pieceSize: set.pieceSize, leafSize: set.leafSize });
  layoutOf(set); // paddedSize must fit the layout
  if (set.roots.length !== set.k + set.m || set.roots.some((r) => r.byteLength !== 32))
    throw new RangeError(`a shard set has k + m = ${set.k + set.m} roots of 32 bytes`);
}

export interface RebuildOptions extends Omit<GatherOptions, 'exclude'> {
  /** Other shards known to be gone (never asked); the ones being rebuilt are never asked. */
  gone?: readonly number[];
}

export class ShardRebuilder {
  readonly set: ShardSet;
  readonly layout: Layout;
  readonly #rs: ReedSolomon;

  constructor(set: ShardSet, options: { kernel?: ErasureKernel | 'auto' } = {}) {
    checkShardSet(set);
    this.set = set;
    this.layout = layoutOf(set);
    this.#rs = new ReedSolomon(set.k, set.m, { kernel: options.kernel ?? 'auto' });
  }

  verifyPiece(
    shard: number,
    segment: number,
    piece: Uint8Array,
    proof: readonly Uint8Array[],
  ): boolean {
    return verifyPieceOf(this.layout, this.set.roots, shard, segment, piece, proof);
  }

  /**
   * Streams, segment by segment, the pieces of the shards `want` (in that order) rebuilt from
   * any k verified pieces of the other shards. Concatenated over the segments, each is exactly
   * the lost shard: the same bytes, so the same Merkle root as in the manifest.
   */
  async *rebuild(
    want: readonly number[],
    fetchPiece: PieceFetcher,
    options: RebuildOptions = {},
  ): AsyncGenerator<{ segment: number; pieces: Uint8Array[] }> {
    const { n, k } = this.layout;
    if (want.length === 0) throw new RangeError('nothing to rebuild');
    if (new Set(want).size !== want.length || want.some((j) => !(j >= 0 && j < n)))
      throw new RangeError(`shards to rebuild must be distinct indices below n = ${n}`);
    const exclude = [...new Set([...want, ...(options.gone ?? [])])];
    if (n - exclude.length < k)
      throw new RangeError(
        `${n - exclude.length} shards left to rebuild from; Reed-Solomon needs k = ${k}`,
      );
    const { gone: _gone, ...gather } = options;
    for await (const { segment, pieces } of gatherSegments(this.layout, this, fetchPiece, {
      ...gather,
      exclude,
    })) {
      const length = pieceLength(this.layout, segment);
      const out = want.map(() => new Uint8Array(length));
      this.#rs.reconstructInto(pieces, want, out);
      yield { segment, pieces: out };
    }
  }
}
