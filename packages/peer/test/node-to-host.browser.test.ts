// A browser node reaches a Node host through a relay (WebRTC signalled over circuit relay v2)
// and puts and gets a shard. The relay and host come from global-setup.ts; without that setup
// (it must be listed in the chromium project's globalSetup) the test is skipped.
import { MerkleTree } from '@cairn/codec';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { audit, createCairnNode, getPiece, getRange, putShard, toMultiaddr } from '../src/index.ts';
import type { CairnNode } from '../src/index.ts';

const hostAddr = inject('cairnHostAddr') as string | undefined;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536)
    crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

describe.skipIf(hostAddr === undefined)('browser node and Node host', () => {
  let client: CairnNode | undefined;

  afterAll(async () => {
    await client?.stop();
  });

  it('puts a shard over WebRTC through the relay, then gets pieces back with proofs', async () => {
    client = await createCairnNode({ allowPrivateAddresses: true });
    const addr = toMultiaddr(hostAddr!);
    const size = 8 * 1024 * 1024 + 5000;
    const bytes = randomBytes(size);
    const tree = MerkleTree.build(bytes);
    await client.dial(addr); // WebRTC set-up, timed apart from the transfer
    const started = performance.now();
    const receipt = await putShard(client, addr, bytes, { root: tree.root, size });
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `browser put ${(size / 2 ** 20).toFixed(1)} MiB: ${(size / 2 ** 20 / seconds).toFixed(1)} MB/s`,
    );
    expect(receipt.host).toBe(addr.getComponents().at(-1)?.value);
    const conns = client.libp2p.getConnections();
    expect(conns.some((c) => c.limits == null && c.remoteAddr.toString().includes('/webrtc'))).toBe(
      true,
    );

    const piece = await getPiece(client, addr, {
      root: tree.root,
      shardSize: size,
      index: 8,
      pieceSize: 256 * 1024,
    });
    expect(piece.bytes).toEqual(bytes.subarray(8 * 256 * 1024, 9 * 256 * 1024));
    const g0 = performance.now();
    await getRange(client, addr, { root: tree.root, offset: 0, length: 4 * 2 ** 20 });
    console.info(`browser get 4 MiB: ${(4 / ((performance.now() - g0) / 1000)).toFixed(1)} MB/s`);
    expect(await getRange(client, addr, { root: tree.root, offset: 5, length: 100 })).toEqual(
      bytes.subarray(5, 105),
    );
    await audit(client, addr, { root: tree.root, size, count: 8 });
  });
});
