/**
 * The upload half of the data plane: plaintext stream -> padded segments -> STREAM-encrypted
 * segments -> k data + m parity pieces -> n shards, each committed to by a Merkle root.
 *
 * Memory stays bounded: one plaintext segment is buffered while reading, one segment's n pieces
 * are handed to the consumer at a time, and the Merkle builders keep O(log size) state.
 */
import { DEFAULT_K, DEFAULT_M, DEFAULT_PIECE_SIZE } from './constants.ts';
import {
  SegmentCipher,
  generateFileId,
  generateFileKey,
  FILE_ID_SIZE,
  FILE_KEY_SIZE,
} from './crypto/index.ts';
import { ReedSolomon, type ErasureKernel } from './erasure/index.ts';
import { checkLayoutParams, layoutOf, SEGMENT_TAG_SIZE, segmentSizeFor } from './layout.ts';
import type { Manifest } from './manifest/index.ts';
import { MerkleBuilder, MERKLE_LEAF_SIZE } from './merkle/index.ts';
import { paddedSize } from './padding.ts';
import { segmentBytes, type ByteSource } from './segmenter.ts';

export interface EncodingParams {
  k: number;
  m: number;
  pieceSize: number;
  leafSize: number;
}

export interface SegmentEngineInit extends EncodingParams {
  fileKey: Uint8Array;
  fileId: Uint8Array;
  /** @default 'auto' */
  kernel?: ErasureKernel | 'auto';
}

/**
 * The heavy per-segment work (encrypt, erasure-code, hash). `SegmentEncoder` runs it in the
 * calling thread; `@cairn/codec/worker` runs the same class in a Web Worker behind this interface.
 */
export interface SegmentEngine {
  /**
   * Encodes one segment. Returns one buffer holding the n pieces back to back (piece j at
   * j * pieceLength), so a worker can hand it over as a single transferable.
   */
  encode(index: number, last: boolean, plaintext: Uint8Array): Promise<Uint8Array>;
  /** The shards' Merkle roots, once every segment has been encoded. */
  finish(): Promise<{ roots: Uint8Array[] }>;
  close?(): void;
}

export class SegmentEncoder implements SegmentEngine {
  readonly #params: EncodingParams;
  readonly #cipher: SegmentCipher;
  readonly #rs: ReedSolomon;
  readonly #builders: MerkleBuilder[];
  #next = 0;
  #done = false;

  private constructor(params: EncodingParams, cipher: SegmentCipher, rs: ReedSolomon) {
    this.#params = params;
    this.#cipher = cipher;
    this.#rs = rs;
    this.#builders = Array.from(
      { length: params.k + params.m },
      () => new MerkleBuilder(params.leafSize),
    );
  }

  static async create(init: SegmentEngineInit): Promise<SegmentEncoder> {
    const params = { k: init.k, m: init.m, pieceSize: init.pieceSize, leafSize: init.leafSize };
    checkLayoutParams(params);
    const cipher = await SegmentCipher.create(init.fileKey, init.fileId);
    const rs = new ReedSolomon(init.k, init.m, { kernel: init.kernel ?? 'auto' });
    return new SegmentEncoder(params, cipher, rs);
  }

  get kernel(): ErasureKernel {
    return this.#rs.kernel;
  }

  async encode(index: number, last: boolean, plaintext: Uint8Array): Promise<Uint8Array> {
    const { k, m, pieceSize } = this.#params;
    if (this.#done) throw new Error('SegmentEncoder: already finished');
    if (index !== this.#next)
      throw new RangeError(
        `segments must be encoded in order: expected ${this.#next}, got ${index}`,
      );
    const maxPlain = segmentSizeFor(k, pieceSize);
    if (plaintext.length > maxPlain || (!last && plaintext.length !== maxPlain)) {
      throw new RangeError(
        `segment ${index}: ${plaintext.length} bytes, expected ${last ? '<= ' : ''}${maxPlain}`,
      );
    }
    const ciphertext = await this.#cipher.encrypt(index, last, plaintext);
    const pieceLength = Math.ceil(ciphertext.length / k);
    const out = new Uint8Array((k + m) * pieceLength);
    out.set(ciphertext); // the tail of the last data piece stays zero
    const pieces = Array.from({ length: k + m }, (_, j) =>
      out.subarray(j * pieceLength, (j + 1) * pieceLength),
    );
    this.#rs.encodeInto(pieces.slice(0, k), pieces.slice(k));
    for (let j = 0; j < pieces.length; j++) this.#builders[j]!.append(pieces[j]!);
    this.#next++;
    if (last) this.#done = true;
    return out;
  }

  async finish(): Promise<{ roots: Uint8Array[] }> {
    if (!this.#done) throw new Error('SegmentEncoder: the last segment has not been encoded');
    return { roots: this.#builders.map((b) => b.finish().root) };
  }
}

export interface EncodeOptions extends Partial<EncodingParams> {
  name?: string;
  mimeType?: string;
  /** Last modification time, ms since epoch. */
  modified?: number;
  /** A fresh random key is made when none is given. */
  fileKey?: Uint8Array;
  fileId?: Uint8Array;
  /** Where the heavy work runs: a worker engine, or (default) a SegmentEncoder in this thread. */
  engine?: (init: SegmentEngineInit) => Promise<SegmentEngine>;
  kernel?: ErasureKernel | 'auto';
  signal?: AbortSignal;
}

export interface EncodedSegment {
  index: number;
  last: boolean;
  /** Bytes of each piece of this segment (pieceSize, except in the last segment). */
  pieceLength: number;
  /** n pieces: piece j goes to shard j. Views into one buffer owned by the consumer. */
  pieces: Uint8Array[];
}

/**
 * An upload in progress: iterate it to receive each segment's pieces (piece j belongs to shard
 * j); when the iteration ends, `manifest()` describes the file.
 */
export class FileEncoding implements AsyncIterable<EncodedSegment> {
  readonly fileKey: Uint8Array;
  readonly fileId: Uint8Array;
  readonly params: EncodingParams;
  readonly #source: ByteSource;
  readonly #options: EncodeOptions;
  #manifest: Manifest | undefined;
  #started = false;

  constructor(source: ByteSource, options: EncodeOptions = {}) {
    this.params = {
      k: options.k ?? DEFAULT_K,
      m: options.m ?? DEFAULT_M,
      pieceSize: options.pieceSize ?? DEFAULT_PIECE_SIZE,
      leafSize: options.leafSize ?? MERKLE_LEAF_SIZE,
    };
    checkLayoutParams(this.params);
    this.fileKey = options.fileKey ?? generateFileKey();
    this.fileId = options.fileId ?? generateFileId();
    if (this.fileKey.length !== FILE_KEY_SIZE)
      throw new RangeError(`fileKey must be ${FILE_KEY_SIZE} bytes`);
    if (this.fileId.length !== FILE_ID_SIZE)
      throw new RangeError(`fileId must be ${FILE_ID_SIZE} bytes`);
    this.#source = source;
    this.#options = options;
  }

  /** The manifest of the encoded file; available once iteration has finished. */
  manifest(): Manifest {
    if (!this.#manifest)
      throw new Error('FileEncoding: the manifest exists only after every segment was read');
    return this.#manifest;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<EncodedSegment> {
    if (this.#started) throw new Error('FileEncoding: can be iterated only once');
    this.#started = true;
    const { k, m, pieceSize, leafSize } = this.params;
    const signal = this.#options.signal;
    const init: SegmentEngineInit = {
      ...this.params,
      fileKey: this.fileKey,
      fileId: this.fileId,
      kernel: this.#options.kernel ?? 'auto',
    };
    const engine: SegmentEngine = await (this.#options.engine ?? SegmentEncoder.create)(init);
    try {
      const segmentSize = segmentSizeFor(k, pieceSize);
      let total = 0;
      let index = 0;
      const emit = async (plain: Uint8Array, last: boolean): Promise<EncodedSegment> => {
        signal?.throwIfAborted();
        // Measure before encoding: a worker engine takes the plaintext over (transfer detaches it).
        const pieceLength = Math.ceil((plain.length + SEGMENT_TAG_SIZE) / k);
        const buffer = await engine.encode(index, last, plain);
        if (buffer.length !== (k + m) * pieceLength) {
          throw new Error(`segment ${index}: engine returned ${buffer.length} bytes`);
        }
        const pieces = Array.from({ length: k + m }, (_, j) =>
          buffer.subarray(j * pieceLength, (j + 1) * pieceLength),
        );
        return { index: index++, last, pieceLength, pieces };
      };

      // Hold one segment back: only when the source ends do we know the padded size, and so
      // which segment is last.
      let pending: Uint8Array | undefined;
      for await (const segment of segmentBytes(this.#source, segmentSize)) {
        signal?.throwIfAborted();
        total += segment.length;
        if (pending) yield await emit(pending, false);
        pending = segment;
      }
      const padded = paddedSize(total);
      // The tail: the held-back segment (full, partial or empty) followed by zero padding.
      let tail = pending ?? new Uint8Array(0);
      let padding = padded - total;
      for (;;) {
        const room = segmentSize - tail.length;
        if (padding > 0 && room > 0) {
          const grown = new Uint8Array(tail.length + Math.min(room, padding));
          grown.set(tail);
          padding -= grown.length - tail.length;
          tail = grown;
        }
        if (padding === 0) {
          yield await emit(tail, true);
          break;
        }
        yield await emit(tail, false);
        tail = new Uint8Array(0);
      }
      const { roots } = await engine.finish();
      const layout = layoutOf({ paddedSize: padded, k, m, pieceSize, leafSize });
      if (layout.segmentCount !== index) {
        throw new Error(`internal: emitted ${index} segments, layout says ${layout.segmentCount}`);
      }
      this.#manifest = {
        version: 1,
        fileId: this.fileId,
        name: this.#options.name ?? '',
        mimeType: this.#options.mimeType ?? 'application/octet-stream',
        size: total,
        modified: this.#options.modified ?? 0,
        cipher: 'aes-256-gcm-stream-v1',
        segmentSize,
        paddedSize: padded,
        k,
        m,
        pieceSize,
        merkle: { hash: 'sha256-v1', leafSize },
        roots,
      };
    } finally {
      engine.close?.();
    }
  }
}

/** Starts encoding a file. Iterate the result for the pieces; then read `.manifest()`. */
export function encodeFile(source: ByteSource, options?: EncodeOptions): FileEncoding {
  return new FileEncoding(source, options);
}
