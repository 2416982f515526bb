import { NotEnoughHostsError } from './errors.ts';
import type { HostInfo } from './types.ts';

export interface SelectOptions {
  /** Every chosen host must have room for this many bytes. */
  shardSize: number;
  /** Peers not to choose (already holding a shard of this file, or failed). */
  exclude?: ReadonlySet<string>;
  /** For the uptime the hosts announce. @default Date.now() */
  now?: number;
}

/** The constants of the selection rule (see `selectHosts`). */
export const SELECTION_RULE = {
  /** The score of a host nobody has audited yet. */
  unknownScore: 0.5,
  /** Added to the quality of a host whose storage survives restarts. */
  persistentBonus: 0.1,
  /** Added, at most, for the uptime a host announces: log-scaled, full at `uptimeFullMs`. */
  uptimeBonus: 0.1,
  uptimeFullMs: 30 * 24 * 3_600_000,
  /** A host scoring at least this (without recent failed proofs) is trusted: ranked first. */
  trustedScore: 0.75,
  /** A host scoring below this, or with this many recent failed proofs, is avoided. */
  avoidBelowScore: 0.2,
  avoidFailedAudits: 0.5,
} as const;

const QUALITY_SCALE = 1_000_000;
const HOUR = 3_600_000;

/**
 * How much a host is worth per unit of price, about 0..1.2: its audit score (0.5 when unknown),
 * plus 0.1 when its storage is persistent, plus up to 0.1 for a long announced uptime
 * (log-scaled: an hour earns ~0.01, a day ~0.05, 30 days the whole 0.1).
 */
export function hostQuality(host: HostInfo, now = Date.now()): number {
  const r = SELECTION_RULE;
  let q = host.score ?? r.unknownScore;
  if (host.persistent === true) q += r.persistentBonus;
  if (host.upSince !== undefined && host.upSince < now) {
    const hours = (now - host.upSince) / HOUR;
    q += r.uptimeBonus * Math.min(1, Math.log1p(hours) / Math.log1p(r.uptimeFullMs / HOUR));
  }
  return q;
}

/**
 * The rank class of a host: 0 trusted (audits show it up and proving: score >= 0.75), 1 unknown
 * or middling, 2 avoided (recent failed proofs, or score < 0.2: chosen only when nothing else is
 * left).
 */
export function hostTier(host: HostInfo): 0 | 1 | 2 {
  const r = SELECTION_RULE;
  if ((host.failedAudits ?? 0) >= r.avoidFailedAudits) return 2;
  if (host.score === undefined) return 1;
  if (host.score < r.avoidBelowScore) return 2;
  return host.score >= r.trustedScore ? 0 : 1;
}

/**
 * Picks `count` distinct hosts with room for a shard. The rule:
 *
 * 1. By tier (`hostTier`): hosts the audits trust (score >= 0.75) first, then unknown and
 *    middling ones, and hosts with recent failed proofs (or a score below 0.2) last, used only
 *    when too few others are left. Proof before price: an unknown host does not outrank a
 *    proven one by being cheaper.
 * 2. Within a tier, by price per quality (`price / hostQuality`), lowest first: persistence, a
 *    long announced uptime and a better score are worth paying a little more for (quality runs
 *    from about 0.2 to 1.2), and among hosts of equal quality the cheaper wins.
 * 3. Ties (e.g. free hosts): higher quality, then lower latency.
 */
export function selectHosts(
  candidates: readonly HostInfo[],
  count: number,
  options: SelectOptions,
): HostInfo[] {
  const now = options.now ?? Date.now();
  const seen = new Set<string>(options.exclude ?? []);
  const eligible: { host: HostInfo; quality: number; scaled: bigint; tier: number }[] = [];
  for (const host of candidates) {
    if (seen.has(host.peerId) || host.freeCapacity < options.shardSize) continue;
    seen.add(host.peerId);
    const quality = hostQuality(host, now);
    eligible.push({
      host,
      quality,
      // Exact comparison of price / quality for uint256 prices: cross-multiply by integers.
      scaled: BigInt(Math.max(1, Math.round(quality * QUALITY_SCALE))),
      tier: hostTier(host),
    });
  }
  eligible.sort(
    (a, b) =>
      a.tier - b.tier ||
      compareBigint((a.host.price ?? 0n) * b.scaled, (b.host.price ?? 0n) * a.scaled) ||
      b.quality - a.quality ||
      (a.host.latencyMs ?? Infinity) - (b.host.latencyMs ?? Infinity),
  );
  if (eligible.length < count) {
    throw new NotEnoughHostsError(
      `need ${count} hosts with ${options.shardSize} bytes free, found ${eligible.length}`,
    );
  }
  return eligible.slice(0, count).map((e) => e.host);
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
