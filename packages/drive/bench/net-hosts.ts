// `node packages/drive/bench/net-hosts.ts [HOSTS]`: the server side of the network benchmark, in a
// process of its own so the client (a Chromium page or another Node process) does not share its
// event loop: a loopback relay with its directory, and HOSTS headless hosts (memory stores) that
// announce themselves to it. Each host also answers two bench-only protocols for the raw WebRTC
// baseline: `sink` (reads and discards, then answers the byte count) and `source` (sends as many
// bytes as asked). Prints one JSON line `{ relay, hosts: [WebRTC multiaddr...] }` once every host
// is listed, then runs until stdin closes (or SIGTERM).
import { createCairnNode, isWebRTCAddress, startHosting, CHUNK_SIZE } from '@cairn/peer';
import type { CairnNode, Hosting } from '@cairn/peer';
import { MemoryShardStore } from '@cairn/store';
import { startRelay } from '@cairn/relay';
import type { Stream } from '@libp2p/interface';

export const SINK_PROTOCOL = '/cairn-bench/sink/1.0.0';
export const SOURCE_PROTOCOL = '/cairn-bench/source/1.0.0';
/** The most bytes one source request may ask for. */
export const MAX_BENCH_BYTES = 1024 ** 3;

if (process.env.SCTP)
  (await import('node-datachannel')).setSctpSettings(JSON.parse(process.env.SCTP));
const count = Number(process.argv[2] ?? 20);
const MiB = 1024 * 1024;

const relay = await startRelay({
  listen: ['/ip4/127.0.0.1/tcp/0/ws'],
  httpPort: 0,
  appDir: null,
  // Everything here comes from 127.0.0.1: lift the per-IP limits meant for the Internet.
  maxConnectionsPerIp: 4096,
  inboundConnectionsPerIpPerSecond: 10_000,
});
const directory = relay.multiaddrs[0]!.toString();

async function sink(stream: Stream): Promise<void> {
  let n = 0;
  const timer = AbortSignal.timeout(120_000);
  for await (const chunk of stream) {
    n += chunk.byteLength;
    if (timer.aborted) break;
  }
  const answer = new Uint8Array(8);
  new DataView(answer.buffer).setFloat64(0, n);
  stream.send(answer);
  await stream.close({ signal: AbortSignal.timeout(10_000) });
}

async function source(stream: Stream): Promise<void> {
  // The request is 8 bytes, then the client closes its side: read to that end (breaking out of
  // the loop early would close the whole stream).
  const head = new Uint8Array(8);
  let have = 0;
  for await (const chunk of stream) {
    const bytes = chunk.subarray();
    if (have + bytes.byteLength > 8) throw new Error('source request longer than 8 bytes');
    head.set(bytes, have);
    have += bytes.byteLength;
  }
  const want = new DataView(head.buffer).getFloat64(0);
  if (have < 8 || !(want >= 0 && want <= MAX_BENCH_BYTES)) {
    stream.abort(new Error('bad source request'));
    return;
  }
  const chunk = new Uint8Array(CHUNK_SIZE).fill(7);
  for (let at = 0; at < want; at += CHUNK_SIZE) {
    if (!stream.send(chunk.subarray(0, Math.min(CHUNK_SIZE, want - at))))
      await stream.onDrain({ signal: AbortSignal.timeout(20_000) });
  }
  await stream.close({ signal: AbortSignal.timeout(10_000) });
}

const hosts: { node: CairnNode; hosting: Hosting }[] = [];
await Promise.all(
  Array.from({ length: count }, async () => {
    const node = await createCairnNode({ relays: [directory], allowPrivateAddresses: true });
    const store = new MemoryShardStore({ quota: 256 * MiB });
    const hosting = await startHosting(node, { store, directories: [directory] });
    const fail = (stream: Stream) => (err: unknown) => {
      console.error(`bench protocol: ${String(err)}`);
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    };
    await node.handle(SINK_PROTOCOL, (stream) => void sink(stream).catch(fail(stream)));
    await node.handle(SOURCE_PROTOCOL, (stream) => void source(stream).catch(fail(stream)));
    await node.waitForMultiaddr(isWebRTCAddress, { signal: AbortSignal.timeout(30_000) });
    hosts.push({ node, hosting });
  }),
);
const deadline = Date.now() + 30_000;
while (relay.directory.size < count) {
  if (Date.now() > deadline) throw new Error(`only ${relay.directory.size} hosts announced`);
  await new Promise((r) => setTimeout(r, 50));
}
console.log(
  JSON.stringify({
    relay: directory,
    hosts: hosts.map((h) => h.node.getMultiaddrs().find(isWebRTCAddress)!.toString()),
  }),
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled(hosts.map((h) => h.hosting.stop()));
  await Promise.allSettled(hosts.map((h) => h.node.stop()));
  await relay.stop();
  (await import('node-datachannel')).cleanup();
  process.exit(0);
}
process.stdin.on('end', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
process.on('SIGTERM', () => void stop());
