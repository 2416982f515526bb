// Delegated repair: a client's mandate lets a mediator open repair deals in the client's name, up
// to a budget of the client's tokens and until an expiry; the mediator never gains a token.
import { afterEach, afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Address } from 'viem';
import {
  ContractRevertError,
  DealStatus,
  InsufficientBalanceError,
  NO_PERMIT,
  abandonDeal,
  approveMarket,
  endDeal,
  eventsOf,
  getDeal,
  getMandate,
  hashMandate,
  mandateDigest,
  marketBalance,
  openDeals,
  openRepairDeals,
  openedDealIds,
  repairBounty,
  revokeMandate,
  setMandate,
  setMandateBySig,
  signMandate,
  signPermit,
  tokenAllowance,
  tokenBalance,
  type ChainSigner,
  type PermitArg,
} from '../src/index.ts';
import {
  TOKEN,
  devAccount,
  fund,
  makeShard,
  quoteFor,
  registerHost,
  setup,
  type Fixture,
  type Shard,
} from './helpers.ts';

async function revert(p: Promise<unknown>): Promise<{ name: string; args: readonly unknown[] }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ContractRevertError) return err.reason ?? { name: 'unknown', args: [] };
    throw err;
  }
  throw new Error('did not revert');
}

const SIZE = 3000;
const DURATION = 5;
const PRICE = 10n * TOKEN;
const DAY = 86_400n;

describe('StorageMarket: mandates (delegated repair)', () => {
  let f: Fixture;
  let owner: ChainSigner;
  let mediator: ChainSigner;
  let other: ChainSigner; // another client
  let shardSeed = 100;
  const shard = () => makeShard(shardSeed++, SIZE);

  /** `client` opens a deal for `s` on `host` (from its allowance, or a permit), which the host abandons. */
  async function failedDeal(
    client: ChainSigner,
    host: ChainSigner,
    s: Shard,
    permit?: PermitArg,
  ): Promise<bigint> {
    const req = await quoteFor(f, host, s, DURATION, PRICE, { client: client.account });
    if (!permit) await fund(f, client.account, PRICE);
    const [id] = openedDealIds(await openDeals(client, [req], permit ?? NO_PERMIT));
    await abandonDeal(host, id!);
    expect((await getDeal(f.reader, id!)).status).toBe(DealStatus.Failed);
    return id!;
  }

  /** A repair quote for `s`'s failed deal `repairOf`, signed for `client` (default: the owner). */
  const repairQuote = (
    host: ChainSigner,
    s: Shard,
    repairOf: bigint,
    price = PRICE,
    client: Address = owner.account,
  ) => quoteFor(f, host, s, DURATION, price, { repairOf, client });

  const inAnHour = async () => (await f.blockTimestamp()) + 3600n;

  beforeAll(async () => {
    f = await setup();
    owner = f.client;
    mediator = f.reporter;
    other = f.signer(devAccount(6));
    for (const h of [...f.hosts, f.deployer]) await registerHost(f, h, 1000n * TOKEN, 1n);
    // The owner lets the market pull its tokens (its own deals and the mandate's repairs).
    await approveMarket(owner, 2n ** 255n);
    await approveMarket(other, 2n ** 255n);
  });
  afterAll(() => f?.stop());

  // The mediator holds no tokens and is owed nothing by the market, whatever it does.
  afterEach(async () => {
    expect(await tokenBalance(f.reader, mediator.account)).toBe(0n);
    expect(await marketBalance(f.reader, mediator.account)).toBe(0n);
    expect(await tokenAllowance(f.reader, mediator.account)).toBe(0n);
  });

  it("a mediator repairs the owner's failed deal within the budget: the deal, its bounty and refunds are the owner's", async () => {
    const s = shard();
    const failed = await failedDeal(owner, f.hosts[0]!, s);
    const bounty = await repairBounty(f.reader, failed);
    expect(bounty).toBe(PRICE); // the abandoned deal's whole collateral

    const budget = 25n * TOKEN;
    const expiry = (await f.blockTimestamp()) + DAY;
    const set = await setMandate(owner, mediator.account, { budget, expiry });
    expect(eventsOf(set, 'MandateSet')[0]!.args).toEqual({
      client: owner.account,
      mediator: mediator.account,
      budget,
      expiry,
      nonce: 1n,
    });
    expect(await getMandate(f.reader, owner.account, mediator.account)).toEqual({
      budget,
      expiry,
      nonce: 1n,
    });

    await fund(f, owner.account, PRICE);
    const ownerTokens = await tokenBalance(f.reader, owner.account);
    const ownerBalance = await marketBalance(f.reader, owner.account);
    const req = await repairQuote(f.hosts[1]!, s, failed);
    const r = await openRepairDeals(mediator, owner.account, [req]);
    const [id] = openedDealIds(r);

    expect(eventsOf(r, 'DealOpened')[0]!.args).toMatchObject({
      client: owner.account,
      host: f.hosts[1]!.account,
    });
    expect(eventsOf(r, 'SlotRepaired')[0]!.args).toEqual({
      failedDealId: failed,
      newDealId: id,
      bounty,
    });
    expect(eventsOf(r, 'MandateUsed')[0]!.args).toEqual({
      client: owner.account,
      mediator: mediator.account,
      firstDealId: id,
      count: 1n,
      spent: PRICE,
      remaining: budget - PRICE,
    });
    expect(await getDeal(f.reader, id!)).toMatchObject({
      client: owner.account,
      status: DealStatus.Active,
      price: PRICE,
      escrow: PRICE,
    });
    expect((await getDeal(f.reader, failed)).status).toBe(DealStatus.Repaired);
    expect(await repairBounty(f.reader, failed)).toBe(0n);
    expect(await tokenBalance(f.reader, owner.account)).toBe(ownerTokens - PRICE);
    expect(await marketBalance(f.reader, owner.account)).toBe(ownerBalance + bounty);
    expect((await getMandate(f.reader, owner.account, mediator.account)).budget).toBe(
      budget - PRICE,
    );

    // The deal is the owner's: the mediator cannot end it, the owner can (refund to the owner).
    expect((await revert(endDeal(mediator, id!))).name).toBe('NotClient');
    await endDeal(owner, id!);
    expect(await marketBalance(f.reader, owner.account)).toBe(ownerBalance + bounty + PRICE);
  });

  it("refuses non-repairs, active or repaired deals, another client's deals and quotes not naming the owner", async () => {
    await setMandate(owner, mediator.account, {
      budget: 100n * TOKEN,
      expiry: (await f.blockTimestamp()) + DAY,
    });
    await fund(f, owner.account, 100n * TOKEN);
    const s = shard();
    const failed = await failedDeal(owner, f.hosts[0]!, s);

    // Not a repair, alone or inside a batch.
    const plain = await quoteFor(f, f.hosts[1]!, shard(), DURATION, PRICE);
    expect(await revert(openRepairDeals(mediator, owner.account, [plain]))).toEqual({
      name: 'NotARepair',
      args: [0n],
    });
    const ok = await repairQuote(f.hosts[1]!, s, failed);
    expect(await revert(openRepairDeals(mediator, owner.account, [ok, plain]))).toEqual({
      name: 'NotARepair',
      args: [1n],
    });

    // A deal that has not failed.
    const live = shard();
    const [liveId] = openedDealIds(
      await openDeals(owner, [await quoteFor(f, f.hosts[2]!, live, DURATION, PRICE)]),
    );
    const ofLive = await repairQuote(f.hosts[1]!, live, liveId!);
    expect(await revert(openRepairDeals(mediator, owner.account, [ofLive]))).toEqual({
      name: 'NotRepairable',
      args: [liveId],
    });

    // Another client's failed deal: the mediator's mandate from the owner does not reach it, and
    // it has none from that client.
    const theirs = shard();
    const theirFailed = await failedDeal(other, f.hosts[2]!, theirs);
    const ofTheirs = await repairQuote(f.hosts[1]!, theirs, theirFailed);
    expect(await revert(openRepairDeals(mediator, owner.account, [ofTheirs]))).toEqual({
      name: 'NotRepairable',
      args: [theirFailed],
    });
    const forThem = await repairQuote(f.hosts[1]!, theirs, theirFailed, PRICE, other.account);
    await fund(f, other.account, PRICE);
    expect(await revert(openRepairDeals(mediator, other.account, [forThem]))).toEqual({
      name: 'NoMandate',
      args: [other.account, mediator.account],
    });

    // A quote signed for the mediator (or anyone but the owner) does not open the owner's deal.
    const forMediator = await repairQuote(f.hosts[1]!, s, failed, PRICE, mediator.account);
    expect((await revert(openRepairDeals(mediator, owner.account, [forMediator]))).name).toBe(
      'BadSignature',
    );
    // Another shard's root for the failed slot.
    const wrongRoot = await repairQuote(f.hosts[1]!, shard(), failed);
    expect((await revert(openRepairDeals(mediator, owner.account, [wrongRoot]))).name).toBe(
      'NotRepairable',
    );

    // The real repair goes through once; the slot cannot be repaired twice.
    await openRepairDeals(mediator, owner.account, [ok]);
    const again = await repairQuote(f.hosts[2]!, s, failed);
    expect(await revert(openRepairDeals(mediator, owner.account, [again]))).toEqual({
      name: 'NotRepairable',
      args: [failed],
    });
  });

  it('stops at the budget: a repair (or a batch) costing more than what is left reverts', async () => {
    const budget = 15n * TOKEN;
    await setMandate(owner, mediator.account, { budget, expiry: (await f.blockTimestamp()) + DAY });
    await fund(f, owner.account, 100n * TOKEN);
    const [a, b] = [shard(), shard()];
    const failedA = await failedDeal(owner, f.hosts[0]!, a);
    const failedB = await failedDeal(owner, f.hosts[0]!, b);
    const qa = await repairQuote(f.hosts[1]!, a, failedA);
    const qb = await repairQuote(f.hosts[2]!, b, failedB);
    expect(await revert(openRepairDeals(mediator, owner.account, [qa, qb]))).toEqual({
      name: 'OverBudget',
      args: [budget, 2n * PRICE],
    });
    const pricey = await repairQuote(f.hosts[1]!, a, failedA, budget + 1n);
    expect(await revert(openRepairDeals(mediator, owner.account, [pricey]))).toEqual({
      name: 'OverBudget',
      args: [budget, budget + 1n],
    });
    await openRepairDeals(mediator, owner.account, [qa]);
    expect((await getMandate(f.reader, owner.account, mediator.account)).budget).toBe(
      budget - PRICE,
    );
    expect(await revert(openRepairDeals(mediator, owner.account, [qb]))).toEqual({
      name: 'OverBudget',
      args: [budget - PRICE, PRICE],
    });
    // Exactly the rest of the budget is fine, and leaves it at zero.
    const exact = await repairQuote(f.hosts[2]!, b, failedB, budget - PRICE);
    await openRepairDeals(mediator, owner.account, [exact]);
    expect((await getMandate(f.reader, owner.account, mediator.account)).budget).toBe(0n);
  });

  it('stops at the expiry, at revocation, and without a mandate', async () => {
    await fund(f, owner.account, 100n * TOKEN);
    const s = shard();
    const failed = await failedDeal(owner, f.hosts[0]!, s);
    const req = await repairQuote(f.hosts[1]!, s, failed);

    // Expired (the quote itself is still valid for a day).
    const expiry = await inAnHour();
    await setMandate(owner, mediator.account, { budget: 100n * TOKEN, expiry });
    await f.increaseTime(3601n);
    expect(await revert(openRepairDeals(mediator, owner.account, [req]))).toEqual({
      name: 'MandateExpired',
      args: [owner.account, mediator.account, expiry],
    });
    // A mandate cannot be granted already expired.
    expect((await revert(setMandate(owner, mediator.account, { budget: 1n, expiry }))).name).toBe(
      'MandateExpired',
    );

    // Revoked.
    await setMandate(owner, mediator.account, { budget: 100n * TOKEN, expiry: await inAnHour() });
    const revoked = await revokeMandate(owner, mediator.account);
    expect(eventsOf(revoked, 'MandateSet')[0]!.args).toMatchObject({ budget: 0n, expiry: 0n });
    expect(await getMandate(f.reader, owner.account, mediator.account)).toMatchObject({
      budget: 0n,
      expiry: 0n,
    });
    expect(await revert(openRepairDeals(mediator, owner.account, [req]))).toEqual({
      name: 'NoMandate',
      args: [owner.account, mediator.account],
    });

    // Another account the owner never mandated.
    const stranger = f.signer(devAccount(7));
    expect((await revert(openRepairDeals(stranger, owner.account, [req]))).name).toBe('NoMandate');
    // The owner repairs the slot itself as before.
    await openDeals(owner, [req]);
    expect((await getDeal(f.reader, failed)).status).toBe(DealStatus.Repaired);
  });

  it('a signed mandate and permit: the owner sends no transaction, the mediator submits both', async () => {
    const owner2 = f.signer(devAccount(8));
    const budget = 20n * TOKEN;
    await fund(f, owner2.account, PRICE + budget);
    const s = shard();
    // The owner's own deal through an exact permit: afterwards the market has no allowance.
    const failed = await failedDeal(
      owner2,
      f.hosts[0]!,
      s,
      await signPermit(owner2, PRICE, 2n ** 40n),
    );
    expect(await tokenAllowance(f.reader, owner2.account)).toBe(0n);

    const expiry = (await f.blockTimestamp()) + DAY;
    const signed = await signMandate(owner2, { mediator: mediator.account, budget, expiry });
    expect(signed).toMatchObject({ client: owner2.account, nonce: 0n });
    expect(hashMandate(f.config, signed)).toBe(await mandateDigest(f.reader, signed));
    const permit = await signPermit(owner2, budget, expiry);
    const sent = await f.reader.publicClient.getTransactionCount({ address: owner2.account });

    // Tampered terms or a signature by someone else are refused.
    expect((await revert(setMandateBySig(mediator, { ...signed, budget: budget + 1n }))).name).toBe(
      'BadMandateSignature',
    );
    const byMediator = await signMandate(mediator, { mediator: mediator.account, budget, expiry });
    expect(
      (await revert(setMandateBySig(mediator, { ...signed, signature: byMediator.signature })))
        .name,
    ).toBe('BadMandateSignature');

    const r = await setMandateBySig(mediator, signed);
    expect(eventsOf(r, 'MandateSet')[0]!.args).toEqual({
      client: owner2.account,
      mediator: mediator.account,
      budget,
      expiry,
      nonce: 1n,
    });
    // Used once: after spending, the same signature cannot restore the budget.
    const req = await repairQuote(f.hosts[1]!, s, failed, PRICE, owner2.account);
    await openRepairDeals(mediator, owner2.account, [req], permit);
    expect((await getMandate(f.reader, owner2.account, mediator.account)).budget).toBe(
      budget - PRICE,
    );
    expect(await tokenAllowance(f.reader, owner2.account)).toBe(budget - PRICE);
    expect(await revert(setMandateBySig(mediator, signed))).toEqual({
      name: 'BadMandateSignature',
      args: [],
    });
    expect(await f.reader.publicClient.getTransactionCount({ address: owner2.account })).toBe(sent);

    // The owner's own permits can keep the allowance the mandate relies on.
    const mine = await quoteFor(f, f.hosts[2]!, shard(), DURATION, PRICE, {
      client: owner2.account,
    });
    await openDeals(
      owner2,
      [mine],
      await signPermit(owner2, PRICE, 2n ** 40n, { onTopOfAllowance: true }),
    );
    expect(await tokenAllowance(f.reader, owner2.account)).toBe(budget - PRICE);

    // The balance the repair needs is the owner's, checked before anything is sent.
    const broke = await repairQuote(f.hosts[1]!, s, 999n, PRICE, owner2.account);
    const err = await openRepairDeals(mediator, owner2.account, [broke]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientBalanceError);
    expect((err as InsufficientBalanceError).account).toBe(owner2.account);

    // A signed mandate not yet submitted is void once the owner sets the mandate itself.
    const pending = await signMandate(owner2, { mediator: mediator.account, budget, expiry });
    await revokeMandate(owner2, mediator.account);
    expect((await revert(setMandateBySig(mediator, pending))).name).toBe('BadMandateSignature');
  });
});
