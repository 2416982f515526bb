import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { AbortOptions, PeerId, PrivateKey } from '@libp2p/interface';
import {
  ANNOUNCEMENT_FLAG_PERSISTENT,
  ANNOUNCEMENT_SIGNATURE_DOMAIN,
  ANNOUNCEMENT_VERSION,
  DEFAULT_ANNOUNCEMENT_TTL_MS,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  MAX_ANNOUNCEMENT_LIFETIME_MS,
  MAX_ANNOUNCEMENT_SIZE,
  MAX_MULTIADDRS,
  MAX_MULTIADDR_SIZE,
  MAX_UINT256,
  MIN_ANNOUNCEMENT_VERSION,
} from './constants.ts';
import { _Reader, _Writer } from './encoding.ts';
import {
  AnnouncementExpiredError,
  AnnouncementFromFutureError,
  InvalidAnnouncementError,
  InvalidSignatureError,
  MalformedMessageError,
  MessageTooLargeError,
} from './errors.ts';

/** A 0x-prefixed 20-byte EVM address. */
export type WalletAddress = `0x${string}`;

/** What a host tells the network about itself. Times are Unix milliseconds. */
export interface HostAnnouncement {
  /** The host's libp2p peer id (Ed25519), as text. It is also the key that signs the record. */
  peerId: string;
  /** Where the host can be reached (circuit addresses through relays, WebRTC, WebSockets). */
  multiaddrs: string[];
  /** Free storage the host offers, in bytes. */
  freeCapacity: bigint;
  /** Asking price in token base units per byte per period. */
  price: bigint;
  /** The EVM address that receives payment, lower-case. */
  wallet: WalletAddress;
  issuedAt: number;
  expiresAt: number;
  /**
   * The host's storage survives a restart: a browser granted `navigator.storage.persist()`, or a
   * disk host. Version 1 records, which cannot say, read as false.
   */
  persistent: boolean;
  /**
   * Since when the host has been up without a restart, Unix ms (at most `issuedAt`). The host's
   * own claim, like the rest of the record; audits are what prove it. Absent in version 1 records.
   */
  upSince?: number;
}

/** A record with its signature and the exact bytes that travel on the wire. */
export interface SignedHostAnnouncement extends HostAnnouncement {
  signature: Uint8Array;
  /** The canonical encoding of the whole signed record (`encodeAnnouncement`). */
  bytes: Uint8Array;
}

export interface SignAnnouncementParameters {
  multiaddrs: string[];
  freeCapacity: bigint | number | string;
  /** Token base units per byte per period: a bigint or a decimal string of an integer. */
  price: bigint | number | string;
  wallet: string;
  /** @default Date.now() */
  issuedAt?: number;
  /** @default issuedAt + 1 hour */
  expiresAt?: number;
  /** The host's storage survives restarts (persist() granted, or a disk host). @default false */
  persistent?: boolean;
  /** Since when the host has been up, Unix ms, at most issuedAt. @default issuedAt */
  upSince?: number;
}

export interface VerifyAnnouncementOptions extends AbortOptions {
  /** @default Date.now() */
  now?: number;
  /** How far in the future issuedAt may be. @default 5 minutes */
  maxClockSkew?: number;
  /** How long expiresAt may be after issuedAt. @default 24 hours */
  maxLifetime?: number;
}

const domain = new TextEncoder().encode(ANNOUNCEMENT_SIGNATURE_DOMAIN + '\0');
const WALLET_RE = /^0x[0-9a-fA-F]{40}$/;
const DECIMAL_RE = /^[0-9]+$/;

function toUint256(value: bigint | number | string, name: string): bigint {
  let out: bigint;
  if (typeof value === 'bigint') out = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer`);
    out = BigInt(value);
  } else if (typeof value === 'string' && DECIMAL_RE.test(value)) out = BigInt(value);
  else throw new TypeError(`${name} must be a bigint, an integer or a decimal string`);
  if (out < 0n || out > MAX_UINT256) throw new RangeError(`${name} must fit in a uint256`);
  return out;
}

function checkFields(a: HostAnnouncement): void {
  if (a.multiaddrs.length > MAX_MULTIADDRS) {
    throw new InvalidAnnouncementError(`at most ${MAX_MULTIADDRS} multiaddrs`);
  }
  if (!WALLET_RE.test(a.wallet)) throw new InvalidAnnouncementError('wallet is not a 0x address');
  if (a.freeCapacity < 0n || a.freeCapacity > MAX_UINT256) {
    throw new InvalidAnnouncementError('freeCapacity out of range');
  }
  if (a.price < 0n || a.price > MAX_UINT256)
    throw new InvalidAnnouncementError('price out of range');
  if (!Number.isSafeInteger(a.issuedAt) || a.issuedAt < 0) {
    throw new InvalidAnnouncementError('issuedAt must be a non-negative integer');
  }
  if (!Number.isSafeInteger(a.expiresAt) || a.expiresAt <= a.issuedAt) {
    throw new InvalidAnnouncementError('expiresAt must be an integer after issuedAt');
  }
  if (typeof a.persistent !== 'boolean')
    throw new InvalidAnnouncementError('persistent must be a boolean');
  if (
    a.upSince !== undefined &&
    (!Number.isSafeInteger(a.upSince) || a.upSince < 0 || a.upSince > a.issuedAt)
  ) {
    throw new InvalidAnnouncementError('upSince must be an integer no later than issuedAt');
  }
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

function bytesToHex(bytes: Uint8Array): WalletAddress {
  let out = '0x';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out as WalletAddress;
}

/**
 * The signed part of a record (always the current version): version, peer id, multiaddrs,
 * capacity, price, wallet, times, then (version 2) flags and upSince.
 */
function encodeBody(a: HostAnnouncement): Uint8Array {
  if (a.upSince === undefined) throw new InvalidAnnouncementError('upSince is required');
  const w = new _Writer().byte(ANNOUNCEMENT_VERSION).string(a.peerId).uint(a.multiaddrs.length);
  for (const addr of a.multiaddrs) {
    let bytes: Uint8Array;
    try {
      bytes = multiaddr(addr).bytes;
    } catch (err) {
      throw new InvalidAnnouncementError(`invalid multiaddr ${addr}`, { cause: err });
    }
    if (bytes.byteLength > MAX_MULTIADDR_SIZE) {
      throw new InvalidAnnouncementError(`multiaddr longer than ${MAX_MULTIADDR_SIZE} bytes`);
    }
    w.bytes(bytes);
  }
  return w
    .bigUint(a.freeCapacity)
    .bigUint(a.price)
    .raw(hexToBytes(a.wallet))
    .uint(a.issuedAt)
    .uint(a.expiresAt)
    .byte(a.persistent ? ANNOUNCEMENT_FLAG_PERSISTENT : 0)
    .uint(a.upSince)
    .finish();
}

function decodeBody(body: Uint8Array): HostAnnouncement {
  const r = new _Reader(body);
  const version = r.byte();
  if (version < MIN_ANNOUNCEMENT_VERSION || version > ANNOUNCEMENT_VERSION) {
    throw new MalformedMessageError(`unknown record version ${version}`);
  }
  const peerId = r.string(128);
  const count = r.uint();
  if (count > MAX_MULTIADDRS)
    throw new InvalidAnnouncementError(`at most ${MAX_MULTIADDRS} multiaddrs`);
  const multiaddrs: string[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = r.bytes(MAX_MULTIADDR_SIZE);
    try {
      const ma = multiaddr(bytes);
      // Canonical: the bytes must be exactly what the text form encodes to.
      if (!equalBytes(ma.bytes, bytes)) throw new Error('non-canonical multiaddr');
      multiaddrs.push(ma.toString());
    } catch (err) {
      throw new MalformedMessageError('invalid multiaddr in record', { cause: err });
    }
  }
  const freeCapacity = r.bigUint(256);
  const price = r.bigUint(256);
  const wallet = bytesToHex(r.raw(20));
  const issuedAt = r.uint();
  const expiresAt = r.uint();
  const fields: HostAnnouncement = {
    peerId,
    multiaddrs,
    freeCapacity,
    price,
    wallet,
    issuedAt,
    expiresAt,
    persistent: false,
  };
  if (version >= 2) {
    const flags = r.byte();
    if ((flags & ~ANNOUNCEMENT_FLAG_PERSISTENT) !== 0)
      throw new MalformedMessageError(`unknown record flags ${flags}`);
    fields.persistent = (flags & ANNOUNCEMENT_FLAG_PERSISTENT) !== 0;
    fields.upSince = r.uint();
  }
  r.end();
  return fields;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function signedPayload(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(domain.byteLength + body.byteLength);
  out.set(domain, 0);
  out.set(body, domain.byteLength);
  return out;
}

function parsePeerId(text: string): PeerId {
  let peerId: PeerId;
  try {
    peerId = peerIdFromString(text);
  } catch (err) {
    throw new InvalidAnnouncementError('invalid peer id', { cause: err });
  }
  if (peerId.type !== 'Ed25519' || peerId.toString() !== text) {
    throw new InvalidAnnouncementError('peer id must be a canonical Ed25519 peer id');
  }
  return peerId;
}

/**
 * Make and sign a record for the host whose libp2p key is `privateKey` (Ed25519).
 *
 * @example
 * ```ts
 * const record = await signAnnouncement(privateKey, {
 *   multiaddrs: node.getMultiaddrs().map(String), freeCapacity: 10n * 2n ** 30n,
 *   price: '1000', wallet: '0x...', persistent: true, upSince: startedAt,
 * })
 * await announce(node, relayAddr, record)
 * ```
 */
export async function signAnnouncement(
  privateKey: PrivateKey,
  params: SignAnnouncementParameters,
  options: AbortOptions = {},
): Promise<SignedHostAnnouncement> {
  if (privateKey.type !== 'Ed25519') throw new TypeError('privateKey must be an Ed25519 key');
  const issuedAt = params.issuedAt ?? Date.now();
  const fields: HostAnnouncement = {
    peerId: peerIdFromPrivateKey(privateKey).toString(),
    multiaddrs: params.multiaddrs.map((a) => multiaddr(a).toString()),
    freeCapacity: toUint256(params.freeCapacity, 'freeCapacity'),
    price: toUint256(params.price, 'price'),
    wallet: params.wallet.toLowerCase() as WalletAddress,
    issuedAt,
    expiresAt: params.expiresAt ?? issuedAt + DEFAULT_ANNOUNCEMENT_TTL_MS,
    persistent: params.persistent ?? false,
    upSince: params.upSince ?? issuedAt,
  };
  checkFields(fields);
  const body = encodeBody(fields);
  // Node's signer returns a Buffer; keep records plain Uint8Arrays everywhere.
  const signature = new Uint8Array(await privateKey.sign(signedPayload(body), options));
  const bytes = new _Writer().bytes(body).bytes(signature).finish();
  if (bytes.byteLength > MAX_ANNOUNCEMENT_SIZE) {
    throw new MessageTooLargeError(
      `record of ${bytes.byteLength} bytes exceeds ${MAX_ANNOUNCEMENT_SIZE}`,
    );
  }
  return { ...fields, signature, bytes };
}

/** The wire form of a signed record (the bytes it was built from). */
export function encodeAnnouncement(record: SignedHostAnnouncement): Uint8Array {
  return record.bytes;
}

/** Parse a record without checking its signature or times (see `verifyAnnouncement`). */
export function decodeAnnouncement(bytes: Uint8Array): SignedHostAnnouncement {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (bytes.byteLength > MAX_ANNOUNCEMENT_SIZE) {
    throw new MessageTooLargeError(
      `record of ${bytes.byteLength} bytes exceeds ${MAX_ANNOUNCEMENT_SIZE}`,
    );
  }
  const r = new _Reader(bytes);
  const body = r.bytes(MAX_ANNOUNCEMENT_SIZE);
  const signature = r.bytes(128);
  r.end();
  const fields = decodeBody(body);
  checkFields(fields);
  return { ...fields, signature, bytes };
}

/**
 * Decode a record and check it: canonical encoding, size, Ed25519 signature by the key inside
 * the record's peer id, not expired, not issued in the future, lifetime within bounds.
 * Throws one of the errors in `errors.ts`.
 */
export async function verifyAnnouncement(
  input: Uint8Array | SignedHostAnnouncement,
  options: VerifyAnnouncementOptions = {},
): Promise<SignedHostAnnouncement> {
  const record = decodeAnnouncement(input instanceof Uint8Array ? input : input.bytes);
  const now = options.now ?? Date.now();
  const skew = options.maxClockSkew ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  const maxLifetime = options.maxLifetime ?? MAX_ANNOUNCEMENT_LIFETIME_MS;
  const peerId = parsePeerId(record.peerId);
  if (record.expiresAt <= now)
    throw new AnnouncementExpiredError(`record of ${record.peerId} has expired`);
  if (record.issuedAt > now + skew) {
    throw new AnnouncementFromFutureError(`record of ${record.peerId} is issued in the future`);
  }
  if (record.expiresAt - record.issuedAt > maxLifetime) {
    throw new AnnouncementFromFutureError(
      `record of ${record.peerId} lives longer than ${maxLifetime} ms`,
    );
  }
  const body = new _Reader(record.bytes).bytes(MAX_ANNOUNCEMENT_SIZE);
  let ok: boolean;
  try {
    ok = await peerId.publicKey!.verify(signedPayload(body), record.signature, options);
  } catch {
    ok = false;
  }
  if (!ok) throw new InvalidSignatureError(`bad signature on record of ${record.peerId}`);
  return record;
}
