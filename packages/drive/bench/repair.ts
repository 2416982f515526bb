/**
 * `repair.shard`: regenerating one lost shard of a file and storing it on a new host (any k
 * verified pieces per segment fetched from the other holders, Reed-Solomon, the put), beside the
 * baseline of putting a shard of the same size to a host directly. `repair.shard.traffic`: bytes
 * downloaded per byte of shard rebuilt (k is the floor; hedged requests add to it).
 * Node client; hosts in a child process (`net-hosts.ts`).
 */
import { MerkleTree, layoutOfManifest, shardSetOf, toHex } from '@cairn/codec';
import { CairnNetwork, putFile, repairShards } from '@cairn/drive';
import { createCairnNode } from '@cairn/peer';
import type { BenchResult } from '../../codec/bench/harness.ts';
import { startNetHosts } from './net-spawn.ts';

export interface RepairBenchOptions {
  /** Hosts to start: n hold the file, the rest take the repaired shard. @default 12 */
  hosts?: number;
  k?: number;
  m?: number;
  fileMiB?: number;
  report(result: BenchResult): void;
  log?(line: string): void;
}

export async function runRepairBench(options: RepairBenchOptions): Promise<void> {
  const k = options.k ?? 5;
  const m = options.m ?? 5;
  const fileBytes = (options.fileMiB ?? 32) * 1024 * 1024;
  const servers = await startNetHosts(options.hosts ?? k + m + 2);
  const node = await createCairnNode({ allowPrivateAddresses: true });
  try {
    const network = new CairnNetwork({ node, directories: [servers.relay] });
    const file = new Uint8Array(fileBytes);
    for (let at = 0; at < fileBytes; at += 65_536)
      crypto.getRandomValues(file.subarray(at, at + 65_536));
    const put = await putFile(network, () => file, { k, m, size: fileBytes });
    const set = shardSetOf(put.manifest);
    const holders = new Set(put.placements.map((p) => p.host));
    const spares = (await network.probe(await network.hosts())).filter(
      (h) => !holders.has(h.peerId),
    );
    if (spares.length === 0) throw new Error('no spare host for the repaired shard');

    // Baseline: the same number of bytes put to a spare host as one shard.
    const layoutShard = layoutOfManifest(put.manifest).shardSize;
    const bytes = new Uint8Array(layoutShard);
    for (let at = 0; at < bytes.length; at += 65_536)
      crypto.getRandomValues(bytes.subarray(at, at + 65_536));
    const root = MerkleTree.build(bytes, put.manifest.merkle.leafSize).root;
    const t0 = performance.now();
    await network.putShard(
      spares[0]!.peerId,
      { shardId: toHex(root), size: bytes.length, leafSize: put.manifest.merkle.leafSize },
      (async function* () {
        for (let at = 0; at < bytes.length; at += 256 * 1024)
          yield bytes.subarray(at, at + 256 * 1024);
      })(),
      { signal: AbortSignal.timeout(300_000) },
    );
    const baselineS = (performance.now() - t0) / 1000;

    // Repair: shard 0 "lost" (its holder is not asked), rebuilt from the others onto a spare.
    let fetched = 0;
    const t1 = performance.now();
    const result = await repairShards(network, set, put.placements, {
      lost: [0],
      onPiece: (p) => (fetched += p.bytes),
    });
    const repairS = (performance.now() - t1) / 1000;
    const note = `${options.fileMiB ?? 32} MiB file, k=${k} m=${m}, shard ${(layoutShard / 1024 / 1024).toFixed(1)} MiB → ${result.repaired[0]!.host.slice(-6)}`;
    options.report({
      bench: 'repair.shard',
      env: 'node',
      value: repairS,
      unit: 's',
      baseline: baselineS,
      ratio: repairS / baselineS,
      note: `${note}; baseline: the same bytes put as one shard`,
    });
    options.report({
      bench: 'repair.shard.traffic',
      env: 'node',
      value: fetched / layoutShard,
      unit: 'x',
      baseline: k,
      ratio: fetched / layoutShard / k,
      note: 'bytes fetched per byte rebuilt; baseline k (the minimum)',
    });
  } finally {
    await node.stop();
    await servers.stop();
  }
}
