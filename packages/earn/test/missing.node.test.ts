// A host that lost one shard (prove() throws) misses that deal's challenges; the watcher reports
// each miss and is rewarded; after maxMisses the deal fails and the client's unspent escrow comes
// back; the host's other deals keep being proven and paid. A corrupt shard is caught before gas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DealStatus,
  getDeal,
  getHost,
  marketBalance,
  marketEvents,
  repairBounty,
} from '@cairn/contracts';
import { HostDaemon, Watcher, type HostEvent, type WatcherEvent } from '../src/index.ts';
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
  setup,
  until,
  type Fixture,
} from './helpers.ts';

const DURATION = 6;
const PRICE = 600_000n;

let f: Fixture;
beforeAll(async () => {
  // Every deal is challenged every period: misses are certain, not probable.
  f = await setup({ startBps: 10_000, floorBps: 10_000, maxMisses: 3, reporterBps: 2000 });
});
afterAll(() => f?.stop());

describe('a host that lost a shard', () => {
  it('is reported by the watcher until the deal fails; its other deals keep paying', async () => {
    const host = f.hosts[0]!;
    const STAKE = 100n * TOKEN;
    await registerHost(f, host, STAKE);
    const store = new TestStore();
    const shards = [makeShard(11, 5000), makeShard(12, 9000), makeShard(13, 2048)];
    shards.forEach((s) => store.add(s));
    const [a, b, c] = await openFor(f, host, shards, DURATION, PRICE);
    store.broken.add(shards[1]!.rootHex); // deal b's shard is gone
    store.corrupt.add(shards[2]!.rootHex); // deal c's shard is corrupt
    const start = (await period(f)) + 1n;

    const events = new Events<HostEvent>();
    const watched = new Events<WatcherEvent>();
    const daemon = new HostDaemon({
      reader: f.reader,
      signer: host,
      config: f.config,
      prove: store.prove,
      onEvent: events.push,
      claimEveryPeriods: 0, // claims only when deals end: the watcher reports first
      proveAttempts: 2,
      ...FAST,
    });
    const watcher = new Watcher({
      reader: f.reader,
      signer: f.reporter,
      config: f.config,
      onEvent: watched.push,
      ...FAST,
    });
    const hostBefore = await balance(f, host.account);
    const reporterBefore = await balance(f, f.reporter.account);
    await Promise.all([daemon.start(), watcher.start()]);

    for (let p = start; p <= start + BigInt(DURATION); p++) {
      await gotoPeriod(f, p);
      await events.wait((e) => e.type === 'period' && e.period === p, `host period ${p}`);
      await watched.wait((e) => e.type === 'period' && e.period === p - 1n, `watch ${p - 1n}`);
    }
    await until(
      () => events.of('claimed').reduce((s, e) => s + e.amount, 0n) === PRICE,
      'deal a claimed',
    ).catch(() => {}); // the exact checks below say what is missing

    // Failures are reported clearly, not thrown: b's shard is missing, c's is corrupt (caught
    // locally, no transaction sent).
    // (Periods up to the third miss: in the next one the daemon may try once more before the
    // watcher's report that fails the deal lands.)
    const failed = events.of('proof-failed').filter((e) => e.period < start + 3n);
    const bFails = failed.filter((e) => e.dealId === b);
    const cFails = failed.filter((e) => e.dealId === c);
    expect(bFails.length).toBe(3 * 2); // 3 periods until the deal failed, 2 attempts each
    expect(bFails[0]).toMatchObject({ reason: 'prove', willRetry: true });
    expect(bFails[1]).toMatchObject({ reason: 'prove', willRetry: false });
    expect(bFails[0]!.message).toMatch(/ShardNotFoundError: no shard/);
    expect(cFails[0]).toMatchObject({ reason: 'invalid' });
    expect(cFails[0]!.message).toMatch(/corrupt/);
    expect(events.of('error')).toEqual([]);

    // Deal a: proven every period and paid in full.
    const proofs = events.of('proof-submitted');
    expect(proofs.every((e) => e.dealId === a)).toBe(true);
    expect(proofs.map((e) => e.period)).toEqual(
      Array.from({ length: DURATION }, (_, i) => start + BigInt(i)),
    );
    expect((await balance(f, host.account)) - hostBefore).toBe(PRICE);

    // b and c: three misses each, every one reported by the watcher, then failed.
    const slashed = await marketEvents(f.reader, { eventName: 'Slashed' });
    expect(slashed.length).toBe(6);
    expect(slashed.every((e) => e.args.reporter === f.reporter.account)).toBe(true);
    const reported = watched.of('reported');
    expect(reported.map((e) => [e.dealId, e.period])).toEqual(
      [0n, 1n, 2n].flatMap((i) => [
        [b, start + i],
        [c, start + i],
      ]),
    );
    const rewards = slashed.reduce((s, e) => s + e.args.reward, 0n);
    for (const e of slashed) {
      const amount = e.args.reward + e.args.compensation;
      expect(e.args.reward).toBe((amount * 2000n) / 10_000n);
    }
    expect(reported.reduce((s, e) => s + e.reward, 0n)).toBe(rewards);
    for (const id of [b!, c!]) {
      const d = await getDeal(f.reader, id);
      expect(d.status).toBe(DealStatus.Failed);
      const mine = slashed.filter((e) => e.args.dealId === id);
      expect(mine.reduce((s, e) => s + e.args.reward + e.args.compensation, 0n)).toBe(PRICE);
      // The last miss's compensation is the slot's repair bounty.
      expect(await repairBounty(f.reader, id)).toBe(mine[2]!.args.compensation);
    }
    // The client gets each failed deal's whole price back (3 missed periods + the unspent rest)
    // and the compensation of the first two misses.
    const comp = slashed
      .filter((e) => e.args.misses < 3)
      .reduce((s, e) => s + e.args.compensation, 0n);
    expect(await marketBalance(f.reader, f.client.account)).toBe(2n * PRICE + comp);
    // The host lost both deals' collateral and nothing else; the daemon saw every miss.
    expect((await getHost(f.reader, host.account)).stake).toBe(STAKE - 2n * PRICE);
    const missed = events.of('missed');
    expect(missed.length).toBe(6);
    expect(missed.filter((e) => e.dealId === b).every((e) => e.cause === 'prove')).toBe(true);
    expect(missed.filter((e) => e.dealId === c).every((e) => e.cause === 'invalid')).toBe(true);
    expect(daemon.status()).toMatchObject({ misses: 6, slashed: 2n * PRICE, earned: PRICE });
    expect(
      events
        .of('deal-ended')
        .map((e) => [e.dealId, e.reason])
        .sort(),
    ).toEqual([
      [a, 'completed'],
      [b, 'missed'],
      [c, 'missed'],
    ]);

    // The watcher withdrew its rewards; it is idempotent: nothing is left to report.
    await until(
      () => watched.of('withdrawn').reduce((s, e) => s + e.amount, 0n) === rewards,
      'rewards withdrawn',
    );
    expect((await balance(f, f.reporter.account)) - reporterBefore).toBe(rewards);
    expect(watcher.status()).toMatchObject({ reports: 6, rewards, withdrawn: rewards, sent: 6 });
    expect(watched.of('report-skipped')).toEqual([]);
    await Promise.all([daemon.stop(), watcher.stop()]);
  });
});
