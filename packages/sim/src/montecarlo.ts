/**
 * Event-driven Monte Carlo of files on a host population. Each file's n shards sit on n distinct
 * hosts picked uniformly among the hosts online at upload (or repair) time. A shard stops counting
 * when its host stays offline longer than the timeout (or leaves for good), or loses its data.
 * The checker declares it lost one timeout after the host was last seen (a lost disk: at the next
 * audit while online). When the shards not declared lost fall to the repair threshold, a repairer
 * waits the scheduling delay, fetches k pieces (each from a live host as soon as that host is
 * online), and after the transfer time regenerates every shard declared lost by then on new hosts.
 * A file is lost when fewer than k of its shards still count.
 *
 * It measures what the Markov chain (chain.ts) needs and what is not rare: per-class shard loss
 * rates, where new shards land, how long repairs take, repair traffic, online probabilities by
 * hour; and, where they are frequent enough to count, losses and unavailability themselves.
 */
import type { RepairPolicy, Scheme } from './config.ts';
import { validateRepair, validateScheme } from './config.ts';
import { sample } from './dist.ts';
import type { Host, LossKind, Population } from './hosts.ts';
import { Rng } from './rng.ts';

export interface McOptions {
  readonly files: number;
  /** Measured time per file, in years (files start within the first day). */
  readonly years: number;
  readonly seed: number | string;
  /** Check every live shard's host this often for availability statistics (0: never). */
  readonly sampleEveryHours?: number;
}

export interface McStats {
  readonly classes: number;
  files: number;
  fileHours: number;
  losses: number;
  repairs: number;
  /** Repair traffic: k pieces down + regenerated shards up, per repair. */
  repairBytes: number;
  regenerated: number;
  /**
   * Times from the loss that takes the count down to the threshold until a repair brings that
   * shard back or lifts the count above the threshold (the chain's repair clock).
   */
  delays: number[];
  /** Shard-hours on hosts of each class, shard losses and placements per class. */
  exposure: number[];
  shardLosses: number[];
  placements: number[];
  lossKinds: Record<LossKind, number>;
  samples: number;
  availableSamples: number;
  /** [class][UTC hour] -> [live shards online, live shards]. */
  onlineByHour: [number, number][][];
}

export function emptyStats(classes: number): McStats {
  return {
    classes,
    files: 0,
    fileHours: 0,
    losses: 0,
    repairs: 0,
    repairBytes: 0,
    regenerated: 0,
    delays: [],
    exposure: Array<number>(classes).fill(0),
    shardLosses: Array<number>(classes).fill(0),
    placements: Array<number>(classes).fill(0),
    lossKinds: { departure: 0, timeout: 0, disk: 0 },
    samples: 0,
    availableSamples: 0,
    onlineByHour: Array.from({ length: classes }, () =>
      Array.from({ length: 24 }, () => [0, 0] as [number, number]),
    ),
  };
}

/** Simulates `options.files` files with `scheme` on `pop` and returns what it measured. */
export function simulateFiles(
  pop: Population,
  scheme: Scheme,
  repair: RepairPolicy,
  options: McOptions,
): McStats {
  validateScheme(scheme);
  validateRepair(repair);
  if (!Number.isInteger(options.files) || options.files < 1) {
    throw new RangeError('files must be an integer >= 1');
  }
  if (!(options.years > 0)) throw new RangeError('years must be > 0');
  const stats = emptyStats(pop.network.classes.length);
  const rng = new Rng(options.seed, 'files', scheme.k, scheme.m, scheme.repairThreshold);
  const span = options.years * 8760;
  for (let f = 0; f < options.files; f++) {
    const start = 24 * rng.next();
    const end = Math.min(start + span, pop.horizon - repair.offlineTimeoutHours - 48);
    if (!(end > start)) throw new RangeError('the population horizon is too short for this run');
    new FileSim(pop, scheme, repair, rng, stats, options).run(start, end);
  }
  return stats;
}

class FileSim {
  readonly #pop: Population;
  readonly #k: number;
  readonly #n: number;
  readonly #r: number;
  readonly #repair: RepairPolicy;
  readonly #rng: Rng;
  readonly #stats: McStats;
  readonly #sampleEvery: number;
  readonly #host: (Host | undefined)[];
  readonly #placed: Float64Array;
  readonly #loss: Float64Array;
  readonly #kind: LossKind[];
  readonly #decl: Float64Array;
  /** 0: live; 1: lost, not yet declared; 2: declared lost. */
  readonly #state: Uint8Array;
  #live = 0;
  #declaredLive = 0;
  #repairAt = Infinity;
  #episodeSlot = -1;
  #episodeStart = 0;

  constructor(
    pop: Population,
    scheme: Scheme,
    repair: RepairPolicy,
    rng: Rng,
    stats: McStats,
    options: McOptions,
  ) {
    this.#pop = pop;
    this.#k = scheme.k;
    this.#n = scheme.k + scheme.m;
    this.#r = scheme.repairThreshold;
    this.#repair = repair;
    this.#rng = rng;
    this.#stats = stats;
    this.#sampleEvery = options.sampleEveryHours ?? 0;
    const n = this.#n;
    this.#host = Array<Host | undefined>(n).fill(undefined);
    this.#placed = new Float64Array(n);
    this.#loss = new Float64Array(n);
    this.#kind = Array<LossKind>(n).fill('timeout');
    this.#decl = new Float64Array(n);
    this.#state = new Uint8Array(n);
  }

  run(start: number, end: number): void {
    const stats = this.#stats;
    const n = this.#n;
    stats.files++;
    this.#upload(start);
    let nextSample = this.#sampleEvery > 0 ? start + this.#sampleEvery * 0.5 : Infinity;
    for (;;) {
      // The next event: a shard loss, a declaration, the repair's completion or a sample.
      let tLoss = Infinity;
      let iLoss = -1;
      let tDecl = Infinity;
      let iDecl = -1;
      for (let i = 0; i < n; i++) {
        const s = this.#state[i]!;
        if (s === 0 && this.#loss[i]! < tLoss) {
          tLoss = this.#loss[i]!;
          iLoss = i;
        } else if (s === 1 && this.#decl[i]! < tDecl) {
          tDecl = this.#decl[i]!;
          iDecl = i;
        }
      }
      const t = Math.min(tLoss, tDecl, this.#repairAt, nextSample);
      if (t >= end) break;
      if (t === tLoss) {
        this.#onLoss(iLoss, t);
      } else if (t === tDecl) {
        this.#onDeclared(iDecl, t);
      } else if (t === this.#repairAt) {
        this.#onRepaired(t);
      } else {
        this.#sample(t);
        nextSample += this.#sampleEvery;
      }
    }
    for (let i = 0; i < n; i++) {
      if (this.#state[i] === 0) stats.exposure[this.#host[i]!.cls]! += end - this.#placed[i]!;
    }
    stats.fileHours += end - start;
  }

  #upload(t: number): void {
    const used = new Set<number>();
    for (let i = 0; i < this.#n; i++) {
      this.#place(i, t, used);
      used.add(this.#host[i]!.id);
    }
    this.#live = this.#n;
    this.#declaredLive = this.#n;
    this.#repairAt = Infinity;
    this.#episodeSlot = -1;
  }

  #place(i: number, t: number, used: Set<number>): void {
    const pop = this.#pop;
    let h: Host | undefined;
    for (let tries = 0; ; tries++) {
      if (tries > 100_000) throw new Error(`no online host to place a shard on at t=${t}`);
      const cand = pop.hostAt(this.#rng.int(pop.slots), t);
      if (cand && !used.has(cand.id) && pop.isOnline(cand, t)) {
        h = cand;
        break;
      }
    }
    const T = this.#repair.offlineTimeoutHours;
    const loss = pop.shardLoss(h, t, T);
    this.#host[i] = h;
    this.#placed[i] = t;
    this.#loss[i] = loss.time;
    this.#kind[i] = loss.kind;
    this.#state[i] = 0;
    const check = this.#repair.checkIntervalHours * this.#rng.next();
    let decl: number;
    if (!Number.isFinite(loss.time)) decl = Infinity;
    else if (loss.kind !== 'disk') decl = loss.time + T + check;
    else decl = pop.nextOnline(h, loss.time) + check;
    this.#decl[i] = decl;
    this.#stats.placements[h.cls]!++;
  }

  #onLoss(i: number, t: number): void {
    const stats = this.#stats;
    const h = this.#host[i]!;
    this.#state[i] = 1;
    this.#live--;
    stats.exposure[h.cls]! += t - this.#placed[i]!;
    stats.shardLosses[h.cls]!++;
    stats.lossKinds[this.#kind[i]!]++;
    if (this.#live < this.#k) {
      stats.losses++;
      for (let j = 0; j < this.#n; j++) {
        if (this.#state[j] === 0) stats.exposure[this.#host[j]!.cls]! += t - this.#placed[j]!;
      }
      // The owner uploads the file again (not counted as repair traffic).
      this.#upload(t);
      return;
    }
    if (this.#live === this.#r && this.#episodeSlot < 0) {
      this.#episodeSlot = i;
      this.#episodeStart = t;
    }
  }

  #onDeclared(i: number, t: number): void {
    this.#state[i] = 2;
    this.#declaredLive--;
    if (this.#declaredLive <= this.#r && this.#repairAt === Infinity) this.#startRepair(t);
  }

  #startRepair(t: number): void {
    const pop = this.#pop;
    const from = t + sample(this.#repair.extraDelay, this.#rng);
    const fetch: number[] = [];
    for (let i = 0; i < this.#n; i++) {
      if (this.#state[i] !== 0) continue;
      const y = pop.nextOnline(this.#host[i]!, from);
      if (y < this.#loss[i]!) fetch.push(y);
    }
    // Fewer than k reachable pieces: no repair; the file's loss follows as those shards lapse.
    if (fetch.length < this.#k) return;
    fetch.sort((a, b) => a - b);
    const S = this.#repair.fileBytes;
    const missing = this.#n - this.#declaredLive;
    const seconds = ((S + (missing * S) / this.#k) * 8) / this.#repair.repairerBitsPerSecond;
    this.#repairAt = fetch[this.#k - 1]! + seconds / 3600;
  }

  #onRepaired(t: number): void {
    const stats = this.#stats;
    this.#repairAt = Infinity;
    const used = new Set<number>();
    for (let i = 0; i < this.#n; i++) if (this.#state[i] !== 2) used.add(this.#host[i]!.id);
    let regen = 0;
    let episodeDone = false;
    for (let i = 0; i < this.#n; i++) {
      if (this.#state[i] !== 2) continue;
      this.#place(i, t, used);
      used.add(this.#host[i]!.id);
      regen++;
      if (i === this.#episodeSlot) episodeDone = true;
    }
    this.#live += regen;
    this.#declaredLive += regen;
    // The chain's repair clock runs from the loss that took the count down to the threshold
    // until a repair brings that shard back, or lifts the count above the threshold.
    if (this.#episodeSlot >= 0 && (episodeDone || this.#live > this.#r)) {
      stats.delays.push(t - this.#episodeStart);
      this.#episodeSlot = -1;
    }
    stats.repairs++;
    stats.regenerated += regen;
    const S = this.#repair.fileBytes;
    stats.repairBytes += S + (regen * S) / this.#k;
  }

  #sample(t: number): void {
    const stats = this.#stats;
    const hour = Math.floor((((t % 24) + 24) % 24) + 1e-9) % 24;
    let online = 0;
    for (let i = 0; i < this.#n; i++) {
      if (this.#state[i] !== 0) continue;
      const h = this.#host[i]!;
      const cell = stats.onlineByHour[h.cls]![hour]!;
      cell[1]++;
      if (this.#pop.isOnline(h, t)) {
        cell[0]++;
        online++;
      }
    }
    stats.samples++;
    if (online >= this.#k) stats.availableSamples++;
  }
}
