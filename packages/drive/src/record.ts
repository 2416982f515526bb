/**
 * What a share link points at. The **file record** holds the sealed manifest and the sealed list of
 * which host holds which shard; it is stored like a (small) shard on every host of the file, under
 * its own Merkle root. The link's **manifest reference** names that root and a few of those hosts,
 * so a downloader who holds only the link finds the record, checks it against the root, opens it
 * with the file key, and knows where every shard is. Hosts see only ciphertext.
 *
 * record  = "CAIRNREC" || version(1) || varint(len) || sealedManifest || nonce(12) || AES-GCM(placements)
 *           placements key = HKDF(fileKey, "cairn/v1/placements"), AD = the bytes before the nonce
 *           placements = varint(count) || per entry: varint(shard) || varint(len) || peer id multihash
 *                        || (version 2) varint(deal id + 1, 0 = unpaid)
 * ref     = version(1) || root(32) || varint(recordSize) || count(1) || per hint: varint(len) || peer id multihash
 */
import {
  ByteReader,
  ByteWriter,
  MERKLE_LEAF_SIZE,
  MalformedError,
  MerkleTree,
  deriveAesGcmKey,
  copyBytes,
  openManifest,
  randomBytes,
  utf8,
  type Manifest,
} from '@cairn/codec';
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id';
import { decode as decodeDigest } from 'multiformats/hashes/digest';
import { DriveError } from './errors.ts';
import type { Placement } from './types.ts';

export const RECORD_MAGIC = utf8.encode('CAIRNREC');
export const RECORD_VERSION = 2;
/** Records of version 1 (placements without deal ids) are still read. */
const OLDEST_RECORD_VERSION = 1;
export const MANIFEST_REF_VERSION = 1;
/** The record is small: a sealed manifest (<= 64 KiB) and up to 256 placements. */
export const MAX_RECORD_SIZE = 128 * 1024;
/** Hosts named in a share link; any one of them that is up serves the record. */
export const MAX_LINK_HINTS = 6;
export const PLACEMENTS_INFO = 'cairn/v1/placements';

/** A share link, record or reference that does not parse or does not verify. */
export class InvalidRecordError extends DriveError {
  override name = 'InvalidRecordError' as const;
}

export interface ManifestRef {
  /** Merkle root (sha256-v1, 1 KiB leaves) of the file record. */
  root: Uint8Array;
  size: number;
  /** Peer ids (text) of hosts that hold the record. */
  hints: string[];
}

export interface FileRecord {
  manifest: Manifest;
  sealedManifest: Uint8Array;
  placements: Placement[];
}

export async function encodeFileRecord(
  sealedManifest: Uint8Array,
  placements: readonly Placement[],
  fileKey: Uint8Array,
): Promise<Uint8Array> {
  const head = new ByteWriter()
    .bytes(RECORD_MAGIC)
    .u8(RECORD_VERSION)
    .lengthPrefixed(sealedManifest);
  const body = new ByteWriter().varint(placements.length);
  for (const p of placements) {
    body.varint(p.shard).lengthPrefixed(peerIdBytes(p.host));
    // v2: the deal paying for the shard, plus one (0: none), so a checker can read its status.
    if (p.dealId !== undefined && (p.dealId < 0n || p.dealId >= BigInt(Number.MAX_SAFE_INTEGER)))
      throw new RangeError(`deal id ${p.dealId} out of range`);
    body.varint(p.dealId === undefined ? 0 : Number(p.dealId) + 1);
  }
  const nonce = randomBytes(12);
  const ad = head.finish();
  const key = await deriveAesGcmKey(fileKey, undefined, PLACEMENTS_INFO);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: buffer(nonce), additionalData: buffer(ad) },
      key,
      buffer(body.finish()),
    ),
  );
  const record = new ByteWriter().bytes(ad).bytes(nonce).bytes(sealed).finish();
  if (record.byteLength > MAX_RECORD_SIZE)
    throw new RangeError(`file record of ${record.byteLength} bytes exceeds ${MAX_RECORD_SIZE}`);
  return record;
}

/**
 * Opens a record with the file key: WrongKeyError (from the codec) for another file's key,
 * InvalidRecordError for anything malformed or tampered with.
 */
export async function openFileRecord(record: Uint8Array, fileKey: Uint8Array): Promise<FileRecord> {
  const r = new ByteReader(record);
  const { sealedManifest, ad, nonce, version, sealed } = malformedAsInvalid(() => {
    const magic = r.bytes('magic', RECORD_MAGIC.byteLength);
    if (!magic.every((b, i) => b === RECORD_MAGIC[i]))
      throw new InvalidRecordError('not a Cairn file record');
    const version = r.u8('version');
    if (version < OLDEST_RECORD_VERSION || version > RECORD_VERSION)
      throw new InvalidRecordError(`file record version ${version} is not supported`);
    const sealedManifest = r.lengthPrefixed('sealed manifest', MAX_RECORD_SIZE);
    const ad = record.subarray(0, r.offset);
    const nonce = r.bytes('nonce', 12);
    return { sealedManifest, ad, nonce, version, sealed: r.bytes('placements', r.remaining) };
  });
  const manifest = await openManifest(sealedManifest, fileKey);
  const key = await deriveAesGcmKey(fileKey, undefined, PLACEMENTS_INFO);
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: buffer(nonce), additionalData: buffer(ad) },
        key,
        buffer(sealed),
      ),
    );
  } catch (err) {
    throw new InvalidRecordError('the placements do not decrypt: tampered record', { cause: err });
  }
  const placements = malformedAsInvalid(() => {
    const p = new ByteReader(plain);
    const n = manifest.roots.length;
    const count = p.varint('placement count', 4 * n);
    const out: Placement[] = [];
    for (let i = 0; i < count; i++) {
      const shard = p.varint('shard', n - 1);
      const host = peerIdText(p.lengthPrefixed('host', 128));
      const deal = version >= 2 ? p.varint('deal') : 0;
      out.push({ shard, host, ...(deal > 0 ? { dealId: BigInt(deal - 1) } : {}) });
    }
    p.end('placements');
    return out;
  });
  return { manifest, sealedManifest, placements };
}

/** The record's Merkle root, as hosts compute it (sha256-v1, 1 KiB leaves). */
export function recordRoot(record: Uint8Array): Uint8Array {
  return MerkleTree.build(record, MERKLE_LEAF_SIZE).root;
}

export function encodeManifestRef(ref: ManifestRef): Uint8Array {
  if (ref.root.byteLength !== 32) throw new RangeError('root must be 32 bytes');
  if (ref.hints.length === 0 || ref.hints.length > MAX_LINK_HINTS)
    throw new RangeError(`1..${MAX_LINK_HINTS} hints`);
  const w = new ByteWriter().u8(MANIFEST_REF_VERSION).bytes(ref.root).varint(ref.size);
  w.u8(ref.hints.length);
  for (const h of ref.hints) w.lengthPrefixed(peerIdBytes(h));
  return w.finish();
}

export function decodeManifestRef(bytes: Uint8Array): ManifestRef {
  return malformedAsInvalid(() => {
    const r = new ByteReader(bytes);
    const version = r.u8('version');
    if (version !== MANIFEST_REF_VERSION)
      throw new InvalidRecordError(`share link reference version ${version} is not supported`);
    const root = r.bytes('root', 32);
    const size = r.varint('record size', MAX_RECORD_SIZE);
    if (size === 0) throw new InvalidRecordError('record size 0');
    const count = r.u8('hints');
    if (count === 0 || count > MAX_LINK_HINTS) throw new InvalidRecordError(`${count} host hints`);
    const hints: string[] = [];
    for (let i = 0; i < count; i++) hints.push(peerIdText(r.lengthPrefixed('hint', 128)));
    r.end('reference');
    return { root, size, hints };
  });
}

function peerIdBytes(text: string): Uint8Array {
  try {
    return peerIdFromString(text).toMultihash().bytes;
  } catch (err) {
    throw new RangeError(`not a peer id: ${text}`, { cause: err });
  }
}

function peerIdText(bytes: Uint8Array): string {
  try {
    return peerIdFromMultihash(decodeDigest(bytes)).toString();
  } catch (err) {
    throw new InvalidRecordError('malformed peer id', { cause: err });
  }
}

/** The codec's parse errors, as this module's. */
function malformedAsInvalid<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MalformedError) throw new InvalidRecordError(err.message, { cause: err });
    throw err;
  }
}

const buffer = (b: Uint8Array): Uint8Array<ArrayBuffer> => copyBytes(b);
