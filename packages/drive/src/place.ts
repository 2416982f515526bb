/**
 * Placing shards on hosts, shared by upload and repair: hosts chosen for the shards still to
 * place (untried first), their deals opened before any byte (paid storage), every shard streamed
 * to its host in parallel with bounded memory, and the shards whose host failed placed elsewhere
 * in further passes. Where the bytes come from is the caller's: a fresh encoding of the file
 * (upload) or the lost shards rebuilt from the others (repair).
 */
import { toHex, type Layout } from '@cairn/codec';
import { Channel } from './channel.ts';
import { NotEnoughHostsError, UploadFailedError } from './errors.ts';
import { selectHosts } from './select.ts';
import type { HostInfo, Placement, ShardTransport } from './types.ts';

export interface DealPlan {
  /** The file's shard roots (all n). */
  roots: readonly Uint8Array[];
  layout: Layout;
  /** Shard index → host peer id, for this pass. */
  targets: ReadonlyMap<number, string>;
  signal?: AbortSignal;
}

export interface DealsOpened {
  /** Shard index → the deal bytes its put carries. */
  deals: Map<number, Uint8Array>;
  /** Shard index → why no deal was opened with its host. */
  failed: Map<number, unknown>;
  /** Shard index → on-chain deal id. */
  ids?: Map<number, bigint>;
  /**
   * Ends deals whose shard was not stored after all (the put failed after the deal opened), so
   * their escrow goes back to the client. Called once per pass with those shards' deal ids.
   */
  end?: (dealIds: bigint[]) => Promise<void>;
}

export interface PlaceInit {
  roots: readonly Uint8Array[];
  layout: Layout;
  /** Shard indices to place. */
  shards: readonly number[];
  hosts: readonly HostInfo[];
  transport: ShardTransport;
  /** Further passes for shards whose host failed. */
  retries: number;
  /** Pieces queued per host before the source waits. @default 4 */
  queueDepth?: number;
  signal?: AbortSignal;
  /** Paid storage: opens the pass's deals before any byte (see `paidDeals`). */
  deals?: (plan: DealPlan) => Promise<DealsOpened>;
  /** Hosts holding another shard of this file: never chosen. */
  holding?: ReadonlySet<string>;
  /**
   * One pass's bytes: each segment's pieces of `shards`, in that order. It may throw to stop the
   * pass (e.g. the source file changed): every put is then aborted.
   */
  source: (shards: readonly number[]) => AsyncIterable<readonly Uint8Array[]>;
  /**
   * The pass's deals are open, before any byte is sent: shard → host, shard → deal id. A caller
   * that must survive a crash journals them here (to resume or end them later).
   */
  onDeals?: (
    pass: number,
    targets: ReadonlyMap<number, string>,
    ids: ReadonlyMap<number, bigint>,
  ) => void | Promise<void>;
  /** A pass begins (0 = the first). */
  onPass?: (pass: number) => void;
  /** Shards placed so far (all passes). */
  onStored?: (count: number) => void;
}

/** Places every shard of `init.shards` or throws UploadFailedError naming why. */
export async function placeShards(init: PlaceInit): Promise<Map<number, Placement>> {
  const { layout } = init;
  const placements = new Map<number, Placement>();
  const tried = new Set<string>();
  const refused = new Set<string>();
  const failures: unknown[] = [];
  let pending = [...init.shards];
  for (let pass = 0; pending.length > 0; pass++) {
    init.signal?.throwIfAborted();
    if (pass > init.retries) {
      throw new UploadFailedError(
        `${pending.length} of ${init.shards.length} shards could not be placed after ${init.retries} retries`,
        { cause: new AggregateError(failures) },
      );
    }
    const holding = new Set([
      ...(init.holding ?? []),
      ...[...placements.values()].map((p) => p.host),
    ]);
    const chosen = chooseHosts(init.hosts, pending.length, layout.shardSize, {
      tried: new Set([...tried, ...(init.holding ?? [])]),
      holding,
      refused,
      failures,
    });
    const targets = new Map(pending.map((shard, i) => [shard, chosen[i]!.peerId]));
    for (const host of targets.values()) tried.add(host);
    pending = [];
    let opened: DealsOpened | undefined;
    if (init.deals) {
      opened = await init.deals({
        roots: init.roots,
        layout,
        targets,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      for (const [shard, error] of opened.failed) {
        failures.push(error);
        refused.add(targets.get(shard)!);
        targets.delete(shard);
        pending.push(shard);
      }
    }
    if (targets.size === 0) continue;
    if (opened?.ids?.size) await init.onDeals?.(pass, targets, opened.ids);
    init.onPass?.(pass);
    const before = placements.size;
    let results: Map<number, PassResult>;
    try {
      results = await sendPass(init, targets, opened?.deals, (count) =>
        init.onStored?.(before + count),
      );
    } catch (err) {
      // Interrupted (aborted, or the source failed): the pass is rolled back. Its deals are ended
      // so no escrow stays on a deal whose shard may not have arrived.
      const ids = [...(opened?.ids?.values() ?? [])];
      if (ids.length && opened?.end) await opened.end(ids).catch(() => {});
      throw err;
    }
    const unused: bigint[] = [];
    for (const [shard, result] of results) {
      const dealId = opened?.ids?.get(shard);
      if (!result.ok && dealId !== undefined) unused.push(dealId);
      if (result.ok)
        placements.set(shard, {
          shard,
          host: targets.get(shard)!,
          ...(result.receipt ? { receipt: result.receipt } : {}),
          ...(dealId !== undefined ? { dealId } : {}),
        });
      else {
        const host = targets.get(shard)!;
        failures.push(result.error);
        if (isRefusal(result.error)) refused.add(host);
        pending.push(shard);
      }
    }
    // A deal without its shard would only cost the client: end it now (its escrow comes back).
    // Failing to end it does not fail the upload; the deal then runs out as a missed one.
    if (unused.length && opened?.end) await opened.end(unused).catch((err) => failures.push(err));
  }
  return placements;
}

/**
 * Hosts for the shards still to place: ones not tried yet first; when those run out, hosts that
 * failed for a reason that may pass (a dropped connection, a timeout) but never one that refused
 * or already holds a shard of this file. When even that is not enough, the error names why the
 * earlier attempts failed.
 */
function chooseHosts(
  hosts: readonly HostInfo[],
  count: number,
  shardSize: number,
  state: {
    tried: ReadonlySet<string>;
    holding: ReadonlySet<string>;
    refused: ReadonlySet<string>;
    failures: readonly unknown[];
  },
): HostInfo[] {
  try {
    return selectHosts(hosts, count, { shardSize, exclude: state.tried });
  } catch (err) {
    if (!(err instanceof NotEnoughHostsError) || state.failures.length === 0) throw err;
  }
  const eligible = hosts.filter((h) => !state.tried.has(h.peerId) && h.freeCapacity >= shardSize);
  const fresh = selectHosts(eligible, eligible.length, { shardSize });
  const again = hosts.filter(
    (h) =>
      state.tried.has(h.peerId) && !state.holding.has(h.peerId) && !state.refused.has(h.peerId),
  );
  try {
    return [...fresh, ...selectHosts(again, count - fresh.length, { shardSize })];
  } catch (err) {
    const last = state.failures.at(-1);
    throw new UploadFailedError(
      `not enough hosts left to place ${count} shard(s); last failure: ${
        last instanceof Error ? `${last.name}: ${last.message}` : String(last)
      }`,
      { cause: new AggregateError([err, ...state.failures]) },
    );
  }
}

/** A host that answered no (as opposed to one that failed on the way). */
function isRefusal(err: unknown): boolean {
  const name = err instanceof Error ? err.name : '';
  return (
    name === 'QuotaExceededError' ||
    name === 'MessageTooLargeError' ||
    name === 'BadRootError' ||
    name === 'PutRefusedError'
  );
}

type PassResult = { ok: true; receipt?: Uint8Array } | { ok: false; error: unknown };

async function sendPass(
  init: PlaceInit,
  targets: Map<number, string>,
  deals: ReadonlyMap<number, Uint8Array> | undefined,
  onStored: (count: number) => void,
): Promise<Map<number, PassResult>> {
  const { layout } = init;
  const controller = new AbortController();
  const onAbort = () => controller.abort(init.signal?.reason);
  init.signal?.addEventListener('abort', onAbort, { once: true });
  const shards = [...targets.keys()];
  const channels = shards.map(() => new Channel<Uint8Array>(init.queueDepth ?? 4));
  const puts = new Map<number, Promise<PassResult>>();
  let stored = 0;
  shards.forEach((shard, i) => {
    const channel = channels[i]!;
    const deal = deals?.get(shard);
    const request = {
      shardId: toHex(init.roots[shard]!),
      size: layout.shardSize,
      leafSize: layout.leafSize,
      ...(deal ? { deal } : {}),
    };
    puts.set(
      shard,
      init.transport
        .putShard(targets.get(shard)!, request, channel, { signal: controller.signal })
        .then(
          (r): PassResult => {
            onStored(++stored);
            return { ok: true, ...(r.receipt ? { receipt: r.receipt } : {}) };
          },
          (error: unknown): PassResult => ({ ok: false, error }),
        )
        .finally(() => channel.fail(new Error('the host stopped reading'))),
    );
  });
  try {
    for await (const pieces of init.source(shards)) {
      await Promise.all(
        channels.map((channel, i) =>
          channel.failed ? undefined : channel.push(pieces[i]!).catch(() => undefined),
        ),
      );
    }
    for (const channel of channels) channel.close();
    const results = new Map<number, PassResult>();
    for (const [shard, put] of puts) results.set(shard, await put);
    return results;
  } catch (err) {
    controller.abort(err);
    for (const channel of channels) channel.fail(err);
    await Promise.allSettled(puts.values());
    throw err;
  } finally {
    init.signal?.removeEventListener('abort', onAbort);
  }
}
