/**
 * The checker: how many of a file's shards are alive right now. Each holder is audited with a
 * fresh nonce (random leaves proven against the shard's root and signed by the host); a paid
 * shard whose deal is no longer active counts as lost whatever its host says.
 */
import { layoutOf, toHex, type ShardSet } from '@cairn/codec';
import { DealStatus, getDeal, type ChainReader } from '@cairn/contracts';
import { audit } from '@cairn/peer';
import type { CairnNetwork } from './network.ts';
import type { Placement } from './types.ts';

export type ShardState =
  /** the host proved possession just now */
  | 'healthy'
  /** the host could not be found or reached in time */
  | 'unreachable'
  /** the host says it does not have the shard */
  | 'missing'
  /** the host answered with leaves that do not prove against the root, or an unsigned answer */
  | 'corrupt'
  /** the shard's deal ended or failed on chain (the host no longer has to keep it) */
  | 'deal-ended'
  /** no placement is known for this shard */
  | 'unplaced';

export interface ShardHealth {
  shard: number;
  host: string | undefined;
  state: ShardState;
  /** the audit's round trip, when it passed */
  latencyMs?: number;
  /** why, when not healthy */
  reason?: string;
}

export interface FileHealth {
  /** shards proven alive */
  healthy: number;
  n: number;
  /** shards needed to read the file */
  k: number;
  shards: ShardHealth[];
  checkedAt: number;
}

export interface CheckOptions {
  /** Reads the deals of paid shards (skipped without it). */
  reader?: ChainReader;
  /** Leaves asked per audit. @default 2 */
  leaves?: number;
  /** Per holder. @default 20000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Audits every holder of the file's shards (in parallel) and says which shards are alive. */
export async function checkHealth(
  network: CairnNetwork,
  set: ShardSet,
  placements: readonly Placement[],
  options: CheckOptions = {},
): Promise<FileHealth> {
  const layout = layoutOf(set);
  const byShard = new Map(placements.map((p) => [p.shard, p]));
  await network
    .locate(
      placements.map((p) => p.host),
      options.signal ?? AbortSignal.timeout(options.timeoutMs ?? 20_000),
    )
    .catch(() => {});
  const shards = await Promise.all(
    set.roots.map(async (root, shard): Promise<ShardHealth> => {
      const p = byShard.get(shard);
      if (!p) return { shard, host: undefined, state: 'unplaced' };
      const base = { shard, host: p.host };
      if (p.dealId !== undefined && options.reader) {
        const deal = await getDeal(options.reader, p.dealId).catch(() => undefined);
        if (deal && deal.status !== DealStatus.Active)
          return { ...base, state: 'deal-ended', reason: `deal ${p.dealId} is not active` };
      }
      const signal = AbortSignal.any([
        AbortSignal.timeout(options.timeoutMs ?? 20_000),
        ...(options.signal ? [options.signal] : []),
      ]);
      const t0 = performance.now();
      try {
        const addrs = await network.addressesOf(p.host, signal);
        await audit(
          network.node,
          addrs,
          {
            root: toHex(root),
            size: layout.shardSize,
            leafSize: layout.leafSize,
            count: options.leaves ?? 2,
          },
          { signal },
        );
        return { ...base, state: 'healthy', latencyMs: performance.now() - t0 };
      } catch (err) {
        options.signal?.throwIfAborted();
        const e = err as Error;
        const reason = `${e.name}: ${e.message}`;
        if (e.name === 'AuditFailedError') return { ...base, state: 'corrupt', reason };
        if (e.name === 'ShardNotFoundError') return { ...base, state: 'missing', reason };
        return { ...base, state: 'unreachable', reason };
      }
    }),
  );
  return {
    healthy: shards.filter((s) => s.state === 'healthy').length,
    n: layout.n,
    k: layout.k,
    shards,
    checkedAt: Date.now(),
  };
}
