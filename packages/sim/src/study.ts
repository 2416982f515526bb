/**
 * Putting the two halves together: a Monte Carlo of the host population calibrates, for each
 * redundancy scheme, the Markov chain that gives the loss probability; the same Monte Carlo gives
 * the repair traffic directly. Then the thresholds, the table, and the default.
 */
import type { Network, RepairPolicy, Scheme } from './config.ts';
import {
  DEFAULT_NETWORK,
  DEFAULT_REPAIR,
  DURABILITY_TARGET,
  MAX_OVERHEAD,
  schemeName,
  validateScheme,
} from './config.ts';
import { buildChain, solveCycles, type ChainSpec } from './chain.ts';
import { HOURS_PER_MONTH, HOURS_PER_YEAR, type Dist } from './dist.ts';
import { Population } from './hosts.ts';
import type { LossKind } from './hosts.ts';
import { simulateFiles, type McStats } from './montecarlo.ts';

export interface Calibration {
  /** Shard loss rate per hour, per host class. */
  readonly rates: number[];
  /** Share of new shards that land on each class. */
  readonly placement: number[];
  /** [class][UTC hour]: probability that a counted shard's host is online. */
  readonly onlineByHour: number[][];
  /** Share of shard losses by cause. */
  readonly lossKinds: Record<LossKind, number>;
  /** Share of counted shards on each class (time average). */
  readonly shardShare: number[];
  readonly shardLosses: number;
}

export interface Evaluation {
  readonly scheme: Scheme;
  readonly name: string;
  readonly n: number;
  readonly overhead: number;
  /** From the chain: probability of losing the file within a year of uploading it. */
  readonly annualLossProbability: number;
  /** From the chain: time-averaged probability that >= k shards are online (download works now). */
  readonly availability: number;
  readonly unavailability: number;
  /** From the Monte Carlo: bytes moved by repairs (pieces fetched + shards uploaded). */
  readonly repairBytesPerStoredBytePerMonth: number;
  readonly repairsPerFileYear: number;
  /** Repair delay (threshold reached -> repaired) the chain was given. */
  readonly repairDelayMeanHours: number;
  readonly repairDelayCv: number;
  readonly phases: number;
  readonly chainStates: number;
  /** The chain's own estimate of repair traffic, as a cross-check of the Monte Carlo's. */
  readonly chainRepairBytesPerStoredBytePerMonth: number;
  /** What the Monte Carlo saw directly (losses are only countable for weak schemes). */
  readonly mc: {
    readonly fileYears: number;
    readonly losses: number;
    readonly availability: number;
    readonly samples: number;
  };
}

export interface StudyOptions {
  readonly seed: number | string;
  readonly network: Network;
  readonly repair: RepairPolicy;
  /** (k, m) pairs for the table; each gets the cheapest threshold that meets the target. */
  readonly schemes: readonly (readonly [number, number])[];
  /** Files and years per Monte Carlo run of one scheme and threshold. */
  readonly files: number;
  readonly years: number;
  /** Files in the calibration run (per-class loss rates, placement, online by hour). */
  readonly calibrationFiles: number;
  /** Cap on the Erlang phases of the repair delay (fewer = more variable = conservative). */
  readonly maxPhases: number;
  readonly target: number;
  /** The threshold must meet target / margin (room for what the model leaves out). */
  readonly margin: number;
  readonly maxOverhead: number;
}

export const DEFAULT_SCHEMES: readonly (readonly [number, number])[] = [
  [1, 1],
  [1, 2],
  [1, 3],
  [4, 4],
  [4, 6],
  [8, 8],
  [8, 12],
  [10, 10],
  [10, 14],
  [12, 18],
  [16, 16],
  [16, 20],
  [16, 24],
  [20, 20],
  [20, 30],
  [24, 36],
  [29, 51],
];

export const DEFAULT_STUDY: StudyOptions = {
  seed: 1,
  network: DEFAULT_NETWORK,
  repair: DEFAULT_REPAIR,
  schemes: DEFAULT_SCHEMES,
  files: 48,
  years: 1,
  calibrationFiles: 100,
  maxPhases: 16,
  target: DURABILITY_TARGET,
  margin: 10,
  maxOverhead: MAX_OVERHEAD,
};

/** A host population long enough for `years` of files plus the repair machinery's look-ahead. */
export function makePopulation(
  network: Network,
  repair: Pick<RepairPolicy, 'offlineTimeoutHours'>,
  years: number,
  seed: number | string,
): Population {
  const horizon = years * HOURS_PER_YEAR + 24 + repair.offlineTimeoutHours + 48 + 60 * 24;
  return new Population(network, horizon, seed);
}

/**
 * Per-class loss rates, placement shares and online-by-hour probabilities, from many shards each
 * repaired on its own (k = 1, repair at the first declared loss): what every scheme shares.
 */
export function calibrate(
  pop: Population,
  repair: RepairPolicy,
  options: { seed: number | string; files: number; years: number },
): Calibration {
  const stats = simulateFiles(pop, { k: 1, m: 29, repairThreshold: 29 }, repair, {
    files: options.files,
    years: options.years,
    seed: `${options.seed}:calibrate`,
    sampleEveryHours: 5,
  });
  return calibrationFrom(stats);
}

export function calibrationFrom(stats: McStats): Calibration {
  const classes = stats.classes;
  const rates = stats.exposure.map((e, c) => (e > 0 ? stats.shardLosses[c]! / e : 0));
  const placed = stats.placements.reduce((a, b) => a + b, 0);
  const placement = stats.placements.map((p) => p / placed);
  const onlineByHour = stats.onlineByHour.map((row) =>
    row.map(([on, all]) => (all > 0 ? on / all : 0)),
  );
  const exposure = stats.exposure.reduce((a, b) => a + b, 0);
  const losses = stats.shardLosses.reduce((a, b) => a + b, 0);
  const kinds = stats.lossKinds;
  const lossKinds = {
    departure: kinds.departure / Math.max(losses, 1),
    timeout: kinds.timeout / Math.max(losses, 1),
    disk: kinds.disk / Math.max(losses, 1),
  };
  void classes;
  return {
    rates,
    placement,
    onlineByHour,
    lossKinds,
    shardShare: stats.exposure.map((e) => e / exposure),
    shardLosses: losses,
  };
}

export interface EvaluateOptions {
  readonly seed: number | string;
  readonly files: number;
  readonly years: number;
  readonly maxPhases: number;
  readonly sampleEveryHours?: number;
}

/** Monte Carlo for the repair delay and traffic, then the chain for loss and availability. */
export function evaluate(
  pop: Population,
  cal: Calibration,
  scheme: Scheme,
  repair: RepairPolicy,
  options: EvaluateOptions,
): Evaluation {
  validateScheme(scheme);
  const n = scheme.k + scheme.m;
  const stats = simulateFiles(pop, scheme, repair, {
    files: options.files,
    years: options.years,
    seed: options.seed,
    sampleEveryHours: options.sampleEveryHours ?? 0,
  });
  const delays = stats.delays;
  let mean: number;
  let cv: number;
  if (delays.length >= 2) {
    mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    const variance = delays.reduce((a, b) => a + (b - mean) ** 2, 0) / (delays.length - 1);
    cv = Math.sqrt(variance) / mean;
  } else {
    // Too few repairs to measure: timeout + half an audit + scheduling, exponential (cautious).
    mean = repair.offlineTimeoutHours + repair.checkIntervalHours / 2 + 1;
    cv = 1;
  }
  const phases = Math.max(1, Math.min(options.maxPhases, Math.floor(1 / (cv * cv))));
  const spec: ChainSpec = {
    k: scheme.k,
    n,
    threshold: scheme.repairThreshold,
    rates: cal.rates,
    placement: cal.placement,
    repairMeanHours: mean,
    phases,
  };
  const chain = buildChain(spec);
  const sol = solveCycles(chain, HOURS_PER_YEAR, cal.onlineByHour);
  const u = sol.unavailability;
  const S = repair.fileBytes;
  const stored = (S * n) / scheme.k;
  const months = stats.fileHours / HOURS_PER_MONTH;
  const chainBytes = sol.repairs * S + (sol.regenerated * S) / scheme.k;
  return {
    scheme,
    name: schemeName(scheme),
    n,
    overhead: n / scheme.k,
    annualLossProbability: sol.lossProbability,
    availability: 1 - u,
    unavailability: u,
    repairBytesPerStoredBytePerMonth: stats.repairBytes / stored / months,
    repairsPerFileYear: stats.repairs / (stats.fileHours / HOURS_PER_YEAR),
    repairDelayMeanHours: mean,
    repairDelayCv: cv,
    phases,
    chainStates: chain.size,
    chainRepairBytesPerStoredBytePerMonth: chainBytes / stored / 12,
    mc: {
      fileYears: stats.fileHours / HOURS_PER_YEAR,
      losses: stats.losses,
      availability: stats.samples ? stats.availableSamples / stats.samples : NaN,
      samples: stats.samples,
    },
  };
}

/**
 * The lowest repair threshold (least repair traffic: repairs batch more shards) whose loss
 * probability meets `goal`; if even repairing at the first loss does not, that eager threshold.
 */
export function bestThreshold(
  pop: Population,
  cal: Calibration,
  k: number,
  m: number,
  repair: RepairPolicy,
  goal: number,
  options: EvaluateOptions,
): Evaluation & { readonly meetsGoal: boolean } {
  const n = k + m;
  const cache = new Map<number, Evaluation>();
  const at = (r: number): Evaluation => {
    let e = cache.get(r);
    if (!e) {
      e = evaluate(pop, cal, { k, m, repairThreshold: r }, repair, options);
      cache.set(r, e);
    }
    return e;
  };
  const eager = at(n - 1);
  if (!(eager.annualLossProbability <= goal)) return { ...eager, meetsGoal: false };
  let lo = k; // may fail
  let hi = n - 1; // meets
  if (at(lo).annualLossProbability <= goal) return { ...at(lo), meetsGoal: true };
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (at(mid).annualLossProbability <= goal) hi = mid;
    else lo = mid;
  }
  return { ...at(hi), meetsGoal: true };
}

export interface StudyRow extends Evaluation {
  readonly meetsGoal: boolean;
  readonly isDefault: boolean;
}

export interface Study {
  readonly options: StudyOptions;
  readonly calibration: Calibration;
  readonly rows: StudyRow[];
  readonly chosen: StudyRow | undefined;
  readonly population: { readonly hosts: number; readonly slots: number };
}

/**
 * What hosts provide, per byte of the owner's data and month: the bytes they store (the
 * overhead) plus the bytes repairs move (overhead x repair bytes per stored byte per month).
 */
export function monthlyBytesPerByte(
  e: Pick<Evaluation, 'overhead' | 'repairBytesPerStoredBytePerMonth'>,
): number {
  return e.overhead * (1 + e.repairBytesPerStoredBytePerMonth);
}

/**
 * Settings whose monthly bytes are within this factor of the cheapest count as ties: the repair
 * traffic is a Monte Carlo estimate (a few percent of noise), the chain agrees with the Monte
 * Carlo only to some tens of percent, and the bytes leave out what every extra shard costs (a
 * deal and its proofs on chain, a connection per upload, download and repair).
 */
export const TIE_FACTOR = 1.2;

/**
 * The default: among settings that meet the goal under the overhead cap, the fewest monthly bytes
 * per byte (stored + moved by repairs); settings within TIE_FACTOR of that are ties, and among
 * ties the fewest shards wins: fewer deals and proofs on chain, fewer hosts to reach per upload,
 * download and repair, and fewer online hosts needed for an upload to be possible at all.
 */
export function chooseDefault(
  rows: readonly (Evaluation & { meetsGoal: boolean })[],
  maxOverhead: number,
): number {
  const ok = rows
    .map((r, i) => ({ r, i, cost: monthlyBytesPerByte(r) }))
    .filter(({ r }) => r.meetsGoal && r.overhead < maxOverhead);
  if (ok.length === 0) return -1;
  const least = Math.min(...ok.map(({ cost }) => cost));
  const ties = ok.filter(({ cost }) => cost <= least * TIE_FACTOR);
  ties.sort((a, b) => a.r.n - b.r.n || a.cost - b.cost);
  return ties[0]!.i;
}

export function runStudy(partial: Partial<StudyOptions> = {}): Study {
  const options: StudyOptions = { ...DEFAULT_STUDY, ...partial };
  const pop = makePopulation(options.network, options.repair, options.years, options.seed);
  const calibration = calibrate(pop, options.repair, {
    seed: options.seed,
    files: options.calibrationFiles,
    years: options.years,
  });
  const goal = options.target / options.margin;
  const evals = options.schemes.map(([k, m]) =>
    bestThreshold(pop, calibration, k, m, options.repair, goal, {
      seed: options.seed,
      files: options.files,
      years: options.years,
      maxPhases: options.maxPhases,
    }),
  );
  const chosenIndex = chooseDefault(evals, options.maxOverhead);
  const rows = evals.map((e, i) => ({ ...e, isDefault: i === chosenIndex }));
  return {
    options,
    calibration,
    rows,
    chosen: rows[chosenIndex],
    population: { hosts: pop.hosts.length, slots: pop.slots },
  };
}

/** Loss, traffic and availability of one (k, m) at every threshold from k+1 to n-1. */
export function thresholdSweep(
  pop: Population,
  cal: Calibration,
  k: number,
  m: number,
  repair: RepairPolicy,
  options: EvaluateOptions,
): Evaluation[] {
  const out: Evaluation[] = [];
  for (let r = k + 1; r < k + m; r++) {
    out.push(evaluate(pop, cal, { k, m, repairThreshold: r }, repair, options));
  }
  return out;
}

export interface SensitivityRow {
  readonly label: string;
  readonly evaluation: Evaluation;
  readonly calibration: Calibration;
}

/**
 * The chosen scheme (k, m, threshold) under other assumptions: other offline timeouts, other
 * shares of browser hosts. Each variant gets its own population and calibration.
 */
export function sensitivity(
  scheme: Scheme,
  options: StudyOptions,
  limit = Infinity,
): SensitivityRow[] {
  const variants: { label: string; network: Network; repair: RepairPolicy }[] = [];
  for (const T of [24, 48, 72, 168]) {
    variants.push({
      label: `timeout ${T} h`,
      network: options.network,
      repair: { ...options.repair, offlineTimeoutHours: T },
    });
  }
  const [browser, node] = options.network.classes;
  if (browser && node) {
    for (const share of [1, 0.5]) {
      variants.push({
        label: `${Math.round(share * 100)}% browser hosts`,
        network: {
          ...options.network,
          name: `${Math.round(share * 100)}% browser`,
          classes:
            share === 1
              ? [{ ...browser, share: 1 }]
              : [
                  { ...browser, share },
                  { ...node, share: 1 - share },
                ],
        },
        repair: options.repair,
      });
    }
    variants.push({
      label: 'browser hosts leave twice as fast',
      network: {
        ...options.network,
        classes: [{ ...browser, lifetime: scaleDist(browser.lifetime, 0.5) }, node],
      },
      repair: options.repair,
    });
    variants.push({
      label: 'browser hosts away twice as often',
      network: {
        ...options.network,
        classes: [
          {
            ...browser,
            online:
              browser.online.kind === 'diurnal'
                ? { ...browser.online, awayStart: Math.min(1, browser.online.awayStart * 2) }
                : browser.online,
          },
          node,
        ],
      },
      repair: options.repair,
    });
  }
  return variants.slice(0, limit).map(({ label, network, repair }) => {
    const pop = makePopulation(network, repair, options.years, options.seed);
    const calibration = calibrate(pop, repair, {
      seed: options.seed,
      files: options.calibrationFiles,
      years: options.years,
    });
    const evaluation = evaluate(pop, calibration, scheme, repair, {
      seed: options.seed,
      files: options.files,
      years: options.years,
      maxPhases: options.maxPhases,
    });
    return { label, evaluation, calibration };
  });
}

function scaleDist(d: Dist, f: number): Dist {
  switch (d.kind) {
    case 'constant':
      return { kind: 'constant', value: d.value * f };
    case 'exponential':
      return { kind: 'exponential', mean: d.mean * f };
    case 'weibull':
      return { kind: 'weibull', shape: d.shape, scale: d.scale * f };
    case 'lognormal':
      return { kind: 'lognormal', median: d.median * f, sigma: d.sigma };
    case 'never':
      return d;
  }
}

export interface ValidationRow {
  readonly scheme: Scheme;
  readonly name: string;
  readonly files: number;
  readonly fileYears: number;
  readonly losses: number;
  /** Losses per file-year seen by the Monte Carlo, with a 95% interval. */
  readonly mcRate: number;
  readonly mcLow: number;
  readonly mcHigh: number;
  readonly chainLoss: number;
  readonly mcUnavailability: number;
  readonly chainUnavailability: number;
}

/** Weak settings, where losses are frequent enough to count: Monte Carlo against the chain. */
export const VALIDATION_SETTINGS: readonly (readonly [Scheme, number])[] = [
  [{ k: 1, m: 1, repairThreshold: 1 }, 400],
  [{ k: 1, m: 2, repairThreshold: 2 }, 6000],
  [{ k: 4, m: 4, repairThreshold: 5 }, 1200],
  [{ k: 4, m: 4, repairThreshold: 6 }, 6000],
  [{ k: 10, m: 10, repairThreshold: 12 }, 2500],
  [{ k: 20, m: 20, repairThreshold: 23 }, 1500],
];

export function validate(
  options: StudyOptions,
  settings: readonly (readonly [Scheme, number])[] = VALIDATION_SETTINGS,
): ValidationRow[] {
  const pop = makePopulation(options.network, options.repair, options.years, options.seed);
  const cal = calibrate(pop, options.repair, {
    seed: options.seed,
    files: options.calibrationFiles,
    years: options.years,
  });
  return settings.map(([scheme, files]) => {
    const e = evaluate(pop, cal, scheme, options.repair, {
      seed: options.seed,
      files: options.files,
      years: options.years,
      maxPhases: options.maxPhases,
    });
    const mc = simulateFiles(pop, scheme, options.repair, {
      files,
      years: options.years,
      seed: `${options.seed}:validate`,
      sampleEveryHours: 7,
    });
    const fileYears = mc.fileHours / HOURS_PER_YEAR;
    const [lo, hi] = poissonInterval(mc.losses);
    return {
      scheme,
      name: schemeName(scheme),
      files,
      fileYears,
      losses: mc.losses,
      mcRate: mc.losses / fileYears,
      mcLow: lo / fileYears,
      mcHigh: hi / fileYears,
      chainLoss: e.annualLossProbability,
      mcUnavailability: 1 - mc.availableSamples / mc.samples,
      chainUnavailability: e.unavailability,
    };
  });
}

/** Approximate 95% interval for a Poisson count (Wilson-Hilferty). */
export function poissonInterval(x: number): [number, number] {
  const z = 1.96;
  const lo = x === 0 ? 0 : x * Math.pow(1 - 1 / (9 * x) - z / (3 * Math.sqrt(x)), 3);
  const y = x + 1;
  const hi = y * Math.pow(1 - 1 / (9 * y) + z / (3 * Math.sqrt(y)), 3);
  return [Math.max(0, lo), hi];
}

export interface ClosedFormCheck {
  readonly lifetimeHours: number;
  readonly repairHours: number;
  readonly files: number;
  readonly losses: number;
  /** Mean time to loss: Monte Carlo, and (3 lambda + mu) / (2 lambda^2) for 2-way replication. */
  readonly mcMeanHours: number;
  readonly formulaHours: number;
  readonly chainHours: number;
}

/**
 * The textbook case: 2-way replication on always-online hosts with exponential lifetimes (rate
 * lambda), a loss noticed at once, and an exponential repair (rate mu). The mean time to data loss
 * is (3 lambda + mu) / (2 lambda^2); the Monte Carlo and the chain must both reproduce it.
 */
export function closedFormCheck(
  seed: number | string,
  files = 300,
  lifetimeHours = 240,
  repairHours = 24,
  windowHours = 15_000,
): ClosedFormCheck {
  const lambda = 1 / lifetimeHours;
  const mu = 1 / repairHours;
  const formulaHours = (3 * lambda + mu) / (2 * lambda * lambda);
  // As many host slots as shards alive at once, so files rarely share a host (a shared host
  // would make files fail together: the mean stays right but the estimate gets noisier).
  const network: Network = {
    name: 'exponential, always online',
    hosts: 4 * files,
    burnInHours: 0,
    classes: [
      {
        name: 'server',
        share: 1,
        lifetime: { kind: 'exponential', mean: lifetimeHours },
        diskLossPerYear: 0,
        online: {
          kind: 'always',
          outageInterval: { kind: 'never' },
          outageLength: { kind: 'constant', value: 0 },
        },
      },
    ],
  };
  const repair: RepairPolicy = {
    offlineTimeoutHours: 0,
    checkIntervalHours: 0,
    repairerBitsPerSecond: 1e300,
    extraDelay: { kind: 'exponential', mean: repairHours },
    fileBytes: 1,
  };
  const pop = new Population(network, windowHours + 24 + 48 + 60 * 24, seed);
  // Each file is watched for the window and uploaded again after a loss: the mean time to loss
  // is file-time over losses (a renewal-reward estimate; the window spans many mean times to
  // loss, so the first cycle's edge effect, (CV^2 - 1) / 2 losses per file, is small).
  const stats = simulateFiles(pop, { k: 1, m: 1, repairThreshold: 1 }, repair, {
    files,
    years: windowHours / HOURS_PER_YEAR,
    seed: `${seed}:closed-form`,
  });
  const chain = buildChain({
    k: 1,
    n: 2,
    threshold: 1,
    rates: [lambda],
    placement: [1],
    repairMeanHours: repairHours,
    phases: 1,
  });
  return {
    lifetimeHours,
    repairHours,
    files,
    losses: stats.losses,
    mcMeanHours: stats.fileHours / Math.max(stats.losses, 1),
    formulaHours,
    chainHours: solveCycles(chain, HOURS_PER_YEAR).meanTimeToLoss,
  };
}
