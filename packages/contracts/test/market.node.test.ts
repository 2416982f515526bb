import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from 'viem';
import {
  ContractRevertError,
  DealStatus,
  EndReason,
  NO_PERMIT,
  abandonDeal,
  addCollateral,
  approveMarket,
  cancelQuote,
  challengeFor,
  claim,
  endDeal,
  eventsOf,
  getDeal,
  getHost,
  leave,
  marketBalance,
  openDeals,
  openedDealIds,
  poke,
  releaseBounty,
  repairBounty,
  reportMiss,
  settle,
  signPermit,
  submitProof,
  tokenBalance,
  updateHost,
  withdraw,
  withdrawCollateral,
  type ChainSigner,
  type DealRequest,
} from '../src/index.ts';
import {
  TOKEN,
  fund,
  gotoPeriod,
  makeShard,
  period,
  proofOf,
  quoteFor,
  registerHost,
  setup,
  type Fixture,
  type Shard,
} from './helpers.ts';

async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ContractRevertError) return err.reason?.name ?? 'unknown';
    throw err;
  }
  throw new Error('did not revert');
}

const SIZE = 3000; // 12 leaves of 256 bytes, tree height 4

/** Opens deals for `shards` on `hosts` (one each) through a permit; returns their ids. */
async function open(
  f: Fixture,
  shards: Shard[],
  hosts: ChainSigner[],
  duration: number,
  price: bigint,
) {
  const requests: DealRequest[] = [];
  for (let i = 0; i < shards.length; i++)
    requests.push(await quoteFor(f, hosts[i]!, shards[i]!, duration, price));
  const total = price * BigInt(shards.length);
  await fund(f, f.client.account, total);
  const permit = await signPermit(f.client, total, 2n ** 40n);
  const receipt = await openDeals(f.client, requests, permit);
  return { ids: openedDealIds(receipt), receipt, requests };
}

/** The host answers the current period's challenge of each deal if there is one. */
async function proveAll(
  f: Fixture,
  ids: bigint[],
  shards: Shard[],
  hosts: ChainSigner[],
): Promise<number> {
  const p = await period(f);
  await poke(f.reporter);
  let proofs = 0;
  for (let i = 0; i < ids.length; i++) {
    const c = await challengeFor(f.reader, ids[i]!, p);
    expect(c.seeded).toBe(true);
    if (!c.challenged) continue;
    const { leaf, proof } = proofOf(shards[i]!, Number(c.leafIndex));
    await submitProof(hosts[i]!, ids[i]!, leaf, proof);
    proofs++;
  }
  return proofs;
}

describe('StorageMarket: hosts', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setup();
  });
  afterAll(() => f?.stop());

  it('registers with a permit, updates, adds and withdraws collateral, leaves', async () => {
    const host = f.hosts[0]!;
    await registerHost(f, host, 100n * TOKEN, 5n);
    let h = await getHost(f.reader, host.account);
    expect(h).toMatchObject({
      stake: 100n * TOKEN,
      locked: 0n,
      pricePerBytePeriod: 5n,
      registered: true,
    });
    expect(await revertName(registerHost(f, host, 1n))).toBe('AlreadyRegistered');

    await updateHost(host, { peerId: new Uint8Array([1, 2]), pricePerBytePeriod: 7n });
    await fund(f, host.account, 10n * TOKEN);
    const permit = await signPermit(host, 10n * TOKEN, 2n ** 40n);
    await addCollateral(host, 10n * TOKEN, permit);
    h = await getHost(f.reader, host.account);
    expect(h).toMatchObject({ stake: 110n * TOKEN, pricePerBytePeriod: 7n, peerId: '0x0102' });

    await withdrawCollateral(host, 30n * TOKEN);
    expect(await revertName(withdrawCollateral(host, 81n * TOKEN))).toBe('InsufficientStake');
    const before = await tokenBalance(f.reader, host.account);
    await leave(host);
    expect(await tokenBalance(f.reader, host.account)).toBe(before + 80n * TOKEN);
    expect((await getHost(f.reader, host.account)).registered).toBe(false);
  });
});

describe('StorageMarket: opening deals', () => {
  let f: Fixture;
  const shards = [makeShard(1, SIZE), makeShard(2, SIZE), makeShard(3, SIZE)];
  beforeAll(async () => {
    f = await setup();
    for (const h of f.hosts) await registerHost(f, h, 1000n * TOKEN, 1n);
  });
  afterAll(() => f?.stop());

  it('opens all shards of a file in one transaction, escrow pulled through a permit', async () => {
    const price = 50n * TOKEN;
    const marketBefore = await tokenBalance(f.reader, f.config.market);
    const { ids, receipt } = await open(f, shards, f.hosts, 10, price);
    expect(ids).toHaveLength(3);
    expect(await tokenBalance(f.reader, f.config.market)).toBe(marketBefore + 3n * price);
    expect(await tokenBalance(f.reader, f.client.account)).toBe(0n);
    const d = await getDeal(f.reader, ids[0]!);
    const start = (await period(f)) + 1n;
    expect(d).toMatchObject({
      client: f.client.account,
      host: f.hosts[0]!.account,
      root: toHex(shards[0]!.tree.root),
      leafCount: 12n,
      leafSize: 256,
      start,
      duration: 10,
      price,
      escrow: price,
      collateral: price,
      status: DealStatus.Active,
    });
    expect((await getHost(f.reader, f.hosts[0]!.account)).locked).toBe(price);
    expect(eventsOf(receipt, 'DealOpened').map((e) => e.args.client)).toEqual([
      f.client.account,
      f.client.account,
      f.client.account,
    ]);
  });

  it('refuses replayed, forged, expired, underpriced and unbacked quotes, and inconsistent shards', async () => {
    const price = 10n * TOKEN;
    await fund(f, f.client.account, 100n * price);
    await approveMarket(f.client, 100n * price);
    const noPermit = NO_PERMIT;
    const ok = await quoteFor(f, f.hosts[0]!, shards[0]!, 5, price);
    await openDeals(f.client, [ok], noPermit);
    expect(await revertName(openDeals(f.client, [ok], noPermit))).toBe('NonceUsed');

    // Signed for another client: the deal cannot be opened by this one (no griefing).
    const other = await quoteFor(f, f.hosts[0]!, shards[0]!, 5, price, {
      client: f.reporter.account,
    });
    expect(await revertName(openDeals(f.client, [other], noPermit))).toBe('BadSignature');
    // Terms changed after signing.
    const tampered = { ...(await quoteFor(f, f.hosts[0]!, shards[0]!, 5, price)), duration: 6 };
    expect(await revertName(openDeals(f.client, [tampered], noPermit))).toBe('BadSignature');
    // Signed by someone who is not the host.
    const q = await quoteFor(f, f.hosts[0]!, shards[0]!, 5, price);
    const forged = {
      ...q,
      signature: (await quoteFor(f, f.hosts[1]!, shards[0]!, 5, price, { nonce: q.nonce }))
        .signature,
    };
    expect(await revertName(openDeals(f.client, [forged], noPermit))).toBe('BadSignature');

    const expired = await quoteFor(f, f.hosts[0]!, shards[0]!, 5, price, { expiry: 1n });
    expect(await revertName(openDeals(f.client, [expired], noPermit))).toBe('QuoteExpired');
    const cheap = await quoteFor(f, f.hosts[0]!, shards[0]!, 5, BigInt(SIZE) * 5n - 1n);
    expect(await revertName(openDeals(f.client, [cheap], noPermit))).toBe('PriceBelowRate');
    const huge = await quoteFor(f, f.hosts[0]!, shards[0]!, 5, 2000n * TOKEN);
    await fund(f, f.client.account, 2000n * TOKEN);
    expect(await revertName(openDeals(f.client, [huge], noPermit))).toBe('InsufficientStake');
    const badCount = await quoteFor(f, f.hosts[0]!, shards[0]!, 5, price, { leafCount: 13n });
    expect(await revertName(openDeals(f.client, [badCount], noPermit))).toBe('InvalidShard');
    // One bad request reverts the whole file's batch.
    const good = await quoteFor(f, f.hosts[1]!, shards[1]!, 5, price);
    expect(await revertName(openDeals(f.client, [good, badCount], noPermit))).toBe('InvalidShard');

    // The host can cancel a quote it handed out.
    const cancelled = await quoteFor(f, f.hosts[2]!, shards[2]!, 5, price);
    await cancelQuote(f.hosts[2]!, cancelled.nonce);
    expect(await revertName(openDeals(f.client, [cancelled], noPermit))).toBe('NonceUsed');
  });
});

describe('StorageMarket: an honest host over a whole deal', () => {
  let f: Fixture;
  const shards = [makeShard(11, SIZE), makeShard(12, 256 * 1000), makeShard(13, 1)];
  beforeAll(async () => {
    f = await setup();
    for (const h of f.hosts) await registerHost(f, h, 1000n * TOKEN, 1n);
  });
  afterAll(() => f?.stop());

  it('is paid every period exactly once, never slashed, and gets its collateral back', async () => {
    const price = 10_000_003n; // not a multiple of the duration: shares must still sum exactly
    const duration = 12;
    const { ids } = await open(f, shards, f.hosts, duration, price);
    const start = (await getDeal(f.reader, ids[0]!)).start;
    let proofs = 0;
    for (let p = start; p < start + BigInt(duration); p++) {
      await gotoPeriod(f, p);
      proofs += await proveAll(f, ids, shards, f.hosts);
      // A proof cannot be submitted twice in a period, nor when not challenged.
      const c = await challengeFor(f.reader, ids[0]!, p);
      const { leaf, proof } = proofOf(shards[0]!, Number(c.leafIndex));
      const name = await revertName(submitProof(f.hosts[0]!, ids[0]!, leaf, proof));
      expect(name).toBe(c.challenged ? 'AlreadyProven' : 'NotChallenged');
    }
    expect(proofs).toBeGreaterThan(0);
    await gotoPeriod(f, start + BigInt(duration));
    for (let i = 0; i < 3; i++) {
      const before = await tokenBalance(f.reader, f.hosts[i]!.account);
      await claim(f.hosts[i]!, [ids[i]!]);
      expect(await tokenBalance(f.reader, f.hosts[i]!.account)).toBe(before + price);
      const d = await getDeal(f.reader, ids[i]!);
      expect(d).toMatchObject({
        status: DealStatus.Completed,
        misses: 0,
        escrow: 0n,
        earned: 0n,
        collateral: 0n,
      });
      const h = await getHost(f.reader, f.hosts[i]!.account);
      expect(h).toMatchObject({ stake: 1000n * TOKEN, locked: 0n, activeDeals: 0n });
    }
    // Nothing left to claim: no period is paid twice.
    expect(await revertName(claim(f.hosts[0]!, [ids[0]!]))).toBe('NothingToWithdraw');
    expect(await tokenBalance(f.reader, f.config.market)).toBe(3000n * TOKEN);
  });
});

describe('StorageMarket: proofs, misses, slashing and repair (always challenged)', () => {
  let f: Fixture;
  const shards = [makeShard(21, SIZE), makeShard(22, SIZE), makeShard(23, SIZE)];
  const price = 90n * TOKEN;
  beforeAll(async () => {
    f = await setup({ startBps: 10_000, floorBps: 10_000 });
    for (const h of f.hosts) await registerHost(f, h, 1000n * TOKEN, 1n);
  });
  afterAll(() => f?.stop());

  it('rejects wrong leaves, proofs of other deals, proofs outside the deal or by others', async () => {
    const { ids } = await open(f, shards.slice(0, 2), f.hosts.slice(0, 2), 3, price);
    const [a, b] = ids as [bigint, bigint];
    expect(
      await revertName(submitProof(f.hosts[0]!, a, new Uint8Array(256), new Uint8Array(128))),
    ).toBe('OutsideDeal');
    const start = (await getDeal(f.reader, a)).start;
    await gotoPeriod(f, start);
    await poke(f.reporter);
    const ca = await challengeFor(f.reader, a, start);
    const cb = await challengeFor(f.reader, b, start);
    expect(ca.challenged && cb.challenged).toBe(true);
    const pa = proofOf(shards[0]!, Number(ca.leafIndex));
    const wrongLeaf = proofOf(shards[0]!, (Number(ca.leafIndex) + 1) % 12);
    expect(await revertName(submitProof(f.hosts[0]!, a, wrongLeaf.leaf, wrongLeaf.proof))).toBe(
      'InvalidProof',
    );
    // Deal b's valid proof (another shard) does not answer deal a, and only a's host may answer.
    const pb = proofOf(shards[1]!, Number(cb.leafIndex));
    expect(await revertName(submitProof(f.hosts[0]!, a, pb.leaf, pb.proof))).toBe('InvalidProof');
    expect(await revertName(submitProof(f.hosts[1]!, a, pa.leaf, pa.proof))).toBe('NotHost');
    await submitProof(f.hosts[0]!, a, pa.leaf, pa.proof);
    await submitProof(f.hosts[1]!, b, pb.leaf, pb.proof);
    // Next period: last period's proof does not count again (the leaf index is fresh, and
    // the deal records which period it proved).
    await gotoPeriod(f, start + 1n);
    await poke(f.reporter);
    const ca2 = await challengeFor(f.reader, a, start + 1n);
    if (ca2.leafIndex !== ca.leafIndex) {
      expect(await revertName(submitProof(f.hosts[0]!, a, pa.leaf, pa.proof))).toBe('InvalidProof');
    }
    await settle(f.reporter, a, 10n);
    const d = await getDeal(f.reader, a);
    expect(d.settled).toBe(start + 1n);
    expect(d.earned).toBe(price / 3n);
  });

  it('slashes a missed proof, rewards the reporter, compensates the client; the third miss ends the deal and opens the slot for repair', async () => {
    const { ids } = await open(f, [shards[2]!], [f.hosts[2]!], 5, price);
    const id = ids[0]!;
    const host = f.hosts[2]!;
    const start = (await getDeal(f.reader, id)).start;
    const clientBalance0 = await marketBalance(f.reader, f.client.account);
    // Period `start` is proven, the next three are not.
    await gotoPeriod(f, start);
    await proveAll(f, [id], [shards[2]!], [host]);
    await gotoPeriod(f, start + 1n);
    await poke(f.reporter);
    expect(await revertName(reportMiss(f.reporter, id, start + 1n))).toBe('PeriodNotClosed');
    expect(await revertName(reportMiss(f.reporter, id, start))).toBe('NoMiss');
    await gotoPeriod(f, start + 2n);
    await poke(f.reporter);
    const r = await reportMiss(f.reporter, id, start + 1n);
    const slashed = eventsOf(r, 'Slashed')[0]!;
    const collateral = price; // collateralBps = 100 %
    const firstSlash = collateral / 3n;
    expect(slashed.args).toMatchObject({ reward: (firstSlash * 2000n) / 10000n, misses: 1 });
    expect(await marketBalance(f.reader, f.reporter.account)).toBe((firstSlash * 2000n) / 10000n);
    let d = await getDeal(f.reader, id);
    expect(d).toMatchObject({
      misses: 1,
      status: DealStatus.Active,
      collateral: collateral - firstSlash,
    });
    // The missed period's share and the rest of the slash go to the client.
    const share = price / 5n;
    expect(await marketBalance(f.reader, f.client.account)).toBe(
      clientBalance0 + share + firstSlash - (firstSlash * 2000n) / 10000n,
    );
    // Two more misses; the second is found by the host's own claim (no reporter reward for it).
    await gotoPeriod(f, start + 3n);
    await poke(f.reporter);
    await gotoPeriod(f, start + 4n);
    await poke(f.reporter);
    const hostBefore = await tokenBalance(f.reader, host.account);
    const stakeBefore = (await getHost(f.reader, host.account)).stake;
    await claim(host, [id]);
    expect(await tokenBalance(f.reader, host.account)).toBe(hostBefore + share); // only the proven period
    d = await getDeal(f.reader, id);
    expect(d).toMatchObject({ misses: 3, status: DealStatus.Failed, collateral: 0n, escrow: 0n });
    const h = await getHost(f.reader, host.account);
    expect(h).toMatchObject({
      locked: 0n,
      activeDeals: 0n,
      stake: stakeBefore - (collateral - firstSlash),
    });
    const bounty = await repairBounty(f.reader, id);
    const lastSlash = collateral - firstSlash - (collateral - firstSlash) / 2n;
    // The host settled its own miss: the reporter's cut went to the client, the rest is the bounty.
    expect(bounty).toBe(lastSlash - (lastSlash * 2000n) / 10000n);
    // Repair: a new host stores the regenerated (identical) shard; the bounty goes to the client.
    await registerHost(f, f.deployer, 1000n * TOKEN, 1n);
    const repair = await quoteFor(f, f.deployer, shards[2]!, 5, price, { repairOf: id });
    await fund(f, f.client.account, price);
    const permit = await signPermit(f.client, price, 2n ** 40n);
    const before = await marketBalance(f.reader, f.client.account);
    const rr = await openDeals(f.client, [repair], permit);
    expect(eventsOf(rr, 'SlotRepaired')[0]!.args).toMatchObject({
      failedDealId: id,
      bounty,
    });
    expect(await marketBalance(f.reader, f.client.account)).toBe(before + bounty);
    expect((await getDeal(f.reader, id)).status).toBe(DealStatus.Repaired);
    await fund(f, f.client.account, price);
    expect(
      await revertName(
        openDeals(
          f.client,
          [await quoteFor(f, f.deployer, shards[2]!, 5, price, { repairOf: id })],
          permit,
        ),
      ),
    ).toBe('NotRepairable');
  });
});

describe('StorageMarket: ending deals early', () => {
  let f: Fixture;
  const shards = [makeShard(31, SIZE), makeShard(32, SIZE)];
  const price = 100n * TOKEN;
  beforeAll(async () => {
    f = await setup({ startBps: 10_000, floorBps: 10_000 });
    for (const h of f.hosts) await registerHost(f, h, 1000n * TOKEN, 1n);
  });
  afterAll(() => f?.stop());

  it('the client ends a deal: the host keeps what closed periods earned, the rest is refunded', async () => {
    const { ids } = await open(f, [shards[0]!], [f.hosts[0]!], 4, price);
    const id = ids[0]!;
    const start = (await getDeal(f.reader, id)).start;
    await gotoPeriod(f, start);
    await proveAll(f, [id], [shards[0]!], [f.hosts[0]!]);
    await gotoPeriod(f, start + 1n);
    expect(await revertName(endDeal(f.hosts[0]!, id))).toBe('NotClient');
    const r = await endDeal(f.client, id);
    expect(eventsOf(r, 'DealEnded')[0]!.args).toMatchObject({
      reason: EndReason.ClientEnded,
      refund: price - price / 4n,
    });
    const d = await getDeal(f.reader, id);
    expect(d).toMatchObject({
      status: DealStatus.Ended,
      earned: price / 4n,
      escrow: 0n,
      collateral: 0n,
    });
    expect(await getHost(f.reader, f.hosts[0]!.account)).toMatchObject({
      locked: 0n,
      stake: 1000n * TOKEN,
    });
    const before = await tokenBalance(f.reader, f.client.account);
    await withdraw(f.client);
    expect(await tokenBalance(f.reader, f.client.account)).toBe(before + price - price / 4n);
    await claim(f.hosts[0]!, [id]);
  });

  it('a host that walks away forfeits the deal collateral and cannot leave while deals are live', async () => {
    const { ids } = await open(f, [shards[1]!], [f.hosts[1]!], 4, price);
    const id = ids[0]!;
    expect(await revertName(leave(f.hosts[1]!))).toBe('HasActiveDeals');
    expect(await revertName(withdrawCollateral(f.hosts[1]!, 1000n * TOKEN))).toBe(
      'InsufficientStake',
    );
    const r = await abandonDeal(f.hosts[1]!, id);
    expect(eventsOf(r, 'DealEnded')[0]!.args).toMatchObject({
      reason: EndReason.HostAbandoned,
      refund: price,
    });
    expect(await getHost(f.reader, f.hosts[1]!.account)).toMatchObject({
      stake: 1000n * TOKEN - price,
      locked: 0n,
      activeDeals: 0n,
    });
    expect(await repairBounty(f.reader, id)).toBe(price);
    // The client gives up on repair and takes the bounty.
    await releaseBounty(f.client, id);
    expect(await repairBounty(f.reader, id)).toBe(0n);
    await leave(f.hosts[1]!);
  });

  it('a period nobody seeded is not paid: its share returns to the client', async () => {
    const { ids } = await open(f, [shards[0]!], [f.hosts[2]!], 2, price);
    const id = ids[0]!;
    const start = (await getDeal(f.reader, id)).start;
    await gotoPeriod(f, start + 2n); // no transaction during the deal's two periods
    const before = await marketBalance(f.reader, f.client.account);
    const r = await settle(f.reporter, id, 10n);
    expect(eventsOf(r, 'Settled')[0]!.args).toMatchObject({
      paid: 0n,
      refunded: price,
    });
    expect(await marketBalance(f.reader, f.client.account)).toBe(before + price);
    expect((await getDeal(f.reader, id)).status).toBe(DealStatus.Completed);
  });
});
