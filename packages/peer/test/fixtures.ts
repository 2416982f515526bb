/** Node-side fixtures for the protocol tests: a loopback relay and random shards. */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import { identify } from '@libp2p/identify';
import type { Libp2p } from '@libp2p/interface';
import { webSockets } from '@libp2p/websockets';
import { MerkleTree } from '@cairn/codec';
import { createLibp2p } from 'libp2p';

/** A circuit relay v2 server on 127.0.0.1 (WebSockets), like relay/ will run. */
export async function startTestRelay(): Promise<{ node: Libp2p; addr: string }> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { abortConnectionOnPingFailure: false },
    services: {
      identify: identify(),
      relay: circuitRelayServer({ reservations: { maxReservations: 1024 } }),
    },
  });
  const ma = node.getMultiaddrs().find((a) => a.toString().includes('/ws'));
  if (ma === undefined) throw new Error('relay has no ws address');
  return { node, addr: ma.toString() };
}

/** Random bytes of any length (getRandomValues takes at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536)
    globalThis.crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

export function makeShard(size: number, leafSize = 1024): { bytes: Uint8Array; root: Uint8Array } {
  const bytes = randomBytes(size);
  return { bytes, root: MerkleTree.build(bytes, leafSize).root };
}
