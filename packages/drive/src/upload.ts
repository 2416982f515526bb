/**
 * Upload: two passes over a re-readable source. The first computes the shards' Merkle roots
 * (hosts, and later deals, commit to a root before any byte is sent); the second encodes again
 * (deterministic under the same file key and id) and streams shard j to host j, all hosts in
 * parallel, with bounded memory: each host's queue holds at most `queueDepth` pieces. Shards
 * whose host failed are placed on other hosts in further passes.
 */
import {
  encodeFile,
  equalBytes,
  generateFileId,
  generateFileKey,
  iterateBytes,
  layoutOfManifest,
  sealManifest,
  toHex,
  type ByteSource,
  type EncodeOptions,
  type Layout,
  type Manifest,
} from '@cairn/codec';
import { Channel } from './channel.ts';
import { DriveError, NotEnoughHostsError, UploadFailedError } from './errors.ts';
import { selectHosts } from './select.ts';
import type { HostInfo, Placement, ShardTransport, UploadProgress } from './types.ts';

export interface UploadOptions extends Omit<EncodeOptions, 'signal' | 'fileKey' | 'fileId'> {
  hosts: readonly HostInfo[];
  transport: ShardTransport;
  /** Further passes for shards whose host failed. @default 2 */
  retries?: number;
  /** Pieces queued per host before the encoder waits (memory: n x queueDepth pieces). @default 4 */
  queueDepth?: number;
  /** Plaintext size, when known, for progress. */
  size?: number;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /**
   * Paid storage: called in each pass, after hosts are assigned and before any shard byte is
   * sent, to open the deals (see `paidDeals`). Shards it could not get a deal for are placed on
   * other hosts in the next pass; the others' puts carry their deal bytes.
   */
  deals?: (plan: DealPlan) => Promise<DealsOpened>;
}

export interface DealPlan {
  manifest: Manifest;
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

export interface UploadResult {
  manifest: Manifest;
  sealedManifest: Uint8Array;
  fileKey: Uint8Array;
  placements: Placement[];
}

/** The source changed between the two reads of an upload. */
export class SourceChangedError extends DriveError {
  override name = 'SourceChangedError' as const;
}

export async function upload(
  open: () => ByteSource,
  options: UploadOptions,
): Promise<UploadResult> {
  const { signal } = options;
  const fileKey = generateFileKey();
  const fileId = generateFileId();
  const encodeOptions = { ...options, fileKey, fileId, ...(signal ? { signal } : {}) };
  const report = (p: Omit<UploadProgress, 'shards' | 'total'>, n: number) =>
    options.onProgress?.({
      ...p,
      shards: n,
      ...(options.size !== undefined ? { total: options.size } : {}),
    });

  // Pass 1: the roots.
  let read = 0;
  const first = encodeFile(
    counted(open(), (n) => (read += n)),
    encodeOptions,
  );
  for await (const segment of first) {
    report({ phase: 'hashing', bytes: read, shardsStored: 0 }, segment.pieces.length);
  }
  const manifest = first.manifest();
  const layout = layoutOfManifest(manifest);

  const placements = new Map<number, Placement>();
  const tried = new Set<string>();
  let pending = [...Array(layout.n).keys()];
  const retries = options.retries ?? 2;
  const failures: unknown[] = [];
  /** Hosts that said no (full, shard too large): not asked again for this file. */
  const refused = new Set<string>();
  for (let pass = 0; pending.length > 0; pass++) {
    if (pass > retries) {
      throw new UploadFailedError(
        `${pending.length} of ${layout.n} shards could not be placed after ${retries} retries`,
        { cause: new AggregateError(failures) },
      );
    }
    const chosen = chooseHosts(options.hosts, pending.length, layout.shardSize, {
      tried,
      holding: new Set([...placements.values()].map((p) => p.host)),
      refused,
      failures,
    });
    const targets = new Map(pending.map((shard, i) => [shard, chosen[i]!.peerId]));
    for (const host of targets.values()) tried.add(host);
    pending = [];
    let opened: DealsOpened | undefined;
    if (options.deals) {
      opened = await options.deals({ manifest, layout, targets, ...(signal ? { signal } : {}) });
      for (const [shard, error] of opened.failed) {
        failures.push(error);
        refused.add(targets.get(shard)!);
        targets.delete(shard);
        pending.push(shard);
      }
    }
    if (targets.size === 0) continue;
    const phase = pass === 0 ? 'uploading' : 'retrying';
    let sent = 0;
    let stored = 0;
    const progress = () =>
      report({ phase, bytes: sent, shardsStored: placements.size + stored }, layout.n);
    const results = await sendPass(
      () => counted(open(), (n) => ((sent += n), progress())),
      encodeOptions,
      manifest,
      layout,
      targets,
      options,
      (count) => ((stored = count), progress()),
      opened?.deals,
    );
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
  report({ phase: 'done', bytes: manifest.size, shardsStored: layout.n }, layout.n);
  return {
    manifest,
    sealedManifest: await sealManifest(manifest, fileKey),
    fileKey,
    placements: [...placements.values()].sort((a, b) => a.shard - b.shard),
  };
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
    if (!(err instanceof NotEnoughHostsError) || state.tried.size === 0) throw err;
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
    name === 'QuotaExceededError' || name === 'MessageTooLargeError' || name === 'BadRootError'
  );
}

/** Passes a source through, telling `onBytes` how many plaintext bytes went by. */
async function* counted(
  source: ByteSource,
  onBytes: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of iterateBytes(source)) {
    onBytes(chunk.length);
    yield chunk;
  }
}

type PassResult = { ok: true; receipt?: Uint8Array } | { ok: false; error: unknown };

async function sendPass(
  open: () => ByteSource,
  encodeOptions: EncodeOptions,
  manifest: Manifest,
  layout: Layout,
  targets: Map<number, string>,
  options: UploadOptions,
  onStored: (count: number) => void,
  deals?: ReadonlyMap<number, Uint8Array>,
): Promise<Map<number, PassResult>> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const channels = new Map<number, Channel<Uint8Array>>();
  const puts = new Map<number, Promise<PassResult>>();
  let stored = 0;
  for (const [shard, host] of targets) {
    const channel = new Channel<Uint8Array>(options.queueDepth ?? 4);
    channels.set(shard, channel);
    const deal = deals?.get(shard);
    const request = {
      shardId: toHex(manifest.roots[shard]!),
      size: layout.shardSize,
      leafSize: layout.leafSize,
      ...(deal ? { deal } : {}),
    };
    puts.set(
      shard,
      options.transport
        .putShard(host, request, channel, { signal: controller.signal })
        .then(
          (r): PassResult => {
            onStored(++stored);
            return { ok: true, ...(r.receipt ? { receipt: r.receipt } : {}) };
          },
          (error: unknown): PassResult => ({ ok: false, error }),
        )
        .finally(() => channel.fail(new Error('the host stopped reading'))),
    );
  }
  try {
    const encoding = encodeFile(open(), encodeOptions);
    for await (const segment of encoding) {
      await Promise.all(
        [...channels].map(([shard, channel]) =>
          channel.failed ? undefined : channel.push(segment.pieces[shard]!).catch(() => undefined),
        ),
      );
    }
    const again = encoding.manifest();
    if (!again.roots.every((root, j) => equalBytes(root, manifest.roots[j]!))) {
      controller.abort(new SourceChangedError('the file changed while it was being uploaded'));
      throw new SourceChangedError('the file changed while it was being uploaded');
    }
    for (const channel of channels.values()) channel.close();
    const results = new Map<number, PassResult>();
    for (const [shard, put] of puts) results.set(shard, await put);
    return results;
  } catch (err) {
    controller.abort(err);
    for (const channel of channels.values()) channel.fail(err);
    await Promise.allSettled(puts.values());
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
