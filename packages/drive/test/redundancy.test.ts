import { describe, expect, it } from 'vitest';
import { DEFAULT_REDUNDANCY } from '@cairn/sim';
import { redundancyFor, repairThresholdFor } from '../src/redundancy.ts';

describe('redundancyFor', () => {
  it("is the simulation's default once the network lists enough hosts", () => {
    const n0 = DEFAULT_REDUNDANCY.k + DEFAULT_REDUNDANCY.m;
    for (const hosts of [n0, n0 + 1, 1000]) {
      expect(redundancyFor(hosts)).toEqual({
        k: DEFAULT_REDUNDANCY.k,
        m: DEFAULT_REDUNDANCY.m,
        // The simulation repairs when r shards are left; the keeper when fewer than r + 1.
        threshold: DEFAULT_REDUNDANCY.repairThreshold + 1,
      });
    }
  });

  it('scales down to small networks: one shard per host, at most 3x, a repair before k', () => {
    for (let hosts = 1; hosts < 40; hosts++) {
      const { k, m, threshold } = redundancyFor(hosts);
      expect(k + m).toBe(hosts);
      expect(k).toBeGreaterThanOrEqual(1);
      if (hosts >= 2) {
        expect(m).toBeGreaterThanOrEqual(1);
        expect((k + m) / k).toBeLessThanOrEqual(3);
        // Repair starts with at least one shard lost, while k are still left.
        expect(threshold).toBeLessThanOrEqual(k + m);
        expect(threshold).toBeGreaterThan(k);
      }
    }
    expect(redundancyFor(4)).toEqual({ k: 2, m: 2, threshold: 4 });
    expect(redundancyFor(7)).toEqual({ k: 3, m: 4, threshold: 6 });
    expect(redundancyFor(20)).toEqual({ k: 8, m: 12, threshold: 16 });
  });

  it('never asks for a repair of a file without parity, and refuses nonsense', () => {
    expect(redundancyFor(1)).toEqual({ k: 1, m: 0, threshold: 0 });
    expect(repairThresholdFor(3, 0)).toBe(0);
    for (const bad of [0, -1, 2.5, Number.NaN])
      expect(() => redundancyFor(bad)).toThrow(RangeError);
  });
});
