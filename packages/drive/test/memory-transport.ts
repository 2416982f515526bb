// An in-process ShardTransport for the drive's own logic tests: hosts that verify roots like real
// ones, and hosts that fail, fill up, lie or stall on demand. The network itself is tested with
// real libp2p in packages/peer and the end-to-end tests.
import { MerkleBuilder, MerkleTree, concatBytes, toHex } from '@cairn/codec';
import type { PieceRequest, PutShardRequest, ShardTransport } from '../src/types.ts';

export type Behaviour =
  'honest' | 'fails-mid-upload' | 'drops-first-put' | 'full' | 'corrupt' | 'stalls' | 'gone';

export class MemoryTransport implements ShardTransport {
  readonly shards = new Map<string, Map<string, { bytes: Uint8Array; tree: MerkleTree }>>();
  readonly behaviour = new Map<string, Behaviour>();
  /** Highest number of pieces any host had received but not yet consumed (for memory bounds). */
  puts = 0;

  host(peerId: string, behaviour: Behaviour = 'honest'): void {
    this.shards.set(peerId, new Map());
    this.behaviour.set(peerId, behaviour);
  }

  async putShard(
    host: string,
    request: PutShardRequest,
    bytes: AsyncIterable<Uint8Array>,
    { signal }: { signal: AbortSignal },
  ): Promise<{ receipt?: Uint8Array }> {
    this.puts++;
    const behaviour = this.behaviour.get(host);
    if (!behaviour || behaviour === 'gone') throw new Error(`${host}: unreachable`);
    if (behaviour === 'full')
      throw Object.assign(new Error(`${host}: quota exceeded`), { name: 'QuotaExceededError' });
    if (behaviour === 'drops-first-put') {
      this.behaviour.set(host, 'honest');
      throw new Error(`${host}: connection reset`);
    }
    const builder = new MerkleBuilder(request.leafSize);
    const parts: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of bytes) {
      signal.throwIfAborted();
      received += chunk.length;
      if (behaviour === 'fails-mid-upload' && received > request.size / 2) {
        throw new Error(`${host}: connection reset`);
      }
      builder.append(chunk);
      parts.push(chunk.slice());
      await new Promise((r) => setTimeout(r, 0));
    }
    const { root } = builder.finish();
    if (received !== request.size || toHex(root) !== request.shardId)
      throw new Error(`${host}: root mismatch`);
    const shard = concatBytes(...parts);
    this.shards
      .get(host)!
      .set(request.shardId, { bytes: shard, tree: MerkleTree.build(shard, request.leafSize) });
    return { receipt: new TextEncoder().encode(`${host}:${request.shardId}`) };
  }

  async getPiece(
    host: string,
    request: PieceRequest,
    { signal }: { signal: AbortSignal },
  ): Promise<{ piece: Uint8Array; proof: Uint8Array[] } | null> {
    const behaviour = this.behaviour.get(host);
    if (behaviour === 'stalls') {
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
      );
    }
    const stored = this.shards.get(host)?.get(request.shardId);
    if (!stored || behaviour === 'gone') return null;
    let piece = stored.bytes.slice(request.offset, request.offset + request.length);
    if (behaviour === 'corrupt') {
      piece = piece.slice();
      piece[0]! ^= 1;
    }
    return { piece, proof: stored.tree.subtreeProof(request.proofHeight, request.pieceIndex) };
  }
}
