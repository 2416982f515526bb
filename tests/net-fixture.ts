// The network tests' fixture: a loopback relay with its directory, headless hosts over fault-
// injectable memory stores that announce themselves, and fresh clients, all real libp2p peers
// talking WebRTC through the relay's signalling.
import { createHash } from 'node:crypto';
import { CairnNetwork } from '@cairn/drive';
import { createCairnNode, startHosting, type CairnNode, type Hosting } from '@cairn/peer';
import { startRelay, type Relay } from '@cairn/relay';
import { MemoryShardStore } from '@cairn/store';
import { FaultyShardStore } from '@cairn/store/testing';

export const MiB = 1024 * 1024;

export interface TestHost {
  node: CairnNode;
  store: FaultyShardStore;
  hosting: Hosting;
  peerId: string;
  /** Stops hosting and the node (idempotent). */
  stop(): Promise<void>;
}

export interface NetFixture {
  relay: Relay;
  directory: string;
  hosts: TestHost[];
  startHost(quota?: number, price?: bigint): Promise<TestHost>;
  client(): Promise<CairnNetwork>;
  /** Waits until the relay's directory lists `count` hosts. */
  waitForHosts(count: number): Promise<void>;
  stop(): Promise<void>;
}

export async function netFixture(): Promise<NetFixture> {
  const relay = await startRelay({
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    httpPort: 0,
    appDir: null,
  });
  const directory = relay.multiaddrs[0]!.toString();
  const hosts: TestHost[] = [];
  const clients: CairnNode[] = [];
  return {
    relay,
    directory,
    hosts,
    async startHost(quota = 64 * MiB, price = 1n) {
      const node = await createCairnNode({ relays: [directory], allowPrivateAddresses: true });
      const store = new FaultyShardStore(new MemoryShardStore({ quota }));
      const hosting = await startHosting(node, { store, directories: [directory], price });
      let stopped: Promise<void> | undefined;
      const host: TestHost = {
        node,
        store,
        hosting,
        peerId: node.peerId.toString(),
        stop: () => (stopped ??= hosting.stop().then(() => node.stop())),
      };
      hosts.push(host);
      return host;
    },
    async client() {
      const node = await createCairnNode({ allowPrivateAddresses: true });
      clients.push(node);
      return new CairnNetwork({ node, directories: [directory] });
    },
    async waitForHosts(count) {
      const deadline = Date.now() + 30_000;
      while (relay.directory.size < count) {
        if (Date.now() > deadline) throw new Error(`only ${relay.directory.size} hosts announced`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await Promise.allSettled(hosts.map((h) => h.stop()));
      await Promise.allSettled(clients.map((c) => c.stop()));
      await relay.stop();
    },
  };
}

export async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

export function randomFile(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(out.subarray(at, at + 65_536));
  return out;
}

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
