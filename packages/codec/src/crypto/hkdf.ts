/**
 * HKDF-SHA256 (RFC 5869) through WebCrypto, and the info labels that keep every derived key in
 * its own domain. A key derived under one label says nothing about a key derived under another,
 * so a label is never reused for a second purpose: a new purpose gets a new label.
 */
import { copyBytes, utf8 } from '../bytes.ts';

/** Every HKDF info label the codec uses. Versioned, so a v2 derivation can never collide with v1. */
export const HKDF_INFO = {
  /** Per-file AES-256-GCM key for STREAM segments (salt = fileId). */
  segment: 'cairn/v1/segment',
  /** Per-file AES-256-GCM key that seals the manifest (salt empty). */
  manifest: 'cairn/v1/manifest',
  /** Key commitment stored in the sealed manifest header (salt empty). */
  keyCheck: 'cairn/v1/key-check',
  /** Drive key, from the BIP-39 seed (salt empty). */
  driveKey: 'cairn/v1/drive-key',
  /** Ed25519 peer identity seed, from the BIP-39 seed (salt empty). */
  peerIdentity: 'cairn/v1/peer-identity',
} as const;

export type HkdfInfo = (typeof HKDF_INFO)[keyof typeof HKDF_INFO];

/** RFC 5869 limit for SHA-256: 255 blocks of 32 bytes. */
export const HKDF_MAX_LENGTH = 255 * 32;

const EMPTY = new Uint8Array(0);

function _infoBytes(info: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof info === 'string' ? copyBytes(utf8.encode(info)) : copyBytes(info);
}

function _checkBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

async function _importIkm(ikm: Uint8Array): Promise<CryptoKey> {
  _checkBytes(ikm, 'ikm');
  return globalThis.crypto.subtle.importKey('raw', copyBytes(ikm), 'HKDF', false, [
    'deriveBits',
    'deriveKey',
  ]);
}

function _params(salt: Uint8Array | undefined, info: string | Uint8Array): HkdfParams {
  const s = salt ?? EMPTY;
  _checkBytes(s, 'salt');
  return { name: 'HKDF', hash: 'SHA-256', salt: copyBytes(s), info: _infoBytes(info) };
}

/**
 * HKDF-SHA256(ikm, salt, info) truncated to `length` bytes (1..8160). An empty or absent salt
 * means RFC 5869's default (32 zero bytes), which is what every implementation computes.
 */
export async function deriveBytes(
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: string | Uint8Array,
  length: number,
): Promise<Uint8Array> {
  if (!Number.isInteger(length) || length < 1 || length > HKDF_MAX_LENGTH) {
    throw new RangeError(`length must be an integer in 1..${HKDF_MAX_LENGTH}, got ${length}`);
  }
  const key = await _importIkm(ikm);
  const bits = await globalThis.crypto.subtle.deriveBits(_params(salt, info), key, length * 8);
  return new Uint8Array(bits);
}

/**
 * A non-extractable AES-256-GCM key derived with HKDF-SHA256. The key bytes never reach
 * JavaScript memory, and the CryptoKey can be posted to a worker (it is structured-cloneable).
 */
export async function deriveAesGcmKey(
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: string | Uint8Array,
): Promise<CryptoKey> {
  const key = await _importIkm(ikm);
  return globalThis.crypto.subtle.deriveKey(
    _params(salt, info),
    key,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Imports 32 raw bytes as a non-extractable AES-256-GCM key. */
export async function importAesGcmKey(raw: Uint8Array): Promise<CryptoKey> {
  _checkBytes(raw, 'raw');
  if (raw.length !== 32) throw new RangeError(`raw must be 32 bytes, got ${raw.length}`);
  return globalThis.crypto.subtle.importKey('raw', copyBytes(raw), { name: 'AES-GCM' }, false, [
    'encrypt',
    'decrypt',
  ]);
}

/**
 * A view WebCrypto accepts without copying when it can: an ArrayBuffer-backed array goes through
 * as is; a SharedArrayBuffer-backed one (which WebCrypto rejects) is copied.
 */
export function _bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return Object.prototype.toString.call(bytes.buffer) === '[object ArrayBuffer]'
    ? (bytes as Uint8Array<ArrayBuffer>)
    : copyBytes(bytes);
}
