/**
 * The per-file Markov chain that turns the Monte Carlo's rates into probabilities far too small
 * to observe (eleven nines means one loss in 1e11 file-years).
 *
 * State: how many of the file's shards still count on hosts of each class (b browser-like,
 * d node-like; one class: d = 0) and the repair's progress j (0: no repair; 1..s: the phases of
 * an Erlang-s repair delay with the measured mean). A shard on a class-c host is lost at rate
 * rates[c]. When the count falls to the threshold a repair starts; when it completes every
 * missing shard is regenerated, landing on class c with probability placement[c]. Fewer than k
 * shards: the file is lost (absorbing).
 *
 * The probability of loss within a horizon is computed by uniformization (the chain observed at
 * the jumps of a Poisson clock), a sum of non-negative terms, so a probability of 1e-30 comes out
 * with full relative precision, unlike 1 - survival. The same pass gives the expected time spent
 * in each state (for availability) and the expected number of repairs (for traffic).
 */

export interface ChainSpec {
  readonly k: number;
  readonly n: number;
  readonly threshold: number;
  /** Loss rate (per hour) of one shard on a host of each class; one or two classes. */
  readonly rates: readonly number[];
  /** Share of new shards landing on each class (sums to 1). */
  readonly placement: readonly number[];
  /** Mean time from the count reaching the threshold to the repair completing, hours. */
  readonly repairMeanHours: number;
  /** Erlang phases of the repair delay (1: exponential; more: less variable). */
  readonly phases: number;
  /** Where the file starts: 'fresh' (n shards placed now, class by placement). */
  readonly start?: 'fresh';
}

export interface Chain {
  readonly spec: ChainSpec;
  /** Transient states; LOSS is index `size`. */
  readonly size: number;
  readonly b: Int32Array;
  readonly d: Int32Array;
  readonly phase: Int32Array;
  readonly rowStart: Int32Array;
  readonly col: Int32Array;
  readonly rate: Float64Array;
  readonly outRate: Float64Array;
  readonly init: Float64Array;
}

export interface ChainSolution {
  /** Probability that the file is lost within the horizon. */
  readonly lossProbability: number;
  /** Expected hours spent in each transient state within the horizon. */
  readonly occupancy: Float64Array;
  /** Expected repairs completed, and shards regenerated, within the horizon. */
  readonly repairs: number;
  readonly regenerated: number;
  readonly horizonHours: number;
  /** Uniformization steps taken. */
  readonly steps: number;
}

export function validateChainSpec(s: ChainSpec): ChainSpec {
  const int = (x: number) => Number.isInteger(x);
  if (!int(s.k) || s.k < 1) throw new RangeError(`chain: k must be an integer >= 1`);
  if (!int(s.n) || s.n <= s.k) throw new RangeError(`chain: n must be an integer > k`);
  if (!int(s.threshold) || s.threshold < s.k || s.threshold >= s.n) {
    throw new RangeError(`chain: threshold must be an integer in [k, n-1]`);
  }
  if (s.rates.length < 1 || s.rates.length > 2 || s.placement.length !== s.rates.length) {
    throw new RangeError('chain: rates and placement must both have one or two entries');
  }
  if (s.rates.some((r) => !(r >= 0) || !Number.isFinite(r))) {
    throw new RangeError('chain: rates must be finite and >= 0');
  }
  if (
    s.placement.some((p) => !(p >= 0)) ||
    Math.abs(s.placement.reduce((a, b) => a + b) - 1) > 1e-9
  ) {
    throw new RangeError('chain: placement shares must be >= 0 and sum to 1');
  }
  if (!(s.repairMeanHours > 0) || !Number.isFinite(s.repairMeanHours)) {
    throw new RangeError('chain: repairMeanHours must be finite and > 0');
  }
  if (!int(s.phases) || s.phases < 1) throw new RangeError('chain: phases must be an integer >= 1');
  return s;
}

export function buildChain(spec: ChainSpec): Chain {
  validateChainSpec(spec);
  const { k, n, threshold: r, phases: s } = spec;
  const two = spec.rates.length === 2;
  const l0 = spec.rates[0]!;
  const l1 = two ? spec.rates[1]! : 0;
  const q0 = two ? spec.placement[0]! : 1;
  const stride = s + 1;
  const index = new Int32Array((n + 1) * (n + 1) * stride).fill(-1);
  let B = new Int32Array(1024);
  let D = new Int32Array(1024);
  let J = new Int32Array(1024);
  let size = 0;
  const stateOf = (b: number, d: number, j: number): number => {
    const key = (b * (n + 1) + d) * stride + j;
    let i = index[key]!;
    if (i < 0) {
      i = size++;
      if (i >= B.length) {
        B = grow(B);
        D = grow(D);
        J = grow(J);
      }
      index[key] = i;
      B[i] = b;
      D[i] = d;
      J[i] = j;
    }
    return i;
  };
  // Initial distribution: n fresh shards, Binomial(n, q0) of them on class 0.
  const fresh = binomialPmf(n, q0);
  const initPairs: [number, number][] = [];
  for (let x = 0; x <= n; x++) if (fresh[x]! > 0) initPairs.push([stateOf(x, n - x, 0), fresh[x]!]);
  const pmfs = Array.from({ length: n + 1 }, (_, missing) => binomialPmf(missing, q0));
  let col = new Int32Array(4096);
  let rate = new Float64Array(4096);
  let edges = 0;
  let rowStart = new Int32Array(1024);
  const LOSS = -1;
  const edge = (to: number, r0: number) => {
    if (edges >= col.length) {
      col = grow(col);
      rate = grow(rate);
    }
    col[edges] = to;
    rate[edges++] = r0;
  };
  // Breadth-first over reachable states (the loop bound grows as states are found).
  for (let i = 0; i < size; i++) {
    if (i + 1 >= rowStart.length) rowStart = grow(rowStart);
    rowStart[i] = edges;
    const b = B[i]!;
    const d = D[i]!;
    const j = J[i]!;
    if (b > 0) {
      const c = b - 1 + d;
      edge(c < k ? LOSS : stateOf(b - 1, d, j === 0 && c <= r ? 1 : j), b * l0);
    }
    if (d > 0 && l1 > 0) {
      const c = b + d - 1;
      edge(c < k ? LOSS : stateOf(b, d - 1, j === 0 && c <= r ? 1 : j), d * l1);
    }
    if (j > 0) {
      const mu = s / spec.repairMeanHours;
      if (j < s) {
        edge(stateOf(b, d, j + 1), mu);
      } else {
        const missing = n - b - d;
        const pmf = pmfs[missing]!;
        for (let x = 0; x <= missing; x++) {
          if (pmf[x]! > 0) edge(stateOf(b + x, d + missing - x, 0), mu * pmf[x]!);
        }
      }
    }
  }
  rowStart[size] = edges;
  const outRate = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) {
      if (col[e] === LOSS) col[e] = size;
      outRate[i]! += rate[e]!;
    }
  }
  const init = new Float64Array(size + 1);
  for (const [i, p] of initPairs) init[i]! += p;
  return {
    spec,
    size,
    b: B.slice(0, size),
    d: D.slice(0, size),
    phase: J.slice(0, size),
    rowStart: rowStart.slice(0, size + 1),
    col: col.slice(0, edges),
    rate: rate.slice(0, edges),
    outRate,
    init,
  };
}

function grow<T extends Int32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** Loss probability, occupancy and repairs within `hours`, by uniformization. */
export function solveChain(chain: Chain, hours: number): ChainSolution {
  if (!(hours > 0) || !Number.isFinite(hours)) throw new RangeError('hours must be finite and > 0');
  const { size, rowStart, col, rate, outRate } = chain;
  let lambda = 0;
  for (let i = 0; i < size; i++) lambda = Math.max(lambda, outRate[i]!);
  lambda = lambda > 0 ? lambda * 1.0000001 : 1;
  const scaled = new Float64Array(rate.length);
  for (let e = 0; e < rate.length; e++) scaled[e] = rate[e]! / lambda;
  const stay = new Float64Array(size);
  for (let i = 0; i < size; i++) stay[i] = 1 - outRate[i]! / lambda;
  const L = lambda * hours;
  const steps = Math.ceil(L + 10 * Math.sqrt(L) + 30);
  let v = Float64Array.from(chain.init);
  let next = new Float64Array(size + 1);
  const occupancy = new Float64Array(size);
  let loss = 0;
  let cdf = 0;
  let logW = -L;
  const logL = Math.log(L);
  for (let j = 0; j <= steps; j++) {
    const w = Math.exp(logW);
    loss += w * v[size]!;
    cdf += w;
    const tail = Math.max(0, 1 - cdf) / lambda;
    if (tail > 0) for (let i = 0; i < size; i++) occupancy[i]! += tail * v[i]!;
    if (j === steps) break;
    next.fill(0);
    next[size] = v[size]!;
    for (let i = 0; i < size; i++) {
      const x = v[i]!;
      if (x === 0) continue;
      next[i]! += x * stay[i]!;
      for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) next[col[e]!]! += x * scaled[e]!;
    }
    const t = v;
    v = next;
    next = t;
    logW += logL - Math.log(j + 1);
  }
  // Expected completions: time in the last repair phase times its completion rate.
  const { n, phases } = chain.spec;
  const mu = phases / chain.spec.repairMeanHours;
  let repairs = 0;
  let regenerated = 0;
  for (let i = 0; i < size; i++) {
    if (chain.phase[i] !== phases) continue;
    const f = occupancy[i]! * mu;
    repairs += f;
    regenerated += f * (n - chain.b[i]! - chain.d[i]!);
  }
  return { lossProbability: loss, occupancy, repairs, regenerated, horizonHours: hours, steps };
}

/** Per-state probability that fewer than k counted shards are online, averaged over the hours. */
export function stateUnavailability(
  chain: Chain,
  onlineByHour: readonly (readonly number[])[],
): Float64Array {
  const { k, n } = chain.spec;
  const two = chain.spec.rates.length === 2;
  const hours = onlineByHour[0]!.length;
  const W = n + 1;
  const used = new Uint8Array(W * W);
  for (let i = 0; i < chain.size; i++) used[chain.b[i]! * W + chain.d[i]!] = 1;
  const byPair = new Float64Array(W * W);
  for (let h = 0; h < hours; h++) {
    const pb = binomialTable(n, onlineByHour[0]![h]!);
    const pd = binomialTable(n, two ? onlineByHour[1]![h]! : 0).map(cumulative);
    for (let key = 0; key < W * W; key++) {
      if (!used[key]) continue;
      const b = Math.floor(key / W);
      const d = key - b * W;
      const rowB = pb[b]!;
      const rowD = pd[d]!;
      let p = 0;
      for (let x = 0; x <= Math.min(b, k - 1); x++) p += rowB[x]! * rowD[Math.min(d, k - 1 - x)]!;
      byPair[key]! += p / hours;
    }
  }
  const out = new Float64Array(chain.size);
  for (let i = 0; i < chain.size; i++) out[i] = byPair[chain.b[i]! * W + chain.d[i]!]!;
  return out;
}

export interface CycleSolution {
  /**
   * Probability of loss within the horizon from a fresh upload: the expected losses in the cycles
   * that start within it (an upper bound for rare losses; tests compare it with solveChain).
   */
  readonly lossProbability: number;
  /** Mean time to loss from a fresh upload, hours (exact for the chain). */
  readonly meanTimeToLoss: number;
  /** Expected repairs and regenerated shards within the horizon. */
  readonly repairs: number;
  readonly regenerated: number;
  /** Time-averaged probability that fewer than k shards are online (if onlineByHour given). */
  readonly unavailability: number;
  /** Mean time between repairs (one cycle: full -> threshold -> repaired). */
  readonly meanCycleHours: number;
  /** Expected cycles started within the horizon. */
  readonly cycles: number;
}

/**
 * The same chain solved cycle by cycle. A cycle starts with all n shards counted (composition x)
 * and ends with a repair completing (back to n shards, composition x') or with the loss. Within a
 * cycle counts only fall and repair phases only advance, so the chain is acyclic there and one
 * backward pass gives, for every state, the probability of loss before the cycle ends, the
 * expected time left in the cycle, where the cycle returns, and the expected unavailable time.
 * Everything is a sum of non-negative terms: tiny probabilities keep full precision.
 *
 * Across cycles: the distribution over compositions evolves by the return kernel; the loss
 * probability within the horizon sums the cycles' loss probabilities, counting cycles by their
 * expected length (for rare losses this is the probability; the mean time to loss is exact, by
 * state reduction without subtractions).
 */
export function solveCycles(
  chain: Chain,
  hours: number,
  onlineByHour?: readonly (readonly number[])[],
): CycleSolution {
  if (!(hours > 0) || !Number.isFinite(hours)) throw new RangeError('hours must be finite and > 0');
  const { size, rowStart, col, rate, outRate, b, d, phase } = chain;
  const { n } = chain.spec;
  const tops = n + 1; // composition x = shards on class 0 when all n are counted
  const topOf = new Int32Array(size).fill(-1);
  for (let i = 0; i < size; i++) if (b[i]! + d[i]! === n) topOf[i] = b[i]!;
  // Backward order: ascending count, then descending phase (a counting sort).
  const { phases } = chain.spec;
  const bucketOf = (i: number) => (b[i]! + d[i]!) * (phases + 1) + (phases - phase[i]!);
  const buckets = (n + 1) * (phases + 1);
  const starts = new Int32Array(buckets + 1);
  for (let i = 0; i < size; i++) starts[bucketOf(i) + 1]!++;
  for (let x = 0; x < buckets; x++) starts[x + 1]! += starts[x]!;
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++) order[starts[bucketOf(i)]!++] = i;
  const U = onlineByHour ? stateUnavailability(chain, onlineByHour) : new Float64Array(size);
  const loss = new Float64Array(size);
  const time = new Float64Array(size);
  const down = new Float64Array(size);
  const regen = new Float64Array(size);
  const ret = new Float64Array(size * tops);
  for (const u of order) {
    const out = outRate[u]!;
    if (!(out > 0)) throw new Error('a state with no way out: the chain never ends a cycle');
    let l = 0;
    let t = 1 / out;
    let g = U[u]! / out;
    let rg = 0;
    const missing = n - b[u]! - d[u]!;
    const base = u * tops;
    for (let e = rowStart[u]!; e < rowStart[u + 1]!; e++) {
      const v = col[e]!;
      const p = rate[e]! / out;
      if (v === size) {
        l += p;
      } else if (topOf[v]! >= 0) {
        ret[base + topOf[v]!]! += p;
        rg += p * missing;
      } else {
        l += p * loss[v]!;
        t += p * time[v]!;
        g += p * down[v]!;
        rg += p * regen[v]!;
        const vb = v * tops;
        for (let x = 0; x < tops; x++) ret[base + x]! += p * ret[vb + x]!;
      }
    }
    loss[u] = l;
    time[u] = t;
    down[u] = g;
    regen[u] = rg;
  }
  // Per top state: cycle quantities and the return kernel.
  const topState = new Int32Array(tops).fill(-1);
  for (let i = 0; i < size; i++) if (topOf[i]! >= 0 && phase[i] === 0) topState[topOf[i]!] = i;
  const at = (arr: Float64Array, x: number) => (topState[x]! >= 0 ? arr[topState[x]!]! : 0);
  const K = new Float64Array(tops * tops);
  for (let x = 0; x < tops; x++) {
    const u = topState[x]!;
    if (u < 0) continue;
    for (let y = 0; y < tops; y++) K[x * tops + y] = ret[u * tops + y]!;
  }
  // Across cycles: mass over (composition, start time), in time bins, each cycle taking its
  // composition's mean length (spread over the two nearest bins), pushed forward in time order.
  const bins = Math.max(64, Math.min(4096, Math.ceil(hours / 24)));
  const width = hours / bins;
  const mass = new Float64Array((bins + 1) * tops);
  for (let i = 0; i < size; i++) if (chain.init[i]! > 0) mass[topOf[i]!]! += chain.init[i]!;
  let lossP = 0;
  let repairs = 0;
  let regenerated = 0;
  let downTime = 0;
  let upTime = 0;
  let cycles = 0;
  let cycleHours = 0;
  for (let tb = 0; tb < bins; tb++) {
    for (let x = 0; x < tops; x++) {
      const w = mass[tb * tops + x]!;
      if (w === 0) continue;
      const u = topState[x]!;
      if (u < 0) continue;
      // A cycle starting in this bin: all of its loss counts (it may come a little after the
      // horizon: on the safe side); its time and repairs count in proportion to what fits.
      const tau = time[u]!;
      const startAt = (tb + 0.5) * width;
      const fits = Math.min(1, Math.max(0, (hours - startAt) / tau));
      lossP += w * loss[u]!;
      repairs += w * fits * (1 - loss[u]!);
      regenerated += w * fits * regen[u]!;
      downTime += w * fits * down[u]!;
      upTime += w * fits * tau;
      cycles += w;
      cycleHours += w * tau;
      const to = tb + 0.5 + tau / width; // in bins, from this bin's middle
      const lo = Math.floor(to - 0.5);
      const f = to - 0.5 - lo; // share for bin lo + 1
      for (let y = 0; y < tops; y++) {
        const p = K[x * tops + y]!;
        if (p === 0) continue;
        if (lo < bins) mass[lo * tops + y]! += w * p * (1 - f);
        if (lo + 1 < bins) mass[(lo + 1) * tops + y]! += w * p * f;
      }
    }
  }
  const fresh = new Float64Array(tops);
  for (let i = 0; i < size; i++) if (chain.init[i]! > 0) fresh[topOf[i]!]! += chain.init[i]!;
  const mttl = meanTimeToLossByReduction(
    K,
    Float64Array.from({ length: tops }, (_, x) => at(loss, x)),
    Float64Array.from({ length: tops }, (_, x) => at(time, x)),
    fresh,
  );
  return {
    lossProbability: lossP,
    meanTimeToLoss: mttl,
    repairs,
    regenerated,
    unavailability: upTime > 0 ? downTime / upTime : 0,
    meanCycleHours: cycles > 0 ? cycleHours / cycles : Infinity,
    cycles,
  };
}

/**
 * Mean time to absorption of a Markov renewal process on `N` states with sub-stochastic kernel K
 * (row deficit = loss), mean sojourn tau, from distribution p0. States are eliminated one by one
 * (the censored process), with each pivot's "1 - K(p,p)" computed as its deficit plus its other
 * exits, so no subtraction ever cancels (the GTH idea), even when losses are 1e-20 per cycle.
 */
function meanTimeToLossByReduction(
  K0: Float64Array,
  loss0: Float64Array,
  tau0: Float64Array,
  p0: Float64Array,
): number {
  const N = loss0.length;
  const K = Float64Array.from(K0);
  const loss = Float64Array.from(loss0);
  const tau = Float64Array.from(tau0);
  const alive = new Uint8Array(N).fill(1);
  const pivots: { p: number; row: Float64Array; tau: number; stay: number }[] = [];
  // Only states that can be reached matter; eliminating unreachable ones is harmless.
  for (let step = 0; step < N; step++) {
    const p = step;
    // leave = loss + sum of K(p, other alive)
    let leave = loss[p]!;
    for (let y = 0; y < N; y++) if (alive[y] && y !== p) leave += K[p * N + y]!;
    alive[p] = 0;
    pivots.push({ p, row: K.slice(p * N, p * N + N), tau: tau[p]!, stay: leave });
    if (!(leave > 0)) continue; // p never leaves to anything alive: only reachable if absorbing
    for (let x = 0; x < N; x++) {
      if (!alive[x]) continue;
      const kxp = K[x * N + p]!;
      if (kxp === 0) continue;
      const f = kxp / leave;
      for (let y = 0; y < N; y++) if (alive[y] && y !== x) K[x * N + y]! += f * K[p * N + y]!;
      // x -> p -> x returns to x: its self-loop grows; the rest of the loop is the deficit.
      K[x * N + x]! += f * K[p * N + x]!;
      loss[x]! += f * loss[p]!;
      tau[x]! += f * tau[p]!;
      K[x * N + p] = 0;
    }
  }
  // Back-substitution in reverse elimination order.
  const m = new Float64Array(N);
  const done = new Uint8Array(N);
  for (let s = pivots.length - 1; s >= 0; s--) {
    const { p, row, tau: t, stay } = pivots[s]!;
    let sum = t;
    for (let y = 0; y < N; y++) if (done[y] && y !== p) sum += row[y]! * m[y]!;
    m[p] = stay > 0 ? sum / stay : Infinity;
    done[p] = 1;
  }
  let mean = 0;
  for (let x = 0; x < N; x++) if (p0[x]! > 0) mean += p0[x]! * m[x]!;
  return mean;
}

/**
 * Mean time to loss from the initial distribution, by solving the linear system directly
 * (dense Gaussian elimination: for small chains such as the closed-form checks).
 */
export function meanTimeToLoss(chain: Chain): number {
  const N = chain.size;
  if (N > 2000) throw new RangeError(`meanTimeToLoss is for small chains (${N} states)`);
  // (-Q_TT) tau = 1
  const A = new Float64Array(N * N);
  const rhs = new Float64Array(N).fill(1);
  for (let i = 0; i < N; i++) {
    A[i * N + i] = chain.outRate[i]!;
    for (let e = chain.rowStart[i]!; e < chain.rowStart[i + 1]!; e++) {
      const c = chain.col[e]!;
      if (c < N) A[i * N + c]! -= chain.rate[e]!;
    }
  }
  for (let p = 0; p < N; p++) {
    let best = p;
    for (let i = p + 1; i < N; i++)
      if (Math.abs(A[i * N + p]!) > Math.abs(A[best * N + p]!)) best = i;
    if (best !== p) {
      for (let c = 0; c < N; c++) {
        const t = A[p * N + c]!;
        A[p * N + c] = A[best * N + c]!;
        A[best * N + c] = t;
      }
      const t = rhs[p]!;
      rhs[p] = rhs[best]!;
      rhs[best] = t;
    }
    const piv = A[p * N + p]!;
    if (piv === 0) throw new Error('singular chain (no path to loss?)');
    for (let i = p + 1; i < N; i++) {
      const f = A[i * N + p]! / piv;
      if (f === 0) continue;
      for (let c = p; c < N; c++) A[i * N + c]! -= f * A[p * N + c]!;
      rhs[i]! -= f * rhs[p]!;
    }
  }
  const tau = new Float64Array(N);
  for (let i = N - 1; i >= 0; i--) {
    let s = rhs[i]!;
    for (let c = i + 1; c < N; c++) s -= A[i * N + c]! * tau[c]!;
    tau[i] = s / A[i * N + i]!;
  }
  let mean = 0;
  for (let i = 0; i < N; i++) mean += chain.init[i]! * tau[i]!;
  return mean;
}

/**
 * Time-averaged probability that fewer than k shards are online, given the occupancy of the
 * chain and, per class and UTC hour, the probability that a counted shard's host is online
 * (hosts independent given the hour: the daily rhythm they share is in the hour).
 */
export function unavailability(
  chain: Chain,
  solution: ChainSolution,
  onlineByHour: readonly (readonly number[])[],
): number {
  const { k, n } = chain.spec;
  const two = chain.spec.rates.length === 2;
  const hours = onlineByHour[0]!.length;
  let total = 0;
  for (let i = 0; i < chain.size; i++) total += solution.occupancy[i]!;
  if (!(total > 0)) return 0;
  // Distinct (b, d) pairs, weighted by occupancy.
  const weight = new Map<number, number>();
  for (let i = 0; i < chain.size; i++) {
    const w = solution.occupancy[i]!;
    if (w <= 0) continue;
    const key = chain.b[i]! * (n + 1) + chain.d[i]!;
    weight.set(key, (weight.get(key) ?? 0) + w / total);
  }
  let u = 0;
  for (let h = 0; h < hours; h++) {
    const pb = binomialTable(n, onlineByHour[0]![h]!);
    const pd = binomialTable(n, two ? onlineByHour[1]![h]! : 0).map(cumulative);
    for (const [key, w] of weight) {
      const b = Math.floor(key / (n + 1));
      const d = key - b * (n + 1);
      // P(X_b + Y_d < k) = sum_x P(X_b = x) P(Y_d <= k-1-x)
      let p = 0;
      const rowB = pb[b]!;
      const rowD = pd[d]!;
      for (let x = 0; x <= Math.min(b, k - 1); x++) p += rowB[x]! * rowD[Math.min(d, k - 1 - x)]!;
      u += (w * p) / hours;
    }
  }
  return u;
}

function cumulative(row: Float64Array): Float64Array {
  const out = new Float64Array(row.length);
  let s = 0;
  for (let i = 0; i < row.length; i++) out[i] = s += row[i]!;
  return out;
}

/** pmf of Binomial(n, p), computed stably (all terms non-negative). */
export function binomialPmf(n: number, p: number): Float64Array {
  return binomialTable(n, p)[n]!;
}

/** Rows 0..n of Binomial(i, p) pmfs. */
function binomialTable(n: number, p: number): Float64Array[] {
  const rows: Float64Array[] = [Float64Array.of(1)];
  for (let i = 1; i <= n; i++) {
    const prev = rows[i - 1]!;
    const row = new Float64Array(i + 1);
    for (let x = 0; x <= i; x++) {
      row[x] = (x < i ? prev[x]! * (1 - p) : 0) + (x > 0 ? prev[x - 1]! * p : 0);
    }
    rows.push(row);
  }
  return rows;
}
