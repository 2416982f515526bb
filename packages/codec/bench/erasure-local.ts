// Scratch benchmark of the Reed-Solomon coder (the official runner is bench/ elsewhere).
//   node packages/codec/bench/erasure-local.ts             # public API, both kernels, MB/s of data
//   node packages/codec/bench/erasure-local.ts 4x1,4x2,3x2 # compare generated kernel shapes
import wabtInit from 'wabt';
import { generateWat } from '../scripts/gen-rs-wat.ts';
import { ReedSolomon, type ErasureKernel } from '../src/erasure/index.ts';
import { SimdKernel } from '../src/erasure/kernel-simd.ts';
import { cauchyParityMatrix } from '../src/erasure/matrix.ts';

const shapes = [
  [10, 4, 1 << 20],
  [29, 51, 1 << 17],
  [4, 4, 1 << 20],
] as const;

function randomPieces(count: number, length: number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const a = new Uint8Array(length);
    for (let i = 0; i < length; i++) a[i] = (Math.random() * 256) | 0;
    return a;
  });
}

/** Best of 5 rounds of `f`, in MB/s of `bytes` per call. */
function measure(bytes: number, f: () => void): number {
  f();
  const t = performance.now();
  f();
  const calls = Math.max(1, Math.ceil(100 / Math.max(performance.now() - t, 0.01)));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) f();
    best = Math.min(best, (performance.now() - t0) / calls);
  }
  return bytes / best / 1e3;
}

const variants = process.argv[2];
if (variants === undefined) {
  for (const [k, m, length] of shapes) {
    const data = randomPieces(k, length);
    const copy = new Uint8Array(k * length);
    const base = measure(k * length, () => {
      for (let j = 0; j < k; j++) copy.set(data[j]!, j * length);
    });
    console.log(`(${k},${m}) ${length} B/piece: baseline Uint8Array.set ${base.toFixed(0)} MB/s`);
    for (const kernel of ['js', 'simd'] as ErasureKernel[]) {
      const rs = new ReedSolomon(k, m, { kernel });
      const parity = rs.encode(data);
      const enc = measure(k * length, () => rs.encodeInto(data, parity));
      const pieces = [...data, ...parity].map((p, i) => (i < m ? null : p));
      const dec = measure(k * length, () => rs.reconstruct(pieces));
      console.log(
        `  ${kernel}: encode ${enc.toFixed(0)} MB/s, reconstruct ${m} lost ${dec.toFixed(0)} MB/s`,
      );
    }
  }
} else {
  const wabt = await wabtInit();
  const kernels = variants.split(',').map((v) => {
    const [g, u] = v.split('x').map(Number);
    const mod = wabt.parseWat('v.wat', generateWat(g, u), { simd: true });
    return [v, new SimdKernel(new Uint8Array(mod.toBinary({}).buffer))] as const;
  });
  for (const [k, m, length] of shapes) {
    const coef = cauchyParityMatrix(k, m);
    const data = randomPieces(k, length);
    const parity = randomPieces(m, length);
    for (const [name, kernel] of kernels) {
      const mbs = measure(k * length, () => kernel.mulMatrix(coef, m, k, data, parity, length));
      console.log(`(${k},${m}) ${name}: ${mbs.toFixed(0)} MB/s`);
    }
  }
}
