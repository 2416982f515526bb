/**
 * The host role: serves `/cairn/shard/put`, `/cairn/shard/get` and `/cairn/audit` over a shard
 * store, enforces a quota, signs receipts and audit answers, and counts bytes per peer.
 */
import type {
  Connection,
  PeerId,
  PrivateKey,
  Stream,
  StreamHandlerOptions,
} from '@libp2p/interface';
import { MerkleTree, leafCountOf, treeHeight } from '@cairn/codec';
import {
  AUDIT_PROTOCOL,
  CHUNK_SIZE,
  DEFAULT_AUDIT_TIMEOUT_MS,
  DEFAULT_GET_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_SHARD_SIZE,
  DEFAULT_PUT_TIMEOUT_MS,
  DEFAULT_QUOTE_TIMEOUT_MS,
  GET_PROTOCOL,
  MAX_CONTROL_FRAME,
  MAX_GET_LENGTH,
  MAX_QUOTE_SIZE,
  PUT_PROTOCOL,
  QUOTE_PROTOCOL,
} from './constants.ts';
import { _Channel } from './channel.ts';
import {
  BadRootError,
  ERROR_CODES,
  MalformedMessageError,
  MessageTooLargeError,
  QuotaExceededError,
  ShardNotFoundError,
  errorCodeOf,
} from './errors.ts';
import { ShardTreeBuilder, _blockHeight, _proveNode } from './shard-tree.ts';
import type { ShardMeta } from './shard-tree.ts';
import { _auditMessage, _fromHex, _sha256, _toHex, equal, signReceipt } from './signatures.ts';
import type { ShardStore, ShardUsage, ShardWriter } from '@cairn/store';
import {
  _Reader,
  _Writer,
  decodeAuditRequest,
  decodeGetRequest,
  decodePutRequest,
  encodeAuditResponse,
  encodeGetResponse,
  encodePutResponse,
  encodeQuoteResponse,
} from './wire.ts';

/** What the host needs of a libp2p node. */
export interface HostNode {
  peerId: PeerId;
  handle(
    protocol: string,
    handler: (s: Stream, c: Connection) => void | Promise<void>,
    o?: StreamHandlerOptions,
  ): Promise<void>;
  unhandle(protocol: string): Promise<void>;
}

export interface HostServiceInit {
  /**
   * Where shards go; its quota is the host's (committed shards, their tree sidecars and puts in
   * flight all count). Each shard's tree levels (1/2048 of the shard) are kept in the same store
   * under `treeIdOf(id)`.
   */
  store: ShardStore;
  /** The host's libp2p key: signs receipts and audit answers. */
  privateKey: PrivateKey;
  /** @default 4 GiB */
  maxShardSize?: number;
  /** Longest silence from a peer within a stream. @default 20_000 */
  idleTimeoutMs?: number;
  /** @default 300_000 */
  putTimeoutMs?: number;
  /** @default 60_000 */
  getTimeoutMs?: number;
  /** @default 30_000 */
  auditTimeoutMs?: number;
  /** Concurrent inbound streams per protocol and connection. @default 16 */
  maxInboundStreams?: number;
  /** Clock for receipts. @default Date.now */
  now?: () => number;
  /**
   * Decides whether to take a put at all, before any shard byte flows (e.g. only for a funded
   * deal naming this host and this exact root). Throw `PutRefusedError` (or any error) to refuse;
   * the client gets the message. Without it every put that fits the quota is taken.
   */
  admit?: (put: PutAdmission) => Promise<void>;
  /**
   * Serves `/cairn/quote/1.0.0`: turns a client's terms (opaque, <= 4 KiB) into a signed quote
   * (opaque, <= 4 KiB). Throw `PutRefusedError` to decline. Without it the protocol is not served.
   */
  quoter?: (terms: Uint8Array, peer: string) => Promise<Uint8Array>;
}

/** What `admit` is shown of a put. */
export interface PutAdmission {
  root: Uint8Array;
  /** Hex of the root (the store id). */
  id: string;
  size: number;
  leafSize: number;
  /** The deal bytes the client sent (empty when none). */
  deal: Uint8Array;
  /** The client's peer id. */
  peer: string;
}

export interface PeerTraffic {
  /** Shard bytes (and audit leaves) sent to the peer. */
  bytesServed: number;
  /** Shard bytes accepted from the peer. */
  bytesReceived: number;
}

type Kind = 'put' | 'get' | 'audit' | 'quote';
const MAX_CACHED_TREES = 1024;
const TREE_ID_DOMAIN = new TextEncoder().encode('cairn/shard-tree/v1');
/** The `meta` of tree sidecars in the store, so listings can tell them from shards. */
export const TREE_META = new TextEncoder().encode('cairn/shard-tree/v1');

/**
 * The store id of a shard's tree sidecar (version 1, size, leafSize, block roots): a hash of the
 * shard's id under its own domain, so it is a valid shard id that no real root collides with.
 */
export async function treeIdOf(id: string): Promise<string> {
  const root = _fromHex(id);
  const input = new Uint8Array(TREE_ID_DOMAIN.byteLength + root.byteLength);
  input.set(TREE_ID_DOMAIN);
  input.set(root, TREE_ID_DOMAIN.byteLength);
  return _toHex(await _sha256(input));
}

/** Bytes of a shard's tree sidecar. */
export function treeSidecarSize(size: number, leafSize: number): number {
  const roots = Math.ceil(size / (leafSize * 2 ** _blockHeight(size, leafSize))) * 32;
  return sidecarHead(size, leafSize, roots).byteLength + roots;
}

function sidecarHead(size: number, leafSize: number, rootsLength: number): Uint8Array {
  return new _Writer().byte(1).uint(size).uint(leafSize).uint(rootsLength).finish();
}

export class HostService {
  readonly #node: HostNode;
  readonly #init: Required<Omit<HostServiceInit, 'now' | 'admit' | 'quoter'>> &
    Pick<HostServiceInit, 'admit' | 'quoter'> & { now: () => number };
  readonly #trees = new Map<string, ShardMeta>();
  readonly #traffic = new Map<string, PeerTraffic>();
  #started = false;

  constructor(node: HostNode, init: HostServiceInit) {
    this.#node = node;
    this.#init = {
      maxShardSize: DEFAULT_MAX_SHARD_SIZE,
      idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
      putTimeoutMs: DEFAULT_PUT_TIMEOUT_MS,
      getTimeoutMs: DEFAULT_GET_TIMEOUT_MS,
      auditTimeoutMs: DEFAULT_AUDIT_TIMEOUT_MS,
      maxInboundStreams: 16,
      now: Date.now,
      ...init,
    };
  }

  async start(): Promise<void> {
    if (this.#started) return;
    // Bulk protocols: not on limited (relayed) connections, so shard bytes never cross a relay.
    const opts = { maxInboundStreams: this.#init.maxInboundStreams };
    await this.#node.handle(PUT_PROTOCOL, (s, c) => this.#serve(s, c, 'put'), opts);
    await this.#node.handle(GET_PROTOCOL, (s, c) => this.#serve(s, c, 'get'), opts);
    await this.#node.handle(AUDIT_PROTOCOL, (s, c) => this.#serve(s, c, 'audit'), opts);
    if (this.#init.quoter)
      await this.#node.handle(QUOTE_PROTOCOL, (s, c) => this.#serve(s, c, 'quote'), {
        ...opts,
        runOnLimitedConnection: true, // a quote is small; it may travel before WebRTC is up
      });
    this.#started = true;
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    await this.#node.unhandle(PUT_PROTOCOL);
    await this.#node.unhandle(GET_PROTOCOL);
    await this.#node.unhandle(AUDIT_PROTOCOL);
    if (this.#init.quoter) await this.#node.unhandle(QUOTE_PROTOCOL);
    this.#started = false;
  }

  /** Bytes exchanged with each peer (by peer id text) since start. */
  traffic(): Map<string, PeerTraffic> {
    return new Map([...this.#traffic].map(([k, v]) => [k, { ...v }]));
  }

  /** The store's usage: committed bytes (shards and trees) plus puts in flight, and the quota. */
  async usage(): Promise<ShardUsage> {
    return this.#init.store.usage();
  }

  /** Deletes a shard and its tree. */
  async delete(id: string): Promise<void> {
    this.#trees.delete(id);
    await this.#init.store.delete(id);
    await this.#init.store.delete(await treeIdOf(id));
  }

  #count(peer: string, key: keyof PeerTraffic, n: number): void {
    const t = this.#traffic.get(peer) ?? { bytesServed: 0, bytesReceived: 0 };
    t[key] += n;
    this.#traffic.set(peer, t);
  }

  async #serve(stream: Stream, connection: Connection, kind: Kind): Promise<void> {
    const timeout =
      kind === 'put'
        ? this.#init.putTimeoutMs
        : kind === 'get'
          ? this.#init.getTimeoutMs
          : kind === 'quote'
            ? DEFAULT_QUOTE_TIMEOUT_MS
            : this.#init.auditTimeoutMs;
    const signal = AbortSignal.timeout(timeout);
    const peer = connection.remotePeer.toString();
    const ch = new _Channel(stream, signal, this.#init.idleTimeoutMs, `host ${kind}`);
    try {
      if (kind === 'put') await this.#put(ch, peer);
      else if (kind === 'get') await this.#get(ch, peer);
      else if (kind === 'quote') await this.#quote(ch, peer);
      else await this.#audit(ch, peer);
      await ch.closeWrite();
    } catch (err) {
      await this.#fail(ch, err, kind);
    }
  }

  /** Answers an error (if the stream still takes one), then lets the peer close or resets. */
  async #fail(ch: _Channel, err: unknown, kind: Kind): Promise<void> {
    const code = errorCodeOf(err);
    const message = err instanceof Error ? err.message : String(err);
    try {
      ch.check();
      const error = { code: ERROR_CODES[code], message };
      const frame =
        kind === 'put'
          ? encodePutResponse({ type: 'error', error })
          : kind === 'get'
            ? encodeGetResponse({ type: 'error', error })
            : kind === 'quote'
              ? encodeQuoteResponse({ type: 'error', error })
              : encodeAuditResponse({ type: 'error', error });
      await ch.writeFrame(frame);
      await ch.closeWrite();
      // Give the client a moment to read the answer and close; discard what it still sends.
      const deadline = Date.now() + 5_000;
      for (let n = 0; n < 64 && Date.now() < deadline; n++) {
        if ((await ch.readRaw(1 << 20)) === undefined) return;
      }
      ch.abort(err instanceof Error ? err : new Error(message));
    } catch {
      ch.abort(err instanceof Error ? err : new Error(message));
    }
  }

  async #put(ch: _Channel, peer: string): Promise<void> {
    const req = decodePutRequest(await ch.readFrame(MAX_CONTROL_FRAME));
    if (!_isLeafSize(req.leafSize))
      throw new MalformedMessageError(`bad leaf size ${req.leafSize}`);
    const id = _toHex(req.root);
    const { store } = this.#init;
    const dealHash = req.deal.byteLength > 0 ? await _sha256(req.deal) : new Uint8Array(0);
    const receipt = async (): Promise<Uint8Array> =>
      encodePutResponse({
        type: 'receipt',
        receipt: await signReceipt(this.#init.privateKey, {
          root: req.root,
          size: req.size,
          leafSize: req.leafSize,
          host: this.#node.peerId.toString(),
          timestamp: this.#init.now(),
          dealHash,
        }),
      });
    await this.#init.admit?.({
      root: req.root,
      id,
      size: req.size,
      leafSize: req.leafSize,
      deal: req.deal,
      peer,
    });
    if (await store.has(id)) {
      const meta = await this.#meta(id).catch(() => undefined);
      if (meta?.size === req.size && meta.leafSize === req.leafSize) {
        // Already held: a fresh receipt, no bytes needed.
        await ch.writeFrame(await receipt());
        return;
      }
      // Held without a usable tree (a crash between commit and sidecar, say): take it again.
      await this.delete(id);
    }
    if (req.size > this.#init.maxShardSize)
      throw new MessageTooLargeError(
        `shard of ${req.size} bytes exceeds ${this.#init.maxShardSize}`,
      );
    // Room for the shard and its tree, checked before any shard byte is asked for; the store's
    // own reservation (in create) settles races between concurrent puts.
    const need = req.size + treeSidecarSize(req.size, req.leafSize);
    const usage = await store.usage();
    if (usage.used + need > usage.quota) {
      const free = Math.max(0, usage.quota - usage.used);
      throw new QuotaExceededError(`shard needs ${need} bytes, ${free} free`);
    }
    let writer: ShardWriter | undefined;
    let committed = false;
    try {
      writer = await store.create(id, req.size);
      await ch.writeFrame(encodePutResponse({ type: 'accepted' }));
      const tree = new ShardTreeBuilder(req.size, req.leafSize);
      while (tree.received < req.size) {
        const chunk = await ch.readRaw(Math.min(CHUNK_SIZE * 4, req.size - tree.received));
        if (chunk === undefined)
          throw new MalformedMessageError(
            `stream ended after ${tree.received} of ${req.size} bytes`,
          );
        tree.append(chunk);
        await writer.write(chunk);
        this.#count(peer, 'bytesReceived', chunk.byteLength);
      }
      await ch.readEnd();
      const meta = tree.finish();
      if (!equal(meta.root, req.root))
        throw new BadRootError(`bytes hash to ${_toHex(meta.root)}, not ${id}`);
      await writer.commit();
      committed = true;
      await this.#saveTree(id, meta);
    } catch (err) {
      if (!committed) await writer?.abort().catch(() => {});
      else await this.delete(id).catch(() => {});
      throw err;
    }
    await ch.writeFrame(await receipt());
  }

  async #quote(ch: _Channel, peer: string): Promise<void> {
    const terms = await ch.readFrame(MAX_QUOTE_SIZE);
    await ch.readEnd();
    const quote = await this.#init.quoter!(terms, peer);
    if (quote.byteLength > MAX_QUOTE_SIZE)
      throw new MessageTooLargeError(
        `quote of ${quote.byteLength} bytes exceeds ${MAX_QUOTE_SIZE}`,
      );
    await ch.writeFrame(encodeQuoteResponse({ type: 'ok', quote }));
  }

  async #get(ch: _Channel, peer: string): Promise<void> {
    const req = decodeGetRequest(await ch.readFrame(MAX_CONTROL_FRAME));
    await ch.readEnd();
    const id = _toHex(req.root);
    const meta = await this.#meta(id);
    if (req.length > MAX_GET_LENGTH)
      throw new MessageTooLargeError(`at most ${MAX_GET_LENGTH} bytes per get`);
    if (req.offset + req.length > meta.size)
      throw new MalformedMessageError(`range ends past the shard's ${meta.size} bytes`);
    let proof: Uint8Array = new Uint8Array(0);
    if (req.pieceHeight !== undefined) {
      const h = req.pieceHeight;
      if (h > meta.height)
        throw new MalformedMessageError(`piece height ${h} above tree height ${meta.height}`);
      const pieceBytes = meta.leafSize * 2 ** h;
      const index = req.offset / pieceBytes;
      if (!Number.isInteger(index) || req.length !== Math.min(pieceBytes, meta.size - req.offset))
        throw new MalformedMessageError('a piece request must cover one aligned piece');
      proof = concatHashes(
        await _proveNode(meta, h, index, (o, l) => this.#init.store.read(id, o, l)),
      );
    }
    await ch.writeFrame(
      encodeGetResponse({
        type: 'ok',
        length: req.length,
        shardSize: meta.size,
        leafSize: meta.leafSize,
        proof,
      }),
    );
    for (let at = 0; at < req.length; at += CHUNK_SIZE) {
      const n = Math.min(CHUNK_SIZE, req.length - at);
      const bytes = await this.#init.store.read(id, req.offset + at, n);
      if (bytes.byteLength !== n)
        throw new Error(`store returned ${bytes.byteLength} of ${n} bytes`);
      await ch.writeRaw(bytes);
      this.#count(peer, 'bytesServed', n);
    }
  }

  async #audit(ch: _Channel, peer: string): Promise<void> {
    const req = decodeAuditRequest(await ch.readFrame(MAX_CONTROL_FRAME));
    await ch.readEnd();
    const id = _toHex(req.root);
    const leaves: Uint8Array[] = [];
    const proofs: Uint8Array[] = [];
    for (const i of req.indices) {
      const { leaf, proof } = await this.proveLeaf(id, i);
      leaves.push(leaf);
      proofs.push(concatHashes(proof));
    }
    const signature = await this.#init.privateKey.sign(
      await _auditMessage(req.root, req.nonce, leaves),
    );
    await ch.writeFrame(encodeAuditResponse({ type: 'ok', leaves, proofs, signature }));
    this.#count(
      peer,
      'bytesServed',
      leaves.reduce((n, l) => n + l.byteLength, 0),
    );
  }

  /**
   * One leaf of a stored shard and its Merkle path (sibling hashes, bottom-up), as an on-chain
   * proof or an audit answer needs them. Reads the leaf and at most one 64 KiB block, never the
   * whole shard. ShardNotFoundError when the shard is not held; MalformedMessageError for an
   * index past the end.
   */
  async proveLeaf(id: string, index: number): Promise<{ leaf: Uint8Array; proof: Uint8Array[] }> {
    const meta = await this.#meta(id);
    if (!Number.isSafeInteger(index) || index < 0 || index >= meta.leafCount)
      throw new MalformedMessageError(`leaf ${index} past the shard's ${meta.leafCount} leaves`);
    const read = (o: number, l: number) => this.#init.store.read(id, o, l);
    const offset = index * meta.leafSize;
    const leaf = await read(offset, Math.min(meta.leafSize, meta.size - offset));
    return { leaf, proof: await _proveNode(meta, 0, index, read) };
  }

  /** The shard's tree: cached, else loaded from its sidecar; NotFound when the shard is absent. */
  async #meta(id: string): Promise<ShardMeta> {
    const cached = this.#trees.get(id);
    if (cached !== undefined) return cached;
    const { store } = this.#init;
    const treeId = await treeIdOf(id);
    if (!(await store.has(id)) || !(await store.has(treeId)))
      throw new ShardNotFoundError(`no shard ${id}`);
    const treeSize = (await store.info(treeId))?.size ?? 0;
    const head = await store.read(treeId, 0, Math.min(32, treeSize));
    const r = new _Reader(head);
    if (r.byte() !== 1) throw new Error(`shard ${id}: unknown tree sidecar version`);
    const size = r.uint();
    const leafSize = r.uint();
    const rootsLength = r.uint();
    const headLength = sidecarHead(size, leafSize, rootsLength).byteLength;
    const roots = await store.read(treeId, headLength, rootsLength);
    const upper = MerkleTree.fromLeafHashes(roots, leafSize);
    const leafCount = leafCountOf(size, leafSize);
    const builder = new ShardTreeBuilder(size, leafSize);
    const meta: ShardMeta = {
      size,
      leafSize,
      leafCount,
      height: treeHeight(leafCount),
      blockHeight: builder.blockHeight,
      upper,
      root: upper.root,
    };
    if (!equal(meta.root, _fromHex(id)))
      throw new Error(`shard ${id}: tree sidecar does not match`);
    this.#cache(id, meta);
    return meta;
  }

  async #saveTree(id: string, meta: ShardMeta): Promise<void> {
    const roots = meta.upper.level(0);
    const head = sidecarHead(meta.size, meta.leafSize, roots.byteLength);
    const w = await this.#init.store.create(
      await treeIdOf(id),
      head.byteLength + roots.byteLength,
      { meta: TREE_META },
    );
    await w.write(head);
    await w.write(roots);
    await w.commit();
    this.#cache(id, meta);
  }

  #cache(id: string, meta: ShardMeta): void {
    this.#trees.delete(id);
    this.#trees.set(id, meta);
    if (this.#trees.size > MAX_CACHED_TREES) this.#trees.delete(this.#trees.keys().next().value!);
  }
}

function concatHashes(hashes: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(32 * hashes.length);
  hashes.forEach((h, i) => out.set(h, 32 * i));
  return out;
}

/** Merkle leaves are a power of two in 32..4096 bytes (codec sha256-v1). */
export function _isLeafSize(n: number): boolean {
  return Number.isInteger(n) && n >= 32 && n <= 4096 && (n & (n - 1)) === 0;
}
