// Test helpers: encode a file into in-memory shards, and serve pieces from them like hosts would.
import { concatBytes } from '../src/bytes.ts';
import { layoutOfManifest, type PieceFetcher } from '../src/decoder.ts';
import { encodeFile, type EncodeOptions } from '../src/encoder.ts';
import { sealManifest, type Manifest } from '../src/manifest/index.ts';
import { MerkleTree } from '../src/merkle/index.ts';
import { pieceLength, pieceOffset, type Layout } from '../src/layout.ts';
import type { ByteSource } from '../src/segmenter.ts';

export interface Stored {
  manifest: Manifest;
  sealed: Uint8Array;
  fileKey: Uint8Array;
  layout: Layout;
  shards: Uint8Array[];
  trees: MerkleTree[];
}

export async function store(source: ByteSource, options: EncodeOptions = {}): Promise<Stored> {
  const encoding = encodeFile(source, options);
  const parts: Uint8Array[][] = [];
  for await (const segment of encoding) segment.pieces.forEach((p, j) => (parts[j] ??= []).push(p));
  const manifest = encoding.manifest();
  const layout = layoutOfManifest(manifest);
  const shards = parts.map((p) => concatBytes(...p));
  return {
    manifest,
    sealed: await sealManifest(manifest, encoding.fileKey),
    fileKey: encoding.fileKey,
    layout,
    shards,
    trees: shards.map((s) => MerkleTree.build(s, layout.leafSize)),
  };
}

export function pieceOf(stored: Stored, shard: number, segment: number): Uint8Array {
  const offset = pieceOffset(stored.layout, segment);
  return stored.shards[shard]!.subarray(offset, offset + pieceLength(stored.layout, segment));
}

/** Serves pieces like honest hosts, except the ones `lost` (null) or `tamper`ed. */
export function hosts(
  stored: Stored,
  behaviour: {
    lost?: (shard: number, segment: number) => boolean;
    tamper?: (shard: number, segment: number, piece: Uint8Array) => Uint8Array | undefined;
  } = {},
): PieceFetcher & { requests: number } {
  const fetcher = Object.assign(
    async ({ segment, shard }: { segment: number; shard: number }) => {
      fetcher.requests++;
      if (behaviour.lost?.(shard, segment)) return null;
      let piece = pieceOf(stored, shard, segment);
      piece = behaviour.tamper?.(shard, segment, piece) ?? piece;
      return {
        piece,
        proof: stored.trees[shard]!.subtreeProof(stored.layout.pieceHeight, segment),
      };
    },
    { requests: 0 },
  );
  return fetcher;
}

export async function collect(
  gen: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for await (const x of gen) out.push(x);
  return concatBytes(...out);
}

export function randomData(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536)
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  return out;
}

export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[(bit >>> 3) % copy.length]! ^= 1 << (bit & 7);
  return copy;
}

/** Chops bytes into irregular chunks, like a network or disk stream would. */
export function* chunked(
  bytes: Uint8Array,
  sizes: number[] = [1, 7, 4096, 65537, 333],
): Generator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield bytes.subarray(offset, offset + n);
    offset += n;
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}
