/**
 * The client side of the shard protocols: put a shard (and get a signed receipt), get a byte
 * range or a verified piece, audit a host. Each call takes `{ signal }`; without one a default
 * timeout applies, and a peer that goes quiet for `idleTimeoutMs` fails the call with TimeoutError.
 */
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import { MERKLE_LEAF_SIZE, leafCountOf, subtreeRoot, treeHeight, verifyProof } from '@cairn/codec';
import {
  AUDIT_PROTOCOL,
  CHUNK_SIZE,
  DEFAULT_AUDIT_TIMEOUT_MS,
  DEFAULT_GET_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_PUT_TIMEOUT_MS,
  DEFAULT_QUOTE_TIMEOUT_MS,
  GET_PROTOCOL,
  MAX_AUDIT_LEAVES,
  MAX_AUDIT_RESPONSE_FRAME,
  MAX_CONTROL_FRAME,
  MAX_DEAL_SIZE,
  MAX_GET_LENGTH,
  MAX_QUOTE_SIZE,
  PUT_PROTOCOL,
  QUOTE_PROTOCOL,
} from './constants.ts';
import { peerIdText } from './addresses.ts';
import { _Channel, _operationSignal, _withChannel } from './channel.ts';
import { AuditFailedError, IntegrityError, MalformedMessageError, remoteError } from './errors.ts';
import { _auditMessage, _fromHex, _toHex, verifyReceipt } from './signatures.ts';
import type { Receipt } from './signatures.ts';
import {
  decodeAuditResponse,
  decodeGetResponse,
  decodePutResponse,
  decodeQuoteResponse,
  encodeAuditRequest,
  encodeGetRequest,
  encodePutRequest,
} from './wire.ts';

/** Anything that opens a protocol stream to a peer: a libp2p node or a CairnNode. */
export interface StreamOpener {
  dialProtocol(
    peer: PeerId | Multiaddr | Multiaddr[],
    protocols: string | string[],
    options?: AbortOptions,
  ): Promise<Stream>;
}

export type PeerTarget = PeerId | Multiaddr | Multiaddr[];

export interface ClientOptions extends AbortOptions {
  /** Longest wait for the host's next bytes, or for our send buffer to drain. @default 20_000 */
  idleTimeoutMs?: number;
}

/** A shard's identity: its Merkle root (32 bytes, or the hex shard id). */
export type ShardRoot = Uint8Array | string;

function rootBytes(root: ShardRoot): Uint8Array {
  const b = typeof root === 'string' ? _fromHex(root) : root;
  if (b.byteLength !== 32) throw new RangeError('root must be 32 bytes');
  return b;
}

function peerIdOf(peer: PeerTarget): PeerId | undefined {
  if (Array.isArray(peer)) return peer.length > 0 ? peerIdOf(peer[0]!) : undefined;
  if ('getComponents' in peer) {
    const id = peerIdText(peer);
    return id == null ? undefined : peerIdFromString(id);
  }
  return peer as PeerId;
}

async function run<T>(
  node: StreamOpener,
  peer: PeerTarget,
  protocol: string,
  options: ClientOptions,
  defaultMs: number,
  fn: (ch: _Channel) => Promise<T>,
): Promise<T> {
  const signal = _operationSignal(options, defaultMs);
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const stream = await node.dialProtocol(peer, protocol, { signal });
  return _withChannel(stream, signal, idle, protocol, fn);
}

export interface PutShardOptions extends ClientOptions {
  /** The shard's Merkle root (the host checks the bytes against it). */
  root: ShardRoot;
  /** Exact byte length of the shard. */
  size: number;
  /** @default MERKLE_LEAF_SIZE (1024) */
  leafSize?: number;
  /** Opaque deal bytes (<= 2 KiB); their SHA-256 goes into the receipt. */
  deal?: Uint8Array;
  /** Called with the bytes sent so far. */
  onProgress?: (sent: number) => void;
}

export type ShardSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Sends a shard to a host. Resolves to the host's verified receipt once the host has checked the
 * root and committed the bytes. QuotaExceededError / MessageTooLargeError come before any shard
 * byte is sent; BadRootError when the bytes do not match the root (the host keeps nothing).
 */
export async function putShard(
  node: StreamOpener,
  peer: PeerTarget,
  source: ShardSource,
  options: PutShardOptions,
): Promise<Receipt> {
  const root = rootBytes(options.root);
  const deal = options.deal ?? new Uint8Array(0);
  if (deal.byteLength > MAX_DEAL_SIZE)
    throw new RangeError(`deal must be <= ${MAX_DEAL_SIZE} bytes`);
  if (!Number.isSafeInteger(options.size) || options.size < 0)
    throw new RangeError('size must be a non-negative integer');
  const leafSize = options.leafSize ?? MERKLE_LEAF_SIZE;
  return run(node, peer, PUT_PROTOCOL, options, DEFAULT_PUT_TIMEOUT_MS, async (ch) => {
    await ch.writeFrame(encodePutRequest({ root, size: options.size, leafSize, deal }));
    const first = decodePutResponse(await ch.readFrame(MAX_CONTROL_FRAME));
    if (first.type === 'error') throw remoteError(first.error.code, first.error.message);
    if (first.type === 'accepted') {
      let sent = 0;
      const chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> =
        source instanceof Uint8Array ? [source] : source;
      for await (const chunk of chunks) {
        if (sent + chunk.byteLength > options.size)
          throw new RangeError(`source is longer than size ${options.size}`);
        for (let at = 0; at < chunk.byteLength; at += CHUNK_SIZE) {
          await ch.writeRaw(chunk.subarray(at, at + CHUNK_SIZE));
        }
        sent += chunk.byteLength;
        options.onProgress?.(sent);
      }
      if (sent !== options.size)
        throw new RangeError(`source gave ${sent} of ${options.size} bytes`);
      await ch.closeWrite();
    }
    const last =
      first.type === 'receipt' ? first : decodePutResponse(await ch.readFrame(MAX_CONTROL_FRAME));
    if (last.type === 'error') throw remoteError(last.error.code, last.error.message);
    if (last.type !== 'receipt') throw new MalformedMessageError('expected a receipt');
    if (first.type === 'receipt') await ch.closeWrite();
    return verifyReceipt(last.receipt, { host: peerIdOf(peer), root, size: options.size });
  });
}

export interface GetRangeParameters {
  root: ShardRoot;
  offset: number;
  /** At most MAX_GET_LENGTH (4 MiB) per call. */
  length: number;
}

/** Bytes [offset, offset + length) of a shard, unverified (see getPiece for verified reads). */
export async function getRange(
  node: StreamOpener,
  peer: PeerTarget,
  params: GetRangeParameters,
  options: ClientOptions = {},
): Promise<Uint8Array> {
  if (params.length > MAX_GET_LENGTH) throw new RangeError(`length must be <= ${MAX_GET_LENGTH}`);
  const { bytes } = await get(node, peer, { ...params, root: rootBytes(params.root) }, options);
  return bytes;
}

export interface GetPieceParameters {
  root: ShardRoot;
  /** Byte length of the whole shard (from the manifest). */
  shardSize: number;
  /** Piece index within the shard (the segment index). */
  index: number;
  /** Piece bytes, leafSize * 2^h (the last piece may be shorter). */
  pieceSize: number;
  /** @default MERKLE_LEAF_SIZE */
  leafSize?: number;
  /**
   * Check the piece against the root here (IntegrityError when it fails). Turn off only when the
   * caller verifies it anyway (the drive's decoder does, and tells a lying host from a gone one).
   * @default true
   */
  verify?: boolean;
}

export interface Piece {
  bytes: Uint8Array;
  /** Sibling hashes from the piece's height to the root, bottom-up. */
  proof: Uint8Array[];
  height: number;
}

/** One piece of a shard, checked against the shard's root (IntegrityError if it does not verify). */
export async function getPiece(
  node: StreamOpener,
  peer: PeerTarget,
  params: GetPieceParameters,
  options: ClientOptions = {},
): Promise<Piece> {
  const root = rootBytes(params.root);
  const leafSize = params.leafSize ?? MERKLE_LEAF_SIZE;
  const ratio = params.pieceSize / leafSize;
  if (!Number.isInteger(ratio) || (ratio & (ratio - 1)) !== 0)
    throw new RangeError('pieceSize must be leafSize * 2^h');
  const leafCount = leafCountOf(params.shardSize, leafSize);
  const height = Math.min(Math.log2(ratio), treeHeight(leafCount));
  const pieceBytes = leafSize * 2 ** height;
  const offset = params.index * pieceBytes;
  if (
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    (offset >= params.shardSize && params.index !== 0)
  )
    throw new RangeError(`piece ${params.index} is past the shard's end`);
  const length = Math.min(pieceBytes, params.shardSize - offset);
  const { bytes, proof } = await get(
    node,
    peer,
    { root, offset, length, pieceHeight: height },
    options,
  );
  const siblings = Array.from({ length: proof.byteLength / 32 }, (_, i) =>
    proof.slice(32 * i, 32 * i + 32),
  );
  if (proof.byteLength % 32 !== 0) throw new MalformedMessageError('proof is not whole hashes');
  const ok =
    params.verify === false ||
    verifyProof({
      root,
      leafCount,
      index: params.index,
      height,
      node: subtreeRoot(bytes, leafSize, height),
      proof: siblings,
    });
  if (!ok)
    throw new IntegrityError(`piece ${params.index} of shard ${_toHex(root)} does not verify`);
  return { bytes, proof: siblings, height };
}

async function get(
  node: StreamOpener,
  peer: PeerTarget,
  req: { root: Uint8Array; offset: number; length: number; pieceHeight?: number },
  options: ClientOptions,
): Promise<{ bytes: Uint8Array; proof: Uint8Array }> {
  return run(node, peer, GET_PROTOCOL, options, DEFAULT_GET_TIMEOUT_MS, async (ch) => {
    await ch.writeFrame(encodeGetRequest(req));
    await ch.closeWrite();
    const head = decodeGetResponse(await ch.readFrame(MAX_CONTROL_FRAME));
    if (head.type === 'error') throw remoteError(head.error.code, head.error.message);
    if (head.length !== req.length)
      throw new MalformedMessageError(`host offers ${head.length} bytes, asked ${req.length}`);
    const bytes = new Uint8Array(req.length);
    let at = 0;
    while (at < req.length) {
      const chunk = await ch.readRaw(req.length - at);
      if (chunk === undefined)
        throw new MalformedMessageError(`stream ended after ${at} of ${req.length} bytes`);
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    await ch.readEnd();
    return { bytes, proof: head.proof };
  });
}

export interface AuditParameters {
  root: ShardRoot;
  /** Shard byte length (the verifier's leafCount comes from it, never from the host). */
  size: number;
  /** @default MERKLE_LEAF_SIZE */
  leafSize?: number;
  /** Leaves to challenge; default `count` random ones. */
  indices?: number[];
  /** @default 4 */
  count?: number;
}

export interface AuditResult {
  indices: number[];
  nonce: Uint8Array;
  /** The host's signature over "cairn/audit/1" || root || nonce || SHA-256(nonce || leaves). */
  signature: Uint8Array;
}

/**
 * Challenges a host for random leaves with a fresh nonce. Resolves when every leaf proves against
 * the root and the answer is signed by the host; AuditFailedError otherwise; protocol and remote
 * errors (ShardNotFoundError, TimeoutError...) as thrown.
 */
export async function audit(
  node: StreamOpener,
  peer: PeerTarget,
  params: AuditParameters,
  options: ClientOptions = {},
): Promise<AuditResult> {
  const root = rootBytes(params.root);
  const leafSize = params.leafSize ?? MERKLE_LEAF_SIZE;
  const leafCount = leafCountOf(params.size, leafSize);
  const indices =
    params.indices ?? randomIndices(Math.min(params.count ?? 4, MAX_AUDIT_LEAVES), leafCount);
  if (indices.length < 1 || indices.length > MAX_AUDIT_LEAVES)
    throw new RangeError(`audit 1..${MAX_AUDIT_LEAVES} leaves`);
  const hostId = peerIdOf(peer);
  if (hostId?.publicKey === undefined)
    throw new TypeError('audit needs the host peer id (with its key)');
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const res = await run(
    node,
    peer,
    AUDIT_PROTOCOL,
    options,
    DEFAULT_AUDIT_TIMEOUT_MS,
    async (ch) => {
      await ch.writeFrame(encodeAuditRequest({ root, nonce, indices }));
      await ch.closeWrite();
      const r = decodeAuditResponse(await ch.readFrame(MAX_AUDIT_RESPONSE_FRAME));
      if (r.type === 'error') throw remoteError(r.error.code, r.error.message);
      await ch.readEnd();
      return r;
    },
  );
  if (res.leaves.length !== indices.length)
    throw new AuditFailedError(`host answered ${res.leaves.length} of ${indices.length} leaves`);
  indices.forEach((index, k) => {
    const proofBytes = res.proofs[k]!;
    const proof = Array.from({ length: proofBytes.byteLength / 32 }, (_, i) =>
      proofBytes.slice(32 * i, 32 * i + 32),
    );
    const expectedLength = Math.min(leafSize, params.size - index * leafSize);
    const ok =
      proofBytes.byteLength % 32 === 0 &&
      res.leaves[k]!.byteLength === Math.max(0, expectedLength) &&
      verifyProof({ root, leafCount, index, leaf: res.leaves[k]!, leafSize, proof });
    if (!ok) throw new AuditFailedError(`leaf ${index} of shard ${_toHex(root)} does not prove`);
  });
  const signed = await hostId.publicKey.verify(
    await _auditMessage(root, nonce, res.leaves),
    res.signature,
  );
  if (!signed) throw new AuditFailedError('audit answer is not signed by the host');
  return { indices, nonce, signature: res.signature };
}

function randomIndices(count: number, leafCount: number): number[] {
  const words = globalThis.crypto.getRandomValues(new Uint32Array(count * 2));
  return Array.from({ length: count }, (_, i) => {
    const x = words[2 * i]! * 2 ** 32 + words[2 * i + 1]!;
    return x % leafCount;
  });
}

/**
 * Asks a host for a quote: `terms` (<= 4 KiB, the market layer's encoding) in, the host's signed
 * quote out. PutRefusedError when the host declines; RemoteProtocolError if it serves no quotes.
 */
export async function requestQuote(
  node: StreamOpener,
  peer: PeerTarget,
  terms: Uint8Array,
  options: ClientOptions = {},
): Promise<Uint8Array> {
  if (terms.byteLength > MAX_QUOTE_SIZE)
    throw new RangeError(`terms must be <= ${MAX_QUOTE_SIZE} bytes`);
  return run(node, peer, QUOTE_PROTOCOL, options, DEFAULT_QUOTE_TIMEOUT_MS, async (ch) => {
    await ch.writeFrame(terms);
    await ch.closeWrite();
    const answer = decodeQuoteResponse(await ch.readFrame(MAX_QUOTE_SIZE + 16), MAX_QUOTE_SIZE);
    if (answer.type === 'error') throw remoteError(answer.error.code, answer.error.message);
    await ch.readEnd();
    return answer.quote;
  });
}
