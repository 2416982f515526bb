/**
 * The drive over the real network: host discovery through the relays' directories, and the
 * `ShardTransport` over Cairn's libp2p protocols (`@cairn/peer`). One `CairnNetwork` per node.
 */
import { toHex } from '@cairn/codec';
import {
  encodeSignedReceipt,
  getPiece,
  getRange,
  isWebRTCAddress,
  putShard,
  toMultiaddr,
  type CairnNode,
} from '@cairn/peer';
import {
  MAX_SCORES_PEERS,
  queryHosts,
  queryScores,
  type HostEvidence,
  type HostFilter,
  type SignedHostAnnouncement,
} from '@cairn/peer/directory';
import type { Multiaddr } from '@multiformats/multiaddr';
import { Auditor, cairnAuditorNode, type AuditorInit } from './auditor.ts';
import { DriveError } from './errors.ts';
import { mergeEvidence, scoreOf, type ScoreKeeper } from './scores.ts';
import type { HostInfo, PieceRequest, PutShardRequest, ShardTransport } from './types.ts';

export interface CairnNetworkInit {
  node: CairnNode;
  /** Relay multiaddrs (with /p2p/<id>) whose directories list hosts. */
  directories: string[];
  /** Per directory query. @default 10_000 */
  queryTimeoutMs?: number;
  /** Per host while probing before an upload (dial, which may queue, and ping). @default 20_000 */
  probeTimeoutMs?: number;
  /**
   * This client's own record of hosts: `probe` and `auditor()` feed it, and `hosts()` scores
   * hosts from it merged with what the relays observed.
   */
  scores?: ScoreKeeper;
  /**
   * How much one observation a relay reports counts next to one of our own (0..1); 0 does not
   * ask relays for their scores at all. @default 0.5
   */
  relayScoreWeight?: number;
  /** Per directory, asking for its scores. @default 5_000 */
  scoresTimeoutMs?: number;
}

/** No directory answered. */
export class DirectoryUnavailableError extends DriveError {
  override name = 'DirectoryUnavailableError' as const;
}

/** A host whose addresses no directory knows (gone for longer than its record lives). */
export class HostUnknownError extends DriveError {
  override name = 'HostUnknownError' as const;
}

export class CairnNetwork implements ShardTransport {
  readonly node: CairnNode;
  readonly #init: CairnNetworkInit;
  /** Last known WebRTC addresses per host (from directory records). */
  readonly #addresses = new Map<string, Multiaddr[]>();

  constructor(init: CairnNetworkInit) {
    if (init.directories.length === 0) throw new RangeError('at least one directory is needed');
    this.node = init.node;
    this.#init = init;
  }

  /** This client's score keeper, if it was given one. */
  get scores(): ScoreKeeper | undefined {
    return this.#init.scores;
  }

  /**
   * Hosts the directories list (merged, newest record per host), with free space, price,
   * persistence and announced uptime, and a `score` from the audits of the relays (each relay's
   * view, for the hosts it audits) merged with this client's own `scores`. A host nobody has
   * audited has no score (unknown).
   */
  async hosts(filter: HostFilter = {}, signal?: AbortSignal): Promise<HostInfo[]> {
    const records = await this.#query({ limit: 100, ...filter }, signal);
    const shared = await this.#relayEvidence(
      records.map((r) => r.peerId),
      signal,
    );
    const weight = this.#init.relayScoreWeight ?? 0.5;
    return records.map((r) => {
      const info: HostInfo = {
        peerId: r.peerId,
        freeCapacity: Number(
          r.freeCapacity > BigInt(Number.MAX_SAFE_INTEGER)
            ? Number.MAX_SAFE_INTEGER
            : r.freeCapacity,
        ),
        price: r.price,
        wallet: r.wallet,
        persistent: r.persistent,
        ...(r.upSince === undefined ? {} : { upSince: r.upSince }),
      };
      const own = this.#init.scores?.evidence(r.peerId);
      const theirs = shared.get(r.peerId) ?? [];
      if (own === undefined && theirs.length === 0) return info;
      const merged = mergeEvidence(own, theirs, { weight });
      info.score = scoreOf(merged);
      info.failedAudits = merged.failed;
      if (merged.latencyMs !== undefined) info.latencyMs = merged.latencyMs;
      return info;
    });
  }

  /**
   * An auditor of `targets` over this client's node, feeding its `scores` (required), finding
   * hosts' addresses through the directories. Call `start()` on it, `stop()` when done.
   */
  auditor(init: Omit<AuditorInit, 'node' | 'scores' | 'resolve'>): Auditor {
    const scores = this.#init.scores;
    if (scores === undefined) throw new TypeError('auditing needs a CairnNetwork with scores');
    return new Auditor({
      ...init,
      node: cairnAuditorNode(this.node),
      scores,
      resolve: (peerId, signal) => this.addressesOf(peerId, signal),
    });
  }

  /** What each directory that audits hosts has observed of these (none when it does not). */
  async #relayEvidence(
    peerIds: string[],
    signal?: AbortSignal,
  ): Promise<Map<string, HostEvidence[]>> {
    const out = new Map<string, HostEvidence[]>();
    if ((this.#init.relayScoreWeight ?? 0.5) <= 0 || peerIds.length === 0) return out;
    const timeout = this.#init.scoresTimeoutMs ?? 5_000;
    const batches: string[][] = [];
    for (let i = 0; i < peerIds.length; i += MAX_SCORES_PEERS)
      batches.push(peerIds.slice(i, i + MAX_SCORES_PEERS));
    const results = await Promise.allSettled(
      this.#init.directories.flatMap((d) =>
        batches.map((batch) =>
          queryScores(this.node, toMultiaddr(d), batch, {
            signal: anySignal(signal, AbortSignal.timeout(timeout)),
          }),
        ),
      ),
    );
    signal?.throwIfAborted();
    // A relay that does not audit (or is down) simply adds nothing.
    for (const r of results) {
      if (r.status !== 'fulfilled') continue;
      for (const e of r.value) out.set(e.peerId, [...(out.get(e.peerId) ?? []), e]);
    }
    return out;
  }

  /**
   * Measures the round trip to each host over a direct (WebRTC) connection, which also opens the
   * connection the transfer will use. Hosts that cannot be reached within the timeout are left
   * out; the others come back with `latencyMs`.
   */
  async probe(hosts: readonly HostInfo[], signal?: AbortSignal): Promise<HostInfo[]> {
    const timeout = this.#init.probeTimeoutMs ?? 20_000;
    const probed = await Promise.all(
      hosts.map(async (h): Promise<HostInfo | undefined> => {
        try {
          const s = anySignal(signal, AbortSignal.timeout(timeout));
          const addrs = await this.addressesOf(h.peerId, s);
          await this.node.dial(addrs, { signal: s });
          const latencyMs = await this.node.libp2p.services.ping.ping(addrs, { signal: s });
          this.#init.scores?.record(h.peerId, { kind: 'answered', latencyMs });
          return { ...h, latencyMs };
        } catch {
          signal?.throwIfAborted();
          this.#init.scores?.record(h.peerId, { kind: 'unreachable' });
          return undefined;
        }
      }),
    );
    return probed.filter((h): h is HostInfo => h !== undefined);
  }

  /** The host's WebRTC addresses: cached from the last directory record, else looked up. */
  async addressesOf(peerId: string, signal?: AbortSignal): Promise<Multiaddr[]> {
    const known = this.#addresses.get(peerId);
    if (known !== undefined) return known;
    await this.#query({ peers: [peerId], limit: 1 }, signal);
    const found = this.#addresses.get(peerId);
    if (found === undefined)
      throw new HostUnknownError(`no directory knows host ${peerId}: it has been offline too long`);
    return found;
  }

  /** Looks up several hosts' addresses at once (e.g. all the holders of a file). */
  async locate(peerIds: readonly string[], signal?: AbortSignal): Promise<void> {
    const unknown = [...new Set(peerIds)].filter((p) => !this.#addresses.has(p));
    if (unknown.length > 0) await this.#query({ peers: unknown, limit: unknown.length }, signal);
  }

  async putShard(
    host: string,
    request: PutShardRequest,
    bytes: AsyncIterable<Uint8Array>,
    options: { signal: AbortSignal },
  ): Promise<{ receipt?: Uint8Array }> {
    const addrs = await this.addressesOf(host, options.signal);
    const receipt = await putShard(this.node, addrs, bytes, {
      root: request.shardId,
      size: request.size,
      leafSize: request.leafSize,
      ...(request.deal ? { deal: request.deal } : {}),
      signal: options.signal,
    });
    return { receipt: encodeSignedReceipt(receipt.signed) };
  }

  async getPiece(
    host: string,
    request: PieceRequest,
    options: { signal: AbortSignal },
  ): Promise<{ piece: Uint8Array; proof: Uint8Array[] } | null> {
    const addrs = await this.addressesOf(host, options.signal);
    const piece = await getPiece(
      this.node,
      addrs,
      {
        root: request.shardId,
        shardSize: request.shardSize,
        index: request.pieceIndex,
        pieceSize: request.leafSize * 2 ** request.proofHeight,
        leafSize: request.leafSize,
        verify: false, // the decoder verifies, and so can tell a lying host from a gone one
      },
      { signal: options.signal },
    );
    return { piece: piece.bytes, proof: piece.proof };
  }

  /** A whole small object (a file record) from a host, unverified: the caller checks its root. */
  async getSmall(
    host: string,
    root: Uint8Array,
    size: number,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    const addrs = await this.addressesOf(host, signal);
    return getRange(this.node, addrs, { root: toHex(root), offset: 0, length: size }, { signal });
  }

  async #query(filter: HostFilter, signal?: AbortSignal): Promise<SignedHostAnnouncement[]> {
    const timeout = this.#init.queryTimeoutMs ?? 10_000;
    const results = await Promise.allSettled(
      this.#init.directories.map((d) =>
        queryHosts(this.node, toMultiaddr(d), filter, {
          signal: anySignal(signal, AbortSignal.timeout(timeout)),
        }),
      ),
    );
    signal?.throwIfAborted();
    const newest = new Map<string, SignedHostAnnouncement>();
    const errors: unknown[] = [];
    for (const r of results) {
      if (r.status === 'rejected') {
        errors.push(r.reason);
        continue;
      }
      for (const record of r.value) {
        const seen = newest.get(record.peerId);
        if (seen === undefined || seen.issuedAt < record.issuedAt)
          newest.set(record.peerId, record);
      }
    }
    if (errors.length === results.length)
      throw new DirectoryUnavailableError('no directory answered', {
        cause: new AggregateError(errors),
      });
    for (const record of newest.values()) {
      const addrs = record.multiaddrs.map(toMultiaddr).filter(isWebRTCAddress);
      if (addrs.length > 0) this.#addresses.set(record.peerId, addrs);
    }
    return [...newest.values()];
  }
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}
