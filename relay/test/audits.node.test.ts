// The relay audits the hosts that reach it and shares what it saw: a client's `hosts()` carries
// the relay's scores (merged with the client's own), and /metrics counts the audits.
import { describe, expect, it } from 'vitest';
import { CairnNetwork, ScoreKeeper, selectHosts } from '@cairn/drive';
import { createCairnNode, startHosting, type CairnNode, type Hosting } from '@cairn/peer';
import { SCORES_PROTOCOL, queryScores } from '@cairn/peer/directory';
import { MemoryShardStore } from '@cairn/store';
import { DEFAULT_SCORES_FILE, parseRelayArgs, type Relay } from '../src/index.ts';
import { _Writer } from '../../packages/peer/src/directory/encoding.ts';
import { createClient, perTest, tempDir, waitFor } from './helpers.ts';

const { cleanup, relay } = perTest();

async function node(r?: Relay): Promise<CairnNode> {
  const n = await createCairnNode({
    relays: r ? [r.multiaddrs[0]!.toString()] : [],
    allowPrivateAddresses: true,
  });
  cleanup.push(() => n.stop());
  return n;
}

async function host(
  r: Relay,
  options: { persistent?: boolean; upSince?: number } = {},
): Promise<{ node: CairnNode; hosting: Hosting; id: string }> {
  const n = await node(r);
  const hosting = await startHosting(n, {
    store: new MemoryShardStore({ quota: 1 << 24 }),
    directories: [r.multiaddrs[0]!.toString()],
    ...options,
  });
  cleanup.push(() => hosting.stop());
  return { node: n, hosting, id: n.peerId.toString() };
}

/** One labelled series of a counter from /metrics (0 when absent). */
async function audits(r: Relay, type: string, result: string): Promise<number> {
  const text = await (await fetch(`${r.httpUrl}/metrics`)).text();
  const m = new RegExp(
    `^cairn_relay_audits_total\\{type="${type}",result="${result}"\\} (\\S+)$`,
    'm',
  ).exec(text);
  return Number(m?.[1] ?? 0);
}

describe('relay audits', () => {
  it('probes its hosts, and clients see the scores in hosts()', async () => {
    const r = await relay({ audit: { intervalMs: 300, timeoutMs: 3_000, refreshMs: 200 } });
    const upSince = Date.now() - 3_600_000;
    const up = await host(r, { persistent: true, upSince });
    const down = await host(r);
    await waitFor('both hosts audited', () =>
      [up.id, down.id].every((id) => (r.scores?.evidence(id)?.answered ?? 0) >= 2),
    );
    await down.hosting.stop();
    await down.node.stop();
    await waitFor('the stopped host to score low', () => (r.scores!.score(down.id) ?? 1) < 0.35);
    expect(await audits(r, 'liveness', 'passed')).toBeGreaterThanOrEqual(4);
    expect(await audits(r, 'liveness', 'unreachable')).toBeGreaterThanOrEqual(1);
    const text = await (await fetch(`${r.httpUrl}/metrics`)).text();
    expect(text).toMatch(/^cairn_relay_scored_hosts 2$/m);

    // A client with no audits of its own sees the relay's view (at half weight).
    const network = new CairnNetwork({
      node: await node(),
      directories: [r.multiaddrs[0]!.toString()],
    });
    const hosts = await network.hosts();
    const seen = new Map(hosts.map((h) => [h.peerId, h]));
    const a = seen.get(up.id)!;
    const b = seen.get(down.id)!;
    expect(a.score).toBeGreaterThan(0.6);
    expect(b.score).toBeLessThan(0.5);
    expect(a.latencyMs).toBeGreaterThanOrEqual(0);
    expect(a.persistent).toBe(true);
    expect(a.upSince).toBe(upSince);
    expect(b.persistent).toBe(false);
    expect(b.upSince).toBeGreaterThan(upSince);
    expect(selectHosts(hosts, 1, { shardSize: 1 })[0]!.peerId).toBe(up.id);

    // The relay answers only about what it was asked.
    const evidence = await queryScores(network.node, r.multiaddrs[0]!, [up.id, 'unknown-peer']);
    expect(evidence.map((e) => e.peerId)).toEqual([up.id]);

    // A client that caught the up host failing a proof itself trusts that over the relay.
    const scores = new ScoreKeeper();
    scores.record(up.id, { kind: 'failed' });
    const wary = new CairnNetwork({
      node: network.node,
      directories: [r.multiaddrs[0]!.toString()],
      scores,
    });
    const mine = (await wary.hosts()).find((h) => h.peerId === up.id)!;
    expect(mine.failedAudits).toBeCloseTo(1, 3);
    expect(mine.score).toBeLessThan(a.score! / 1.9);
    const alone = new CairnNetwork({
      node: network.node,
      directories: [r.multiaddrs[0]!.toString()],
      relayScoreWeight: 0,
    });
    expect((await alone.hosts()).every((h) => h.score === undefined)).toBe(true);
  });

  it('keeps its scores across restarts in the scores file', async () => {
    const file = `${await tempDir()}/scores.json`;
    const config = {
      audit: { intervalMs: 300, timeoutMs: 3_000, refreshMs: 200 },
      scoresFile: file,
    };
    const r1 = await relay(config);
    const h = await host(r1);
    await waitFor('an audit', () => (r1.scores?.evidence(h.id)?.answered ?? 0) >= 1);
    await r1.stop();
    const r2 = await relay(config);
    expect(r2.scores!.evidence(h.id)!.answered).toBeGreaterThanOrEqual(0.9);
  });

  it('without audits, serves no scores and clients get none', async () => {
    const r = await relay({ audit: false });
    expect(r.scores).toBeUndefined();
    const h = await host(r);
    await waitFor('the announcement', () => r.directory.get(h.id));
    const network = new CairnNetwork({
      node: await node(),
      directories: [r.multiaddrs[0]!.toString()],
    });
    const [info] = await network.hosts();
    expect(info!.peerId).toBe(h.id);
    expect(info!.score).toBeUndefined();
    expect(await audits(r, 'liveness', 'passed')).toBe(0);
  });

  it('survives oversized and malformed scores requests', async () => {
    const r = await relay({ audit: { intervalMs: 60_000 } });
    const c = await createClient();
    cleanup.push(async () => c.stop());
    const send = async (bytes: Uint8Array): Promise<void> => {
      const stream = await c.dialProtocol(r.multiaddrs[0]!, SCORES_PROTOCOL);
      stream.send(bytes);
      await stream.close();
      for await (const _ of stream) void _; // a reset or an empty end: either is fine
    };
    await send(new _Writer().uint(1_000_000).finish()).catch(() => {}); // frame over 32 KiB
    const dup = new _Writer().uint(2).string('a').string('a').finish();
    await send(new _Writer().bytes(dup).finish()).catch(() => {});
    // still answering properly
    expect(await queryScores(c, r.multiaddrs[0]!, ['someone'])).toEqual([]);
  });

  it('takes its audit settings from flags and the environment', () => {
    const config = (argv: string[], env = {}) => {
      const parsed = parseRelayArgs(argv, env);
      if (parsed.help) throw new Error('help');
      return parsed.config;
    };
    expect(config([]).audit).toEqual({ intervalMs: 300_000 });
    expect(config([]).scoresFile).toBe(DEFAULT_SCORES_FILE);
    expect(config(['--ephemeral']).scoresFile).toBeUndefined();
    expect(config(['--audit-interval', '0']).audit).toBe(false);
    expect(config([], { CAIRN_RELAY_AUDIT_INTERVAL: '60' }).audit).toEqual({ intervalMs: 60_000 });
    expect(config(['--scores-file', '/tmp/s.json', '--ephemeral']).scoresFile).toBe('/tmp/s.json');
    expect(() => config(['--audit-interval=-1'])).toThrow(/non-negative/);
  });
});
