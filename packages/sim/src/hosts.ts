/**
 * The host population: for every host slot, the succession of hosts that occupy it (a host that
 * leaves for good is replaced at once by a new one of the same class), each with its online
 * intervals, its departure and its data-loss times, generated up front from a seed. Time 0 is
 * when files are first uploaded; hosts have been joining and leaving since -burnIn.
 */
import type { AlwaysOnline, DiurnalOnline, Network } from './config.ts';
import { validateNetwork } from './config.ts';
import { HOURS_PER_YEAR, sample } from './dist.ts';
import { Rng } from './rng.ts';

export interface Host {
  readonly id: number;
  readonly slot: number;
  /** Index of the host's class in network.classes. */
  readonly cls: number;
  readonly join: number;
  /** When it leaves for good (may be after the horizon). */
  readonly depart: number;
  /** Online intervals [start0, end0, start1, end1, ...], sorted, disjoint, within [max(join,0), min(depart,horizon)]. */
  readonly on: Float64Array;
  /** Times (sorted) at which the host loses everything it stores but stays. */
  readonly diskLoss: Float64Array;
}

export type LossKind = 'departure' | 'timeout' | 'disk';

export class Population {
  readonly network: Network;
  /** Online intervals are known in [0, horizon]. */
  readonly horizon: number;
  readonly hosts: Host[] = [];
  readonly #bySlot: Host[][] = [];
  readonly #longGaps = new Map<number, Float64Array[]>();

  constructor(network: Network, horizon: number, seed: number | string) {
    validateNetwork(network);
    if (!(horizon > 0) || !Number.isFinite(horizon)) throw new RangeError('horizon must be > 0');
    this.network = network;
    this.horizon = horizon;
    const counts = classCounts(network);
    let slot = 0;
    for (let cls = 0; cls < counts.length; cls++) {
      for (let j = 0; j < counts[cls]!; j++, slot++) {
        const rng = new Rng(seed, 'slot', slot);
        const list: Host[] = [];
        let join = -network.burnInHours;
        while (join < horizon) {
          const c = network.classes[cls]!;
          const life = Math.max(sample(c.lifetime, rng), 1e-6);
          const depart = join + life;
          if (depart > 0) {
            const host = makeHost(
              this.hosts.length,
              slot,
              cls,
              join,
              depart,
              horizon,
              network,
              rng,
            );
            this.hosts.push(host);
            list.push(host);
          }
          if (!Number.isFinite(depart)) break;
          join = depart;
        }
        this.#bySlot.push(list);
      }
    }
  }

  get slots(): number {
    return this.#bySlot.length;
  }

  /** The host occupying `slot` at time t (t >= 0), or undefined past the horizon. */
  hostAt(slot: number, t: number): Host | undefined {
    const list = this.#bySlot[slot]!;
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid]!.join <= t) lo = mid;
      else hi = mid - 1;
    }
    const h = list[lo];
    return h && h.join <= t && t < h.depart ? h : undefined;
  }

  isOnline(h: Host, t: number): boolean {
    const i = intervalAtOrAfter(h.on, t);
    return i < h.on.length && h.on[i]! <= t;
  }

  /** The earliest time >= t at which h is online, or Infinity (gone, or not before the horizon). */
  nextOnline(h: Host, t: number): number {
    const i = intervalAtOrAfter(h.on, t);
    if (i >= h.on.length) return Infinity;
    return Math.max(h.on[i]!, t);
  }

  /**
   * When a shard placed on h at time t (h online then) stops counting: the start of the first
   * offline stretch longer than the timeout (the host went away too long, or for good), or the
   * first data loss, whichever is first. Infinity if neither happens before the horizon.
   */
  shardLoss(h: Host, t: number, timeoutHours: number): { time: number; kind: LossKind } {
    const gaps = this.#gapsFor(timeoutHours)[h.id]!;
    let gapTime = Infinity;
    let kind: LossKind = 'timeout';
    const gi = firstAtOrAfter(gaps, t);
    if (gi < gaps.length) {
      gapTime = gaps[gi]!;
      if (gi === gaps.length - 1 && h.depart <= this.horizon && gapTime === lastOnlineEnd(h)) {
        kind = 'departure';
      }
    }
    const di = firstAfter(h.diskLoss, t);
    const diskTime = di < h.diskLoss.length ? h.diskLoss[di]! : Infinity;
    if (diskTime < gapTime) return { time: diskTime, kind: 'disk' };
    return { time: gapTime, kind };
  }

  /** Start times of offline stretches longer than `timeoutHours` (the final one: departure). */
  #gapsFor(timeoutHours: number): Float64Array[] {
    let gaps = this.#longGaps.get(timeoutHours);
    if (gaps) return gaps;
    gaps = this.hosts.map((h) => {
      const out: number[] = [];
      const on = h.on;
      for (let i = 1; i < on.length; i += 2) {
        const end = on[i]!;
        const nextStart = i + 1 < on.length ? on[i + 1]! : undefined;
        if (nextStart === undefined) {
          // After the last interval: gone for good if it departs before the horizon, else unknown
          // (the timeline stops at the horizon) unless the horizon is already far enough.
          if (h.depart <= this.horizon || this.horizon - end > timeoutHours) out.push(end);
        } else if (nextStart - end > timeoutHours) {
          out.push(end);
        }
      }
      return Float64Array.from(out);
    });
    this.#longGaps.set(timeoutHours, gaps);
    return gaps;
  }
}

function lastOnlineEnd(h: Host): number {
  return h.on.length ? h.on[h.on.length - 1]! : h.join;
}

/** Host slots per class, proportional to the shares (largest remainder). */
export function classCounts(network: Network): number[] {
  const raw = network.classes.map((c) => c.share * network.hosts);
  const counts = raw.map(Math.floor);
  let left = network.hosts - counts.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    counts[i]!++;
    left--;
  }
  return counts;
}

/** Index (even) of the first interval whose end is > t. */
function intervalAtOrAfter(on: Float64Array, t: number): number {
  let lo = 0;
  let hi = on.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (on[2 * mid + 1]! > t) hi = mid;
    else lo = mid + 1;
  }
  return 2 * lo;
}

function firstAtOrAfter(a: Float64Array, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function firstAfter(a: Float64Array, t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function makeHost(
  id: number,
  slot: number,
  cls: number,
  join: number,
  depart: number,
  horizon: number,
  network: Network,
  rng: Rng,
): Host {
  const c = network.classes[cls]!;
  const from = Math.max(join, 0);
  const to = Math.min(depart, horizon);
  const on =
    c.online.kind === 'always'
      ? alwaysTimeline(c.online, from, to, rng)
      : diurnalTimeline(c.online, from, to, rng);
  const losses: number[] = [];
  if (c.diskLossPerYear > 0) {
    const mean = HOURS_PER_YEAR / c.diskLossPerYear;
    for (let t = join - mean * Math.log(rng.next()); t < depart && t < horizon;) {
      if (t > 0) losses.push(t);
      t -= mean * Math.log(rng.next());
    }
  }
  return { id, slot, cls, join, depart, on, diskLoss: Float64Array.from(losses) };
}

function alwaysTimeline(o: AlwaysOnline, from: number, to: number, rng: Rng): Float64Array {
  const out: number[] = [];
  let t = from;
  while (t < to) {
    const outage = t + sample(o.outageInterval, rng);
    out.push(t, Math.min(outage, to));
    if (outage >= to) break;
    t = outage + sample(o.outageLength, rng);
  }
  return Float64Array.from(out);
}

function diurnalTimeline(o: DiurnalOnline, from: number, to: number, rng: Rng): Float64Array {
  const out: number[] = [];
  if (!(to > from)) return Float64Array.from(out);
  // Per-host habits.
  const total = o.timezones.reduce((a, z) => a + z.weight, 0);
  let pick = rng.next() * total;
  let zone = o.timezones[0]!.offsetHours;
  for (const z of o.timezones) {
    pick -= z.weight;
    zone = z.offsetHours;
    if (pick <= 0) break;
  }
  const tz = zone + rng.uniform(-o.timezoneJitterHours, o.timezoneJitterHours);
  const wake = clamp(o.wakeHour.mean + o.wakeHour.sd * rng.normal(), 3, 14);
  const sleep = clamp(o.sleepHour.mean + o.sleepHour.sd * rng.normal(), wake + 6, wake + 21);
  const overnight = rng.next() < o.overnightShare;
  const stationaryAway = o.awayStart / (o.awayStart + 1 - o.awayStay);
  let away = rng.next() < stationaryAway;
  // Local day d starts (local midnight) at UTC time d*24 - tz.
  const firstDay = Math.floor((from + tz) / 24) - 1;
  let carry = false; // an overnight session still running at the end of the previous day
  for (let d = firstDay; ; d++) {
    const midnight = d * 24 - tz;
    if (midnight + wake >= to) {
      if (carry) out[out.length - 1] = to;
      break;
    }
    away = away ? rng.next() < o.awayStay : rng.next() < o.awayStart;
    if (away) {
      carry = false;
      continue;
    }
    const ws = midnight + wake;
    const we = midnight + sleep;
    let cur = ws;
    let on = true;
    let first = true;
    while (cur < we) {
      const len = sample(on ? o.session : o.gap, rng);
      if (on) {
        const end = Math.min(cur + len, we);
        if (first && carry) out[out.length - 1] = end;
        else out.push(cur, end);
      }
      first = false;
      cur += len;
      on = !on;
    }
    // The last phase drawn was a session iff `on` flipped to false after it; the session reached
    // bedtime iff cur >= we with on === false.
    carry = overnight && !on;
  }
  // Clip to [from, to] and merge touching intervals.
  const clipped: number[] = [];
  for (let i = 0; i < out.length; i += 2) {
    const s = Math.max(out[i]!, from);
    const e = Math.min(out[i + 1]!, to);
    if (e <= s) continue;
    if (clipped.length && s <= clipped[clipped.length - 1]!) {
      clipped[clipped.length - 1] = Math.max(clipped[clipped.length - 1]!, e);
    } else {
      clipped.push(s, e);
    }
  }
  return Float64Array.from(clipped);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}
