import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FileDecoder } from '../src/decoder.ts';
import { SegmentEncoder } from '../src/encoder.ts';
import {
  decryptSegmentStream,
  generateFileId,
  generateFileKey,
  SegmentCipher,
} from '../src/crypto/index.ts';
import { segmentSizeFor } from '../src/layout.ts';
import { MERKLE_LEAF_SIZE } from '../src/merkle/index.ts';
import { paddedSize } from '../src/padding.ts';
import { chunked, collect, flipBit, hosts, pieceOf, randomData, store } from './helpers.ts';

// Small pieces keep the property tests fast while exercising many segments.
const leafSize = MERKLE_LEAF_SIZE;
const small = { k: 3, m: 2, pieceSize: leafSize * 4, leafSize };
const smallSegment = segmentSizeFor(small.k, small.pieceSize);

describe('round trips', () => {
  test.each([
    ['empty', 0],
    ['one byte', 1],
    ['one segment minus one', smallSegment - 1],
    ['exactly one segment', smallSegment],
    ['one segment plus one', smallSegment + 1],
    ['several segments', 5 * smallSegment + 77],
  ])('%s (%i bytes), streamed in odd chunks', async (_, size) => {
    const data = randomData(size);
    const stored = await store(chunked(data), { ...small, name: 'f.bin' });
    expect(stored.manifest.size).toBe(size);
    expect(stored.manifest.paddedSize).toBe(paddedSize(size));
    expect(stored.shards.every((s) => s.length === stored.layout.shardSize)).toBe(true);
    const decoder = await FileDecoder.open(stored.sealed, stored.fileKey);
    expect(await collect(decoder.decode(hosts(stored)))).toEqual(data);
  });

  test('random sizes and (k, m), losing any m pieces of each segment', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer(),
        async (k, m, h, size, seed) => {
          const params = { k, m, pieceSize: leafSize * 2 ** h, leafSize };
          const data = randomData(size);
          const stored = await store([data], params);
          // Per segment, a different random set of m shards is gone.
          const lostSets = new Map<number, Set<number>>();
          let x = seed >>> 0 || 1;
          const rand = () => ((x = (x * 1103515245 + 12345) >>> 0), x / 2 ** 32);
          const lost = (shard: number, segment: number) => {
            if (!lostSets.has(segment)) {
              const order = [...Array(k + m).keys()].sort(() => rand() - 0.5);
              lostSets.set(segment, new Set(order.slice(0, m)));
            }
            return lostSets.get(segment)!.has(shard);
          };
          const decoder = await FileDecoder.open(stored.sealed, stored.fileKey);
          expect(await collect(decoder.decode(hosts(stored, { lost })))).toEqual(data);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('hedged requests still yield the file', async () => {
    const data = randomData(3 * smallSegment);
    const stored = await store([data], small);
    const decoder = await FileDecoder.open(stored.sealed, stored.fileKey);
    const fetcher = hosts(stored);
    expect(await collect(decoder.decode(fetcher, { hedge: 2 }))).toEqual(data);
  });
});

describe('every tamper is caught with its specific error', () => {
  const setup = async () => {
    const data = randomData(4 * smallSegment + 5);
    const stored = await store([data], small);
    const decoder = await FileDecoder.open(stored.sealed, stored.fileKey);
    return { data, stored, decoder };
  };

  test('a flipped bit in any piece fails its proof; the decoder uses other shards', async () => {
    const { data, stored, decoder } = await setup();
    for (let shard = 0; shard < stored.layout.n; shard++) {
      for (let segment = 0; segment < stored.layout.segmentCount; segment++) {
        const piece = pieceOf(stored, shard, segment);
        const proof = stored.trees[shard]!.subtreeProof(stored.layout.pieceHeight, segment);
        expect(decoder.verifyPiece(shard, segment, piece, proof)).toBe(true);
        const bit = (shard * 131 + segment * 977) % (piece.length * 8);
        expect(decoder.verifyPiece(shard, segment, flipBit(piece, bit), proof)).toBe(false);
      }
    }
    // Shard 1 lies on every piece: still decodes from the others (m = 2), and it is reported
    // once: after the first lie it is not asked again.
    const liar = hosts(stored, {
      tamper: (shard, _s, piece) => (shard === 1 ? flipBit(piece, 9) : undefined),
    });
    const rejected: unknown[] = [];
    expect(await collect(decoder.decode(liar, { onRejected: (e) => rejected.push(e) }))).toEqual(
      data,
    );
    expect(rejected).toEqual([{ shard: 1, segment: 0, reason: 'corrupt' }]);
  });

  test('more liars than parity: NotEnoughPiecesError naming the failed verifications', async () => {
    const { stored, decoder } = await setup();
    const liars = hosts(stored, {
      tamper: (shard, _s, piece) => (shard < 3 ? flipBit(piece, 3) : undefined),
    });
    const err = await collect(decoder.decode(liars)).catch((e: Error) => e);
    expect((err as Error).name).toBe('NotEnoughPiecesError');
    expect((err as Error).message).toMatch(/failed verification/);
  });

  test('too many hosts gone: NotEnoughPiecesError', async () => {
    const { stored, decoder } = await setup();
    const err = await collect(decoder.decode(hosts(stored, { lost: (shard) => shard >= 2 }))).catch(
      (e: Error) => e,
    );
    expect((err as Error).name).toBe('NotEnoughPiecesError');
  });

  test('a piece of another segment or shard does not verify (position is bound)', async () => {
    const { stored, decoder } = await setup();
    const proof = stored.trees[0]!.subtreeProof(stored.layout.pieceHeight, 1);
    expect(decoder.verifyPiece(0, 1, pieceOf(stored, 0, 2), proof)).toBe(false);
    expect(decoder.verifyPiece(0, 1, pieceOf(stored, 1, 1), proof)).toBe(false);
    expect(decoder.verifyPiece(0, 2, pieceOf(stored, 0, 1), proof)).toBe(false);
  });

  test('pieces that bypass verification still fail authentication (IntegrityError)', async () => {
    const { stored, decoder } = await setup();
    const n = stored.layout.n;
    const pieces = (segment: number) =>
      Array.from({ length: n }, (_, j) => pieceOf(stored, j, segment));
    // flipped bit in a data piece
    const flipped = pieces(0);
    flipped[0] = flipBit(flipped[0]!, 100);
    await expect(decoder.decodeSegment(0, flipped)).rejects.toHaveProperty(
      'name',
      'IntegrityError',
    );
    // flipped bit in the tag (the end of the ciphertext lives in the last data piece)
    const tag = pieces(1);
    tag[small.k - 1] = flipBit(tag[small.k - 1]!, tag[small.k - 1]!.length * 8 - 1);
    await expect(decoder.decodeSegment(1, tag)).rejects.toHaveProperty('name', 'IntegrityError');
    // segments swapped or reordered
    await expect(decoder.decodeSegment(1, pieces(2))).rejects.toHaveProperty(
      'name',
      'IntegrityError',
    );
    // a segment from another file under the same key
    const other = await store([randomData(4 * smallSegment + 5)], {
      ...small,
      fileKey: stored.fileKey,
    });
    const foreign = Array.from({ length: n }, (_, j) => pieceOf(other, j, 0));
    await expect(decoder.decodeSegment(0, foreign)).rejects.toHaveProperty(
      'name',
      'IntegrityError',
    );
  });

  test('a wrong key: WrongKeyError', async () => {
    const { stored } = await setup();
    await expect(FileDecoder.open(stored.sealed, generateFileKey())).rejects.toHaveProperty(
      'name',
      'WrongKeyError',
    );
  });

  test('a flipped bit in the sealed manifest is caught', async () => {
    const { stored } = await setup();
    for (let bit = 0; bit < stored.sealed.length * 8; bit += 13) {
      const err = await FileDecoder.open(flipBit(stored.sealed, bit), stored.fileKey).catch(
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect([
        'IntegrityError',
        'MalformedError',
        'UnsupportedVersionError',
        'WrongKeyError',
      ]).toContain((err as Error).name);
    }
  });

  test('a truncated segment stream: TruncatedError; a lie about the count or reordering: IntegrityError', async () => {
    const cipher = await SegmentCipher.create(generateFileKey(), generateFileId());
    const plain = [randomData(100), randomData(100), randomData(50)];
    const sealed = await Promise.all(
      plain.map((p, i) => cipher.encrypt(i, i === plain.length - 1, p)),
    );
    const open = (segments: Uint8Array[], count: number) =>
      collect(decryptSegmentStream(cipher, segments, count));
    expect(await open(sealed, 3)).toEqual(await collect(plain));
    await expect(open(sealed.slice(0, 2), 3)).rejects.toHaveProperty('name', 'TruncatedError');
    await expect(open(sealed.slice(0, 2), 2)).rejects.toHaveProperty('name', 'IntegrityError');
    await expect(open([sealed[1]!, sealed[0]!, sealed[2]!], 3)).rejects.toHaveProperty(
      'name',
      'IntegrityError',
    );
    await expect(open([], 3)).rejects.toHaveProperty('name', 'TruncatedError');
  });
});

test('the in-thread engine rejects out-of-order and mis-sized segments', async () => {
  const enc = await SegmentEncoder.create({
    ...small,
    fileKey: generateFileKey(),
    fileId: generateFileId(),
  });
  await expect(enc.encode(1, false, new Uint8Array(smallSegment))).rejects.toThrow(RangeError);
  await expect(enc.encode(0, false, new Uint8Array(10))).rejects.toThrow(RangeError);
  await expect(enc.finish()).rejects.toThrow(/last segment/);
});
