// The score keeper's arithmetic, with a fake clock: decay, unknown hosts, failed proofs against
// silences, tenure, latency, merging relays' evidence, persistence and bounds.
import { describe, expect, it } from 'vitest';
import {
  SCORE_RULE,
  ScoreKeeper,
  mergeEvidence,
  scoreOf,
  type HostEvidence,
} from '../src/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function keeper(init: ConstructorParameters<typeof ScoreKeeper>[0] = {}) {
  const clock = { now: 1_800_000_000_000 };
  const k = new ScoreKeeper({ now: () => clock.now, ...init });
  return { k, clock };
}

const none = { answered: 0, passed: 0, failed: 0, unreachable: 0, answeringForMs: 0 };

describe('scoreOf', () => {
  it('is 0.5 with no evidence, and moves up with answers and down with silence', () => {
    expect(scoreOf(none)).toBe(0.5);
    expect(scoreOf({ ...none, answered: 1 })).toBeCloseTo(2 / 3);
    expect(scoreOf({ ...none, unreachable: 1 })).toBeCloseTo(1 / 3);
    // a passed storage audit is worth two answered pings
    expect(scoreOf({ ...none, passed: 1 })).toBeCloseTo(scoreOf({ ...none, answered: 2 }));
  });

  it('weighs one failed proof more than several silences', () => {
    const good = { ...none, passed: 50 };
    const silent = scoreOf({ ...good, unreachable: 3 });
    const lying = scoreOf({ ...good, failed: 1 });
    expect(lying).toBeLessThan(silent);
    expect(lying).toBeLessThan(0.5); // worse than a host nobody knows
    expect(silent).toBeGreaterThan(0.9);
  });

  it('rewards a long answering streak and costs a little for latency', () => {
    const e = { ...none, answered: 5 };
    const week = scoreOf({ ...e, answeringForMs: SCORE_RULE.tenureFullMs });
    const hour = scoreOf({ ...e, answeringForMs: HOUR });
    expect(week).toBeGreaterThan(hour);
    expect(scoreOf({ ...e, answeringForMs: 10 * SCORE_RULE.tenureFullMs })).toBe(week);
    expect(scoreOf({ ...e, latencyMs: 100 })).toBe(scoreOf(e));
    expect(scoreOf({ ...e, latencyMs: 5_000 })).toBeCloseTo(scoreOf(e) * 0.9);
  });
});

describe('ScoreKeeper', () => {
  it('calls a host never observed unknown, not bad', () => {
    const { k } = keeper();
    expect(k.score('new')).toBeUndefined();
    expect(k.standing('new')).toBeUndefined();
    k.record('new', { kind: 'unreachable' });
    // one miss of a brand new host is not the verdict of a bad one
    expect(k.score('new')).toBeGreaterThan(0.3);
  });

  it('orders an honest host above a gone one above a corrupt one', () => {
    const { k, clock } = keeper();
    for (let i = 0; i < 3; i++) {
      k.record('honest', { kind: 'passed', latencyMs: 20 });
      k.record('gone', i === 0 ? { kind: 'passed', latencyMs: 20 } : { kind: 'unreachable' });
      k.record('corrupt', { kind: 'failed', latencyMs: 20 });
      clock.now += 60_000;
    }
    const [honest, gone, corrupt] = ['honest', 'gone', 'corrupt'].map((p) => k.score(p)!);
    expect(honest).toBeGreaterThan(gone!);
    expect(gone).toBeGreaterThan(corrupt!);
    expect(corrupt).toBeLessThan(0.1);
    const s = k.standing('gone')!;
    expect(s.uptime).toBeCloseTo(1 / 3);
    expect(s.passed).toBeCloseTo(1, 2); // decayed a little over three minutes
    expect(s.unreachable).toBeCloseTo(2, 2);
    expect(s.recent.map((r) => r.kind)).toEqual(['passed', 'unreachable', 'unreachable']);
  });

  it('forgets with time: counts halve each half-life, failed proofs more slowly', () => {
    const { k, clock } = keeper({ halfLifeMs: DAY, failHalfLifeMs: 7 * DAY });
    k.record('h', { kind: 'passed' });
    k.record('h', { kind: 'failed' });
    k.record('h', { kind: 'unreachable' });
    clock.now += DAY;
    const e = k.evidence('h')!;
    expect(e.passed).toBeCloseTo(0.5);
    expect(e.unreachable).toBeCloseTo(0.5);
    expect(e.failed).toBeCloseTo(2 ** (-1 / 7));
    clock.now += 60 * DAY;
    expect(k.score('h')).toBeCloseTo(0.5, 2); // back to unknown
  });

  it('measures the answering streak; an outage (3 misses in a row) or a long gap ends it', () => {
    const { k, clock } = keeper({ outageAfter: 3, maxGapMs: 6 * HOUR });
    k.record('h', { kind: 'answered' });
    clock.now += HOUR;
    k.record('h', { kind: 'answered' });
    expect(k.evidence('h')!.answeringForMs).toBe(HOUR);
    // one or two misses do not end the streak
    k.record('h', { kind: 'unreachable' });
    k.record('h', { kind: 'unreachable' });
    clock.now += HOUR;
    k.record('h', { kind: 'answered' });
    expect(k.evidence('h')!.answeringForMs).toBe(2 * HOUR);
    for (let i = 0; i < 3; i++) k.record('h', { kind: 'unreachable' });
    expect(k.evidence('h')!.answeringForMs).toBe(0);
    expect(k.standing('h')!.answeringSince).toBeUndefined();
    k.record('h', { kind: 'answered' });
    clock.now += 7 * HOUR; // nobody looked for 7 hours: no proof it was up meanwhile
    k.record('h', { kind: 'answered' });
    expect(k.evidence('h')!.answeringForMs).toBe(0);
  });

  it('smooths latency over answers only', () => {
    const { k } = keeper();
    k.record('h', { kind: 'answered', latencyMs: 100 });
    k.record('h', { kind: 'unreachable' });
    k.record('h', { kind: 'passed', latencyMs: 200 });
    expect(k.evidence('h')!.latencyMs).toBeCloseTo(130);
  });

  it('is bounded: the least recently observed host and the oldest outcomes go first', () => {
    const { k } = keeper({ maxHosts: 3, maxHistory: 2 });
    for (const p of ['a', 'b', 'c']) k.record(p, { kind: 'answered' });
    k.record('a', { kind: 'answered' }); // a is now the most recent
    k.record('d', { kind: 'answered' });
    expect(k.size).toBe(3);
    expect(k.has('b')).toBe(false);
    expect(k.peers()).toEqual(['c', 'a', 'd']);
    k.record('a', { kind: 'unreachable' });
    expect(k.standing('a')!.recent.map((r) => r.kind)).toEqual(['answered', 'unreachable']);
    expect(() => k.record('a', { kind: 'bogus' as 'passed' })).toThrow(TypeError);
  });

  it('round-trips through JSON, and refuses malformed input', () => {
    const { k, clock } = keeper();
    k.record('a', { kind: 'passed', latencyMs: 12 });
    k.record('a', { kind: 'failed' });
    clock.now += HOUR;
    k.record('b', { kind: 'unreachable' });
    const json = JSON.parse(JSON.stringify(k)) as unknown;
    const back = ScoreKeeper.fromJSON(json, { now: () => clock.now });
    for (const p of ['a', 'b']) {
      expect(back.evidence(p)).toEqual(k.evidence(p));
      expect(back.standing(p)).toEqual(k.standing(p));
    }
    expect(back.peers()).toEqual(k.peers());
    // bounded on the way in too
    expect(ScoreKeeper.fromJSON(json, { maxHosts: 1 }).peers()).toEqual(['b']);
    expect(() => ScoreKeeper.fromJSON({ v: 2, hosts: [] })).toThrow(TypeError);
    expect(() => ScoreKeeper.fromJSON(null)).toThrow(TypeError);
    const bad = structuredClone(json) as { hosts: [string, { a: unknown }][] };
    bad.hosts[0]![1].a = -1;
    expect(() => ScoreKeeper.fromJSON(bad)).toThrow(/answered/);
    const badKind = structuredClone(json) as { hosts: [string, { r: unknown[] }][] };
    badKind.hosts[0]![1].r = [['lost', 1]];
    expect(() => ScoreKeeper.fromJSON(badKind)).toThrow(/history/);
  });
});

describe('merging relays evidence', () => {
  const relay = (over: Partial<HostEvidence> = {}): HostEvidence => ({
    peerId: 'h',
    ...none,
    ...over,
  });

  it('counts a relay observation at half weight, capped, next to our own', () => {
    const merged = mergeEvidence(undefined, [relay({ passed: 10, latencyMs: 30 })]);
    expect(merged.passed).toBe(5);
    expect(merged.latencyMs).toBe(30);
    const capped = mergeEvidence(undefined, [relay({ answered: 10_000 })], { cap: 100 });
    expect(capped.answered).toBe(100);
    const { k } = keeper();
    k.record('h', { kind: 'failed', latencyMs: 80 });
    // the relay saw it fine; we saw it fail a proof: that still counts in full
    const score = k.score('h', [relay({ passed: 40 })])!;
    expect(score).toBeLessThan(scoreOf({ ...none, passed: 20 }));
    expect(mergeEvidence(k.evidence('h'), [relay({ latencyMs: 5 })]).latencyMs).toBe(80);
    expect(k.score('other', [relay({ peerId: 'other', unreachable: 4 })])).toBeCloseTo(
      scoreOf({ ...none, unreachable: 2 }),
    );
  });
});
