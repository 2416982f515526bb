/**
 * The download half of the data plane: for each segment, any k pieces (each checked against its
 * shard's Merkle root before use) -> Reed-Solomon -> STREAM decryption -> plaintext, streamed out
 * in order. Every failure is specific: NotEnoughPiecesError, IntegrityError, WrongKeyError,
 * TruncatedError; wrong bytes are never produced.
 */
import { SegmentCipher } from './crypto/index.ts';
import { ReedSolomon, type ErasureKernel } from './erasure/index.ts';
import { IntegrityError, NotEnoughPiecesError } from './errors.ts';
import { layoutOf, pieceLength, segmentPlainLength, type Layout } from './layout.ts';
import { openManifest, type Manifest } from './manifest/index.ts';
import { subtreeRoot, verifyProof } from './merkle/index.ts';

export function layoutOfManifest(manifest: Manifest): Layout {
  return layoutOf({
    paddedSize: manifest.paddedSize,
    k: manifest.k,
    m: manifest.m,
    pieceSize: manifest.pieceSize,
    leafSize: manifest.merkle.leafSize,
  });
}

export interface PieceResponse {
  piece: Uint8Array;
  /** Sibling hashes from the piece's subtree up to the shard root (see merkle/README.md). */
  proof: readonly Uint8Array[];
}

export interface PieceRequest {
  segment: number;
  shard: number;
  signal: AbortSignal;
}

/** Fetches one piece with its proof; resolves null (or rejects) when it cannot. */
export type PieceFetcher = (request: PieceRequest) => Promise<PieceResponse | null>;

export interface DecodeOptions {
  signal?: AbortSignal;
  /**
   * Extra requests started beyond the k needed per segment, to cut the long tail of slow hosts.
   * @default 0
   */
  hedge?: number;
  kernel?: ErasureKernel | 'auto';
  /**
   * Segments whose pieces are fetched ahead of the one being decoded, so the network never waits
   * for decoding or for a segment's slowest piece. Memory grows by up to this many segments'
   * pieces. @default 0
   */
  prefetch?: number;
  /** Where verification and decoding run (default: this thread). */
  engine?: DecodeEngine;
  /** Told of every piece that was unavailable or failed verification, so hosts can be scored. */
  onRejected?: (event: {
    shard: number;
    segment: number;
    reason: 'unavailable' | 'corrupt';
  }) => void;
}

export class FileDecoder implements DecodeEngine {
  readonly manifest: Manifest;
  readonly layout: Layout;
  readonly #cipher: SegmentCipher;
  readonly #rs: ReedSolomon;
  readonly #scratchBuffers: Uint8Array[] = [];

  private constructor(manifest: Manifest, cipher: SegmentCipher, rs: ReedSolomon) {
    this.manifest = manifest;
    this.layout = layoutOfManifest(manifest);
    this.#cipher = cipher;
    this.#rs = rs;
  }

  static async create(
    manifest: Manifest,
    fileKey: Uint8Array,
    options: { kernel?: ErasureKernel | 'auto' } = {},
  ): Promise<FileDecoder> {
    const cipher = await SegmentCipher.create(fileKey, manifest.fileId);
    const rs = new ReedSolomon(manifest.k, manifest.m, { kernel: options.kernel ?? 'auto' });
    return new FileDecoder(manifest, cipher, rs);
  }

  /** Opens a sealed manifest (WrongKeyError for a wrong key) and prepares to decode. */
  static async open(sealedManifest: Uint8Array, fileKey: Uint8Array): Promise<FileDecoder> {
    return FileDecoder.create(await openManifest(sealedManifest, fileKey), fileKey);
  }

  /** True when `piece` is exactly segment `segment`'s piece of shard `shard`. */
  verifyPiece(
    shard: number,
    segment: number,
    piece: Uint8Array,
    proof: readonly Uint8Array[],
  ): boolean {
    return verifyPieceOf(this.layout, this.manifest.roots, shard, segment, piece, proof);
  }

  /**
   * Rebuilds segment `segment` from verified pieces (null where missing; at least k present) and
   * returns its plaintext, without the size-class padding.
   */
  async decodeSegment(
    segment: number,
    pieces: readonly (Uint8Array | null)[],
  ): Promise<Uint8Array> {
    const { k, n, segmentCount } = this.layout;
    if (pieces.length !== n) throw new RangeError(`pieces must have n = ${n} entries`);
    const present = pieces.filter((p) => p !== null).length;
    if (present < k) {
      throw new NotEnoughPiecesError(`segment ${segment}: ${present} of the ${k} pieces needed`);
    }
    const missing: number[] = [];
    for (let j = 0; j < k; j++) if (!pieces[j]) missing.push(j);
    const length = pieceLength(this.layout, segment);
    // Rebuilt pieces go into scratch buffers reused across segments (fresh large allocations
    // are what slows a browser down here, not the arithmetic).
    const rebuilt = missing.map((_, i) => this.#scratch(i).subarray(0, length));
    if (missing.length > 0) this.#rs.reconstructInto(pieces, missing, rebuilt);
    const plainLength = segmentPlainLength(this.layout, segment);
    const ciphertext = new Uint8Array(plainLength + 16);
    let r = 0;
    for (let j = 0, offset = 0; j < k && offset < ciphertext.length; j++, offset += length) {
      const piece = pieces[j] ?? rebuilt[r++]!;
      ciphertext.set(piece.subarray(0, Math.min(length, ciphertext.length - offset)), offset);
    }
    const last = segment === segmentCount - 1;
    const padded = await this.#cipher.decrypt(segment, last, ciphertext);
    return this.#stripPadding(segment, padded);
  }

  #scratch(i: number): Uint8Array {
    return (this.#scratchBuffers[i] ??= new Uint8Array(this.layout.pieceSize));
  }

  #stripPadding(segment: number, padded: Uint8Array): Uint8Array {
    const start = segment * this.layout.segmentSize;
    const keep = Math.max(0, Math.min(padded.length, this.manifest.size - start));
    for (let i = keep; i < padded.length; i++) {
      if (padded[i] !== 0) throw new IntegrityError(`segment ${segment}: non-zero padding`);
    }
    return keep === padded.length ? padded : padded.subarray(0, keep);
  }

  /**
   * Streams the plaintext: for each segment, asks `fetchPiece` for pieces (data pieces first,
   * then parity), verifies each against its shard root, and moves on to other shards when one
   * is missing or lies. Shards that lied once are not asked again. Pass `engine` (from
   * `@cairn/codec/worker`) to verify and decode in a Web Worker.
   */
  decode(fetchPiece: PieceFetcher, options: DecodeOptions = {}): AsyncGenerator<Uint8Array> {
    return decodePieces(this.layout, options.engine ?? this, fetchPiece, options);
  }
}

/** Where pieces are verified and segments rebuilt: a FileDecoder, or one inside a worker. */
export interface DecodeEngine {
  verifyPiece(
    shard: number,
    segment: number,
    piece: Uint8Array,
    proof: readonly Uint8Array[],
  ): boolean | Promise<boolean>;
  decodeSegment(segment: number, pieces: readonly (Uint8Array | null)[]): Promise<Uint8Array>;
}

/** True when `piece` is exactly segment `segment`'s piece of shard `shard` (against `roots`). */
export function verifyPieceOf(
  layout: Layout,
  roots: readonly Uint8Array[],
  shard: number,
  segment: number,
  piece: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  const root = roots[shard];
  if (!root || piece.length !== pieceLength(layout, segment)) return false;
  const node = subtreeRoot(piece, layout.leafSize, layout.pieceHeight);
  return verifyProof({
    root,
    leafCount: layout.leafCount,
    height: layout.pieceHeight,
    index: segment,
    node,
    proof,
  });
}

async function* decodePieces(
  layout: Layout,
  engine: DecodeEngine,
  fetchPiece: PieceFetcher,
  options: DecodeOptions,
): AsyncGenerator<Uint8Array> {
  for await (const { segment, pieces } of gatherSegments(layout, engine, fetchPiece, options)) {
    const plain = await engine.decodeSegment(segment, pieces);
    if (plain.length > 0) yield plain;
  }
}

export interface GatherOptions extends Omit<DecodeOptions, 'engine' | 'kernel'> {
  /** Shards never to ask (known gone, or the ones being rebuilt). */
  exclude?: readonly number[];
}

/**
 * Any k verified pieces of every segment in order (null where a piece was not fetched), with
 * `prefetch` segments gathered ahead and `hedge` extra requests per segment. Shared by decoding
 * (plaintext) and rebuilding (missing shards).
 */
export async function* gatherSegments(
  layout: Layout,
  engine: Pick<DecodeEngine, 'verifyPiece'>,
  fetchPiece: PieceFetcher,
  options: GatherOptions,
): AsyncGenerator<{ segment: number; pieces: (Uint8Array | null)[] }> {
  const { segmentCount } = layout;
  const ahead = Math.max(0, Math.floor(options.prefetch ?? 0));
  const distrusted = new Set<number>(options.exclude);
  // Every fetch stops when the consumer stops (or fails): nothing keeps running behind it.
  const stop = new AbortController();
  const onAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const fetching = new Map<number, Promise<(Uint8Array | null)[]>>();
  const start = (segment: number) => {
    if (segment >= segmentCount || fetching.has(segment)) return;
    const p = fetchSegment(layout, engine, fetchPiece, options, segment, distrusted, stop.signal);
    p.catch(() => {}); // observed when its turn comes
    fetching.set(segment, p);
  };
  try {
    for (let segment = 0; segment < segmentCount; segment++) {
      options.signal?.throwIfAborted();
      // The window opens one segment per segment done, so the first one (the time to first
      // byte) does not share the links with prefetches.
      for (let s = segment; s <= segment + Math.min(ahead, segment); s++) start(s);
      const pieces = await fetching.get(segment)!;
      fetching.delete(segment);
      options.signal?.throwIfAborted();
      yield { segment, pieces };
    }
  } finally {
    stop.abort(new Error('decoding stopped'));
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Any k verified pieces of one segment (k + hedge requests in flight, more as some fail). */
async function fetchSegment(
  layout: Layout,
  engine: Pick<DecodeEngine, 'verifyPiece'>,
  fetchPiece: PieceFetcher,
  options: GatherOptions,
  segment: number,
  distrusted: Set<number>,
  parent: AbortSignal,
): Promise<(Uint8Array | null)[]> {
  const { k, n } = layout;
  const hedge = Math.max(0, Math.min(options.hedge ?? 0, n - k));
  const pieces: (Uint8Array | null)[] = new Array<Uint8Array | null>(n).fill(null);
  const order = [...Array(n).keys()].filter((j) => !distrusted.has(j));
  const failures = { missing: 0, corrupt: 0 };
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  try {
    let verified = 0;
    let next = 0;
    const inFlight = new Set<Promise<void>>();
    const begin = (shard: number) => {
      const p: Promise<void> = (async () => {
        const response = await fetchPiece({ segment, shard, signal: controller.signal }).catch(
          () => null,
        );
        if (verified >= k || controller.signal.aborted) return;
        if (!response) {
          failures.missing++;
          options.onRejected?.({ shard, segment, reason: 'unavailable' });
        } else if (await engine.verifyPiece(shard, segment, response.piece, response.proof)) {
          if (verified >= k) return;
          pieces[shard] = response.piece;
          verified++;
        } else {
          failures.corrupt++;
          distrusted.add(shard);
          options.onRejected?.({ shard, segment, reason: 'corrupt' });
        }
      })().finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    const usable = (j: number) => !distrusted.has(j);
    while (next < order.length && inFlight.size < k + hedge) {
      const shard = order[next++]!;
      if (usable(shard)) begin(shard);
    }
    while (verified < k && inFlight.size > 0) {
      await Promise.race(inFlight);
      if (parent.aborted) throw parent.reason;
      while (verified + inFlight.size < k + hedge && next < order.length) {
        const shard = order[next++]!;
        if (usable(shard)) begin(shard);
      }
    }
    if (verified < k) {
      throw new NotEnoughPiecesError(
        `segment ${segment}: ${verified} verified pieces of the ${k} needed ` +
          `(${failures.missing} unavailable, ${failures.corrupt} failed verification)`,
      );
    }
    return pieces;
  } finally {
    controller.abort();
    parent.removeEventListener('abort', onAbort);
  }
}

/** Opens a sealed manifest and streams the file's plaintext. */
export async function* decodeFile(
  sealedManifest: Uint8Array,
  fileKey: Uint8Array,
  fetchPiece: PieceFetcher,
  options?: DecodeOptions,
): AsyncGenerator<Uint8Array> {
  const decoder = await FileDecoder.open(sealedManifest, fileKey);
  yield* decoder.decode(fetchPiece, options);
}
