/**
 * The default redundancy of an upload and when to repair it: the churn simulation's choice
 * (`DEFAULT_REDUNDANCY` of @cairn/sim, see docs/durability.md), scaled down for a network that
 * lists fewer hosts than that scheme has shards.
 */
import { DEFAULT_REDUNDANCY } from '@cairn/sim';

export interface Redundancy {
  /** Data shards: any k of the n shards rebuild the file. */
  k: number;
  /** Parity shards. */
  m: number;
  /**
   * Repair when fewer than this many shards are healthy (the `threshold` of `repairFile` and
   * the keeper); the simulation's "repair when r are left" is `threshold - 1`.
   */
  threshold: number;
}

/**
 * The redundancy for a file put on a network listing `hosts` hosts (one shard per host).
 * With at least as many hosts as the default scheme has shards: that scheme (RS(16,24), repaired
 * when 31 of 40 are left). With fewer: n = hosts, keeping the scheme's overhead (n/k = 2.5) and the
 * share of the parity shards that may be lost before a repair starts (15 of 24).
 */
export function redundancyFor(hosts: number): Redundancy {
  if (!Number.isSafeInteger(hosts) || hosts < 1)
    throw new RangeError(`hosts must be a positive integer, got ${hosts}`);
  const { k: k0, m: m0 } = DEFAULT_REDUNDANCY;
  const n0 = k0 + m0;
  const n = Math.min(hosts, n0);
  const k = Math.max(1, Math.round((n * k0) / n0));
  const m = n - k;
  return { k, m, threshold: repairThresholdFor(k, m) };
}

/** The keeper's threshold for a file of k + m shards, by the default scheme's rule. */
export function repairThresholdFor(k: number, m: number): number {
  const { k: k0, m: m0, repairThreshold: r0 } = DEFAULT_REDUNDANCY;
  if (m === 0) return 0; // nothing to repair from
  return k + Math.floor((m * (r0 - k0)) / m0) + 1;
}
