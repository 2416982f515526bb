/**
 * What the simulation takes: the host population (classes of hosts with their lifetimes, daily
 * on/off patterns and data-loss rates), the repair policy, and the redundancy schemes to compare.
 * All durations are in hours. The defaults are the browser-heavy network of docs/durability.md;
 * each number there says where it comes from (a published measurement, or a guess).
 */
import { validateDist, weibullWithMean, type Dist } from './dist.ts';

/** A host that keeps a browser tab (or the PWA) open while its owner is around. */
export interface DiurnalOnline {
  readonly kind: 'diurnal';
  /** UTC offsets of the regions hosts live in, with their share of hosts. */
  readonly timezones: readonly { readonly offsetHours: number; readonly weight: number }[];
  /** Each host's offset is its region's plus a uniform jitter of +-this many hours. */
  readonly timezoneJitterHours: number;
  /** Local hour the owner's day starts (normal, per host). */
  readonly wakeHour: { readonly mean: number; readonly sd: number };
  /** Local hour the owner's day ends (normal, per host; may exceed 24: after midnight). */
  readonly sleepHour: { readonly mean: number; readonly sd: number };
  /** Lengths of online sessions within the owner's day. */
  readonly session: Dist;
  /** Lengths of offline gaps within the owner's day (tab closed, laptop asleep). */
  readonly gap: Dist;
  /** Share of hosts whose machine stays on overnight (the session running at bedtime goes on). */
  readonly overnightShare: number;
  /** Probability that a day is spent away (host off all day) after a day at home. */
  readonly awayStart: number;
  /** Probability that a day away is followed by another day away. */
  readonly awayStay: number;
}

/** A headless host: online except for outages (reboots, updates, network trouble). */
export interface AlwaysOnline {
  readonly kind: 'always';
  /** Time between the end of one outage and the start of the next. */
  readonly outageInterval: Dist;
  readonly outageLength: Dist;
}

export interface HostClass {
  readonly name: string;
  /** Share of the host population (host slots) in this class. */
  readonly share: number;
  /** Time from joining until leaving for good (taking its shards with it). */
  readonly lifetime: Dist;
  /** Rate of losing all stored data while staying (disk failure, cleared site data), per year. */
  readonly diskLossPerYear: number;
  readonly online: DiurnalOnline | AlwaysOnline;
}

export interface Network {
  readonly name: string;
  /** Number of host slots; a host that leaves is replaced at once by a new host of its class. */
  readonly hosts: number;
  readonly classes: readonly HostClass[];
  /** Hosts start this long before files are uploaded, so host ages are mixed as in a running network. */
  readonly burnInHours: number;
}

export interface RepairPolicy {
  /** A host offline this long is taken as gone: its deal ends and its shard counts as lost. */
  readonly offlineTimeoutHours: number;
  /** Audits reach every online host at least this often (a lost disk is noticed within it). */
  readonly checkIntervalHours: number;
  /** Bandwidth of the repairer (an always-on node: relay, mediator or bounty hunter), bits/s. */
  readonly repairerBitsPerSecond: number;
  /** Scheduling delay between noticing and starting a repair (queueing, bounty pickup). */
  readonly extraDelay: Dist;
  /** Size of the file (all its segments) the repair moves. */
  readonly fileBytes: number;
}

/** k data + m parity shards (k = 1: (m+1)-way replication); repair when live shards <= threshold. */
export interface Scheme {
  readonly k: number;
  readonly m: number;
  readonly repairThreshold: number;
}

export const DAY = 24;

/**
 * The default browser-heavy network: 80% browser hosts, 20% always-on Node hosts. Sources and
 * guesses for every number are in docs/durability.md ("Assumptions").
 */
export const BROWSER_HOST: HostClass = {
  name: 'browser',
  share: 0.8,
  lifetime: weibullWithMean(0.5, 60 * DAY),
  diskLossPerYear: 0.1,
  online: {
    kind: 'diurnal',
    timezones: [
      { offsetHours: -6, weight: 0.3 },
      { offsetHours: 1, weight: 0.35 },
      { offsetHours: 8, weight: 0.35 },
    ],
    timezoneJitterHours: 2,
    wakeHour: { mean: 8, sd: 1 },
    sleepHour: { mean: 23, sd: 1 },
    session: weibullWithMean(0.6, 4),
    gap: weibullWithMean(0.6, 1.5),
    overnightShare: 0.3,
    awayStart: 0.05,
    awayStay: 0.5,
  },
};

export const NODE_HOST: HostClass = {
  name: 'node',
  share: 0.2,
  lifetime: weibullWithMean(0.8, 540 * DAY),
  diskLossPerYear: 0.02,
  online: {
    kind: 'always',
    outageInterval: { kind: 'exponential', mean: 30 * DAY },
    outageLength: { kind: 'lognormal', median: 1, sigma: 1.5 },
  },
};

export const DEFAULT_NETWORK: Network = {
  name: 'browser-heavy (80% browser, 20% node)',
  hosts: 1000,
  classes: [BROWSER_HOST, NODE_HOST],
  burnInHours: 3 * 365 * DAY,
};

export const DEFAULT_REPAIR: RepairPolicy = {
  offlineTimeoutHours: 72,
  checkIntervalHours: 1,
  repairerBitsPerSecond: 50e6,
  extraDelay: { kind: 'constant', value: 1 },
  fileBytes: 2 ** 30,
};

/**
 * The redundancy the drive should use by default, chosen from the churn simulation (see
 * docs/durability.md, regenerated by `npm run simulate -- --write-docs`): Reed-Solomon with k data
 * and m parity shards, repaired when `repairThreshold` shards are left, a host offline for
 * `offlineTimeoutHours` counting as gone.
 */
export const DEFAULT_REDUNDANCY = {
  k: 16,
  m: 24,
  repairThreshold: 31,
  offlineTimeoutHours: 72,
} as const;

/** Per-year durability goal of the issue: eleven nines. */
export const DURABILITY_TARGET = 1e-11;
/** Storage overhead (n/k) the default must stay under. */
export const MAX_OVERHEAD = 3;

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
const isProb = (x: unknown): x is number =>
  typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;

/** Throws a RangeError unless k, m and the threshold describe a repairable scheme. */
export function validateScheme(s: Scheme): Scheme {
  if (s === null || typeof s !== 'object') throw new TypeError('scheme must be an object');
  if (!isInt(s.k) || s.k < 1) throw new RangeError(`k must be an integer >= 1, got ${String(s.k)}`);
  if (!isInt(s.m) || s.m < 1) {
    throw new RangeError(
      `m must be an integer >= 1 (no parity: nothing to repair from), got ${String(s.m)}`,
    );
  }
  if (s.k + s.m > 256) {
    throw new RangeError(`k + m must be <= 256 (Reed-Solomon over GF(2^8)), got ${s.k + s.m}`);
  }
  const n = s.k + s.m;
  if (!isInt(s.repairThreshold) || s.repairThreshold < s.k || s.repairThreshold >= n) {
    throw new RangeError(
      `repairThreshold must be an integer in [k, k+m-1] = [${s.k}, ${n - 1}], got ${String(s.repairThreshold)}`,
    );
  }
  return s;
}

export function validateNetwork(net: Network): Network {
  if (net === null || typeof net !== 'object') throw new TypeError('network must be an object');
  if (!isInt(net.hosts) || net.hosts < 2) {
    throw new RangeError(`network.hosts must be an integer >= 2, got ${String(net.hosts)}`);
  }
  if (typeof net.burnInHours !== 'number' || !(net.burnInHours >= 0)) {
    throw new RangeError('network.burnInHours must be >= 0');
  }
  if (!Array.isArray(net.classes) || net.classes.length < 1 || net.classes.length > 2) {
    throw new RangeError('network.classes must list one or two host classes');
  }
  let total = 0;
  net.classes.forEach((c, i) => {
    const name = `network.classes[${i}]`;
    if (!isProb(c.share)) throw new RangeError(`${name}.share must be in [0, 1]`);
    total += c.share;
    validateDist(c.lifetime, `${name}.lifetime`);
    if (typeof c.diskLossPerYear !== 'number' || !(c.diskLossPerYear >= 0)) {
      throw new RangeError(`${name}.diskLossPerYear must be >= 0`);
    }
    const o = c.online as DiurnalOnline | AlwaysOnline;
    if (o?.kind === 'always') {
      validateDist(o.outageInterval, `${name}.online.outageInterval`);
      validateDist(o.outageLength, `${name}.online.outageLength`);
    } else if (o?.kind === 'diurnal') {
      validateDist(o.session, `${name}.online.session`);
      validateDist(o.gap, `${name}.online.gap`);
      if (o.session.kind === 'never' || o.gap.kind === 'never') {
        throw new RangeError(`${name}.online: session and gap lengths must be finite`);
      }
      for (const p of ['overnightShare', 'awayStart', 'awayStay'] as const) {
        if (!isProb(o[p])) throw new RangeError(`${name}.online.${p} must be a probability`);
      }
      if (o.awayStay >= 1) throw new RangeError(`${name}.online.awayStay must be < 1`);
      if (!Array.isArray(o.timezones) || o.timezones.length === 0) {
        throw new RangeError(`${name}.online.timezones must not be empty`);
      }
      if (o.timezones.some((z) => !(z.weight >= 0)) || o.timezones.every((z) => z.weight === 0)) {
        throw new RangeError(`${name}.online.timezones weights must be >= 0, not all 0`);
      }
      if (!(o.sleepHour.mean > o.wakeHour.mean)) {
        throw new RangeError(`${name}.online: sleepHour must come after wakeHour`);
      }
    } else {
      throw new RangeError(`${name}.online.kind must be 'diurnal' or 'always'`);
    }
  });
  if (Math.abs(total - 1) > 1e-9) {
    throw new RangeError(`host class shares must sum to 1, got ${total}`);
  }
  return net;
}

export function validateRepair(r: RepairPolicy): RepairPolicy {
  if (r === null || typeof r !== 'object') throw new TypeError('repair policy must be an object');
  for (const key of ['offlineTimeoutHours', 'checkIntervalHours'] as const) {
    if (typeof r[key] !== 'number' || !Number.isFinite(r[key]) || r[key] < 0) {
      throw new RangeError(`repair.${key} must be a finite number >= 0`);
    }
  }
  if (!(r.repairerBitsPerSecond > 0))
    throw new RangeError('repair.repairerBitsPerSecond must be > 0');
  if (!(r.fileBytes > 0)) throw new RangeError('repair.fileBytes must be > 0');
  validateDist(r.extraDelay, 'repair.extraDelay');
  if (r.extraDelay.kind === 'never') throw new RangeError('repair.extraDelay must be finite');
  return r;
}

export function schemeName(s: Pick<Scheme, 'k' | 'm'>): string {
  return s.k === 1 ? `${s.m + 1}x replication` : `RS(${s.k},${s.m})`;
}
