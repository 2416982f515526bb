// Durability over the real network: the checker audits every holder of a file with fresh nonces
// and tells healthy shards from gone, corrupt and missing ones; the repairer regenerates exactly
// the lost shards from the survivors (no key involved), places them on hosts that held nothing of
// the file, and publishes a new link that downloads the identical bytes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MerkleTree, layoutOfManifest, shardSetOf, toHex } from '@cairn/codec';
import {
  DurabilityKeeper,
  RepairFailedError,
  type KeeperEvent,
  checkHealth,
  getFile,
  openLink,
  putFile,
  redundancyFor,
  repairFile,
  repairShards,
} from '@cairn/drive';
import { MiB, collect, netFixture, randomFile, sha, type NetFixture } from './net-fixture.ts';

let net: NetFixture;

beforeAll(async () => {
  net = await netFixture();
  for (let i = 0; i < 10; i++) await net.startHost();
  await net.waitForHosts(10);
});

afterAll(() => net?.stop());

const file = randomFile(3 * MiB + 777);
let link = '';

it('checks a file: healthy, gone, corrupt and missing shards each named', async () => {
  const result = await putFile(await net.client(), () => file, { k: 3, m: 3, size: file.length });
  link = result.link;
  const byId = new Map(net.hosts.map((h) => [h.peerId, h]));
  const holder = (shard: number) => byId.get(result.placements[shard]!.host)!;
  const set = shardSetOf(result.manifest);

  const fine = await checkHealth(await net.client(), set, result.placements);
  expect(fine.healthy).toBe(6);
  expect(fine.shards.every((s) => s.latencyMs! > 0)).toBe(true);

  // Shard 0's host goes away, shard 1's host rots, shard 2's host loses the shard.
  await holder(0).stop();
  holder(1).store.faults = { corrupt: true };
  await holder(2).store.delete(toHex(result.manifest.roots[2]!));
  const checked = await checkHealth(await net.client(), set, result.placements, {
    timeoutMs: 8000,
  });
  expect(checked.healthy).toBe(3);
  expect(checked.shards.map((s) => s.state)).toEqual([
    'unreachable',
    'corrupt',
    'missing',
    'healthy',
    'healthy',
    'healthy',
  ]);
}, 120_000);

it('repairs the lost shards onto new hosts; the new link downloads the identical bytes', async () => {
  const progress: string[] = [];
  const repaired = await repairFile(await net.client(), link, {
    check: { timeoutMs: 8000 },
    baseUrl: 'http://127.0.0.1:5173/',
    onProgress: (p) => progress.push(p.phase),
  });
  expect(repaired.health.healthy).toBe(3);
  expect(repaired.repaired.map((p) => p.shard)).toEqual([0, 1, 2]);
  expect(progress).toContain('done');
  const before = new Set((await openLink(await net.client(), link)).placements.map((p) => p.host));
  for (const p of repaired.repaired) expect(before.has(p.host)).toBe(false);
  expect(new Set(repaired.placements.map((p) => p.host)).size).toBe(6);
  expect(repaired.link).not.toBe(link);

  // The regenerated shards are the originals, byte for byte: their hosts hold the same roots.
  const opened = await openLink(await net.client(), repaired.link);
  for (const p of repaired.repaired) {
    const host = net.hosts.find((h) => h.peerId === p.host)!;
    const id = toHex(opened.manifest.roots[p.shard]!);
    const bytes = await host.store.read(id, 0, layoutOfManifest(opened.manifest).shardSize);
    expect(toHex(MerkleTree.build(bytes, opened.manifest.merkle.leafSize).root)).toBe(id);
  }
  const health = await checkHealth(
    await net.client(),
    shardSetOf(opened.manifest),
    opened.placements,
  );
  expect(health.healthy).toBe(6);

  const got = await getFile(await net.client(), repaired.link);
  expect(sha(await collect(got.body))).toBe(sha(file));
}, 180_000);

it('refuses to repair from fewer than k shards, and a healthy file is left alone', async () => {
  const network = await net.client();
  const opened = await openLink(network, link);
  const set = shardSetOf(opened.manifest);
  await expect(
    repairShards(network, set, opened.placements, { lost: [0, 1, 2], gone: [3] }),
  ).rejects.toBeInstanceOf(RepairFailedError);

  for (const h of net.hosts) h.store.faults = {};
  const small = randomFile(100_000);
  const fresh = await putFile(network, () => small, { k: 2, m: 2 });
  const same = await repairFile(network, fresh.link);
  expect(same.repaired).toEqual([]);
  expect(same.link).toBe(fresh.link);
}, 120_000);

it('the keeper repairs automatically once hosts lost one by one bring it to the threshold', async () => {
  for (const h of net.hosts) h.store.faults = {};
  // The default redundancy as a client would choose it on a 7-host network (here 3 of the 10
  // hosts stay free to take the repaired shards): RS(3,4), repaired when fewer than 6 are left.
  const { k, m, threshold } = redundancyFor(7);
  expect({ k, m, threshold }).toEqual({ k: 3, m: 4, threshold: 6 });
  const data = randomFile(1 * MiB + 5);
  const put = await putFile(await net.client(), () => data, { k, m });
  let link = put.link;
  const events: KeeperEvent[] = [];
  const keeper = new DurabilityKeeper({
    network: await net.client(),
    files: () => [{ id: 'video', link }],
    // No threshold given: the keeper applies the default rule to the file's k and m.
    check: { timeoutMs: 6000 },
    onLinkChanged: (_id, l) => void (link = l),
    onEvent: (e) => events.push(e),
  });
  const healthy = () =>
    events
      .filter((e) => e.type === 'checked')
      .map((e) => (e.type === 'checked' ? e.health.healthy : -1));
  const holder = (shard: number) =>
    net.hosts.find((h) => h.peerId === put.placements[shard]!.host)!;

  await keeper.runOnce();
  await holder(6).stop();
  await keeper.runOnce();
  expect(healthy()).toEqual([7, 6]);
  expect(link).toBe(put.link);
  await holder(2).stop();
  await keeper.runOnce();
  expect(healthy()).toEqual([7, 6, 5]);
  const repaired = events.find((e) => e.type === 'repaired');
  expect(repaired && repaired.type === 'repaired' && repaired.repaired.map((p) => p.shard)).toEqual(
    [2, 6],
  );
  // On hosts that held nothing of the file.
  const before = new Set(put.placements.map((p) => p.host));
  if (repaired?.type === 'repaired')
    for (const p of repaired.repaired) expect(before.has(p.host)).toBe(false);
  expect(link).not.toBe(put.link);
  await keeper.runOnce();
  expect(healthy()).toEqual([7, 6, 5, 7]);
  expect(events.some((e) => e.type === 'error')).toBe(false);
  const got = await getFile(await net.client(), link);
  expect(sha(await collect(got.body))).toBe(sha(data));
}, 240_000);
