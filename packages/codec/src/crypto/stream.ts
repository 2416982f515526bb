/**
 * STREAM segment encryption (Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption
 * and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015), the construction behind age and Tink's
 * streaming AEAD, over AES-256-GCM from WebCrypto.
 *
 * Each segment is sealed on its own under a per-file key with a nonce made of its index and a
 * last-segment flag, so a segment only opens at the position it was written for, only in the file
 * it was written for, and only the true final segment opens with last = 1. A decoder that knows
 * how many segments to expect (from the manifest) therefore detects reordering, swapping between
 * files, truncation and extension.
 */
import { IntegrityError, TruncatedError } from '../errors.ts';
import { concatBytes, randomBytes, u64be, utf8 } from '../bytes.ts';
import { HKDF_INFO, _bufferSource, deriveAesGcmKey } from './hkdf.ts';

/** AES-GCM authentication tag appended to each encrypted segment. */
export const TAG_SIZE = 16;
export const FILE_KEY_SIZE = 32;
export const FILE_ID_SIZE = 16;
export const NONCE_SIZE = 12;
/** Highest segment index (the nonce has 64 bits for it; JavaScript numbers stop at 2^53 - 1). */
export const MAX_SEGMENT_INDEX = Number.MAX_SAFE_INTEGER;
/** Version label bound into every segment's associated data. */
export const STREAM_LABEL = 'cairn/v1/stream';

const LABEL_BYTES = utf8.encode(STREAM_LABEL);

/** A fresh random 32-byte file key. */
export function generateFileKey(): Uint8Array {
  return randomBytes(FILE_KEY_SIZE);
}

/** A fresh random 16-byte file id (public: it appears in the manifest and salts the segment key). */
export function generateFileId(): Uint8Array {
  return randomBytes(FILE_ID_SIZE);
}

/** nonce = u64be(index) || u8(last) || 0x000000 */
export function segmentNonce(index: number, last: boolean): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(NONCE_SIZE);
  nonce.set(u64be(index), 0);
  nonce[8] = last ? 1 : 0;
  return nonce;
}

/** ad = "cairn/v1/stream" || fileId || u64be(index) || u8(last) */
function _associatedData(
  fileId: Uint8Array,
  index: number,
  last: boolean,
): Uint8Array<ArrayBuffer> {
  return concatBytes(
    LABEL_BYTES,
    fileId,
    u64be(index),
    new Uint8Array([last ? 1 : 0]),
  ) as Uint8Array<ArrayBuffer>;
}

function _checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`index must be a non-negative safe integer, got ${index}`);
  }
}

function _checkLength(value: unknown, length: number, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (value.length !== length)
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
}

export class SegmentCipher {
  readonly fileId: Uint8Array;
  readonly #key: CryptoKey;

  private constructor(key: CryptoKey, fileId: Uint8Array) {
    this.#key = key;
    this.fileId = fileId;
  }

  /** Segment key = HKDF-SHA256(fileKey, salt = fileId, info = "cairn/v1/segment"). */
  static async create(fileKey: Uint8Array, fileId: Uint8Array): Promise<SegmentCipher> {
    _checkLength(fileKey, FILE_KEY_SIZE, 'fileKey');
    _checkLength(fileId, FILE_ID_SIZE, 'fileId');
    const id = fileId.slice();
    const key = await deriveAesGcmKey(fileKey, id, HKDF_INFO.segment);
    return new SegmentCipher(key, id);
  }

  /** Returns plaintext.length + TAG_SIZE bytes: ciphertext || tag. */
  async encrypt(index: number, last: boolean, plaintext: Uint8Array): Promise<Uint8Array> {
    _checkIndex(index);
    if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
    const out = await globalThis.crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: segmentNonce(index, last),
        additionalData: _associatedData(this.fileId, index, last),
        tagLength: TAG_SIZE * 8,
      },
      this.#key,
      _bufferSource(plaintext),
    );
    return new Uint8Array(out);
  }

  /**
   * Opens a segment sealed at (index, last) of this file. Any mismatch (flipped bit, wrong
   * position, other file, wrong last flag, wrong key, too short) throws IntegrityError.
   */
  async decrypt(index: number, last: boolean, ciphertext: Uint8Array): Promise<Uint8Array> {
    _checkIndex(index);
    if (!(ciphertext instanceof Uint8Array)) throw new TypeError('ciphertext must be a Uint8Array');
    if (ciphertext.length < TAG_SIZE) {
      throw new IntegrityError(
        `segment ${index}: ${ciphertext.length} bytes is shorter than the tag`,
      );
    }
    try {
      const out = await globalThis.crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: segmentNonce(index, last),
          additionalData: _associatedData(this.fileId, index, last),
          tagLength: TAG_SIZE * 8,
        },
        this.#key,
        _bufferSource(ciphertext),
      );
      return new Uint8Array(out);
    } catch (cause) {
      throw new IntegrityError(
        `segment ${index}${last ? ' (last)' : ''} failed authentication: tampered, misplaced, from another file, or wrong key`,
        { cause },
      );
    }
  }
}

/**
 * Encrypts a stream of plaintext segments, holding one segment back so the final one can be
 * sealed with last = 1. An empty source still yields one (empty) final segment, so even an empty
 * file carries the flag that guards truncation.
 */
export async function* encryptSegmentStream(
  cipher: SegmentCipher,
  segments: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let index = 0;
  let pending: Uint8Array | undefined;
  for await (const segment of segments) {
    if (pending !== undefined) yield await cipher.encrypt(index++, false, pending);
    pending = segment;
  }
  yield await cipher.encrypt(index, true, pending ?? new Uint8Array(0));
}

/**
 * Decrypts exactly `segmentCount` segments (a number the caller takes from the manifest, never
 * from the stream): segment i is opened with last = (i === segmentCount - 1). Fewer segments
 * throw TruncatedError, more throw IntegrityError, and any segment that does not open at its
 * position throws IntegrityError before its plaintext is yielded.
 */
export async function* decryptSegmentStream(
  cipher: SegmentCipher,
  segments: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  segmentCount: number,
): AsyncGenerator<Uint8Array> {
  if (!Number.isSafeInteger(segmentCount) || segmentCount < 1) {
    throw new RangeError(`segmentCount must be a positive safe integer, got ${segmentCount}`);
  }
  let index = 0;
  for await (const segment of segments) {
    if (index >= segmentCount) {
      throw new IntegrityError(`stream continues past its final segment ${segmentCount - 1}`);
    }
    yield await cipher.decrypt(index, index === segmentCount - 1, segment);
    index++;
  }
  if (index < segmentCount) {
    throw new TruncatedError(`stream ended after ${index} of ${segmentCount} segments`);
  }
}
