/**
 * The client side of the network benchmark, isomorphic: run in a Chromium page (the real client;
 * tests/bench/net.ts) or in Node (`net-node.ts`), against the relay and hosts of `net-hosts.ts`.
 *
 * - net.baseline.webrtc: one libp2p stream on one WebRTC connection from this client to one host,
 *   bytes sent and discarded (the host answers the count once it has them all); `.down` the other
 *   way. Timed after the connection is up.
 * - net.connect: a fresh WebRTC connection to a host, signalled through the relay (the client's
 *   relay connection already open; the very first dial, which also opens it, is in the note).
 * - net.upload: putFile of a random file on a fresh client node, from the call to the link
 *   (directory query, probing every host, the hashing pass, the transfer, the file record).
 * - net.ttfb / net.download: getFile(link) on another fresh client node, to the first plaintext
 *   byte and to the last.
 */
import { CairnNetwork, getFile, putFile } from '@cairn/drive';
import { CHUNK_SIZE, createCairnNode, toMultiaddr, type CairnNode } from '@cairn/peer';
import type { BenchResult } from '../../codec/bench/harness.ts';

export const SINK_PROTOCOL = '/cairn-bench/sink/1.0.0';
export const SOURCE_PROTOCOL = '/cairn-bench/source/1.0.0';

export interface NetBenchConfig {
  relay: string;
  hosts: string[];
  env: string;
  /** Appended to every line name (e.g. '.node'). */
  suffix?: string;
  /** Which endpoints, for the notes (e.g. 'Chromium→Node'). */
  pair: string;
  fileBytes?: number;
  baselineBytes?: number;
  k?: number;
  m?: number;
  only?: string;
  report(result: BenchResult): void;
  log?(line: string): void;
}

const MB = 1e6;
const MiB = 1024 * 1024;

function randomFile(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536)
    globalThis.crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65_536)));
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const fresh = () => createCairnNode({ allowPrivateAddresses: true });

/** Sends `bytes` on one stream to the host's sink; MB/s from the first byte to the host's count. */
async function sinkThroughput(node: CairnNode, host: string, bytes: number): Promise<number> {
  const signal = AbortSignal.timeout(120_000);
  const stream = await node.dialProtocol(toMultiaddr(host), SINK_PROTOCOL, { signal });
  const chunk = new Uint8Array(CHUNK_SIZE).fill(1);
  const t0 = performance.now();
  for (let at = 0; at < bytes; at += CHUNK_SIZE) {
    if (!stream.send(chunk.subarray(0, Math.min(CHUNK_SIZE, bytes - at))))
      await stream.onDrain({ signal });
  }
  await stream.close({ signal });
  let answer = new Uint8Array(0);
  for await (const c of stream) answer = new Uint8Array([...answer, ...c.subarray()]);
  const seconds = (performance.now() - t0) / 1000;
  const got = new DataView(answer.buffer).getFloat64(0);
  if (got !== bytes) throw new Error(`sink counted ${got} of ${bytes} bytes`);
  return bytes / MB / seconds;
}

/** Asks the host's source for `bytes` on one stream; MB/s from the request to the last byte. */
async function sourceThroughput(node: CairnNode, host: string, bytes: number): Promise<number> {
  const signal = AbortSignal.timeout(120_000);
  const stream = await node.dialProtocol(toMultiaddr(host), SOURCE_PROTOCOL, { signal });
  const request = new Uint8Array(8);
  new DataView(request.buffer).setFloat64(0, bytes);
  const t0 = performance.now();
  stream.send(request);
  await stream.close({ signal });
  let got = 0;
  for await (const c of stream) got += c.byteLength;
  const seconds = (performance.now() - t0) / 1000;
  if (got !== bytes) throw new Error(`source sent ${got} of ${bytes} bytes`);
  return bytes / MB / seconds;
}

export async function runNetBench(config: NetBenchConfig): Promise<void> {
  const suffix = config.suffix ?? '';
  const name = (base: string) => `${base}${suffix}`;
  const log = config.log ?? (() => {});
  const fileBytes = config.fileBytes ?? 64 * MiB;
  const baselineBytes = config.baselineBytes ?? 8 * MiB;
  const k = config.k ?? 10;
  const m = config.m ?? 10;
  const { env, pair, hosts } = config;
  const nodes: CairnNode[] = [];
  const node = async () => {
    const n = await fresh();
    nodes.push(n);
    return n;
  };
  try {
    // Baseline: one connection, one stream each way, to the first host.
    const a = await node();
    await withTimeout('baseline dial', 60_000, a.dial(toMultiaddr(hosts[0]!)));
    const up = await sinkThroughput(a, hosts[0]!, baselineBytes);
    const down = await sourceThroughput(a, hosts[0]!, baselineBytes);
    const baseline = up;
    config.report({
      bench: name('net.baseline.webrtc'),
      env,
      value: up,
      unit: 'MB/s',
      baseline: null,
      ratio: null,
      note: `${pair}, one libp2p stream on one WebRTC connection, ${baselineBytes / MiB} MiB`,
    });
    config.report({
      bench: name('net.baseline.webrtc.down'),
      env,
      value: down,
      unit: 'MB/s',
      baseline: null,
      ratio: null,
      note: `the same connection, host→client`,
    });

    // Connection set-up: the client's relay connection is open (from the first dial), each host
    // is new to it.
    const c = await node();
    const firstStart = performance.now();
    await withTimeout('dial', 60_000, c.dial(toMultiaddr(hosts[1]!)));
    const first = performance.now() - firstStart;
    const times: number[] = [];
    for (const host of hosts.slice(2, 7)) {
      const t0 = performance.now();
      await withTimeout('dial', 60_000, c.dial(toMultiaddr(host)));
      times.push(performance.now() - t0);
    }
    config.report({
      bench: name('net.connect'),
      env,
      value: median(times),
      unit: 'ms',
      baseline: null,
      ratio: null,
      note: `median of ${times.length} dials, relay connection open; first dial incl. relay ${first.toFixed(0)} ms`,
    });

    // Upload.
    const file = randomFile(fileBytes);
    const up1 = await node();
    const upNet = new CairnNetwork({ node: up1, directories: [config.relay] });
    let transferStart = 0;
    let hashStart = 0;
    const u0 = performance.now();
    const put = await withTimeout(
      'upload',
      240_000,
      putFile(upNet, () => file, {
        k,
        m,
        size: fileBytes,
        onProgress: (p) => {
          if (p.phase === 'hashing' && hashStart === 0) hashStart = performance.now();
          if (p.phase === 'uploading' && transferStart === 0) transferStart = performance.now();
        },
      }),
    );
    const u1 = performance.now();
    const upRate = fileBytes / MB / ((u1 - u0) / 1000);
    log(
      `upload: ${((u1 - u0) / 1000).toFixed(2)} s: directory and probe ${((hashStart - u0) / 1000).toFixed(2)} s, hashing pass ${((transferStart - hashStart) / 1000).toFixed(2)} s, transfer and record ${((u1 - transferStart) / 1000).toFixed(2)} s`,
    );
    config.report({
      bench: name('net.upload'),
      env,
      value: upRate,
      unit: 'MB/s',
      baseline,
      ratio: upRate / baseline,
      note: `${fileBytes / MiB} MiB file, k=${k} m=${m} to ${k + m} hosts, putFile on a fresh client; transfer alone ${(fileBytes / MB / ((u1 - transferStart) / 1000)).toFixed(1)} MB/s`,
    });

    // Download on a fresh client.
    const d = await node();
    const downNet = new CairnNetwork({ node: d, directories: [config.relay] });
    const d0 = performance.now();
    let ttfb = 0;
    let got = 0;
    await withTimeout(
      'download',
      240_000,
      (async () => {
        const opened = await getFile(downNet, put.link);
        log(`download: record and hosts located in ${(performance.now() - d0).toFixed(0)} ms`);
        for await (const chunk of opened.body) {
          if (got === 0) ttfb = performance.now() - d0;
          got += chunk.byteLength;
        }
      })(),
    );
    const d1 = performance.now();
    if (got !== fileBytes) throw new Error(`downloaded ${got} of ${fileBytes} bytes`);
    const downRate = fileBytes / MB / ((d1 - d0) / 1000);
    config.report({
      bench: name('net.ttfb'),
      env,
      value: ttfb,
      unit: 'ms',
      baseline: null,
      ratio: null,
      note: 'getFile on a fresh client: relay, record, k+hedge hosts, first segment',
    });
    config.report({
      bench: name('net.download'),
      env,
      value: downRate,
      unit: 'MB/s',
      baseline,
      ratio: downRate / baseline,
      note: `${fileBytes / MiB} MiB from ${k + m} hosts, getFile on a fresh client, incl. TTFB; ratio to the upward baseline (down: ${down.toFixed(1)})`,
    });
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()));
  }
}
