// `node packages/peer/bench/transfer.ts [MiB]`: put and get one shard between two Node peers on
// this machine, over WebRTC (signalled through a loopback relay) and over a direct WebSockets
// connection, in MB/s. Baseline in the same run: the host's own Merkle pass over the same bytes
// (the put cannot go faster than the host hashes).
import { isWebRTCAddress } from '../src/addresses.ts';
import { getRange, putShard } from '../src/client.ts';
import { HostService } from '../src/host.ts';
import { createCairnNode } from '../src/node.ts';
import type { CairnNode } from '../src/node.ts';
import { MemoryShardStore } from '@cairn/store';
import { ShardTreeBuilder } from '../src/shard-tree.ts';
import { makeShard, startTestRelay } from '../test/fixtures.ts';
import type { Multiaddr } from '@multiformats/multiaddr';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 32) * MiB;
const shard = makeShard(size);

const t0 = performance.now();
const tb = new ShardTreeBuilder(size, 1024);
tb.append(shard.bytes);
tb.finish();
console.log(
  `baseline merkle   ${(size / MiB / ((performance.now() - t0) / 1000)).toFixed(1)} MB/s`,
);

const relay = await startTestRelay();
const host = await createCairnNode({
  relays: [relay.addr],
  listen: ['/ip4/127.0.0.1/tcp/0/ws'],
  allowPrivateAddresses: true,
});
const store = new MemoryShardStore({ quota: 8 * size });
const service = new HostService(host, { store, privateKey: host.privateKey });
await service.start();
const webrtcAddr = await host.waitForMultiaddr(isWebRTCAddress);
const wsAddr = await host.waitForMultiaddr(
  (a) => a.toString().includes('/ws/') && !a.toString().includes('p2p-circuit'),
);

async function run(label: string, client: CairnNode, addr: Multiaddr): Promise<void> {
  await client.dial(addr);
  const p0 = performance.now();
  await putShard(client, addr, shard.bytes, { root: shard.root, size });
  const put = (performance.now() - p0) / 1000;
  const g0 = performance.now();
  for (let at = 0; at < size; at += 4 * MiB)
    await getRange(client, addr, {
      root: shard.root,
      offset: at,
      length: Math.min(4 * MiB, size - at),
    });
  const get = (performance.now() - g0) / 1000;
  console.log(
    `${label.padEnd(17)} put ${(size / MiB / put).toFixed(1)} MB/s, get ${(size / MiB / get).toFixed(1)} MB/s (${size / MiB} MiB)`,
  );
  await service.delete(Buffer.from(shard.root).toString('hex'));
}

const a = await createCairnNode({ allowPrivateAddresses: true });
await run('webrtc', a, webrtcAddr);
const b = await createCairnNode({ allowPrivateAddresses: true, webrtc: false });
await run('websockets', b, wsAddr);

await Promise.all([a.stop(), b.stop(), host.stop(), relay.node.stop()]);
(await import('node-datachannel')).cleanup();
