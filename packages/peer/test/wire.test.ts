import { describe, expect, it } from 'vitest';
import { _SerialDialQueue } from '../src/dial-queue.ts';
import {
  _Reader,
  _Writer,
  decodeAuditRequest,
  decodeGetRequest,
  decodePutRequest,
  decodeReceiptBody,
  encodeAuditRequest,
  encodeGetRequest,
  encodePutRequest,
  encodeReceiptBody,
} from '../src/wire.ts';
import { _blockHeight, ShardTreeBuilder, _proveNode } from '../src/shard-tree.ts';
import { MerkleTree } from '@cairn/codec';

function errorName(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

const root = Uint8Array.from({ length: 32 }, (_, i) => i);

describe('wire encoding', () => {
  it('round-trips every request and the receipt body', () => {
    const put = { root, size: 2 ** 40 + 3, leafSize: 1024, deal: Uint8Array.of(9, 9) };
    expect(decodePutRequest(encodePutRequest(put))).toEqual(put);
    const get = { root, offset: 7, length: 262_144, pieceHeight: 8 };
    expect(decodeGetRequest(encodeGetRequest(get))).toEqual(get);
    const range = { root, offset: 0, length: 1 };
    expect(decodeGetRequest(encodeGetRequest(range))).toEqual(range);
    const audit = { root, nonce: root, indices: [0, 5, 2 ** 31] };
    expect(decodeAuditRequest(encodeAuditRequest(audit))).toEqual(audit);
    const body = {
      root,
      size: 10,
      leafSize: 1024,
      host: '12D3KooW',
      timestamp: 1_800_000_000_000,
      dealHash: new Uint8Array(0),
    };
    expect(decodeReceiptBody(encodeReceiptBody(body))).toEqual(body);
  });

  it('has one encoding per message: trailing bytes, short roots and non-minimal varints are malformed', () => {
    const bytes = encodePutRequest({ root, size: 1, leafSize: 1024, deal: new Uint8Array(0) });
    expect(errorName(() => decodePutRequest(Uint8Array.of(...bytes, 0)))).toBe(
      'MalformedMessageError',
    );
    expect(errorName(() => decodePutRequest(bytes.subarray(0, 10)))).toBe('MalformedMessageError');
    const shortRoot = new _Writer()
      .bytes(root.subarray(0, 31))
      .uint(1)
      .uint(1024)
      .bytes(new Uint8Array(0))
      .finish();
    expect(errorName(() => decodePutRequest(shortRoot))).toBe('MalformedMessageError');
    expect(errorName(() => new _Reader(Uint8Array.of(0x80, 0x00)).uint())).toBe(
      'MalformedMessageError',
    );
    const tooMany = new _Writer().bytes(root).bytes(root).uint(17).finish();
    expect(errorName(() => decodeAuditRequest(tooMany))).toBe('MalformedMessageError');
  });
});

describe('host proof cache', () => {
  it('proves every height from block roots plus at most one rehashed block', async () => {
    for (const size of [0, 1, 1000, 64 * 1024, 64 * 1024 + 1, 300_000, 1_000_000]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);
      const tree = MerkleTree.build(bytes, 1024);
      const b = new ShardTreeBuilder(size, 1024);
      for (let at = 0; at < size; at += 10_000) b.append(bytes.subarray(at, at + 10_000));
      const meta = b.finish();
      expect(meta.root).toEqual(tree.root);
      expect(meta.blockHeight).toBe(_blockHeight(size, 1024));
      const reads: number[] = [];
      const read = async (o: number, l: number): Promise<Uint8Array> => {
        reads.push(l);
        return bytes.slice(o, o + l);
      };
      for (let h = 0; h <= tree.height; h++) {
        const count = Math.ceil(tree.leafCount / 2 ** h);
        for (const i of new Set([0, count - 1, Math.floor(count / 2)])) {
          expect(await _proveNode(meta, h, i, read)).toEqual(tree.subtreeProof(h, i));
        }
      }
      expect(Math.max(0, ...reads)).toBeLessThanOrEqual(64 * 1024);
    }
  });
});

describe('serial dial queue', () => {
  it('runs one dial at a time, retries a failed attempt and times out a stalled one', async () => {
    const q = new _SerialDialQueue({ attemptTimeoutMs: 100, retries: 1, retryDelayMs: 1 });
    let running = 0;
    let most = 0;
    const dial = async (v: number): Promise<number> => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return v;
    };
    expect(await Promise.all([1, 2, 3, 4].map((v) => q.run(() => dial(v))))).toEqual([1, 2, 3, 4]);
    expect(most).toBe(1);

    let attempts = 0;
    expect(
      await q.run(async () => {
        if (++attempts === 1) throw new Error('first fails');
        return 'ok';
      }),
    ).toBe('ok');

    const stalled = q.run(
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
    );
    await expect(stalled).rejects.toMatchObject({ name: 'TimeoutError' });

    const controller = new AbortController();
    const waiting = q.run(() => new Promise(() => {}), controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
