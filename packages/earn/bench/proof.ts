// Proof latency, CPU and reads of a paid host on a local anvil, measured for a browser host (a
// Chromium page running startPaidHost over OPFS/IndexedDB, tests/e2e/paid-host.ts) beside the same
// composition in Node (startPaidHost over a filesystem store) as the same-run baseline. Each host
// holds 100 shards of 1 MiB (1 KiB leaves), put over WebRTC under 100 live deals, and answers
// three periods of challenges at the market's default probabilities (50 % falling to 5 %).
//
// Lines (value: the browser host; baseline: the Node host; ratio: browser / Node):
// - `earn.proof-latency` (s): from the transaction that seeds the period (the challenge appears on
//   chain) being sent to each proof mined, median; the note has p90 and the max (the last proof
//   of the period: proofs go one after another).
// - `earn.proof-cpu` (ms): host CPU per proof over the three periods (polling and reads
//   included): the page's main-thread task time (DevTools Performance.getMetrics TaskDuration),
//   and in Node the process's CPU time.
// - `earn.proof-read` (KiB): store bytes read per proof; baseline: the shard's size (ratio < 1:
//   no proof reads a whole shard; the note counts reads that did).
//
// Both hosts poll the chain every 1.5 s (what the daemon picks for 30 s periods) with viem's
// default receipt polling (1 s); anvil mines each transaction at once (no block time).
// Run alone: `node packages/earn/bench/proof.ts [--json]` (Node only when no Chromium is found).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  approveMarket,
  createChainSigner,
  openDeals,
  openedDealIds,
  poke,
  type ChainSigner,
} from '@cairn/contracts';
import { CairnNetwork, encodeDealRef } from '@cairn/drive';
import { createCairnNode, putShard, type CairnNode } from '@cairn/peer';
import { startRelay } from '@cairn/relay';
import { FsShardStore } from '@cairn/store/fs';
import { http, toHex } from 'viem';
import { startPaidHost } from '../src/index.ts';
import { CountingStore, type ReadCounts } from './counting-store.ts';
import {
  devAccount,
  fund,
  gotoPeriod,
  makeShard,
  period,
  quoteFor,
  setup,
  TOKEN,
  type Fixture,
  type Shard,
} from '../../contracts/test/helpers.ts';
import { Events } from '../test/helpers.ts';
import { openPaidHostPage } from '../../../tests/e2e/paid-host-driver.ts';
import type { WireHostEvent } from '../../../tests/e2e/paid-host-wire.ts';
import type { ChromiumHarness } from '../../../scripts/chromium-harness.ts';

export interface EarnBenchResult {
  bench: string;
  env: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  note?: string;
}

const SHARDS = 100;
const SHARD_BYTES = 1024 * 1024;
const LEAF = 1024;
const PERIODS = 3;
const POLL_MS = 1500;
const PERIOD_TIMEOUT_MS = 5 * 60_000;

/** What one host's run measured. */
export interface HostFigures {
  kind: 'node' | 'chromium';
  store: string;
  proofs: number;
  /** s, each proof: seed transaction sent → proof mined */
  latencies: number[];
  /** ms of host CPU per proof over the run */
  cpuPerProof: number;
  /** ms in prove() (store reads + path), each proof */
  proveMs: number[];
  reads: ReadCounts;
  /** JSON-RPC requests per proof (polling included) */
  rpcPerProof: number;
  failures: number;
}

interface Host {
  kind: HostFigures['kind'];
  store: string;
  events: Events<WireHostEvent>;
  /** CPU ms used so far by the host */
  cpu(): Promise<number>;
  reads(): Promise<ReadCounts>;
  resetReads(): Promise<void>;
  /** JSON-RPC requests the host has sent so far */
  rpcs(): number;
  stop(): Promise<void>;
}

export async function runEarnBenches(ctx: {
  only?: string;
  report(r: EarnBenchResult): void;
  /** progress lines */
  log?: (line: string) => void;
  /** Vite + Chromium serving tests/e2e/paid-host.html; without it, the Node host alone. */
  harness?: ChromiumHarness;
}): Promise<HostFigures[]> {
  const names = ['earn.proof-latency', 'earn.proof-cpu', 'earn.proof-read'];
  const wants = (n: string) => !ctx.only || n.startsWith(ctx.only) || ctx.only.startsWith(n);
  if (!names.some(wants)) return [];
  const t0 = Date.now();
  const log = (line: string) =>
    ctx.log?.(`earn (${((Date.now() - t0) / 1000).toFixed(0)} s): ${line}`);
  const f = await setup({ startBps: 5000, floorBps: 500, halfLife: 8 });
  const relay = await startRelay({
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    httpPort: 0,
    appDir: null,
  });
  const directory = relay.multiaddrs[0]!.toString();
  const dir = await mkdtemp(join(tmpdir(), 'cairn-earn-bench-'));
  const nodes: CairnNode[] = [];
  const figures: HostFigures[] = [];
  try {
    const clientNode = await createCairnNode({ allowPrivateAddresses: true });
    nodes.push(clientNode);
    const net = new CairnNetwork({ node: clientNode, directories: [directory] });
    await fund(f, f.client.account, 1000n * TOKEN);
    await approveMarket(f.client, 2n ** 255n);
    const kinds: HostFigures['kind'][] = ctx.harness ? ['node', 'chromium'] : ['node'];
    for (const [i, kind] of kinds.entries()) {
      // A wallet as the app makes one: viem's default polling, not the tests' 20 ms.
      const account = devAccount(1 + i);
      const rpc = { count: 0 };
      const transport = http(f.config.rpcUrl, {
        retryCount: 0,
        onFetchRequest: () => void rpc.count++,
      });
      const signer = createChainSigner(f.config, account, {
        transport,
        walletTransport: transport,
      });
      await fund(f, account.address, 100n * TOKEN);
      const host =
        kind === 'node'
          ? await nodeHost(signer, rpc, directory, join(dir, 'node-host'), nodes)
          : await browserHost(f, ctx.harness!, toHex(account.getHdKey().privateKey!), directory);
      try {
        log(`${kind} host (${host.store}) up; opening ${SHARDS} deals, putting the shards`);
        const shards = Array.from({ length: SHARDS }, (_, s) =>
          makeShard(1000 * (i + 1) + s, SHARD_BYTES, LEAF),
        );
        const ids = await openAll(f, signer, shards);
        const peerId = await waitForHost(net, signer.account);
        const addrs = await net.addressesOf(peerId);
        // Two puts in flight; a put that stalls (a WebRTC dial on a loaded machine) is retried.
        let next = 0;
        await Promise.all(
          Array.from({ length: 2 }, async () => {
            while (next < SHARDS) {
              const s = next++;
              for (let attempt = 1; ; attempt++) {
                try {
                  await putShard(clientNode, addrs, shards[s]!.data, {
                    root: shards[s]!.tree.root,
                    size: SHARD_BYTES,
                    leafSize: LEAF,
                    deal: encodeDealRef('shard', ids[s]!),
                    signal: AbortSignal.timeout(60_000),
                  });
                  break;
                } catch (err) {
                  if (attempt >= 4) throw err;
                  log(`put ${s} failed (${(err as Error).message}), again`);
                }
              }
            }
          }),
        );
        log(`${kind} host holds ${SHARDS} shards under ${SHARDS} deals`);
        figures.push(await measure(f, host, (p) => log(`${kind} host, ${p}`)));
      } finally {
        await host.stop();
      }
    }
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await relay.stop();
    await f.stop();
    await rm(dir, { recursive: true, force: true });
  }
  report(ctx, wants, figures);
  return figures;
}

async function nodeHost(
  signer: ChainSigner,
  rpc: { count: number },
  directory: string,
  dir: string,
  nodes: CairnNode[],
): Promise<Host> {
  const node = await createCairnNode({ relays: [directory], allowPrivateAddresses: true });
  nodes.push(node);
  const store = new CountingStore(
    await FsShardStore.open({ dir, quota: 2 * SHARDS * SHARD_BYTES }),
  );
  const events = new Events<WireHostEvent>();
  const paid = await startPaidHost({
    node,
    store,
    directories: [directory],
    signer,
    pricePerBytePeriod: 1n,
    stake: 50n * TOKEN,
    useFaucet: false,
    onEvent: (e) => {
      const { error: _error, ...rest } = e as typeof e & { error?: unknown };
      events.push({ ...rest, at: Date.now(), host: 'node' } as WireHostEvent);
    },
    daemon: { pollIntervalMs: POLL_MS, claimEveryPeriods: 0 },
  });
  return {
    kind: 'node',
    store: store.kind,
    events,
    async cpu() {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
    reads: async () => store.counts(),
    resetReads: async () => store.reset(),
    rpcs: () => rpc.count,
    async stop() {
      await paid.stop();
      await node.stop();
      await store.close();
    },
  };
}

async function browserHost(
  f: Fixture,
  harness: ChromiumHarness,
  key: `0x${string}`,
  directory: string,
): Promise<Host> {
  const events = new Events<WireHostEvent>();
  const page = await openPaidHostPage(harness, events.push);
  const cdp = await page.context.newCDPSession(page.page);
  await cdp.send('Performance.enable');
  let rpcs = 0;
  page.page.on('request', (r) => {
    if (r.url().startsWith(f.config.rpcUrl) && r.method() === 'POST') rpcs++;
  });
  const started = await page.start({
    relay: directory,
    name: `earn-bench-${Date.now()}`,
    quota: 2 * SHARDS * SHARD_BYTES,
    peerSeed: toHex(crypto.getRandomValues(new Uint8Array(32))).slice(2),
    key,
    chain: f.config,
    pricePerBytePeriod: 1n,
    stake: 50n * TOKEN,
    pollIntervalMs: POLL_MS,
  });
  return {
    kind: 'chromium',
    store: started.store,
    events,
    async cpu() {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN) * 1000;
    },
    reads: () => page.reads(),
    resetReads: () => page.resetReads(),
    rpcs: () => rpcs,
    async stop() {
      await page.stop().catch(() => {});
      await page.context.close();
    },
  };
}

/** Opens one deal per shard for the fixture's client, with quotes the host signed. */
async function openAll(f: Fixture, host: ChainSigner, shards: Shard[]): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let at = 0; at < shards.length; at += 20) {
    const requests = [];
    for (const s of shards.slice(at, at + 20))
      requests.push(await quoteFor(f, host, s, PERIODS, BigInt(SHARD_BYTES * PERIODS)));
    ids.push(...openedDealIds(await openDeals(f.client, requests)));
  }
  return ids;
}

/** The host's peer id once the relay's directory lists its wallet. */
async function waitForHost(net: CairnNetwork, wallet: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = (await net.hosts()).find((h) => h.wallet?.toLowerCase() === wallet.toLowerCase());
    if (found) return found.peerId;
    if (Date.now() > deadline) throw new Error(`host ${wallet} not in the directory`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Walks PERIODS periods: seeds each (timing from there), waits for the host's proofs. */
async function measure(f: Fixture, host: Host, log: (line: string) => void): Promise<HostFigures> {
  const first = (await period(f)) + 1n;
  await host.resetReads();
  const cpu0 = await host.cpu();
  const rpc0 = host.rpcs();
  const latencies: number[] = [];
  for (let p = first; p < first + BigInt(PERIODS); p++) {
    await gotoPeriod(f, p);
    const t0 = Date.now();
    await poke(f.client);
    const done = await host.events.wait(
      (e) => e.type === 'period' && e.period === p,
      `the ${host.kind} host's period ${p}`,
      PERIOD_TIMEOUT_MS,
    );
    const proofs = host.events.all.filter((e) => e.type === 'proof-submitted' && e.period === p);
    for (const e of proofs) latencies.push((e.at - t0) / 1000);
    if (done.type === 'period')
      log(
        `period ${p - first}: ${done.challenged} of ${done.active} deals challenged, ${done.proven} proven`,
      );
  }
  const cpu1 = await host.cpu();
  const proofs = host.events.all.filter((e) => e.type === 'proof-submitted');
  return {
    kind: host.kind,
    store: host.store,
    proofs: proofs.length,
    latencies,
    cpuPerProof: (cpu1 - cpu0) / Math.max(1, proofs.length),
    proveMs: proofs.map((e) => (e.type === 'proof-submitted' ? e.proveMs : NaN)),
    reads: await host.reads(),
    rpcPerProof: (host.rpcs() - rpc0) / Math.max(1, proofs.length),
    failures: host.events.all.filter((e) => e.type === 'proof-failed').length,
  };
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

function report(
  ctx: { report(r: EarnBenchResult): void },
  wants: (name: string) => boolean,
  figures: HostFigures[],
): void {
  const node = figures.find((x) => x.kind === 'node');
  const browser = figures.find((x) => x.kind === 'chromium');
  const main = browser ?? node;
  if (!main) return;
  const base = browser ? node : undefined;
  const ratio = (v: number, b: number | undefined) => (b ? v / b : null);
  const who = (x: HostFigures) => `${x.kind === 'node' ? 'Node' : 'browser'} host (${x.store})`;
  const per = (x: HostFigures) => `${x.proofs} proofs / ${PERIODS} periods`;
  for (const x of figures)
    if (x.failures) throw new Error(`${who(x)}: ${x.failures} proofs failed in the benchmark`);

  const lat = (x: HostFigures) => quantile(x.latencies, 0.5);
  const latNote = (x: HostFigures) =>
    `p90 ${quantile(x.latencies, 0.9).toFixed(2)} s, max ${Math.max(...x.latencies).toFixed(2)} s, ${x.rpcPerProof.toFixed(1)} RPC requests/proof`;
  if (wants('earn.proof-latency'))
    ctx.report({
      bench: 'earn.proof-latency',
      env: main.kind,
      value: lat(main),
      unit: 's',
      baseline: base ? lat(base) : null,
      ratio: ratio(lat(main), base && lat(base)),
      note:
        `${who(main)}, ${SHARDS} deals on 1 MiB shards, ${per(main)}, sent in turn; ${latNote(main)}` +
        (base
          ? `; baseline ${who(base)}: median ${lat(base).toFixed(2)} s, ${latNote(base)}`
          : '') +
        `; poll ${POLL_MS / 1000} s, anvil automine`,
    });
  const prove = (x: HostFigures) => quantile(x.proveMs, 0.5);
  if (wants('earn.proof-cpu'))
    ctx.report({
      bench: 'earn.proof-cpu',
      env: main.kind,
      value: main.cpuPerProof,
      unit: 'ms',
      baseline: base ? base.cpuPerProof : null,
      ratio: ratio(main.cpuPerProof, base?.cpuPerProof),
      note:
        `${main.kind === 'chromium' ? 'page main-thread task time' : 'process CPU'} per proof, polling included; prove() (store reads + path) median ${prove(main).toFixed(1)} ms wall` +
        (base
          ? `; baseline Node process CPU ${base.cpuPerProof.toFixed(1)} ms, prove() ${prove(base).toFixed(1)} ms`
          : ''),
    });
  const kib = (x: HostFigures) => x.reads.bytes / 1024 / Math.max(1, x.proofs);
  if (wants('earn.proof-read'))
    ctx.report({
      bench: 'earn.proof-read',
      env: main.kind,
      value: kib(main),
      unit: 'KiB',
      baseline: SHARD_BYTES / 1024,
      ratio: kib(main) / (SHARD_BYTES / 1024),
      note: figures
        .map(
          (x) =>
            `${who(x)}: ${kib(x).toFixed(1)} KiB/proof in ${(x.reads.calls / Math.max(1, x.proofs)).toFixed(1)} reads, largest ${(x.reads.largest / 1024).toFixed(0)} KiB, whole-shard reads ${x.reads.wholeShard}`,
        )
        .join('; '),
    });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const json = process.argv.includes('--json');
  const { findChromium } = await import('../../../scripts/browser.ts');
  const { startChromiumHarness } = await import('../../../scripts/chromium-harness.ts');
  const harness = findChromium()
    ? await startChromiumHarness({ entries: ['tests/e2e/paid-host.html'], cache: 'bench' })
    : undefined;
  try {
    await runEarnBenches({
      ...(harness ? { harness } : {}),
      log: (line) => console.error(line),
      report: (r) =>
        console.log(
          json
            ? JSON.stringify(r)
            : `${r.bench.padEnd(20)} ${r.env.padEnd(9)} ${r.value.toFixed(3)} ${r.unit}` +
                `${r.baseline === null ? '' : `  baseline ${r.baseline.toFixed(3)}  ratio ${r.ratio!.toFixed(2)}x`}  (${r.note ?? ''})`,
        ),
    });
  } finally {
    await harness?.close();
    (await import('node-datachannel')).cleanup();
  }
}
