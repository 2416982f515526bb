/**
 * Host scores from off-chain audits. A `ScoreKeeper` remembers, per host, what audits and probes
 * found (a storage proof passed, a probe answered, a proof failed, no answer at all) as counters
 * that decay with time, plus the host's latency and how long it has been seen answering without
 * an outage. `scoreOf` turns that evidence into one number in 0..1:
 *
 *   good  = answered + 2 × passed + 20 × min(1, answeringFor / 7 days)
 *   base  = (good + 1) / (good + unreachable + 2)        Beta(1, 1) prior: 0.5 when nothing is known
 *   score = base × 0.5^failed × latency factor (1 up to 250 ms, down to 0.9 at 2 s and beyond)
 *
 * So a host never seen is 0.5 (unknown, not bad); every answer moves it up and every silence down,
 * old observations counting less (half-life 1 day); each failed proof halves the score and is
 * remembered longer (half-life 7 days), so one failed proof outweighs many missed probes; and a
 * host that has kept answering for days earns up to 20 extra observations' worth of trust (the
 * streak ends after 3 unanswered probes in a row, or a 6-hour gap between answers, and fades
 * like the counts once the host is no longer observed).
 *
 * Pure and isomorphic: no I/O. `toJSON`/`fromJSON` persist it; it holds at most `maxHosts` hosts
 * (the least recently observed go first) and `maxHistory` recent outcomes per host.
 */
import type { HostEvidence } from '@cairn/peer/directory';

export type { HostEvidence };

/** What one audit or probe found. */
export type AuditOutcomeKind =
  /** A storage audit passed: every challenged leaf proved against the root, signed by the host. */
  | 'passed'
  /** A liveness probe (ping) answered: the host is up, nothing about its storage is proven. */
  | 'answered'
  /** The host answered a storage audit without a valid proof (bad leaf, shard missing...). */
  | 'failed'
  /** No answer in time: offline, gone, or unreachable from here. */
  | 'unreachable';

export interface Observation {
  kind: AuditOutcomeKind;
  /** Response time of an answer (audit or ping round trip), in ms. */
  latencyMs?: number;
  /** When it happened, Unix ms. @default now */
  at?: number;
}

export interface ScoreKeeperInit {
  /** Half-life of answered, passed and unreachable counts. @default 1 day */
  halfLifeMs?: number;
  /** Half-life of failed proofs (remembered longer). @default 7 days */
  failHalfLifeMs?: number;
  /** Consecutive unanswered probes that end a host's answering streak. @default 3 */
  outageAfter?: number;
  /** Answers further apart than this do not prove the host was up in between. @default 6 hours */
  maxGapMs?: number;
  /** Hosts remembered; the least recently observed is forgotten first. @default 10000 */
  maxHosts?: number;
  /** Recent outcomes kept per host (for display). @default 16 */
  maxHistory?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Everything known about one host, as of now. */
export interface HostStanding extends HostEvidence {
  /** 0..1, see `scoreOf`. */
  score: number;
  /** Share of audits and probes answered (passed, answered or failed), recent ones weighted more. */
  uptime: number | undefined;
  firstSeen: number;
  lastSeen: number;
  /** Start of the current answering streak; undefined while the host is down. */
  answeringSince: number | undefined;
  /** The latest outcomes, oldest first. */
  recent: Required<Pick<Observation, 'kind' | 'at'>>[];
}

/** The weights of `scoreOf`, exported so the rule can be read and tested. */
export const SCORE_RULE = {
  /** A passed storage audit counts as this many answered probes. */
  passedWeight: 2,
  /** Trust earned by answering without an outage for `tenureFullMs`, in observations. */
  tenureWeight: 20,
  tenureFullMs: 7 * 24 * 3_600_000,
  /** Each failed proof multiplies the score by this. */
  failFactor: 0.5,
  /** Latency up to `latencyGoodMs` costs nothing; at `latencyBadMs` and beyond, `latencyCost`. */
  latencyGoodMs: 250,
  latencyBadMs: 2000,
  latencyCost: 0.1,
} as const;

/**
 * The score of a host from its evidence (own, or merged with others' by `mergeEvidence`):
 * 0.5 with no evidence, towards 1 with answers and proofs, towards 0 with silence, and halved
 * by every failed proof.
 */
export function scoreOf(e: Omit<HostEvidence, 'peerId'>): number {
  const r = SCORE_RULE;
  const tenure = Math.min(1, Math.max(0, e.answeringForMs) / r.tenureFullMs);
  const good = e.answered + r.passedWeight * e.passed + r.tenureWeight * tenure;
  const base = (good + 1) / (good + e.unreachable + 2);
  const lat = e.latencyMs;
  const slow =
    lat === undefined
      ? 0
      : Math.min(1, Math.max(0, (lat - r.latencyGoodMs) / (r.latencyBadMs - r.latencyGoodMs)));
  return base * r.failFactor ** e.failed * (1 - r.latencyCost * slow);
}

export interface MergeOptions {
  /** How much one shared observation counts next to one of our own (0..1). @default 0.5 */
  weight?: number;
  /** At most this many observations' worth from one source (after weighting). @default 100 */
  cap?: number;
}

/**
 * Our own evidence plus others' (e.g. the relays'), each source discounted by `weight` and
 * capped, so second-hand reports inform but never outvote what we saw ourselves for long.
 * Tenure is the longest (discounted) streak anyone saw; latency ours when we have it, else the
 * others' mean (it is the host's responsiveness, not our path to it).
 */
export function mergeEvidence(
  own: HostEvidence | undefined,
  shared: readonly HostEvidence[],
  options: MergeOptions = {},
): Omit<HostEvidence, 'peerId'> {
  const weight = Math.min(1, Math.max(0, options.weight ?? 0.5));
  const cap = Math.max(0, options.cap ?? 100);
  const out = {
    answered: own?.answered ?? 0,
    passed: own?.passed ?? 0,
    failed: own?.failed ?? 0,
    unreachable: own?.unreachable ?? 0,
    answeringForMs: own?.answeringForMs ?? 0,
  };
  const latencies: number[] = [];
  for (const s of shared) {
    const total = s.answered + s.passed + s.failed + s.unreachable;
    const f = total * weight > cap ? cap / total : weight;
    out.answered += f * s.answered;
    out.passed += f * s.passed;
    out.failed += f * s.failed;
    out.unreachable += f * s.unreachable;
    out.answeringForMs = Math.max(out.answeringForMs, weight * s.answeringForMs);
    if (s.latencyMs !== undefined) latencies.push(s.latencyMs);
  }
  const latencyMs =
    own?.latencyMs ??
    (latencies.length > 0 ? latencies.reduce((a, b) => a + b, 0) / latencies.length : undefined);
  return latencyMs === undefined ? out : { ...out, latencyMs };
}

interface Entry {
  /** Decayed counts, as of `at`. */
  answered: number;
  passed: number;
  failed: number;
  unreachable: number;
  at: number;
  latencyMs: number | undefined;
  firstSeen: number;
  lastSeen: number;
  lastAnswered: number | undefined;
  answeringSince: number | undefined;
  /** Consecutive unanswered probes. */
  misses: number;
  recent: { kind: AuditOutcomeKind; at: number }[];
}

/** The serialized form (`toJSON`), version 1. */
export interface ScoreKeeperJSON {
  v: 1;
  hosts: [peerId: string, entry: SerializedEntry][];
}

interface SerializedEntry {
  a: number;
  p: number;
  f: number;
  u: number;
  at: number;
  l?: number;
  fs: number;
  ls: number;
  la?: number;
  as?: number;
  m: number;
  r: [kind: AuditOutcomeKind, at: number][];
}

const KINDS: readonly AuditOutcomeKind[] = ['passed', 'answered', 'failed', 'unreachable'];
/** Smoothing of the latency average: the newest sample's share. */
const LATENCY_ALPHA = 0.3;

export class ScoreKeeper {
  readonly halfLifeMs: number;
  readonly failHalfLifeMs: number;
  readonly outageAfter: number;
  readonly maxGapMs: number;
  readonly maxHosts: number;
  readonly maxHistory: number;
  readonly #now: () => number;
  /** Insertion order = observation order: the first key is the least recently observed host. */
  readonly #hosts = new Map<string, Entry>();

  constructor(init: ScoreKeeperInit = {}) {
    this.halfLifeMs = positive(init.halfLifeMs ?? 24 * 3_600_000, 'halfLifeMs');
    this.failHalfLifeMs = positive(init.failHalfLifeMs ?? 7 * 24 * 3_600_000, 'failHalfLifeMs');
    this.outageAfter = positiveInt(init.outageAfter ?? 3, 'outageAfter');
    this.maxGapMs = positive(init.maxGapMs ?? 6 * 3_600_000, 'maxGapMs');
    this.maxHosts = positiveInt(init.maxHosts ?? 10_000, 'maxHosts');
    this.maxHistory = nonNegativeInt(init.maxHistory ?? 16, 'maxHistory');
    this.#now = init.now ?? Date.now;
  }

  /** Hosts with a record. */
  get size(): number {
    return this.#hosts.size;
  }

  /** Peer ids with a record, least recently observed first. */
  peers(): string[] {
    return [...this.#hosts.keys()];
  }

  has(peerId: string): boolean {
    return this.#hosts.has(peerId);
  }

  forget(peerId: string): boolean {
    return this.#hosts.delete(peerId);
  }

  clear(): void {
    this.#hosts.clear();
  }

  /** Take in one audit or probe outcome. */
  record(peerId: string, observation: Observation): void {
    if (!KINDS.includes(observation.kind))
      throw new TypeError(`unknown outcome ${String(observation.kind)}`);
    const at = observation.at ?? this.#now();
    if (!Number.isFinite(at)) throw new RangeError('at must be a time');
    let e = this.#hosts.get(peerId);
    if (e === undefined) {
      e = {
        answered: 0,
        passed: 0,
        failed: 0,
        unreachable: 0,
        at,
        latencyMs: undefined,
        firstSeen: at,
        lastSeen: at,
        lastAnswered: undefined,
        answeringSince: undefined,
        misses: 0,
        recent: [],
      };
    } else {
      this.#hosts.delete(peerId); // re-inserted below: most recently observed last
    }
    this.#decayTo(e, at);
    e[observation.kind] += 1;
    e.firstSeen = Math.min(e.firstSeen, at);
    e.lastSeen = Math.max(e.lastSeen, at);
    if (observation.kind === 'unreachable') {
      e.misses++;
      if (e.misses >= this.outageAfter) e.answeringSince = undefined;
    } else {
      e.misses = 0;
      if (
        e.answeringSince === undefined ||
        e.lastAnswered === undefined ||
        at - e.lastAnswered > this.maxGapMs
      )
        e.answeringSince = at;
      e.lastAnswered = Math.max(e.lastAnswered ?? at, at);
      const lat = observation.latencyMs;
      if (lat !== undefined && Number.isFinite(lat) && lat >= 0)
        e.latencyMs =
          e.latencyMs === undefined ? lat : e.latencyMs + LATENCY_ALPHA * (lat - e.latencyMs);
    }
    if (this.maxHistory > 0) {
      e.recent.push({ kind: observation.kind, at });
      if (e.recent.length > this.maxHistory) e.recent.splice(0, e.recent.length - this.maxHistory);
    }
    this.#hosts.set(peerId, e);
    while (this.#hosts.size > this.maxHosts) {
      const oldest = this.#hosts.keys().next().value;
      if (oldest === undefined) break;
      this.#hosts.delete(oldest);
    }
  }

  /** This keeper's evidence about a host, decayed to now; undefined for a host never observed. */
  evidence(peerId: string): HostEvidence | undefined {
    const e = this.#hosts.get(peerId);
    if (e === undefined) return undefined;
    const now = this.#now();
    const counts = this.#decayed(e, now);
    // The proven streak, fading like the counts once the host is no longer being observed.
    const answeringForMs =
      e.answeringSince === undefined || e.lastAnswered === undefined
        ? 0
        : (e.lastAnswered - e.answeringSince) *
          2 ** (-Math.max(0, now - e.lastAnswered) / this.halfLifeMs);
    return {
      peerId,
      ...counts,
      ...(e.latencyMs === undefined ? {} : { latencyMs: e.latencyMs }),
      answeringForMs,
    };
  }

  /**
   * The host's score (see `scoreOf`), from our evidence merged with `shared` (others' evidence,
   * e.g. from relays); undefined when nobody has observed the host: unknown, not bad.
   */
  score(
    peerId: string,
    shared: readonly HostEvidence[] = [],
    options?: MergeOptions,
  ): number | undefined {
    const own = this.evidence(peerId);
    if (own === undefined && shared.length === 0) return undefined;
    return scoreOf(mergeEvidence(own, shared, options));
  }

  /** Everything this keeper knows about a host (its own evidence only). */
  standing(peerId: string): HostStanding | undefined {
    const e = this.#hosts.get(peerId);
    const ev = this.evidence(peerId);
    if (e === undefined || ev === undefined) return undefined;
    const answers = ev.answered + ev.passed + ev.failed;
    return {
      ...ev,
      score: scoreOf(ev),
      uptime: answers + ev.unreachable > 0 ? answers / (answers + ev.unreachable) : undefined,
      firstSeen: e.firstSeen,
      lastSeen: e.lastSeen,
      answeringSince: e.answeringSince,
      recent: e.recent.map((r) => ({ ...r })),
    };
  }

  toJSON(): ScoreKeeperJSON {
    const hosts: ScoreKeeperJSON['hosts'] = [];
    for (const [peerId, e] of this.#hosts) {
      const s: SerializedEntry = {
        a: e.answered,
        p: e.passed,
        f: e.failed,
        u: e.unreachable,
        at: e.at,
        fs: e.firstSeen,
        ls: e.lastSeen,
        m: e.misses,
        r: e.recent.map((r) => [r.kind, r.at]),
      };
      if (e.latencyMs !== undefined) s.l = e.latencyMs;
      if (e.lastAnswered !== undefined) s.la = e.lastAnswered;
      if (e.answeringSince !== undefined) s.as = e.answeringSince;
      hosts.push([peerId, s]);
    }
    return { v: 1, hosts };
  }

  /**
   * A keeper from `toJSON()` output (e.g. parsed from a file). Throws TypeError on anything
   * malformed; keeps the newest `maxHosts` hosts and `maxHistory` outcomes of each.
   */
  static fromJSON(json: unknown, init: ScoreKeeperInit = {}): ScoreKeeper {
    const keeper = new ScoreKeeper(init);
    if (!isObject(json) || json.v !== 1 || !Array.isArray(json.hosts))
      throw new TypeError('not a version 1 score keeper');
    const hosts = json.hosts as unknown[];
    for (const item of hosts.slice(Math.max(0, hosts.length - keeper.maxHosts))) {
      if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== 'string')
        throw new TypeError('malformed host entry');
      const [peerId, s] = item as [string, unknown];
      if (peerId.length === 0 || peerId.length > 128) throw new TypeError('malformed peer id');
      keeper.#hosts.delete(peerId);
      keeper.#hosts.set(peerId, parseEntry(s, keeper.maxHistory));
    }
    return keeper;
  }

  #decayed(e: Entry, now: number): Pick<Entry, 'answered' | 'passed' | 'failed' | 'unreachable'> {
    const dt = Math.max(0, now - e.at);
    const k = 2 ** (-dt / this.halfLifeMs);
    return {
      answered: e.answered * k,
      passed: e.passed * k,
      failed: e.failed * 2 ** (-dt / this.failHalfLifeMs),
      unreachable: e.unreachable * k,
    };
  }

  #decayTo(e: Entry, at: number): void {
    if (at <= e.at) return; // an older observation arriving late counts at full weight
    Object.assign(e, this.#decayed(e, at));
    e.at = at;
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(x: unknown, name: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
    throw new TypeError(`${name} must be a non-negative number`);
  return x;
}

function optNum(x: unknown, name: string): number | undefined {
  return x === undefined ? undefined : num(x, name);
}

function parseEntry(s: unknown, maxHistory: number): Entry {
  if (!isObject(s)) throw new TypeError('malformed host entry');
  if (!Array.isArray(s.r)) throw new TypeError('malformed history');
  const history = maxHistory === 0 ? [] : (s.r as unknown[]).slice(-maxHistory);
  const recent = history.map((r) => {
    if (!Array.isArray(r) || !KINDS.includes(r[0] as AuditOutcomeKind))
      throw new TypeError('malformed history');
    return { kind: r[0] as AuditOutcomeKind, at: num(r[1], 'history time') };
  });
  const misses = num(s.m, 'misses');
  if (!Number.isSafeInteger(misses)) throw new TypeError('misses must be an integer');
  return {
    answered: num(s.a, 'answered'),
    passed: num(s.p, 'passed'),
    failed: num(s.f, 'failed'),
    unreachable: num(s.u, 'unreachable'),
    at: num(s.at, 'at'),
    latencyMs: optNum(s.l, 'latency'),
    firstSeen: num(s.fs, 'firstSeen'),
    lastSeen: num(s.ls, 'lastSeen'),
    lastAnswered: optNum(s.la, 'lastAnswered'),
    answeringSince: optNum(s.as, 'answeringSince'),
    misses,
    recent,
  };
}

function positive(x: number, name: string): number {
  if (!Number.isFinite(x) || x <= 0) throw new RangeError(`${name} must be positive`);
  return x;
}

function positiveInt(x: number, name: string): number {
  if (!Number.isSafeInteger(x) || x < 1) throw new RangeError(`${name} must be a positive integer`);
  return x;
}

function nonNegativeInt(x: number, name: string): number {
  if (!Number.isSafeInteger(x) || x < 0)
    throw new RangeError(`${name} must be a non-negative integer`);
  return x;
}
