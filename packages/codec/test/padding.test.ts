import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MIN_PADDED_SIZE, padme, paddedSize } from '../src/padding.ts';

describe('size-class padding', () => {
  test('known Padmé values', () => {
    expect(padme(0)).toBe(0);
    expect(padme(1)).toBe(1);
    expect(padme(100)).toBe(104); // E=6, S=3: multiples of 8
    expect(padme(2 ** 20)).toBe(2 ** 20);
    expect(padme(2 ** 20 + 1)).toBe(2 ** 20 + 2 ** 15); // E=20, S=5: multiples of 2^15
    expect(padme(2 ** 40 + 1)).toBe(2 ** 40 + 2 ** 34);
  });

  test('small files all share one size', () => {
    for (const n of [0, 1, 17, 500, MIN_PADDED_SIZE]) expect(paddedSize(n)).toBe(MIN_PADDED_SIZE);
  });

  test('never shrinks, overhead at most 12%, idempotent, monotone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 2) }),
        fc.nat(1000),
        (n, d) => {
          const p = paddedSize(n);
          expect(p).toBeGreaterThanOrEqual(n);
          if (n > MIN_PADDED_SIZE) expect((p - n) / n).toBeLessThanOrEqual(0.12);
          expect(paddedSize(p)).toBe(p);
          expect(paddedSize(n + d)).toBeGreaterThanOrEqual(p);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('reveals few distinct sizes: every size up to 1 GiB falls into one of 545 classes (under 10 bits)', () => {
    const classes = new Set<number>();
    for (let n = 1; n < 2 ** 30; n = Math.ceil(n * 1.0005) + 1) classes.add(paddedSize(n));
    expect(classes.size).toBe(545); // 1 KiB floor + 16 classes per octave for 2^10..2^15, 32 for 2^16..2^29
  });

  test('rejects bad input', () => {
    expect(() => padme(-1)).toThrow(RangeError);
    expect(() => padme(1.5)).toThrow(RangeError);
  });
});
