import { NotEnoughHostsError } from './errors.ts';
import type { HostInfo } from './types.ts';

export interface SelectOptions {
  /** Every chosen host must have room for this many bytes. */
  shardSize: number;
  /** Peers not to choose (already holding a shard of this file, or failed). */
  exclude?: ReadonlySet<string>;
}

/**
 * Picks `count` distinct hosts with room for a shard: proven hosts first (audit score), then the
 * cheapest, then the closest. Hosts without a score rank as average (0.5) until they are audited.
 */
export function selectHosts(
  candidates: readonly HostInfo[],
  count: number,
  options: SelectOptions,
): HostInfo[] {
  const seen = new Set<string>(options.exclude ?? []);
  const eligible: HostInfo[] = [];
  for (const host of candidates) {
    if (seen.has(host.peerId) || host.freeCapacity < options.shardSize) continue;
    seen.add(host.peerId);
    eligible.push(host);
  }
  eligible.sort(
    (a, b) =>
      (b.score ?? 0.5) - (a.score ?? 0.5) ||
      compareBigint(a.price ?? 0n, b.price ?? 0n) ||
      (a.latencyMs ?? Infinity) - (b.latencyMs ?? Infinity),
  );
  if (eligible.length < count) {
    throw new NotEnoughHostsError(
      `need ${count} hosts with ${options.shardSize} bytes free, found ${eligible.length}`,
    );
  }
  return eligible.slice(0, count);
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
