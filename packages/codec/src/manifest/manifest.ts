/**
 * The manifest: everything needed to rebuild a file from its shards, in a versioned canonical
 * binary encoding, and sealed (AES-256-GCM, key-committing header) under a key derived from the
 * file key. See README.md in this folder for the byte layout.
 */
import {
  IntegrityError,
  MalformedError,
  UnsupportedVersionError,
  WrongKeyError,
} from '../errors.ts';
import { concatBytes, equalBytes, randomBytes, utf8 } from '../bytes.ts';
import { HKDF_INFO, _bufferSource, deriveAesGcmKey, deriveBytes } from '../crypto/hkdf.ts';
import { FILE_ID_SIZE, FILE_KEY_SIZE, TAG_SIZE } from '../crypto/stream.ts';
import { MAX_PIECE_SIZE } from '../constants.ts';
import { ByteReader, ByteWriter, isWellFormedString } from './encoding.ts';

export interface Manifest {
  version: 1;
  /** 16 bytes; salts the segment key, so segments of one file never open in another. */
  fileId: Uint8Array;
  /** UTF-8, at most 1024 bytes encoded, no lone surrogates. */
  name: string;
  /** Printable ASCII (0x20..0x7e), at most 255 bytes; empty when unknown. */
  mimeType: string;
  /** Plaintext bytes (a safe integer). */
  size: number;
  /** Milliseconds since the epoch, 0 when unknown. */
  modified: number;
  cipher: 'aes-256-gcm-stream-v1';
  /** Plaintext bytes per full segment. */
  segmentSize: number;
  /** Plaintext bytes after size-class padding (>= size). */
  paddedSize: number;
  /** Erasure parameters: 1 <= k, 0 <= m, k + m <= 256. */
  k: number;
  m: number;
  /** Bytes per erasure piece of a full segment: ceil((segmentSize + TAG_SIZE) / k). */
  pieceSize: number;
  merkle: { hash: 'sha256-v1'; leafSize: number };
  /** k + m shard Merkle roots, 32 bytes each, in shard order. */
  roots: Uint8Array[];
}

export const MANIFEST_VERSION = 1;
/** Upper bound on an encoded manifest, checked before anything is parsed. */
export const MAX_MANIFEST_SIZE = 64 * 1024;
export const MAX_NAME_BYTES = 1024;
export const MAX_MIME_TYPE_BYTES = 255;
export const MAX_SHARDS = 256;
export const ROOT_SIZE = 32;
/** Same bounds as the shard layout (layout.ts): leaves of 32..4096 bytes, pieces of leafSize * 2^h up to MAX_PIECE_SIZE. */
export const MIN_LEAF_SIZE = 32;
export const MAX_LEAF_SIZE = 4096;

/** Wire ids of the algorithm names (one byte each; 0 is never assigned). */
export const CIPHER_IDS = { 'aes-256-gcm-stream-v1': 1 } as const;
export const MERKLE_HASH_IDS = { 'sha256-v1': 1 } as const;

const CIPHER_BY_ID = new Map<number, Manifest['cipher']>([[1, 'aes-256-gcm-stream-v1']]);
const HASH_BY_ID = new Map<number, Manifest['merkle']['hash']>([[1, 'sha256-v1']]);

/** Segments a decoder must expect: the last one (index count - 1) is the one opened with last = 1. */
export function manifestSegmentCount(m: Pick<Manifest, 'paddedSize' | 'segmentSize'>): number {
  return Math.max(1, Math.ceil(m.paddedSize / m.segmentSize));
}

function _isPowerOfTwo(x: number): boolean {
  return Number.isSafeInteger(x) && x > 0 && (x & (x - 1)) === 0;
}

function _fail(field: string, message: string): never {
  throw new MalformedError(`manifest ${field}: ${message}`);
}

function _checkInteger(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    _fail(field, `must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}

/**
 * Checks every field of a manifest, whether built in memory (before encoding) or just decoded.
 * MalformedError names the field; UnsupportedVersionError for an unknown version, cipher or hash.
 */
export function checkManifest(m: Manifest): void {
  if (typeof m !== 'object' || m === null) throw new MalformedError('manifest: not an object');
  if (m.version !== MANIFEST_VERSION) {
    throw new UnsupportedVersionError(
      `manifest version ${String(m.version)} is not supported (expected 1)`,
    );
  }
  if (!(m.fileId instanceof Uint8Array) || m.fileId.length !== FILE_ID_SIZE) {
    _fail('fileId', `must be ${FILE_ID_SIZE} bytes`);
  }
  if (typeof m.name !== 'string' || !isWellFormedString(m.name))
    _fail('name', 'must be a well-formed string');
  const nameBytes = utf8.encode(m.name).length;
  if (nameBytes > MAX_NAME_BYTES) _fail('name', `${nameBytes} bytes exceeds ${MAX_NAME_BYTES}`);
  if (typeof m.mimeType !== 'string' || !/^[\x20-\x7e]*$/.test(m.mimeType)) {
    _fail('mimeType', 'must be printable ASCII');
  }
  if (m.mimeType.length > MAX_MIME_TYPE_BYTES) {
    _fail('mimeType', `${m.mimeType.length} bytes exceeds ${MAX_MIME_TYPE_BYTES}`);
  }
  _checkInteger('size', m.size, 0, Number.MAX_SAFE_INTEGER);
  _checkInteger('modified', m.modified, 0, Number.MAX_SAFE_INTEGER);
  if (!CIPHER_BY_ID.has(CIPHER_IDS[m.cipher as keyof typeof CIPHER_IDS])) {
    throw new UnsupportedVersionError(`manifest cipher ${String(m.cipher)} is not supported`);
  }
  _checkInteger('segmentSize', m.segmentSize, 1, MAX_SHARDS * MAX_PIECE_SIZE);
  _checkInteger('paddedSize', m.paddedSize, 0, Number.MAX_SAFE_INTEGER);
  if (m.size > m.paddedSize) _fail('paddedSize', `${m.paddedSize} is smaller than size ${m.size}`);
  _checkInteger('k', m.k, 1, MAX_SHARDS);
  _checkInteger('m', m.m, 0, MAX_SHARDS - 1);
  if (m.k + m.m > MAX_SHARDS) _fail('m', `k + m = ${m.k + m.m} exceeds ${MAX_SHARDS}`);
  _checkInteger('pieceSize', m.pieceSize, 1, MAX_PIECE_SIZE);
  if (m.pieceSize !== Math.ceil((m.segmentSize + TAG_SIZE) / m.k)) {
    _fail('pieceSize', `${m.pieceSize} is not ceil((segmentSize + ${TAG_SIZE}) / k)`);
  }
  if (typeof m.merkle !== 'object' || m.merkle === null) _fail('merkle', 'missing');
  if (!HASH_BY_ID.has(MERKLE_HASH_IDS[m.merkle.hash as keyof typeof MERKLE_HASH_IDS])) {
    throw new UnsupportedVersionError(
      `manifest merkle hash ${String(m.merkle.hash)} is not supported`,
    );
  }
  _checkInteger('merkle.leafSize', m.merkle.leafSize, MIN_LEAF_SIZE, MAX_LEAF_SIZE);
  if (!_isPowerOfTwo(m.merkle.leafSize))
    _fail('merkle.leafSize', `${m.merkle.leafSize} is not a power of two`);
  if (m.pieceSize % m.merkle.leafSize !== 0 || !_isPowerOfTwo(m.pieceSize / m.merkle.leafSize)) {
    _fail('pieceSize', `${m.pieceSize} is not leafSize * 2^h`);
  }
  if (!Array.isArray(m.roots)) _fail('roots', 'must be an array');
  if (m.roots.length !== m.k + m.m)
    _fail('roots', `has ${m.roots.length} entries, k + m = ${m.k + m.m}`);
  m.roots.forEach((root, i) => {
    if (!(root instanceof Uint8Array) || root.length !== ROOT_SIZE)
      _fail(`roots[${i}]`, `must be ${ROOT_SIZE} bytes`);
  });
}

/** The one canonical encoding of a manifest (layout in README.md). Validates first. */
export function encodeManifest(m: Manifest): Uint8Array {
  checkManifest(m);
  const w = new ByteWriter()
    .u8(MANIFEST_VERSION)
    .bytes(m.fileId)
    .string(m.name)
    .string(m.mimeType)
    .varint(m.size)
    .varint(m.modified)
    .u8(CIPHER_IDS[m.cipher])
    .varint(m.segmentSize)
    .varint(m.paddedSize)
    .varint(m.k)
    .varint(m.m)
    .varint(m.pieceSize)
    .u8(MERKLE_HASH_IDS[m.merkle.hash])
    .varint(m.merkle.leafSize);
  for (const root of m.roots) w.bytes(root);
  return w.finish();
}

/** Parses and validates a canonical manifest encoding; rejects anything encodeManifest would not produce. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (bytes.length > MAX_MANIFEST_SIZE) {
    throw new MalformedError(
      `manifest: ${bytes.length} bytes exceeds the maximum ${MAX_MANIFEST_SIZE}`,
    );
  }
  const r = new ByteReader(bytes);
  const version = r.u8('manifest version');
  if (version !== MANIFEST_VERSION) {
    throw new UnsupportedVersionError(`manifest version ${version} is not supported (expected 1)`);
  }
  const fileId = r.bytes('manifest fileId', FILE_ID_SIZE);
  const name = r.string('manifest name', MAX_NAME_BYTES);
  const mimeType = r.string('manifest mimeType', MAX_MIME_TYPE_BYTES);
  const size = r.varint('manifest size');
  const modified = r.varint('manifest modified');
  const cipherId = r.u8('manifest cipher');
  const cipher = CIPHER_BY_ID.get(cipherId);
  if (cipher === undefined)
    throw new UnsupportedVersionError(`manifest cipher id ${cipherId} is not supported`);
  const segmentSize = r.varint('manifest segmentSize');
  const paddedSize = r.varint('manifest paddedSize');
  const k = r.varint('manifest k', MAX_SHARDS);
  const m = r.varint('manifest m', MAX_SHARDS);
  const pieceSize = r.varint('manifest pieceSize');
  const hashId = r.u8('manifest merkle.hash');
  const hash = HASH_BY_ID.get(hashId);
  if (hash === undefined)
    throw new UnsupportedVersionError(`manifest merkle hash id ${hashId} is not supported`);
  const leafSize = r.varint('manifest merkle.leafSize');
  if (k + m > MAX_SHARDS) _fail('m', `k + m = ${k + m} exceeds ${MAX_SHARDS}`);
  const roots: Uint8Array[] = [];
  for (let i = 0; i < k + m; i++) roots.push(r.bytes(`manifest roots[${i}]`, ROOT_SIZE));
  r.end('manifest');
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    fileId,
    name,
    mimeType,
    size,
    modified,
    cipher,
    segmentSize,
    paddedSize,
    k,
    m,
    pieceSize,
    merkle: { hash, leafSize },
    roots,
  };
  checkManifest(manifest);
  return manifest;
}

// ---- sealing --------------------------------------------------------------------------------

export const SEALED_MAGIC = utf8.encode('CAIRN');
export const SEALED_FORMAT_VERSION = 1;
export const KEY_CHECK_SIZE = 32;
export const SEALED_NONCE_SIZE = 12;
/** magic || version || key check || nonce: the associated data of the AES-GCM seal. */
export const SEALED_HEADER_SIZE = SEALED_MAGIC.length + 1 + KEY_CHECK_SIZE + SEALED_NONCE_SIZE;
/**
 * The sealed plaintext is padded to a multiple of this, so the blob's size does not give away the
 * exact length of the name and type (the roots, (k + m) * 32 bytes, dominate the rest).
 */
export const SEALED_PADDING_BLOCK = 256;
export const MAX_SEALED_MANIFEST_SIZE =
  SEALED_HEADER_SIZE + MAX_MANIFEST_SIZE + SEALED_PADDING_BLOCK + TAG_SIZE;

/** ISO/IEC 7816-4 padding: 0x80 then zeros up to the next multiple of the block (always at least one byte). */
function _pad(encoded: Uint8Array): Uint8Array {
  const padded = new Uint8Array(
    Math.ceil((encoded.length + 1) / SEALED_PADDING_BLOCK) * SEALED_PADDING_BLOCK,
  );
  padded.set(encoded);
  padded[encoded.length] = 0x80;
  return padded;
}

function _unpad(padded: Uint8Array): Uint8Array {
  if (padded.length === 0 || padded.length % SEALED_PADDING_BLOCK !== 0) {
    throw new MalformedError(
      `sealed manifest: padded length ${padded.length} is not a multiple of ${SEALED_PADDING_BLOCK}`,
    );
  }
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x80 || padded.length - end > SEALED_PADDING_BLOCK) {
    throw new MalformedError('sealed manifest: bad padding');
  }
  return padded.subarray(0, end);
}

function _checkFileKey(fileKey: unknown): asserts fileKey is Uint8Array {
  if (!(fileKey instanceof Uint8Array)) throw new TypeError('fileKey must be a Uint8Array');
  if (fileKey.length !== FILE_KEY_SIZE) {
    throw new RangeError(`fileKey must be ${FILE_KEY_SIZE} bytes, got ${fileKey.length}`);
  }
}

/**
 * Key commitment. AES-GCM is not key-committing (one ciphertext can be made to open under two
 * chosen keys), so the header carries a hash-based commitment to the file key; a different key
 * fails this check first and gets WrongKeyError rather than a generic authentication failure.
 */
function _keyCheck(fileKey: Uint8Array): Promise<Uint8Array> {
  return deriveBytes(fileKey, undefined, HKDF_INFO.keyCheck, KEY_CHECK_SIZE);
}

function _manifestKey(fileKey: Uint8Array): Promise<CryptoKey> {
  return deriveAesGcmKey(fileKey, undefined, HKDF_INFO.manifest);
}

/** "CAIRN" || 0x01 || keyCheck(32) || nonce(12) || AES-256-GCM(pad(encodeManifest(m)), ad = those 50 bytes). */
export async function sealManifest(m: Manifest, fileKey: Uint8Array): Promise<Uint8Array> {
  _checkFileKey(fileKey);
  const plaintext = _pad(encodeManifest(m));
  const [keyCheck, key] = await Promise.all([_keyCheck(fileKey), _manifestKey(fileKey)]);
  const header = concatBytes(
    SEALED_MAGIC,
    new Uint8Array([SEALED_FORMAT_VERSION]),
    keyCheck,
    randomBytes(SEALED_NONCE_SIZE),
  );
  const ciphertext = await globalThis.crypto.subtle.encrypt(
    {
      name: 'AES-GCM',
      iv: _bufferSource(header.subarray(SEALED_HEADER_SIZE - SEALED_NONCE_SIZE)),
      additionalData: _bufferSource(header),
      tagLength: TAG_SIZE * 8,
    },
    key,
    _bufferSource(plaintext),
  );
  return concatBytes(header, new Uint8Array(ciphertext));
}

/**
 * Opens a sealed manifest. MalformedError: not a sealed manifest (wrong magic, too short, too
 * long). UnsupportedVersionError: unknown format version. WrongKeyError: `fileKey` is not the key
 * it was sealed with. IntegrityError: any byte of the header, nonce, ciphertext or tag altered.
 */
export async function openManifest(sealed: Uint8Array, fileKey: Uint8Array): Promise<Manifest> {
  if (!(sealed instanceof Uint8Array)) throw new TypeError('sealed must be a Uint8Array');
  _checkFileKey(fileKey);
  if (sealed.length > MAX_SEALED_MANIFEST_SIZE) {
    throw new MalformedError(
      `sealed manifest: ${sealed.length} bytes exceeds ${MAX_SEALED_MANIFEST_SIZE}`,
    );
  }
  if (
    sealed.length < SEALED_MAGIC.length ||
    !equalBytes(sealed.subarray(0, SEALED_MAGIC.length), SEALED_MAGIC)
  ) {
    throw new MalformedError('sealed manifest: missing "CAIRN" magic');
  }
  if (sealed.length < SEALED_MAGIC.length + 1)
    throw new MalformedError('sealed manifest: truncated header');
  const format = sealed[SEALED_MAGIC.length]!;
  if (format !== SEALED_FORMAT_VERSION) {
    throw new UnsupportedVersionError(
      `sealed manifest format ${format} is not supported (expected 1)`,
    );
  }
  if (sealed.length < SEALED_HEADER_SIZE + TAG_SIZE) {
    throw new MalformedError(
      `sealed manifest: ${sealed.length} bytes is shorter than header and tag`,
    );
  }
  const header = sealed.subarray(0, SEALED_HEADER_SIZE);
  const storedCheck = header.subarray(
    SEALED_MAGIC.length + 1,
    SEALED_MAGIC.length + 1 + KEY_CHECK_SIZE,
  );
  const nonce = header.subarray(SEALED_HEADER_SIZE - SEALED_NONCE_SIZE);
  const [keyCheck, key] = await Promise.all([_keyCheck(fileKey), _manifestKey(fileKey)]);
  // The associated data is the header as the key says it should be (with the recomputed key
  // check), so the seal opens exactly when the key is right and nothing else was altered; the
  // stored key check then only tells a wrong key (seal fails, check differs) from tampering.
  const expectedHeader = concatBytes(header.subarray(0, SEALED_MAGIC.length + 1), keyCheck, nonce);
  let plaintext: Uint8Array | undefined;
  try {
    plaintext = new Uint8Array(
      await globalThis.crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: _bufferSource(nonce.slice()),
          additionalData: _bufferSource(expectedHeader),
          tagLength: TAG_SIZE * 8,
        },
        key,
        _bufferSource(sealed.slice(SEALED_HEADER_SIZE)),
      ),
    );
  } catch {
    plaintext = undefined;
  }
  if (plaintext === undefined) {
    if (!equalBytes(storedCheck, keyCheck)) {
      throw new WrongKeyError('sealed manifest: the key does not match its key commitment');
    }
    throw new IntegrityError(
      'sealed manifest: authentication failed (nonce, ciphertext or tag altered)',
    );
  }
  if (!equalBytes(storedCheck, keyCheck)) {
    throw new IntegrityError('sealed manifest: key commitment was altered');
  }
  return decodeManifest(_unpad(plaintext));
}
