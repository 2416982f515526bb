/**
 * Share links: the file key and a reference to the sealed manifest, packed into a URL fragment.
 * Browsers never send the fragment (`#...`) to a server, so the relay that serves the share page
 * never sees the key.
 *
 * payload  = version(1) || varint(refLength) || manifestRef || fileKey(32) || checksum(4)
 * checksum = first 4 bytes of SHA-256(everything before it), in every version
 * fragment = base64url(payload), no padding
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { InvalidShareLinkError } from '../errors.ts';
import { concatBytes, equalBytes } from '../bytes.ts';
import { FILE_KEY_SIZE } from './stream.ts';

export const SHARE_LINK_VERSION = 1;
export const MAX_MANIFEST_REF_SIZE = 512;
export const SHARE_LINK_CHECKSUM_SIZE = 4;

export interface ShareLink {
  /** Where the sealed manifest is found (opaque to the codec; e.g. its content hash), 1..512 bytes. */
  manifestRef: Uint8Array;
  /** The file key, 32 bytes. */
  fileKey: Uint8Array;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** base64url (RFC 4648 section 5) without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]!;
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict, canonical base64url without padding: rejects '=', '+', '/', whitespace, an impossible
 * length and non-zero unused bits, so each byte string has exactly one text form.
 */
export function fromBase64Url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new SyntaxError('base64url: impossible length');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const d = c < 128 ? DECODE[c]! : -1;
    if (d < 0) throw new SyntaxError(`base64url: invalid character at position ${i}`);
    value = ((value << 6) | d) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) throw new SyntaxError('base64url: non-zero trailing bits');
  return out;
}

function _checksum(bytes: Uint8Array): Uint8Array {
  return sha256(bytes).subarray(0, SHARE_LINK_CHECKSUM_SIZE);
}

function _varint(value: number): Uint8Array {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return new Uint8Array(out);
}

/** The URL fragment (without '#') for a share link. */
export function encodeShareLink(link: ShareLink): string {
  const { manifestRef, fileKey } = link;
  if (!(manifestRef instanceof Uint8Array)) throw new TypeError('manifestRef must be a Uint8Array');
  if (manifestRef.length < 1 || manifestRef.length > MAX_MANIFEST_REF_SIZE) {
    throw new RangeError(
      `manifestRef must be 1..${MAX_MANIFEST_REF_SIZE} bytes, got ${manifestRef.length}`,
    );
  }
  if (!(fileKey instanceof Uint8Array)) throw new TypeError('fileKey must be a Uint8Array');
  if (fileKey.length !== FILE_KEY_SIZE) {
    throw new RangeError(`fileKey must be ${FILE_KEY_SIZE} bytes, got ${fileKey.length}`);
  }
  const body = concatBytes(
    new Uint8Array([SHARE_LINK_VERSION]),
    _varint(manifestRef.length),
    manifestRef,
    fileKey,
  );
  return toBase64Url(concatBytes(body, _checksum(body)));
}

function _bad(message: string, cause?: unknown): never {
  throw new InvalidShareLinkError(
    `invalid share link: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The fragment part of what a user pasted: a bare fragment, '#fragment', or a whole URL. */
function _fragmentOf(input: string): string {
  const text = input.trim();
  const hash = text.indexOf('#');
  if (hash >= 0) return text.slice(hash + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(text))
    _bad('the URL has no #fragment (the part that carries the key)');
  return text;
}

/**
 * Parses a share link fragment (with or without '#') or a whole URL. Throws InvalidShareLinkError
 * saying what is wrong: not base64url, checksum mismatch (mistyped or cut off), unknown version,
 * bad manifest ref length, wrong key length or trailing bytes.
 */
export function decodeShareLink(fragmentOrUrl: string): ShareLink {
  if (typeof fragmentOrUrl !== 'string') _bad('expected a string');
  const fragment = _fragmentOf(fragmentOrUrl);
  if (fragment === '') _bad('empty');
  // The longest valid payload is 1 + 2 + 512 + 32 + 4 bytes; refuse to decode anything far longer.
  if (fragment.length > 1024) _bad(`${fragment.length} characters is too long`);
  let payload: Uint8Array;
  try {
    payload = fromBase64Url(fragment);
  } catch (cause) {
    _bad(`not base64url (${(cause as Error).message})`, cause);
  }
  if (payload.length < 1 + 1 + SHARE_LINK_CHECKSUM_SIZE) _bad('too short (was the link cut off?)');
  const body = payload.subarray(0, payload.length - SHARE_LINK_CHECKSUM_SIZE);
  if (!equalBytes(payload.subarray(body.length), _checksum(body))) {
    _bad('checksum mismatch (mistyped or cut off?)');
  }
  const version = body[0]!;
  if (version !== SHARE_LINK_VERSION)
    _bad(`version ${version} is not supported (expected ${SHARE_LINK_VERSION})`);
  let offset = 1;
  let refLength = 0;
  for (let shift = 0; ; shift += 7) {
    if (offset >= body.length) _bad('truncated manifest ref length');
    if (shift > 7) _bad('manifest ref length varint too long');
    const byte = body[offset++]!;
    refLength |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && shift > 0) _bad('non-minimal manifest ref length');
      break;
    }
  }
  if (refLength < 1 || refLength > MAX_MANIFEST_REF_SIZE) {
    _bad(`manifest ref length ${refLength} outside 1..${MAX_MANIFEST_REF_SIZE}`);
  }
  const keyLength = body.length - offset - refLength;
  if (keyLength < FILE_KEY_SIZE)
    _bad(`file key is ${Math.max(0, keyLength)} bytes, expected ${FILE_KEY_SIZE}`);
  if (keyLength > FILE_KEY_SIZE)
    _bad(`${keyLength - FILE_KEY_SIZE} trailing bytes after the file key`);
  return {
    manifestRef: body.slice(offset, offset + refLength),
    fileKey: body.slice(offset + refLength),
  };
}
