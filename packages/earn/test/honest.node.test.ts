// An honest host answers every challenge over many periods (time travel on a real anvil) and is
// paid exactly what its deals promised; a watcher alongside finds nothing to report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHost, marketEvents } from '@cairn/contracts';
import {
  HostDaemon,
  MemoryState,
  Watcher,
  type HostEvent,
  type WatcherEvent,
} from '../src/index.ts';
import {
  FAST,
  TOKEN,
  TestStore,
  balance,
  gotoPeriod,
  makeShard,
  openFor,
  period,
  registerHost,
  seeded,
  share,
  setup,
  until,
  Events,
  type Fixture,
} from './helpers.ts';

const DURATION = 8;
const PRICE = 1_000_000n; // not a multiple of DURATION: shares differ by one unit

let f: Fixture;
beforeAll(async () => {
  // Challenged with probability 100 % at first, falling towards 50 %.
  f = await setup({ startBps: 10_000, floorBps: 5000, halfLife: 4 });
});
afterAll(() => f?.stop());

describe('an honest host', () => {
  it('answers every challenge for the whole deal and is paid exactly the price', async () => {
    const host = f.hosts[0]!;
    await registerHost(f, host, 100n * TOKEN);
    const store = new TestStore();
    // 3 KiB (partial last leaf), 70 000 B (past one 64 KiB block, 69 leaves), 16 KiB.
    const shards = [makeShard(1, 3000), makeShard(2, 70_000), makeShard(3, 16 * 1024)];
    shards.forEach((s) => store.add(s));
    const ids = await openFor(f, host, shards, DURATION, PRICE);
    const start = (await period(f)) + 1n;

    const events = new Events<HostEvent>();
    const watched = new Events<WatcherEvent>();
    const daemon = new HostDaemon({
      reader: f.reader,
      signer: host,
      config: f.config,
      prove: store.prove,
      state: new MemoryState(),
      onEvent: events.push,
      claimEveryPeriods: 3,
      ...FAST,
    });
    const watcher = new Watcher({
      reader: f.reader,
      signer: f.reporter,
      config: f.config,
      onEvent: watched.push,
      ...FAST,
    });
    const before = await balance(f, host.account);
    await daemon.start();
    await watcher.start();
    expect(events.of('deal').map((e) => e.dealId)).toEqual(ids);

    for (let p = start; p <= start + BigInt(DURATION); p++) {
      await gotoPeriod(f, p);
      await events.wait((e) => e.type === 'period' && e.period === p, `host period ${p}`);
      await watched.wait((e) => e.type === 'period' && e.period === p - 1n, `watch ${p - 1n}`);
    }
    // After the last period the finished deals are claimed.
    await until(
      () => events.of('claimed').reduce((s, e) => s + e.amount, 0n) === 3n * PRICE,
      'every deal claimed',
    ).catch(() => {}); // the exact checks below say what is missing

    // Expected pay from the chain's own record: every seeded period's share (an unseeded
    // period would be refunded to the client).
    let expected = 0n;
    for (let i = 0n; i < BigInt(DURATION); i++)
      if (await seeded(f, start + i)) expected += share(PRICE, DURATION, i) * 3n;
    expect(expected).toBe(3n * PRICE); // the daemon seeded every period it worked in
    expect((await balance(f, host.account)) - before).toBe(expected);

    const accepted = await marketEvents(f.reader, { eventName: 'ProofAccepted' });
    const submitted = events.of('proof-submitted');
    expect(events.of('proof-failed')).toEqual([]);
    expect(submitted.length).toBe(accepted.length);
    expect(submitted.length).toBeGreaterThanOrEqual(DURATION * 3 * 0.5);
    const status = daemon.status();
    expect(status).toMatchObject({ misses: 0, liveDeals: 0, submitted: accepted.length });
    expect(status.earned).toBe(3n * PRICE);
    expect(status.withdrawn).toBe(3n * PRICE);
    // Locked collateral released, nothing slashed.
    const h = await getHost(f.reader, host.account);
    expect(h.locked).toBe(0n);
    expect(h.stake).toBe(100n * TOKEN);
    expect(watched.of('reported')).toEqual([]);
    expect(watcher.status().reports).toBe(0);
    expect(store.calls).toBe(submitted.length);

    // Figures: CPU and latency per proof (Node, anvil automine, 40 ms polls).
    const cpu = submitted.map((e) => e.cpuMs!).sort((a, b) => a - b);
    const own = submitted.map((e) => e.proofCpuMs!).sort((a, b) => a - b);
    const lat = submitted.map((e) => e.latencyMs).sort((a, b) => a - b);
    const prove = submitted.map((e) => e.proveMs).sort((a, b) => a - b);
    const med = (a: number[]) => a[Math.floor(a.length / 2)]!;
    console.log(
      `earn: ${submitted.length} proofs; cpu/proof median ${med(cpu).toFixed(2)} ms max ${cpu.at(-1)!.toFixed(2)} ms; ` +
        `of which the proof itself (prove, check, encode) median ${med(own).toFixed(2)} ms max ${own.at(-1)!.toFixed(2)} ms; ` +
        `prove() median ${med(prove).toFixed(2)} ms; latency (seed seen -> proof mined) median ${med(lat).toFixed(0)} ms max ${lat.at(-1)!.toFixed(0)} ms; ` +
        `gas/proof median ${med(submitted.map((e) => Number(e.gasUsed)).sort((a, b) => a - b))}`,
    );
    expect(med(cpu)).toBeLessThan(50);
    expect(med(own)).toBeLessThan(5);

    await Promise.all([daemon.stop(), watcher.stop()]);
    expect(daemon.status().running).toBe(false);
  });
});
