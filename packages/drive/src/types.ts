/** What the drive needs from the network, as narrow interfaces (the peer package implements them). */

export interface HostInfo {
  peerId: string;
  /** Bytes the host says it can still take. */
  freeCapacity: number;
  /** Token units per byte per period (lower is better); absent means free. */
  price?: bigint;
  /** Measured round trip, when known. */
  latencyMs?: number;
  /**
   * 0..1 from audits (ours and the relays', see `scoreOf`): 0.5 is "no better than unknown",
   * towards 1 proven and up, towards 0 unreachable or failing proofs; absent means unknown.
   */
  score?: number;
  /** Failed storage proofs seen recently (a decayed count; > 0 makes selection avoid the host). */
  failedAudits?: number;
  /** The host says its storage survives restarts (persist() granted, or a disk host). */
  persistent?: boolean;
  /** The host says it has been up since then (Unix ms), without a restart. */
  upSince?: number;
  /** The EVM address the host is paid at (signs its quotes). */
  wallet?: string;
}

export interface PutShardRequest {
  /** Hex of the shard's Merkle root: the host checks the bytes against it before acknowledging. */
  shardId: string;
  size: number;
  leafSize: number;
  /** The deal the put is paid by (opaque to the transport; the host's admission reads it). */
  deal?: Uint8Array;
}

export interface PieceRequest {
  shardId: string;
  /** Whole shard's bytes, and its Merkle leaf size. */
  shardSize: number;
  leafSize: number;
  offset: number;
  length: number;
  /** Height of the piece's subtree in the shard tree, and its index there (= segment). */
  proofHeight: number;
  pieceIndex: number;
}

export interface ShardTransport {
  /** Streams one shard to a host; resolves with the host's signed receipt once it verified the root. */
  putShard(
    host: string,
    request: PutShardRequest,
    bytes: AsyncIterable<Uint8Array>,
    options: { signal: AbortSignal },
  ): Promise<{ receipt?: Uint8Array }>;
  /** Fetches one piece with its Merkle proof; null when the host does not have it. */
  getPiece(
    host: string,
    request: PieceRequest,
    options: { signal: AbortSignal },
  ): Promise<{ piece: Uint8Array; proof: Uint8Array[] } | null>;
}

export type UploadPhase = 'hashing' | 'uploading' | 'retrying' | 'done';

export interface UploadProgress {
  phase: UploadPhase;
  /** Plaintext bytes read in this phase. */
  bytes: number;
  /** Total plaintext bytes when known. */
  total?: number;
  /** Shards acknowledged by their hosts so far. */
  shardsStored: number;
  shards: number;
}

export interface Placement {
  shard: number;
  host: string;
  receipt?: Uint8Array;
  /** The on-chain deal paying for this shard, for paid uploads. */
  dealId?: bigint;
}
