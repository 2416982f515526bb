import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ReedSolomon, type ErasureKernel } from '../src/erasure/index.ts';
import { gfDiv, gfInv, gfMul } from '../src/erasure/gf256.ts';
import { mulMatrixJs } from '../src/erasure/kernel-js.ts';
import { SimdKernel } from '../src/erasure/kernel-simd.ts';
import { invertMatrix, multiplyMatrices } from '../src/erasure/matrix.ts';
import { simdSupported } from '../src/wasm.ts';

// Independent arithmetic: shift-and-add multiplication modulo x^8 + x^4 + x^3 + x^2 + 1.
function slowMul(a: number, b: number): number {
  let p = 0;
  while (b > 0) {
    if (b & 1) p ^= a;
    a <<= 1;
    if (a & 0x100) a ^= 0x11d;
    b >>= 1;
  }
  return p;
}
function slowInv(a: number): number {
  for (let x = 1; x < 256; x++) if (slowMul(a, x) === 1) return x;
  throw new Error('no inverse');
}

/** Deterministic pseudo-random bytes (xorshift32), cheap enough for megabytes in tests. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 255;
  }
  return out;
}

function makeData(k: number, length: number, seed: number): Uint8Array[] {
  return Array.from({ length: k }, (_, j) => randomBytes(length, seed * 7919 + j + 1));
}

const kernels: ErasureKernel[] = simdSupported() ? ['js', 'simd'] : ['js'];

function errorName(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

describe('GF(2^8)', () => {
  test('products match shift-and-add multiplication for every pair', () => {
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        if (gfMul(a, b) !== slowMul(a, b)) expect.fail(`${a} * ${b}`);
      }
    }
  });

  test('known products and inverses', () => {
    expect(gfMul(2, 0x80)).toBe(0x1d); // x * x^7 = x^8 = x^4 + x^3 + x^2 + 1
    expect(gfMul(3, 7)).toBe(9); // (x + 1)(x^2 + x + 1) = x^3 + 1, no reduction
    expect(gfMul(0, 0xff)).toBe(0);
    expect(gfInv(1)).toBe(1);
    expect(gfInv(2)).toBe(0x8e); // x^-1 = x^7 + x^3 + x^2 + x (0x11d >> 1)
    for (let a = 1; a < 256; a++) {
      expect(gfInv(a)).toBe(slowInv(a));
      expect(slowMul(a, gfInv(a))).toBe(1);
      expect(gfDiv(slowMul(a, 0x53), a)).toBe(0x53);
    }
    expect(() => gfInv(0)).toThrow(RangeError);
    expect(() => gfDiv(1, 0)).toThrow(RangeError);
  });

  test('matrix inverse times matrix is the identity', () => {
    const k = 6;
    const m = new Uint8Array(k * k);
    // A Vandermonde-like matrix on distinct points is invertible.
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) m[r * k + c] = gfPow(r + 1, c);
    const inv = invertMatrix(m, k);
    const id = multiplyMatrices(m, inv, k, k, k);
    for (let r = 0; r < k; r++)
      for (let c = 0; c < k; c++) expect(id[r * k + c]).toBe(r === c ? 1 : 0);
    expect(() => invertMatrix(new Uint8Array(4), 2)).toThrow(RangeError);
  });
});

function gfPow(a: number, e: number): number {
  let p = 1;
  for (let i = 0; i < e; i++) p = slowMul(p, a);
  return p;
}

describe.each(kernels)('ReedSolomon, %s kernel', (kernel) => {
  test('encoding is systematic with Cauchy parity rows 1/((k+i) xor j)', () => {
    const k = 5;
    const m = 3;
    const data = makeData(k, 37, 1);
    const rs = new ReedSolomon(k, m, { kernel });
    expect(rs.kernel).toBe(kernel);
    expect([rs.k, rs.m, rs.n]).toEqual([5, 3, 8]);
    const parity = rs.encode(data);
    expect(parity).toHaveLength(m);
    for (let i = 0; i < m; i++) {
      const expected = new Uint8Array(37);
      for (let x = 0; x < 37; x++) {
        let acc = 0;
        for (let j = 0; j < k; j++) acc ^= slowMul(slowInv((k + i) ^ j), data[j]![x]!);
        expected[x] = acc;
      }
      expect(parity[i]).toEqual(expected);
    }
    // Data pieces go through untouched: with all of them present nothing is rebuilt.
    expect(rs.reconstruct([...data, null, null, null])).toEqual([]);
    expect(rs.reconstruct([...data, null, null, null], [0, 4])).toEqual([data[0], data[4]]);
  });

  test('(1,1) parity is a copy of the data; m = 0 has no parity', () => {
    const data = makeData(1, 100, 2);
    expect(new ReedSolomon(1, 1, { kernel }).encode(data)).toEqual(data);
    const rs = new ReedSolomon(1, 0, { kernel });
    expect(rs.encode(data)).toEqual([]);
    rs.encodeInto(data, []);
    expect(rs.reconstruct(data, [0])).toEqual(data);
  });

  test('round trips at fixed shapes and awkward lengths', () => {
    const shapes: [number, number][] = [
      [1, 3],
      [4, 4],
      [10, 4],
      [29, 51],
      [255, 1],
      [1, 255],
      [128, 128],
    ];
    const lengths = [0, 1, 15, 16, 17, 31, 33, 1001];
    let seed = 10;
    for (const [k, m] of shapes) {
      const rs = new ReedSolomon(k, m, { kernel });
      for (const length of k * m > 1000 ? [0, 17, 100] : lengths) {
        const data = makeData(k, length, seed++);
        const parity = rs.encode(data);
        const all = [...data, ...parity];
        // Lose the first m pieces (as many data pieces as possible), then the last m.
        for (const lost of [range(0, m), range(k, k + m)]) {
          const pieces = all.map((p, i) => (lost.includes(i) ? null : p));
          const rebuilt = rs.reconstruct(pieces, lost);
          for (let t = 0; t < lost.length; t++) {
            if (!equal(rebuilt[t]!, all[lost[t]!]!)) expect.fail(`(${k},${m}) length ${length}`);
          }
        }
      }
    }
  });

  test('property: any m lost pieces (data or parity) are rebuilt exactly', () => {
    const shape = fc
      .record({
        k: fc.integer({ min: 1, max: 40 }),
        m: fc.integer({ min: 0, max: 40 }),
        length: fc.oneof(
          fc.constantFrom(0, 1, 15, 16, 17, 63, 65),
          fc.integer({ min: 0, max: 4096 }),
          fc.integer({ min: 0, max: 65536 }),
        ),
        seed: fc.integer({ min: 1, max: 1 << 30 }),
      })
      // Keep each case to a few million products.
      .map((s) => ({ ...s, length: Math.min(s.length, Math.floor(4e6 / (s.k * (s.m + 1)))) }));
    const arb = shape.chain((s) =>
      fc.record({
        s: fc.constant(s),
        lost: fc.shuffledSubarray(range(0, s.k + s.m), { minLength: s.m, maxLength: s.m }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ s, lost }) => {
        const rs = new ReedSolomon(s.k, s.m, { kernel });
        const data = makeData(s.k, s.length, s.seed);
        const parity = rs.encode(data);
        const all = [...data, ...parity];
        const pieces = all.map((p, i) => (lost.includes(i) ? null : p));
        const rebuilt = rs.reconstruct(pieces, lost);
        expect(rebuilt).toHaveLength(lost.length);
        for (let t = 0; t < lost.length; t++) expect(equal(rebuilt[t]!, all[lost[t]!]!)).toBe(true);
        // The default is the missing data pieces, in index order.
        const missingData = lost.filter((i) => i < s.k).sort((a, b) => a - b);
        const defaults = rs.reconstruct(pieces);
        expect(defaults.map((p, t) => equal(p, data[missingData[t]!]!))).toEqual(
          missingData.map(() => true),
        );
      }),
      { numRuns: 40 },
    );
  });

  test('n = 256 with unaligned subarray pieces', () => {
    const k = 200;
    const m = 56;
    const rs = new ReedSolomon(k, m, { kernel });
    const length = 33;
    const block = randomBytes(k * length + 1, 99);
    const data = Array.from({ length: k }, (_, j) =>
      block.subarray(1 + j * length, 1 + (j + 1) * length),
    );
    const parityBlock = new Uint8Array(m * length + 3);
    const parity = Array.from({ length: m }, (_, i) =>
      parityBlock.subarray(3 + i * length, 3 + (i + 1) * length),
    );
    rs.encodeInto(data, parity);
    expect(rs.encode(data)).toEqual(parity.map((p) => p.slice()));
    const all = [...data, ...parity];
    for (let pattern = 0; pattern < 3; pattern++) {
      const lost = range(0, 256)
        .sort((a, b) => ((a * 37 + pattern * 101) % 257) - ((b * 37 + pattern * 101) % 257))
        .slice(0, m - (pattern % 3));
      const pieces = all.map((p, i) => (lost.includes(i) ? null : p));
      const rebuilt = rs.reconstruct(pieces, lost);
      for (let t = 0; t < lost.length; t++) expect(equal(rebuilt[t]!, all[lost[t]!]!)).toBe(true);
    }
  });

  test('more erasure patterns than the inverse cache holds, revisited', () => {
    const k = 10;
    const m = 6;
    const rs = new ReedSolomon(k, m, { kernel });
    const data = makeData(k, 50, 12);
    const all = [...data, ...rs.encode(data)];
    for (let round = 0; round < 2; round++) {
      for (let pattern = 0; pattern < 40; pattern++) {
        const lost = range(0, k + m)
          .sort((a, b) => ((a * 7 + pattern * 13) % 17) - ((b * 7 + pattern * 13) % 17))
          .slice(0, 1 + (pattern % m));
        const pieces = all.map((p, i) => (lost.includes(i) ? null : p));
        expect(rs.reconstruct(pieces, lost)).toEqual(lost.map((i) => all[i]));
      }
    }
  });

  test('reconstruct returns copies of present pieces, in the order asked', () => {
    const rs = new ReedSolomon(3, 2, { kernel });
    const data = makeData(3, 20, 5);
    const all = [...data, ...rs.encode(data)];
    const pieces = [all[0]!, null, all[2]!, null, all[4]!];
    const out = rs.reconstruct(pieces, [4, 3, 1, 0, 3]);
    expect(out).toEqual([all[4], all[3], all[1], all[0], all[3]]);
    expect(out[0]).not.toBe(all[4]);
  });

  test('reconstructInto writes into caller buffers (unaligned too)', () => {
    const rs = new ReedSolomon(6, 3, { kernel });
    const length = 1000;
    const data = makeData(6, length, 8);
    const all = [...data, ...rs.encode(data)];
    const pieces = all.map((p, i) => (i === 1 || i === 4 || i === 7 ? null : p));
    const block = new Uint8Array(3 * length + 1).fill(0xee);
    const outputs = [0, 1, 2].map((t) => block.subarray(1 + t * length, 1 + (t + 1) * length));
    rs.reconstructInto(pieces, [7, 1, 4], outputs);
    expect(outputs).toEqual([all[7], all[1], all[4]]);
    rs.reconstructInto(pieces, undefined, outputs.slice(0, 2));
    expect(outputs.slice(0, 2)).toEqual([all[1], all[4]]);
    expect(() => rs.reconstructInto(pieces, [7, 1], outputs)).toThrow(/outputs/);
    expect(() => rs.reconstructInto(pieces, [7], [new Uint8Array(999)])).toThrow(RangeError);
  });

  test('errors name the problem', () => {
    const rs = new ReedSolomon(4, 2, { kernel });
    const data = makeData(4, 10, 3);
    const all = [...data, ...rs.encode(data)];
    expect(errorName(() => rs.reconstruct([all[0]!, null, null, all[3]!, all[4]!, null]))).toBe(
      'NotEnoughPiecesError',
    );
    expect(() => rs.reconstruct([null, null, null, null, null, null])).toThrow(/need 4/);
    expect(() => rs.encode([data[0]!, data[1]!, data[2]!, new Uint8Array(9)])).toThrow(RangeError);
    expect(() => rs.encode(data.slice(0, 3))).toThrow(RangeError);
    expect(() => rs.encode([...data.slice(0, 3), [1, 2] as unknown as Uint8Array])).toThrow(
      TypeError,
    );
    expect(() => rs.encode('abcd' as unknown as Uint8Array[])).toThrow(TypeError);
    expect(() => rs.encodeInto(data, [new Uint8Array(10), new Uint8Array(11)])).toThrow(RangeError);
    expect(() => rs.encodeInto(data, [new Uint8Array(9), new Uint8Array(9)])).toThrow(RangeError);
    expect(() => rs.encodeInto(data, [new Uint8Array(10)])).toThrow(RangeError);
    const pieces: (Uint8Array | null)[] = [...all];
    pieces[5] = null;
    expect(() => rs.reconstruct(pieces, [6])).toThrow(RangeError);
    expect(() => rs.reconstruct(pieces, [-1])).toThrow(RangeError);
    expect(() => rs.reconstruct(pieces, [1.5])).toThrow(/wanted/);
    expect(() => rs.reconstruct(all.slice(0, 5))).toThrow(RangeError);
    const uneven: (Uint8Array | null)[] = [...all];
    uneven[2] = new Uint8Array(11);
    expect(() => rs.reconstruct(uneven)).toThrow(RangeError);
    const wrongType: unknown[] = [...all];
    wrongType[1] = 'x';
    expect(() => rs.reconstruct(wrongType as Uint8Array[])).toThrow(TypeError);
  });
});

describe('constructor', () => {
  test('rejects bad k, m and kernel with RangeError naming the argument', () => {
    expect(() => new ReedSolomon(0, 1)).toThrow(/^k /);
    expect(() => new ReedSolomon(1.5, 1)).toThrow(RangeError);
    expect(() => new ReedSolomon(257, 0)).toThrow(/^k /);
    expect(() => new ReedSolomon(4, -1)).toThrow(/^m /);
    expect(() => new ReedSolomon(200, 57)).toThrow(/^m /);
    expect(() => new ReedSolomon(Number.NaN, 2)).toThrow(RangeError);
    expect(() => new ReedSolomon(4, 2, { kernel: 'gpu' as unknown as ErasureKernel })).toThrow(
      /options.kernel/,
    );
    expect(new ReedSolomon(256, 0).n).toBe(256);
    expect(new ReedSolomon(1, 255).n).toBe(256);
  });

  test("'auto' picks simd exactly when the engine supports it", () => {
    expect(new ReedSolomon(10, 4).kernel).toBe(simdSupported() ? 'simd' : 'js');
    expect(new ReedSolomon(10, 4, { kernel: 'auto' }).kernel).toBe(simdSupported() ? 'simd' : 'js');
    expect(new ReedSolomon(10, 4, { kernel: 'js' }).kernel).toBe('js');
  });
});

describe.runIf(simdSupported())('SIMD and JS kernels', () => {
  test('property: identical bytes for random matrices, lengths and alignments', () => {
    const simd = new SimdKernel();
    const arb = fc.record({
      rows: fc.integer({ min: 1, max: 20 }),
      cols: fc.integer({ min: 1, max: 20 }),
      length: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 40000 })),
      offset: fc.integer({ min: 0, max: 3 }),
      zeros: fc.boolean(),
      seed: fc.integer({ min: 1, max: 1 << 30 }),
    });
    fc.assert(
      fc.property(arb, ({ rows, cols, length, offset, zeros, seed }) => {
        const coef = randomBytes(rows * cols, seed);
        // Zero coefficients take a shortcut in the JS kernel; make whole rows of them sometimes.
        if (zeros) coef.fill(0, 0, Math.min(coef.length, cols + 1));
        const inputs = Array.from({ length: cols }, (_, j) =>
          randomBytes(length + offset, seed + j + 1).subarray(offset),
        );
        const a = Array.from({ length: rows }, () => new Uint8Array(length + 1).subarray(1));
        const b = Array.from({ length: rows }, () => new Uint8Array(length).fill(0xaa));
        mulMatrixJs(coef, rows, cols, inputs, a, length);
        simd.mulMatrix(coef, rows, cols, inputs, b, length);
        for (let r = 0; r < rows; r++) expect(equal(a[r]!, b[r]!)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  test('encode and reconstruct agree across kernels at (10,4), (29,51) and (4,4)', () => {
    for (const [k, m, length] of [
      [10, 4, 100_003],
      [29, 51, 4099],
      [4, 4, 65536],
    ] as const) {
      const js = new ReedSolomon(k, m, { kernel: 'js' });
      const simd = new ReedSolomon(k, m, { kernel: 'simd' });
      const data = makeData(k, length, k + m);
      const parity = simd.encode(data);
      expect(parity).toEqual(js.encode(data));
      const pieces = [...data, ...parity].map((p, i) => (i % 3 === 0 && i < 3 * m ? null : p));
      expect(simd.reconstruct(pieces)).toEqual(js.reconstruct(pieces));
    }
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
