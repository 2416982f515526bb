/**
 * The repairer: regenerates exactly the lost shards of a file from any k verified pieces per
 * segment of the surviving ones (no key needed: shards are ciphertext), places them on new hosts
 * (new deals first when paid, taking over the failed deals' slots and their repair bounties), and
 * for the owner publishes a new file record naming the new holders.
 */
import { ShardRebuilder, shardSetOf, type ShardSet } from '@cairn/codec';
import { DealStatus, getDeal } from '@cairn/contracts';
import { paidDeals, type PaidUploadInit } from './deals.ts';
import { pieceFetcher, type DownloadOptions } from './download.ts';
import { DriveError, NotEnoughHostsError } from './errors.ts';
import { checkHealth, type CheckOptions, type FileHealth } from './health.ts';
import type { CairnNetwork } from './network.ts';
import { placeShards, type PlaceInit } from './place.ts';
import { openLink, publishRecord } from './share.ts';
import type { Placement } from './types.ts';

export interface RepairProgress {
  phase: 'rebuilding' | 'retrying' | 'done';
  /** Rebuilt shard bytes sent in this phase. */
  bytes: number;
  /** Lost shards placed so far, of `shards`. */
  shardsStored: number;
  shards: number;
}

export interface RepairShardsOptions {
  /** The shards to regenerate (never read from). */
  lost: readonly number[];
  /** Other shards not to read from (known unreachable). */
  gone?: readonly number[];
  /** Paid storage for the new shards (quotes and deals before any byte), as in `putFile`. */
  paid?: Omit<PaidUploadInit, 'network' | 'wallets'>;
  /** Extra piece requests per segment. @default 2 */
  hedge?: number;
  /** Segments gathered ahead. @default 3 */
  prefetch?: number;
  queueDepth?: number;
  /** Further passes for shards whose new host failed. @default 2 */
  retries?: number;
  /** Ping candidates first and prefer the closest. @default true */
  probe?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: RepairProgress) => void;
  /** A piece arrived from a surviving holder (the repair's download traffic). */
  onPiece?: DownloadOptions['onPiece'];
  /** The new deals are open, before any byte is sent (journal them to survive a crash). */
  onDeals?: PlaceInit['onDeals'];
}

export interface RepairResult {
  /** The file's placements after the repair (survivors and the new ones), by shard. */
  placements: Placement[];
  /** The new placements only. */
  repaired: Placement[];
}

/** The file cannot be repaired (fewer than k shards left to rebuild from). */
export class RepairFailedError extends DriveError {
  override name = 'RepairFailedError' as const;
}

/**
 * Regenerates `lost` from the other shards' holders and stores them on hosts that hold no shard
 * of this file. Needs only the file's public `ShardSet` and placements: a mediator can run it.
 */
export async function repairShards(
  network: CairnNetwork,
  set: ShardSet,
  placements: readonly Placement[],
  options: RepairShardsOptions,
): Promise<RepairResult> {
  const { signal } = options;
  const rebuilder = new ShardRebuilder(set);
  const { layout } = rebuilder;
  const lost = [...new Set(options.lost)].sort((a, b) => a - b);
  const unusable = new Set([...lost, ...(options.gone ?? [])]);
  const sources = placements.filter((p) => !unusable.has(p.shard));
  if (sources.length < layout.k)
    throw new RepairFailedError(
      `${sources.length} shards left to rebuild from; ${layout.k} are needed`,
    );
  let hosts = await network.hosts({}, signal);
  if (options.probe ?? true) hosts = await network.probe(hosts, signal);
  if (hosts.length === 0) throw new NotEnoughHostsError('no reachable host is listed');
  const wallets = new Map(
    hosts.flatMap((h) => (h.wallet ? [[h.peerId, h.wallet as `0x${string}`] as const] : [])),
  );
  await network.locate(
    sources.map((p) => p.host),
    signal ?? AbortSignal.timeout(30_000),
  );
  const { fetch } = pieceFetcher(
    layout,
    set.roots,
    sources,
    network,
    options.onPiece ? { onPiece: options.onPiece } : {},
  );
  let phase: RepairProgress['phase'] = 'rebuilding';
  let sent = 0;
  let stored = 0;
  const progress = () =>
    options.onProgress?.({ phase, bytes: sent, shardsStored: stored, shards: lost.length });
  const placed = await placeShards({
    roots: set.roots,
    layout,
    shards: lost,
    hosts,
    transport: network,
    retries: options.retries ?? 2,
    ...(options.queueDepth !== undefined ? { queueDepth: options.queueDepth } : {}),
    ...(signal ? { signal } : {}),
    ...(options.paid ? { deals: paidDeals({ ...options.paid, network, wallets }) } : {}),
    // Every holder of the file, survivors and lost alike, is passed over.
    holding: new Set(placements.map((p) => p.host)),
    source: async function* (shards) {
      sent = 0;
      const gone = lost.filter((j) => !shards.includes(j)).concat(options.gone ?? []);
      for await (const { pieces } of rebuilder.rebuild(shards, fetch, {
        gone,
        hedge: options.hedge ?? 2,
        prefetch: options.prefetch ?? 3,
        ...(signal ? { signal } : {}),
      })) {
        for (const p of pieces) sent += p.byteLength;
        progress();
        yield pieces;
      }
    },
    ...(options.onDeals ? { onDeals: options.onDeals } : {}),
    onPass: (pass) => (phase = pass === 0 ? 'rebuilding' : 'retrying'),
    onStored: (count) => ((stored = count), progress()),
  });
  phase = 'done';
  progress();
  const repaired = [...placed.values()].sort((a, b) => a.shard - b.shard);
  const lostSet = new Set(lost);
  return {
    placements: [...placements.filter((p) => !lostSet.has(p.shard)), ...repaired].sort(
      (a, b) => a.shard - b.shard,
    ),
    repaired,
  };
}

export interface RepairFileOptions extends Omit<RepairShardsOptions, 'lost' | 'gone'> {
  /**
   * Repair when fewer than this many shards are healthy, or a rule giving it from the file's k
   * and m (e.g. `repairThresholdFor`). @default n (any loss)
   */
  threshold?: number | ((k: number, m: number) => number);
  /** Base of the new link. @default '' */
  baseUrl?: string;
  check?: Omit<CheckOptions, 'signal'>;
}

export interface RepairFileResult extends RepairResult {
  /** The health that was found (before repairing). */
  health: FileHealth;
  /** The link naming the new holders (the old link when nothing was repaired). */
  link: string;
}

/**
 * The owner's repair of a file by its link: checks every shard, and when fewer than `threshold`
 * are healthy, regenerates the others on new hosts and publishes a new record (a new link).
 */
export async function repairFile(
  network: CairnNetwork,
  link: string,
  options: RepairFileOptions = {},
): Promise<RepairFileResult> {
  const { signal } = options;
  const opened = await openLink(network, link, signal ? { signal } : {});
  const set = shardSetOf(opened.manifest);
  const health = await checkHealth(network, set, opened.placements, {
    ...options.check,
    ...(options.paid && !options.check?.reader ? { reader: options.paid.signer } : {}),
    ...(signal ? { signal } : {}),
  });
  const n = set.k + set.m;
  const threshold =
    typeof options.threshold === 'function'
      ? options.threshold(set.k, set.m)
      : (options.threshold ?? n);
  if (health.healthy >= threshold)
    return { health, link, placements: opened.placements, repaired: [] };
  const lost = health.shards.filter((s) => s.state !== 'healthy').map((s) => s.shard);
  let paid = options.paid;
  if (paid) {
    // A failed deal's slot is taken over by its repair (the market pays its bounty to the client).
    const repairOf = new Map(paid.repairOf);
    for (const p of opened.placements) {
      if (p.dealId === undefined || !lost.includes(p.shard) || repairOf.has(p.shard)) continue;
      const deal = await getDeal(paid.signer, p.dealId);
      if (deal.status === DealStatus.Failed) repairOf.set(p.shard, p.dealId);
    }
    paid = { ...paid, repairOf };
  }
  const result = await repairShards(network, set, opened.placements, {
    ...options,
    lost,
    ...(paid ? { paid } : {}),
  });
  const published = await publishRecord(network, {
    sealedManifest: opened.sealedManifest,
    placements: result.placements,
    fileKey: opened.fileKey,
    ...(signal ? { signal } : {}),
  });
  return { ...result, health, link: `${options.baseUrl ?? ''}#${published.fragment}` };
}
