import fc from 'fast-check';
import { expect, test } from 'vitest';
import {
  layoutOf,
  pieceLength,
  pieceOffset,
  segmentPlainLength,
  SEGMENT_TAG_SIZE,
} from '../src/layout.ts';

test('layout covers the padded plaintext exactly', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 5_000_000 }),
      (k, m, h, paddedSize) => {
        const leafSize = 256;
        const pieceSize = leafSize * 2 ** h;
        fc.pre(k * pieceSize > SEGMENT_TAG_SIZE);
        const l = layoutOf({ paddedSize, k, m, pieceSize, leafSize });
        let plain = 0;
        for (let s = 0; s < l.segmentCount; s++) {
          plain += segmentPlainLength(l, s);
          const len = pieceLength(l, s);
          expect(len * k).toBeGreaterThanOrEqual(segmentPlainLength(l, s) + SEGMENT_TAG_SIZE);
          expect(len).toBeLessThanOrEqual(pieceSize);
          expect(pieceOffset(l, s) % pieceSize).toBe(0);
        }
        expect(plain).toBe(paddedSize);
        expect(l.shardSize).toBe(
          pieceOffset(l, l.segmentCount - 1) + pieceLength(l, l.segmentCount - 1),
        );
        expect(l.leafCount).toBe(Math.max(1, Math.ceil(l.shardSize / leafSize)));
        const treeHeight = Math.ceil(Math.log2(l.leafCount));
        expect(l.pieceHeight).toBe(Math.min(h, treeHeight));
        if (l.segmentCount > 1) expect(2 ** l.pieceHeight * leafSize).toBe(pieceSize);
      },
    ),
    { numRuns: 500 },
  );
});

test('rejects bad parameters, naming them', () => {
  const ok = { paddedSize: 1024, k: 4, m: 2, pieceSize: 1024, leafSize: 256 };
  expect(() => layoutOf({ ...ok, k: 0 })).toThrow(/k must/);
  expect(() => layoutOf({ ...ok, m: -1 })).toThrow(/m must/);
  expect(() => layoutOf({ ...ok, k: 200, m: 57 })).toThrow(/k \+ m/);
  expect(() => layoutOf({ ...ok, leafSize: 300 })).toThrow(/leafSize/);
  expect(() => layoutOf({ ...ok, pieceSize: 768 })).toThrow(/pieceSize/);
  expect(() => layoutOf({ ...ok, paddedSize: -1 })).toThrow(/paddedSize/);
  expect(() => pieceLength(layoutOf(ok), 1)).toThrow(RangeError);
});
