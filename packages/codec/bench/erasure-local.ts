import wabtInit from 'wabt';
import { generateWat } from '../scripts/gen-rs-wat.ts';
import { SimdKernel } from '../src/erasure/kernel-simd.ts';
import { mulMatrixJs } from '../src/erasure/kernel-js.ts';
import { cauchyParityMatrix } from '../src/erasure/matrix.ts';
const wabt = await wabtInit();
const variants = (process.argv[2] ?? '4x1,4x2,2x4,3x2,6x1,8x1').split(',').map((s) => s.split('x').map(Number));
const kernels = variants.map(([g, u]) => {
  const m = wabt.parseWat('x.wat', generateWat(g, u), { simd: true });
  const { buffer } = m.toBinary({});
  return [`${g}x${u}`, new SimdKernel(new Uint8Array(buffer))] as const;
});
for (const [k, m, L] of [[10, 4, 1 << 20], [29, 51, 1 << 18], [4, 4, 1 << 20], [10,4, 4096+7]] as const) {
  const coef = cauchyParityMatrix(k, m);
  const ins = Array.from({ length: k }, () => { const a = new Uint8Array(L); for (let i = 0; i < L; i++) a[i] = Math.random()*256; return a; });
  const ref = Array.from({ length: m }, () => new Uint8Array(L));
  mulMatrixJs(coef, m, k, ins, ref, L);
  const outs = Array.from({ length: m }, () => new Uint8Array(L));
  for (const [name, kern] of kernels) {
    kern.mulMatrix(coef, m, k, ins, outs, L);
    for (let r = 0; r < m; r++) for (let i = 0; i < L; i++) if (outs[r][i] !== ref[r][i]) throw new Error(`mismatch ${name} r${r} i${i}`);
    let best = Infinity;
    const reps = Math.max(5, Math.ceil(2e7 / (k*L)));
    for (let rep = 0; rep < 5; rep++) {
      const t0 = performance.now();
      for (let q = 0; q < reps/5; q++) kern.mulMatrix(coef, m, k, ins, outs, L);
      best = Math.min(best, (performance.now() - t0) / Math.ceil(reps/5));
    }
    console.log(`(${k},${m}) L=${L} ${name}: ${((k * L) / best / 1e3).toFixed(0)} MB/s`);
  }
}
