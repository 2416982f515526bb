/**
 * Download: any k verified pieces per segment, from the hosts holding the shards, with a few
 * extra requests in flight to cut the long tail; hosts that are gone or lie are reported.
 */
import {
  FileDecoder,
  pieceLength,
  pieceOffset,
  toHex,
  type DecodeEngine,
  type Layout,
  type Manifest,
  type PieceFetcher,
} from '@cairn/codec';
import type { Placement, ShardTransport } from './types.ts';

export interface DownloadOptions {
  /** Extra piece requests per segment beyond the k needed. @default 2 */
  hedge?: number;
  /**
   * Segments fetched ahead of the one being decoded (each holds up to k + hedge pieces in
   * memory), so requests keep every connection busy instead of waiting on each segment. @default 3
   */
  prefetch?: number;
  signal?: AbortSignal;
  /** Verification and decoding in a worker (from `@cairn/codec/worker`). */
  engine?: DecodeEngine;
  /** A host that failed to serve a piece, or served a corrupt one. */
  onFault?: (fault: {
    host: string;
    shard: number;
    segment: number;
    reason: 'unavailable' | 'corrupt';
  }) => void;
  /**
   * A piece arrived from a host (before verification): the bytes each host served this client,
   * for egress accounting (what a host would be paid for retrieval).
   */
  onPiece?: (piece: { host: string; shard: number; segment: number; bytes: number }) => void;
}

export async function* download(
  manifest: Manifest,
  fileKey: Uint8Array,
  placements: readonly Placement[],
  transport: ShardTransport,
  options: DownloadOptions = {},
): AsyncGenerator<Uint8Array> {
  const decoder = await FileDecoder.create(manifest, fileKey);
  const { fetch, hostOf } = pieceFetcher(
    decoder.layout,
    manifest.roots,
    placements,
    transport,
    options,
  );
  yield* decoder.decode(fetch, {
    hedge: options.hedge ?? 2,
    prefetch: options.prefetch ?? 3,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
    onRejected: ({ shard, segment, reason }) => {
      const host = hostOf.get(shard);
      if (host) options.onFault?.({ host, shard, segment, reason });
    },
  });
}

/**
 * Fetches pieces from the shards' holders over `transport` (unverified: the caller verifies, and
 * so tells a lying host from a gone one). Shared by download and repair.
 */
export function pieceFetcher(
  layout: Layout,
  roots: readonly Uint8Array[],
  placements: readonly Placement[],
  transport: ShardTransport,
  options: Pick<DownloadOptions, 'onPiece'> = {},
): { fetch: PieceFetcher; hostOf: Map<number, string> } {
  const hostOf = new Map(placements.map((p) => [p.shard, p.host]));
  const fetch: PieceFetcher = async ({ segment, shard, signal }) => {
    const host = hostOf.get(shard);
    if (!host) return null;
    const piece = await transport.getPiece(
      host,
      {
        shardId: toHex(roots[shard]!),
        shardSize: layout.shardSize,
        leafSize: layout.leafSize,
        offset: pieceOffset(layout, segment),
        length: pieceLength(layout, segment),
        proofHeight: layout.pieceHeight,
        pieceIndex: segment,
      },
      { signal },
    );
    if (piece) options.onPiece?.({ host, shard, segment, bytes: piece.piece.byteLength });
    return piece;
  };
  return { fetch, hostOf };
}
