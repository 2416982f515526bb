// The auditor against real hosts (HostService over libp2p, WebRTC signalled through a loopback
// relay): one keeps its shard, one's disk corrupts it, one goes away. Their scores must come out
// honest > gone > corrupt, and selection must then prefer the honest host.
import type { Multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HostService,
  createCairnNode,
  isWebRTCAddress,
  putShard,
  type CairnNode,
} from '@cairn/peer';
import { MemoryShardStore } from '@cairn/store';
import { FaultyShardStore } from '@cairn/store/testing';
import { toHex } from '@cairn/codec';
import { makeShard, startTestRelay } from '../../peer/test/fixtures.ts';
import {
  Auditor,
  ScoreKeeper,
  cairnAuditorNode,
  selectHosts,
  type AuditOutcome,
  type AuditTarget,
  type HostInfo,
} from '../src/index.ts';

interface Host {
  name: string;
  node: CairnNode;
  store: FaultyShardStore;
  service: HostService;
  addr: Multiaddr;
}

let relay: Awaited<ReturnType<typeof startTestRelay>>;
const nodes: CairnNode[] = [];
let client: CairnNode;

async function startHost(name: string): Promise<Host> {
  const node = await createCairnNode({ relays: [relay.addr], allowPrivateAddresses: true });
  nodes.push(node);
  const store = new FaultyShardStore(new MemoryShardStore({ quota: 16 * 1024 * 1024 }));
  const service = new HostService(node, { store, privateKey: node.privateKey });
  await service.start();
  const addr = await node.waitForMultiaddr(isWebRTCAddress, {
    signal: AbortSignal.timeout(20_000),
  });
  return { name, node, store, service, addr };
}

/** Puts a fresh 64 KiB shard on the host; the audit target that knows it. */
async function stored(h: Host): Promise<AuditTarget> {
  const shard = makeShard(64 * 1024);
  await putShard(client, h.addr, shard.bytes, { root: shard.root, size: shard.bytes.byteLength });
  return {
    peerId: h.node.peerId.toString(),
    addrs: [h.addr],
    shards: [{ root: toHex(shard.root), size: shard.bytes.byteLength, leafSize: 1024 }],
  };
}

beforeAll(async () => {
  relay = await startTestRelay();
  client = await createCairnNode({ allowPrivateAddresses: true });
  nodes.push(client);
});

afterAll(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()));
  await relay.node.stop();
});

describe('auditor', () => {
  it('scores honest > gone > corrupt hosts, and selection follows', async () => {
    const [honest, corrupt, gone] = await Promise.all(['honest', 'corrupt', 'gone'].map(startHost));
    const targets = await Promise.all([honest!, corrupt!, gone!].map(stored));
    corrupt!.store.faults.corrupt = true;
    const scores = new ScoreKeeper();
    const seen: AuditOutcome[] = [];
    const auditor = new Auditor({
      node: cairnAuditorNode(client),
      scores,
      targets: () => targets,
      timeoutMs: 8_000,
      onOutcome: (o) => seen.push(o),
    });

    const first = await auditor.runOnce();
    expect(first.map((o) => o.kind).sort()).toEqual(['failed', 'passed', 'passed']);
    await gone!.service.stop();
    await gone!.node.stop();
    await auditor.runOnce();
    await auditor.runOnce();

    const id = (h: Host | undefined): string => h!.node.peerId.toString();
    const kinds = (h: Host | undefined): string[] =>
      seen.filter((o) => o.peerId === id(h)).map((o) => o.kind);
    expect(kinds(honest)).toEqual(['passed', 'passed', 'passed']);
    expect(kinds(corrupt)).toEqual(['failed', 'failed', 'failed']);
    expect(kinds(gone)).toEqual(['passed', 'unreachable', 'unreachable']);
    const failure = seen.find((o) => o.kind === 'failed')!;
    expect(failure.error?.name).toBe('AuditFailedError');
    expect(failure.root).toBe(targets[1]!.shards![0]!.root);
    expect(seen.find((o) => o.peerId === id(honest))!.latencyMs).toBeGreaterThan(0);

    const [h, g, c] = [honest, gone, corrupt].map((x) => scores.score(id(x))!);
    expect(h).toBeGreaterThan(g!);
    expect(g).toBeGreaterThan(c!);
    expect(h).toBeGreaterThan(0.75);
    expect(c).toBeLessThan(0.2);

    // The cheapest host is the corrupt one, then the gone one: selection still takes the honest.
    const price: Record<string, bigint> = { honest: 30n, gone: 20n, corrupt: 10n };
    const infos: HostInfo[] = [corrupt!, gone!, honest!].map((x) => {
      const ev = scores.evidence(id(x))!;
      return {
        peerId: id(x),
        freeCapacity: 1 << 20,
        price: price[x.name],
        score: scores.score(id(x))!,
        failedAudits: ev.failed,
      };
    });
    expect(selectHosts(infos, 1, { shardSize: 1024 })[0]!.peerId).toBe(id(honest));
    expect(selectHosts(infos, 3, { shardSize: 1024 }).map((x) => x.peerId)).toEqual([
      id(honest),
      id(gone),
      id(corrupt),
    ]);
  });

  it('probes hosts it knows no shard of: uptime and latency, no proof', async () => {
    const h = await startHost('probed');
    const scores = new ScoreKeeper();
    const auditor = new Auditor({
      node: cairnAuditorNode(client),
      scores,
      targets: () => [{ peerId: h.node.peerId.toString(), addrs: [h.addr] }],
    });
    const [outcome] = await auditor.runOnce();
    expect(outcome!.kind).toBe('answered');
    expect(outcome!.root).toBeUndefined();
    expect(outcome!.latencyMs).toBeGreaterThanOrEqual(0);
    const e = scores.evidence(h.node.peerId.toString())!;
    expect(e.answered).toBeCloseTo(1);
    expect(e.passed).toBe(0);
  });

  it('runs on its own, one audit at a time, and stops at once mid-audit', async () => {
    const [ok, slow] = await Promise.all(['ok', 'slow'].map(startHost));
    const targets = await Promise.all([ok!, slow!].map(stored));
    const scores = new ScoreKeeper();
    const outcomes: AuditOutcome[] = [];
    let started = 0;
    let maxInFlight = 0;
    let current: unknown;
    const node = cairnAuditorNode(client);
    const auditor = new Auditor({
      node: {
        ...node,
        connect: (peer, options) => {
          started++;
          current = Array.isArray(peer) ? peer[0] : peer;
          maxInFlight = Math.max(maxInFlight, started - outcomes.length);
          return node.connect!(peer, options);
        },
      },
      scores,
      targets: () => targets,
      intervalMs: 200,
      jitter: 0.5,
      concurrency: 1,
      timeoutMs: 30_000,
      onOutcome: (o) => outcomes.push(o),
    });
    auditor.start();
    auditor.start(); // a second start is a no-op
    const count = (h: Host | undefined): number =>
      outcomes.filter((o) => o.peerId === h!.node.peerId.toString()).length;
    const until = async (what: string, check: () => boolean): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // Every host comes round again and again.
    await until('two rounds', () => count(ok) >= 2 && count(slow) >= 2);
    expect(outcomes.every((o) => o.kind === 'passed')).toBe(true);
    // Now the slow host's disk hangs: its next audit holds the only slot, and nothing else runs.
    slow!.store.faults.stall = true;
    await until('the stalled audit', () => started > outcomes.length && current === slow!.addr);
    const held = outcomes.length;
    await new Promise((r) => setTimeout(r, 1_000)); // five intervals
    expect(outcomes.length).toBe(held);
    expect(maxInFlight).toBe(1);

    const before = Date.now();
    await auditor.stop();
    expect(Date.now() - before).toBeLessThan(2_000);
    expect(auditor.running).toBe(false);
    // The audit cut short by stop() says nothing about the host: only the finished ones count.
    expect(scores.evidence(slow!.node.peerId.toString())!.passed).toBeCloseTo(count(slow), 3);
    expect(scores.evidence(slow!.node.peerId.toString())!.unreachable).toBe(0);
    slow!.store.faults.stall = false;
  });
});
