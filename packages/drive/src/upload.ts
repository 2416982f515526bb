/**
 * Upload: two passes over a re-readable source. The first computes the shards' Merkle roots
 * (hosts, and later deals, commit to a root before any byte is sent); the second encodes again
 * (deterministic under the same file key and id) and streams shard j to host j, all hosts in
 * parallel, with bounded memory: each host's queue holds at most `queueDepth` pieces. Shards
 * whose host failed are placed on other hosts in further passes.
 */
import {
  encodeFile,
  equalBytes,
  generateFileId,
  generateFileKey,
  iterateBytes,
  layoutOfManifest,
  sealManifest,
  type ByteSource,
  type EncodeOptions,
  type Manifest,
} from '@cairn/codec';
import { DriveError } from './errors.ts';
import { placeShards, type DealPlan, type DealsOpened } from './place.ts';
import type { HostInfo, Placement, ShardTransport, UploadPhase, UploadProgress } from './types.ts';

export type { DealPlan, DealsOpened } from './place.ts';

export interface UploadOptions extends Omit<EncodeOptions, 'signal' | 'fileKey' | 'fileId'> {
  hosts: readonly HostInfo[];
  transport: ShardTransport;
  /** Further passes for shards whose host failed. @default 2 */
  retries?: number;
  /** Pieces queued per host before the encoder waits (memory: n x queueDepth pieces). @default 4 */
  queueDepth?: number;
  /** Plaintext size, when known, for progress. */
  size?: number;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /**
   * Paid storage: called in each pass, after hosts are assigned and before any shard byte is
   * sent, to open the deals (see `paidDeals`). Shards it could not get a deal for are placed on
   * other hosts in the next pass; the others' puts carry their deal bytes.
   */
  deals?: (plan: DealPlan) => Promise<DealsOpened>;
}

export interface UploadResult {
  manifest: Manifest;
  sealedManifest: Uint8Array;
  fileKey: Uint8Array;
  placements: Placement[];
}

/** The source changed between the two reads of an upload. */
export class SourceChangedError extends DriveError {
  override name = 'SourceChangedError' as const;
}

export async function upload(
  open: () => ByteSource,
  options: UploadOptions,
): Promise<UploadResult> {
  const { signal } = options;
  const fileKey = generateFileKey();
  const fileId = generateFileId();
  const encodeOptions = { ...options, fileKey, fileId, ...(signal ? { signal } : {}) };
  const report = (p: Omit<UploadProgress, 'shards' | 'total'>, n: number) =>
    options.onProgress?.({
      ...p,
      shards: n,
      ...(options.size !== undefined ? { total: options.size } : {}),
    });

  // Pass 1: the roots.
  let read = 0;
  const first = encodeFile(
    counted(open(), (n) => (read += n)),
    encodeOptions,
  );
  for await (const segment of first) {
    report({ phase: 'hashing', bytes: read, shardsStored: 0 }, segment.pieces.length);
  }
  const manifest = first.manifest();
  const layout = layoutOfManifest(manifest);

  let phase: UploadPhase = 'uploading';
  let sent = 0;
  let stored = 0;
  const progress = () => report({ phase, bytes: sent, shardsStored: stored }, layout.n);
  const placements = await placeShards({
    roots: manifest.roots,
    layout,
    shards: [...Array(layout.n).keys()],
    hosts: options.hosts,
    transport: options.transport,
    retries: options.retries ?? 2,
    ...(options.queueDepth !== undefined ? { queueDepth: options.queueDepth } : {}),
    ...(signal ? { signal } : {}),
    ...(options.deals ? { deals: options.deals } : {}),
    source: (shards) => {
      sent = 0;
      return encodedPieces(
        counted(open(), (n) => ((sent += n), progress())),
        encodeOptions,
        manifest,
        shards,
      );
    },
    onPass: (pass) => (phase = pass === 0 ? 'uploading' : 'retrying'),
    onStored: (count) => ((stored = count), progress()),
  });
  report({ phase: 'done', bytes: manifest.size, shardsStored: layout.n }, layout.n);
  return {
    manifest,
    sealedManifest: await sealManifest(manifest, fileKey),
    fileKey,
    placements: [...placements.values()].sort((a, b) => a.shard - b.shard),
  };
}

/**
 * The second encoding, as the pieces of `shards` per segment; throws SourceChangedError at the
 * end when its roots differ from the first pass's (the file changed in between).
 */
async function* encodedPieces(
  source: ByteSource,
  encodeOptions: EncodeOptions,
  manifest: Manifest,
  shards: readonly number[],
): AsyncGenerator<Uint8Array[]> {
  const encoding = encodeFile(source, encodeOptions);
  for await (const segment of encoding) yield shards.map((j) => segment.pieces[j]!);
  const again = encoding.manifest();
  if (!again.roots.every((root, j) => equalBytes(root, manifest.roots[j]!)))
    throw new SourceChangedError('the file changed while it was being uploaded');
}

/** Passes a source through, telling `onBytes` how many plaintext bytes went by. */
async function* counted(
  source: ByteSource,
  onBytes: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of iterateBytes(source)) {
    onBytes(chunk.length);
    yield chunk;
  }
}
