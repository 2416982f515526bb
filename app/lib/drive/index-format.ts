/**
 * The drive index: the list of a drive's files (each with its share link, so its key), sealed
 * under a key only the recovery phrase gives. Pure (Uint8Array + WebCrypto): the app keeps the
 * sealed bytes in IndexedDB and stores the same bytes on hosts, where it is found again from the
 * phrase alone (see index-store.ts and app/README.md).
 *
 * sealed = "CAIRNIDX" || version(1) || nonce(12) || AES-256-GCM(key, padded, AD = the 9 bytes before the nonce)
 * key    = HKDF-SHA256(driveKey, salt empty, info "cairn/app/v1/drive-index")
 * padded = u32be(json length) || UTF-8 JSON of DriveIndex || zeros, to max(4 KiB, Padmé(length + 4))
 *
 * Padding hides the number of files beyond a few bits; the hosts holding it see its size only.
 */
import { deriveAesGcmKey, padme } from '@cairn/codec';

export const INDEX_MAGIC = new TextEncoder().encode('CAIRNIDX');
export const INDEX_FORMAT_VERSION = 1;
export const INDEX_KEY_INFO = 'cairn/app/v1/drive-index';
/** Stored like a small shard: hosts and lookups accept at most this. */
export const MAX_INDEX_SIZE = 4 * 1024 * 1024;
const MIN_INDEX_SIZE = 4096;

export interface DriveShard {
  shard: number;
  /** Peer id of the host. */
  host: string;
  /** On-chain deal paying for it (decimal), for paid uploads. */
  deal?: string;
}

export interface DriveFile {
  /** Hex of the file record's root: unique per upload. */
  id: string;
  /** The share link's fragment (no origin: the index does not tie a file to one relay's URL). */
  fragment: string;
  name: string;
  size: number;
  type: string;
  /** ms since the epoch. */
  addedAt: number;
  k: number;
  n: number;
  shards: DriveShard[];
  /** Token base units escrowed for all the file's deals (decimal). */
  cost?: string;
  /** Estimated end of the deals (ms since the epoch). */
  endsAt?: number;
}

export interface DriveIndex {
  v: 1;
  /** Grows by one with every change: the highest wins when several copies are found. */
  version: number;
  updatedAt: number;
  files: DriveFile[];
  /** Ids of deleted files, so a merge with an older copy does not bring them back. */
  removed?: string[];
}

export class IndexFormatError extends Error {
  override name = 'IndexFormatError' as const;
}

export function emptyIndex(): DriveIndex {
  return { v: 1, version: 0, updatedAt: 0, files: [] };
}

export function indexKey(driveKey: Uint8Array): Promise<CryptoKey> {
  return deriveAesGcmKey(driveKey, undefined, INDEX_KEY_INFO);
}

function header(): Uint8Array<ArrayBuffer> {
  const h = new Uint8Array(INDEX_MAGIC.length + 1);
  h.set(INDEX_MAGIC);
  h[INDEX_MAGIC.length] = INDEX_FORMAT_VERSION;
  return h;
}

export async function sealIndex(index: DriveIndex, key: CryptoKey): Promise<Uint8Array> {
  const json = new TextEncoder().encode(JSON.stringify(index));
  const size = Math.max(MIN_INDEX_SIZE, padme(json.length + 4));
  const padded = new Uint8Array(size);
  new DataView(padded.buffer).setUint32(0, json.length);
  padded.set(json, 4);
  const ad = header();
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: ad }, key, padded),
  );
  const out = new Uint8Array(ad.length + nonce.length + sealed.length);
  out.set(ad);
  out.set(nonce, ad.length);
  out.set(sealed, ad.length + nonce.length);
  if (out.length > MAX_INDEX_SIZE) throw new RangeError('the drive index outgrew its limit');
  return out;
}

/** True when the bytes start like a sealed index (cheap check before decrypting). */
export function looksLikeIndex(bytes: Uint8Array): boolean {
  const h = header();
  return bytes.length > h.length + 12 + 16 && h.every((b, i) => bytes[i] === b);
}

/** Opens a sealed index: IndexFormatError for anything else, another drive's index, or tampering. */
export async function openIndex(bytes: Uint8Array, key: CryptoKey): Promise<DriveIndex> {
  if (!looksLikeIndex(bytes)) throw new IndexFormatError('not a Cairn drive index');
  const h = header();
  const nonce = bytes.slice(h.length, h.length + 12);
  let padded: Uint8Array;
  try {
    padded = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: h },
        key,
        bytes.slice(h.length + 12),
      ),
    );
  } catch (err) {
    throw new IndexFormatError('the drive index does not open with this key', { cause: err });
  }
  const length = new DataView(padded.buffer, padded.byteOffset).getUint32(0);
  if (length > padded.length - 4) throw new IndexFormatError('drive index length out of range');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(padded.subarray(4, 4 + length)));
  } catch (err) {
    throw new IndexFormatError('drive index is not JSON', { cause: err });
  }
  const index = value as Partial<DriveIndex>;
  if (index.v !== 1 || !Array.isArray(index.files) || typeof index.version !== 'number')
    throw new IndexFormatError('drive index has an unknown shape');
  return index as DriveIndex;
}

/** Merges two copies of an index (e.g. the local one and one found on hosts): union by file id. */
export function mergeIndexes(a: DriveIndex, b: DriveIndex): DriveIndex {
  const removed = new Set([...(a.removed ?? []), ...(b.removed ?? [])]);
  const files = new Map<string, DriveFile>();
  for (const f of [...a.files, ...b.files])
    if (!files.has(f.id) && !removed.has(f.id)) files.set(f.id, f);
  const newer = a.version >= b.version ? a : b;
  return {
    v: 1,
    version: Math.max(a.version, b.version),
    updatedAt: newer.updatedAt,
    files: [...files.values()].sort((x, y) => y.addedAt - x.addedAt),
    removed: [...removed],
  };
}
