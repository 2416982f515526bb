/**
 * A tiny isomorphic benchmark harness: each benchmark reports a figure beside a baseline measured
 * in the same run and environment, because these machines are noisy and only ratios compare.
 */

export interface BenchResult {
  bench: string;
  env: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  /** Free-form context (parameters, kernel) for the human-readable output. */
  note?: string;
}

export interface BenchContext {
  env: string;
  /** Run only benchmarks whose names start with this. */
  only?: string;
  report(result: BenchResult): void;
}

export function wanted(ctx: BenchContext, name: string): boolean {
  return !ctx.only || name.startsWith(ctx.only) || ctx.only.startsWith(name);
}

/**
 * Runs `work` (which processes `bytes` bytes) repeatedly for about `seconds` after a warm-up and
 * returns the best throughput in MB/s (10^6 bytes per second): the best run is the one least
 * disturbed by other load. Each timed run repeats `work` until it lasts at least 50 ms, because
 * browsers coarsen `performance.now()` (to 100 µs or more) and a fast kernel finishes sooner.
 */
export async function throughput(
  bytes: number,
  work: () => unknown,
  { seconds = 1.5, minRuns = 3 }: { seconds?: number; minRuns?: number } = {},
): Promise<number> {
  const t = performance.now();
  await work();
  const once = Math.max(performance.now() - t, 0.01);
  const reps = Math.max(1, Math.ceil(50 / once));
  let best = 0;
  const deadline = performance.now() + seconds * 1000;
  for (let run = 0; run < minRuns || (performance.now() < deadline && run < 200); run++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await work();
    const ms = performance.now() - t0;
    best = Math.max(best, (reps * bytes) / 1e6 / (ms / 1000));
  }
  return best;
}

export function formatResult(r: BenchResult): string {
  const figure = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const value = figure(r.value);
  const ratio = r.ratio === null ? '' : `  ratio ${r.ratio.toFixed(2)}x`;
  const base = r.baseline === null ? '' : `  baseline ${figure(r.baseline)}`;
  return `${r.bench.padEnd(36)} ${r.env.padEnd(16)} ${value.padStart(8)} ${r.unit.padEnd(5)}${base}${ratio}${r.note ? `  (${r.note})` : ''}`;
}

/** Deterministic pseudo-random bytes (fast; not for keys). */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, length >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < length; i++) out[i] = i & 0xff;
  return out;
}
