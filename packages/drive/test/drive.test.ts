import { concatBytes, MERKLE_LEAF_SIZE } from '@cairn/codec';
import { describe, expect, test } from 'vitest';
import { Channel } from '../src/channel.ts';
import { download } from '../src/download.ts';
import { selectHosts } from '../src/select.ts';
import { upload } from '../src/upload.ts';
import type { HostInfo, UploadProgress } from '../src/types.ts';
import { MemoryTransport, type Behaviour } from './memory-transport.ts';

const params = { k: 4, m: 2, pieceSize: MERKLE_LEAF_SIZE * 4, leafSize: MERKLE_LEAF_SIZE };

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536)
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

function network(behaviours: Behaviour[]) {
  const transport = new MemoryTransport();
  const hosts: HostInfo[] = behaviours.map((b, i) => {
    transport.host(`host-${i}`, b);
    return { peerId: `host-${i}`, freeCapacity: 1 << 30 };
  });
  return { transport, hosts };
}

async function collect(gen: AsyncIterable<Uint8Array>) {
  const out: Uint8Array[] = [];
  for await (const c of gen) out.push(c);
  return concatBytes(...out);
}

describe('upload and download', () => {
  test('round trip over n hosts, with progress, while m hosts are gone', async () => {
    const data = random(300_000);
    const { transport, hosts } = network(Array(6).fill('honest'));
    const progress: UploadProgress[] = [];
    const result = await upload(() => [data], {
      ...params,
      hosts,
      transport,
      size: data.length,
      onProgress: (p) => progress.push(p),
    });
    expect(result.placements.map((p) => p.host).sort()).toEqual(hosts.map((h) => h.peerId).sort());
    expect(new Set(result.placements.map((p) => p.host)).size).toBe(6);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', shardsStored: 6, shards: 6 });
    expect(progress.some((p) => p.phase === 'hashing' && p.bytes === data.length)).toBe(true);
    expect(progress.some((p) => p.phase === 'uploading' && p.shardsStored === 6)).toBe(true);
    transport.behaviour.set(result.placements[0]!.host, 'gone');
    transport.behaviour.set(result.placements[3]!.host, 'gone');
    expect(
      await collect(download(result.manifest, result.fileKey, result.placements, transport)),
    ).toEqual(data);
  });

  test('a host that fails mid-upload is replaced by another', async () => {
    const data = random(200_000);
    const { transport, hosts } = network([
      'fails-mid-upload',
      'honest',
      'honest',
      'honest',
      'honest',
      'honest',
      'honest',
    ]);
    // Put the failing host first in preference.
    hosts[0]!.score = 1;
    const result = await upload(() => [data], { ...params, hosts, transport });
    expect(result.placements.map((p) => p.host)).not.toContain('host-0');
    expect(result.placements).toHaveLength(6);
    expect(
      await collect(download(result.manifest, result.fileKey, result.placements, transport)),
    ).toEqual(data);
  });

  test('a full host is passed over; too few hosts is NotEnoughHostsError', async () => {
    const data = random(50_000);
    const { transport, hosts } = network([
      'full',
      'honest',
      'honest',
      'honest',
      'honest',
      'honest',
      'honest',
    ]);
    const result = await upload(() => [data], { ...params, hosts, transport });
    expect(result.placements.map((p) => p.host)).not.toContain('host-0');
    const few = network(['honest', 'honest', 'honest']);
    await expect(upload(() => [data], { ...params, ...few })).rejects.toHaveProperty(
      'name',
      'NotEnoughHostsError',
    );
  });

  test('with no other host left, one that dropped is asked again; one that refused is not', async () => {
    const data = random(50_000);
    const { transport, hosts } = network(['drops-first-put', ...Array(5).fill('honest')]);
    const result = await upload(() => [data], { ...params, hosts, transport });
    expect(result.placements.map((p) => p.host)).toContain('host-0');
    const full = network(['full', ...Array(5).fill('honest')]);
    const err = await upload(() => [data], { ...params, ...full }).catch((e: unknown) => e);
    expect(err).toHaveProperty('name', 'UploadFailedError');
    expect((err as Error).message).toMatch(/last failure: QuotaExceededError: host-0: quota/);
  });

  test('every host failing: UploadFailedError after the retries', async () => {
    const { transport, hosts } = network(Array(12).fill('fails-mid-upload'));
    const data = random(100_000);
    await expect(
      upload(() => [data], { ...params, hosts, transport, retries: 1 }),
    ).rejects.toHaveProperty('name', 'UploadFailedError');
  });

  test('a source that changes between the two passes: SourceChangedError', async () => {
    const { transport, hosts } = network(Array(6).fill('honest'));
    let reads = 0;
    await expect(
      upload(() => [random(10_000 + reads++)], { ...params, hosts, transport }),
    ).rejects.toHaveProperty('name', 'SourceChangedError');
  });

  test('download: a lying host is reported and routed around; a stalled host does not block', async () => {
    const data = random(250_000);
    const { transport, hosts } = network(Array(6).fill('honest'));
    const result = await upload(() => [data], { ...params, hosts, transport });
    const liar = result.placements[1]!.host;
    const staller = result.placements[2]!.host;
    transport.behaviour.set(liar, 'corrupt');
    transport.behaviour.set(staller, 'stalls');
    const faults: { host: string; reason: string }[] = [];
    const out = await collect(
      download(result.manifest, result.fileKey, result.placements, transport, {
        onFault: (f) => faults.push(f),
      }),
    );
    expect(out).toEqual(data);
    expect(faults).toContainEqual(expect.objectContaining({ host: liar, reason: 'corrupt' }));
  });
});

test('host selection prefers proven, then cheap, then close hosts, and needs room', () => {
  const hosts: HostInfo[] = [
    { peerId: 'a', freeCapacity: 10, price: 1n },
    { peerId: 'b', freeCapacity: 1000, price: 5n, score: 0.9 },
    { peerId: 'c', freeCapacity: 1000, price: 1n, latencyMs: 50 },
    { peerId: 'd', freeCapacity: 1000, price: 1n, latencyMs: 5 },
    { peerId: 'd', freeCapacity: 1000, price: 0n },
  ];
  expect(selectHosts(hosts, 3, { shardSize: 100 }).map((h) => h.peerId)).toEqual(['b', 'd', 'c']);
  expect(
    selectHosts(hosts, 1, { shardSize: 100, exclude: new Set(['b']) }).map((h) => h.peerId),
  ).toEqual(['d']);
  expect(() => selectHosts(hosts, 4, { shardSize: 100 })).toThrow(/need 4 hosts/);
});

test('a channel never runs more than its capacity ahead of its consumer', async () => {
  const channel = new Channel<number>(2);
  let pushed = 0;
  const producer = (async () => {
    for (let i = 0; i < 10; i++) {
      await channel.push(i);
      pushed++;
    }
    channel.close();
  })();
  await new Promise((r) => setTimeout(r, 10));
  expect(pushed).toBe(2);
  const got: number[] = [];
  for await (const x of channel) {
    got.push(x);
    expect(pushed - got.length).toBeLessThanOrEqual(2);
  }
  await producer;
  expect(got).toEqual([...Array(10).keys()]);
  const failing = new Channel<number>(1);
  await failing.push(1);
  const blocked = failing.push(2);
  failing.fail(new Error('consumer gone'));
  await expect(blocked).rejects.toThrow('consumer gone');
});
