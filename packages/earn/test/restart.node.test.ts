// Restarts: a daemon stopped mid-period and restarted (new instance, same file state) finishes
// the period without submitting anything twice; a host offline across a whole challenge window
// is slashed like one that lost its data; one back within the window is not. And a dead RPC is
// reported and retried, never fatal, and stop() still returns promptly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContractRevertError,
  createChainReader,
  createChainSigner,
  endDeal,
  marketEvents,
  poke,
} from '@cairn/contracts';
import { HostDaemon, Watcher, type HostEvent, type WatcherEvent } from '../src/index.ts';
import { FileState } from '../src/node.ts';
import {
  Events,
  FAST,
  TOKEN,
  TestStore,
  balance,
  gotoPeriod,
  makeShard,
  openFor,
  period,
  registerHost,
  share,
  setup,
  until,
  type Fixture,
} from './helpers.ts';

const DURATION = 6;
const PRICE = 600_006n;

let f: Fixture;
let dir: string;
beforeAll(async () => {
  f = await setup({ startBps: 10_000, floorBps: 10_000, maxMisses: 3 });
  dir = mkdtempSync(join(tmpdir(), 'cairn-earn-'));
});
afterAll(async () => {
  await f?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('restarts and outages', () => {
  it('catches up after restarts without double submission; offline across a window = missed', async () => {
    const host = f.hosts[1]!;
    await registerHost(f, host, 100n * TOKEN);
    const store = new TestStore();
    const shards = [makeShard(21, 4096), makeShard(22, 30_000)];
    shards.forEach((s) => store.add(s));
    const [a, b] = await openFor(f, host, shards, DURATION, PRICE);
    const p1 = (await period(f)) + 1n;
    const statePath = join(dir, 'host-state.json');

    const events = new Events<HostEvent>(); // all daemon instances report here
    const watched = new Events<WatcherEvent>();
    const watcher = new Watcher({
      reader: f.reader,
      signer: f.reporter,
      config: f.config,
      onEvent: watched.push,
      ...FAST,
    });
    await watcher.start();
    let instances = 0;
    const daemon = (onEvent: (e: HostEvent) => void = events.push) => {
      instances++;
      return new HostDaemon({
        reader: f.reader,
        signer: host,
        config: f.config,
        prove: store.prove,
        state: new FileState(statePath), // a fresh handle on the same file: a process restart
        onEvent,
        claimEveryPeriods: 0,
        ...FAST,
      });
    };
    const hostBefore = await balance(f, host.account);
    const waitPeriod = (p: bigint) =>
      events.wait((e) => e.type === 'period' && e.period === p, `host period ${p}`);
    const waitWatch = (p: bigint) =>
      watched.wait((e) => e.type === 'period' && e.period === p, `watcher period ${p}`);

    // p1: the first instance proves both deals.
    const d1 = daemon();
    await d1.start();
    await gotoPeriod(f, p1);
    await waitPeriod(p1);

    // p2: stopped right after its first proof (mid-period), restarted in the same period.
    let d2!: HostDaemon;
    const stoppedMidway = new Promise<void>((resolve) => {
      d2 = daemon((e) => {
        events.push(e);
        if (e.type === 'proof-submitted' && e.period === p1 + 1n) void d2.stop().then(resolve);
      });
    });
    await d1.stop();
    await d2.start();
    await gotoPeriod(f, p1 + 1n);
    await stoppedMidway;
    expect(events.of('proof-submitted').filter((e) => e.period === p1 + 1n).length).toBe(1);
    expect(events.all.some((e) => e.type === 'period' && e.period === p1 + 1n)).toBe(false);
    const d3 = daemon();
    await d3.start(); // catches up within the period: proves only the deal left
    await waitPeriod(p1 + 1n);
    const p2Proofs = events.of('proof-submitted').filter((e) => e.period === p1 + 1n);
    expect(p2Proofs.map((e) => e.dealId).sort()).toEqual([a, b]);
    // A fourth instance in the same period, with the same state, submits nothing more.
    const sent = events.of('proof-submitted').length;
    await d3.stop();
    const d4 = daemon();
    await d4.start();
    expect(events.of('proof-submitted').length).toBe(sent);
    // So does one whose state was lost: it rescans from the deploy block and rebuilds its totals.
    const fresh = new Events<HostEvent>();
    const amnesiac = new HostDaemon({
      reader: f.reader,
      signer: host,
      prove: store.prove,
      onEvent: fresh.push,
      ...FAST,
    });
    await amnesiac.start();
    expect(fresh.of('proof-submitted')).toEqual([]);
    expect(fresh.of('deal').map((e) => e.dealId)).toEqual([a, b]);
    expect(amnesiac.status()).toMatchObject({ proofs: sent, liveDeals: 2, misses: 0 });
    await amnesiac.stop();

    // p3: offline across the whole window (someone else's transaction seeds the period).
    await d4.stop();
    await gotoPeriod(f, p1 + 2n);
    await poke(f.client);
    await waitWatch(p1 + 1n);
    await gotoPeriod(f, p1 + 3n);
    await waitWatch(p1 + 2n);
    expect(
      watched
        .of('reported')
        .map((e) => [e.dealId, e.period])
        .sort(),
    ).toEqual([
      [a, p1 + 2n],
      [b, p1 + 2n],
    ]);
    // p4: back; it learns of the misses (cause: offline) and proves p4.
    const d5 = daemon();
    await d5.start();
    await waitPeriod(p1 + 3n);
    const missed = events.of('missed');
    expect(missed.map((e) => [e.dealId, e.period, e.cause]).sort()).toEqual([
      [a, p1 + 2n, 'offline'],
      [b, p1 + 2n, 'offline'],
    ]);

    // p5: stopped at the period's start, back within the window: not a miss.
    await d5.stop();
    await gotoPeriod(f, p1 + 4n);
    await poke(f.client);
    const d6 = daemon();
    await d6.start();
    await waitPeriod(p1 + 4n);
    for (let p = p1 + 5n; p <= p1 + BigInt(DURATION); p++) {
      await gotoPeriod(f, p);
      await waitPeriod(p);
      await waitWatch(p - 1n);
    }
    await events.wait((e) => e.type === 'claimed', 'the finished deals claimed');

    // Every period proven exactly once, except p3; each deal paid its price minus p3's share.
    const accepted = await marketEvents(f.reader, { eventName: 'ProofAccepted' });
    const keys = accepted.map((e) => `${e.args.dealId}:${e.args.period}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(2 * (DURATION - 1));
    expect(events.of('proof-submitted').length).toBe(keys.length);
    expect(events.of('proof-failed')).toEqual([]);
    expect((await marketEvents(f.reader, { eventName: 'Slashed' })).length).toBe(2);
    expect((await balance(f, host.account)) - hostBefore).toBe(
      2n * (PRICE - share(PRICE, DURATION, 2n)),
    );
    expect(d6.status()).toMatchObject({ proofs: keys.length, misses: 2, liveDeals: 0 });
    expect(instances).toBe(6);
    await d6.stop();
    await watcher.stop();
  });

  it('reports a reverted proof with its decoded reason and carries on', async () => {
    const host = f.hosts[2]!;
    await registerHost(f, host, 10n * TOKEN);
    const store = new TestStore();
    const shard = makeShard(31, 2048);
    store.add(shard);
    const [id] = await openFor(f, host, [shard], 4, 10_000n);
    const p = (await period(f)) + 1n;
    const events = new Events<HostEvent>();
    // The client ends the deal while the host reads its shard: the proof then reverts.
    const prove: typeof store.prove = async (root, index) => {
      await endDeal(f.client, id!);
      return store.prove(root, index);
    };
    const daemon = new HostDaemon({
      reader: f.reader,
      signer: host,
      prove,
      onEvent: events.push,
      ...FAST,
    });
    await daemon.start();
    await gotoPeriod(f, p);
    const failed = await events.wait((e) => e.type === 'proof-failed', 'a failed proof');
    expect(failed).toMatchObject({ dealId: id, period: p, reason: 'reverted', willRetry: false });
    expect((failed as { error: unknown }).error).toBeInstanceOf(ContractRevertError);
    expect((failed as { message: string }).message).toMatch(
      /submitProof reverted: DealNotActive\(\d+\): the deal is not active/,
    );
    await events.wait((e) => e.type === 'deal-ended', 'the deal ended');
    expect(events.of('deal-ended')[0]).toMatchObject({ dealId: id, reason: 'client-ended' });
    await events.wait((e) => e.type === 'period' && e.period === p, 'period handled');
    expect(events.of('error')).toEqual([]);
    expect(daemon.status()).toMatchObject({ running: true, failures: 1, submitted: 0 });
    await daemon.stop();
  });

  it('reports a dead RPC, keeps polling with backoff, and stops promptly', async () => {
    // A port nothing listens on.
    const config = { ...f.config, rpcUrl: 'http://127.0.0.1:9' };
    const reader = createChainReader(config, { pollingInterval: 20 });
    const signer = createChainSigner(config, f.hosts[2]!.walletClient.account, { reader });
    const events = new Events<HostEvent>();
    const daemon = new HostDaemon({
      reader,
      signer,
      prove: new TestStore().prove,
      onEvent: events.push,
      pollIntervalMs: 30,
      retry: { attempts: 2, baseDelayMs: 20, timeoutMs: 2000 },
    });
    await daemon.start(); // the first pass fails: reported, not thrown
    await events.wait((e) => e.type === 'error', 'an error event');
    const errors = events.of('error');
    expect(errors[0]!.message).toMatch(/HTTP|fetch|ECONNREFUSED|request/i);
    expect(daemon.status().lastError).toBeDefined();
    await until(() => events.of('error').length >= 2, 'the loop keeps polling');
    const t0 = Date.now();
    await daemon.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(daemon.status().running).toBe(false);
  });
});
