// The selection rule: proof before price, price per quality within a tier, failing hosts last.
import { describe, expect, it } from 'vitest';
import { hostQuality, hostTier, selectHosts, type HostInfo } from '../src/index.ts';

const NOW = 1_800_000_000_000;
const DAY = 24 * 3_600_000;

function pick(hosts: HostInfo[], count = 1): string[] {
  return selectHosts(hosts, count, { shardSize: 100, now: NOW }).map((h) => h.peerId);
}

const host = (peerId: string, over: Partial<HostInfo> = {}): HostInfo => ({
  peerId,
  freeCapacity: 1000,
  price: 100n,
  ...over,
});

describe('selectHosts', () => {
  it('prefers a proven, persistent, long-up host to a slightly cheaper unknown one', () => {
    const proven = host('proven', {
      price: 110n,
      score: 0.97,
      persistent: true,
      upSince: NOW - 30 * DAY,
    });
    const unknown = host('unknown', { price: 100n });
    expect(pick([unknown, proven])).toEqual(['proven']);
    expect(hostTier(proven)).toBe(0);
    expect(hostTier(unknown)).toBe(1);
  });

  it('within a tier, persistence and uptime are worth a little more money, not any amount', () => {
    const durable = host('durable', { price: 110n, persistent: true, upSince: NOW - 30 * DAY });
    const fresh = host('fresh', { price: 100n, upSince: NOW - 60_000 });
    expect(hostQuality(durable, NOW)).toBeCloseTo(0.7);
    expect(pick([fresh, durable])).toEqual(['durable']);
    expect(pick([host('fresh', { price: 50n }), durable])).toEqual(['fresh']);
  });

  it('lets price decide among equals', () => {
    const a = host('a', { price: 120n, score: 0.9 });
    const b = host('b', { price: 90n, score: 0.9 });
    const c = host('c', { price: 100n, score: 0.9 });
    expect(pick([a, b, c], 3)).toEqual(['b', 'c', 'a']);
    // uint256 prices compare exactly
    const big = 2n ** 200n;
    expect(
      pick([host('x', { price: big + 1n, score: 0.9 }), host('y', { price: big, score: 0.9 })]),
    ).toEqual(['y']);
  });

  it('avoids hosts that failed proofs, and takes them only when nothing else is left', () => {
    const liar = host('liar', { price: 1n, score: 0.6, failedAudits: 1 });
    const gone = host('gone', { price: 100n, score: 0.1 });
    const plain = host('plain', { price: 500n });
    expect(pick([liar, gone, plain])).toEqual(['plain']);
    expect(pick([liar, gone, plain], 3)).toEqual(['plain', 'liar', 'gone']);
    expect(hostTier(liar)).toBe(2);
    expect(hostTier(gone)).toBe(2);
  });

  it('still needs room, distinct hosts and enough of them', () => {
    const hosts = [host('a'), host('a'), host('small', { freeCapacity: 10 })];
    expect(() => selectHosts(hosts, 2, { shardSize: 100, now: NOW })).toThrow(/need 2 hosts/);
    expect(
      selectHosts([host('a'), host('b')], 1, { shardSize: 100, exclude: new Set(['a']) }).map(
        (h) => h.peerId,
      ),
    ).toEqual(['b']);
  });

  it('orders free hosts by quality, then latency', () => {
    const hosts = [
      host('slow', { price: 0n, latencyMs: 300 }),
      host('fast', { price: 0n, latencyMs: 5 }),
      host('persistent', { price: 0n, persistent: true }),
    ];
    expect(pick(hosts, 3)).toEqual(['persistent', 'fast', 'slow']);
  });
});
