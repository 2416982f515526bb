// Paid storage over the real network and a real chain: hosts registered in the market (anvil)
// sign quotes over libp2p and admit a put only for a funded deal naming them and that exact root;
// the client opens all of a file's deals in one transaction, then sends the shards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardSetOf, toHex } from '@cairn/codec';
import {
  DealStatus,
  EndReason,
  abandonDeal,
  approveMarket,
  getMandate,
  repairBounty,
  setMandate,
  getDeal,
  marketBalance,
  marketEvents,
  tokenBalance,
  type ChainSigner,
} from '@cairn/contracts';
import {
  CairnNetwork,
  dealAdmission,
  decodeDealRef,
  encodeDealRef,
  getFile,
  hostQuoter,
  putFile,
  repairFile,
  repairShards,
  DurabilityKeeper,
  Mediator,
  RepairBusyError,
  type DelegatedFile,
  type MediatorEvent,
  type Placement,
  journalDeals,
  type KeeperEvent,
  type KeeperStore,
} from '@cairn/drive';
import {
  PutRefusedError,
  createCairnNode,
  putShard,
  startHosting,
  type CairnNode,
  type Hosting,
  type PutAdmission,
} from '@cairn/peer';
import { MemoryShardStore } from '@cairn/store';
import { ensureRegistered } from '@cairn/earn';
import { startRelay, type Relay } from '@cairn/relay';
import {
  devAccount,
  fund,
  setup,
  TOKEN,
  type Fixture,
} from '../packages/contracts/test/helpers.ts';

const MiB = 1024 * 1024;
let f: Fixture;
let relay: Relay;
let directory: string;
const hosts: { node: CairnNode; hosting: Hosting; signer: ChainSigner }[] = [];
const clients: CairnNode[] = [];

/** Shard puts still to refuse after their deal was admitted (a disk that fills up meanwhile). */
let failAfterDeal = 0;
function admitAndMaybeFail(admit: (put: PutAdmission) => Promise<void>) {
  return async (put: PutAdmission): Promise<void> => {
    await admit(put);
    if (failAfterDeal > 0 && decodeDealRef(put.deal).kind === 'shard') {
      failAfterDeal--;
      throw new PutRefusedError('the disk filled up');
    }
  };
}

beforeAll(async () => {
  f = await setup();
  relay = await startRelay({ listen: ['/ip4/127.0.0.1/tcp/0/ws'], httpPort: 0, appDir: null });
  directory = relay.multiaddrs[0]!.toString();
  for (let i = 0; i < 4; i++) {
    const signer = f.signer(devAccount(6 + i));
    const node = await createCairnNode({ relays: [directory], allowPrivateAddresses: true });
    await fund(f, signer.account, 1000n * TOKEN);
    await ensureRegistered(signer, {
      peerId: node.peerId.toString(),
      pricePerBytePeriod: 1n,
      stake: 1000n * TOKEN,
    });
    const hosting = await startHosting(node, {
      store: new MemoryShardStore({ quota: 64 * MiB }),
      directories: [directory],
      wallet: signer.account,
      price: 1n,
      admit: admitAndMaybeFail(dealAdmission({ reader: f.reader, host: signer.account })),
      quoter: hostQuoter({ signer, pricePerBytePeriod: 1n }),
    });
    hosts.push({ node, hosting, signer });
  }
  await fund(f, f.client.account, 100n * TOKEN);
  const deadline = Date.now() + 30_000;
  while (relay.directory.size < 4 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(hosts.map((h) => h.hosting.stop()));
  await Promise.allSettled([...hosts.map((h) => h.node.stop()), ...clients.map((c) => c.stop())]);
  await relay?.stop();
  await f?.stop();
});

/** The test host with this peer id, and its chain signer. */
const hostOf = (peer: string) => hosts.find((h) => h.node.peerId.toString() === peer)!;
const signerOf = (peer: string) => hostOf(peer).signer;

async function network(): Promise<CairnNetwork> {
  const node = await createCairnNode({ allowPrivateAddresses: true });
  clients.push(node);
  return new CairnNetwork({ node, directories: [directory] });
}

async function download(link: string): Promise<Buffer> {
  const got = await getFile(await network(), link);
  const parts: Uint8Array[] = [];
  for await (const chunk of got.body) parts.push(chunk);
  return Buffer.concat(parts);
}

it('opens every deal in one transaction, pays exactly the quotes, then stores; the file comes back', async () => {
  const file = crypto.getRandomValues(new Uint8Array(60_000));
  const before = await tokenBalance(f.reader, f.client.account);
  const net = await network();
  const result = await putFile(net, () => file, {
    k: 2,
    m: 2,
    size: file.byteLength,
    paid: { signer: f.client, duration: 10 },
  });
  const ids = result.placements.map((p) => p.dealId!);
  expect(ids.every((id) => typeof id === 'bigint')).toBe(true);
  const wallets = new Map(hosts.map((h) => [h.node.peerId.toString(), h.signer.account]));
  let total = 0n;
  for (const p of result.placements) {
    const deal = await getDeal(f.reader, p.dealId!);
    expect(deal.status).toBe(DealStatus.Active);
    expect(deal.client).toBe(f.client.account);
    expect(deal.host).toBe(wallets.get(p.host));
    expect(deal.root).toBe(`0x${toHex(result.manifest.roots[p.shard]!)}`);
    expect(deal.price).toBe(deal.size * 10n); // 1 unit per byte per period, 10 periods
    total += deal.price;
  }
  expect(await tokenBalance(f.reader, f.client.account)).toBe(before - total);
  // One transaction opened them all: consecutive ids.
  const sorted = [...ids].sort((a, b) => (a < b ? -1 : 1));
  expect(sorted.at(-1)! - sorted[0]!).toBe(BigInt(ids.length - 1));

  expect(await download(result.link)).toEqual(Buffer.from(file));
}, 120_000);

it('a host refuses unpaid bytes, and bytes for a deal that is not its own or not for that root', async () => {
  const client = await createCairnNode({ allowPrivateAddresses: true });
  clients.push(client);
  const net = await network();
  const small = crypto.getRandomValues(new Uint8Array(10_000));
  const paid = await putFile(net, () => small, {
    k: 1,
    m: 1,
    paid: { signer: f.client, duration: 2 },
  });
  const [first, second] = paid.placements;
  const addrsOf = (peer: string) => net.addressesOf(peer);
  const junk = crypto.getRandomValues(new Uint8Array(4096));
  const { MerkleTree } = await import('@cairn/codec');
  const root = MerkleTree.build(junk, 1024).root;
  // No deal at all.
  await expect(
    putShard(client, await addrsOf(first!.host), junk, { root, size: junk.length }),
  ).rejects.toBeInstanceOf(PutRefusedError);
  // Someone else's deal.
  await expect(
    putShard(client, await addrsOf(first!.host), junk, {
      root,
      size: junk.length,
      deal: encodeDealRef('shard', second!.dealId!),
    }),
  ).rejects.toThrow(/another host/);
  // Its own deal, but another root.
  await expect(
    putShard(client, await addrsOf(first!.host), junk, {
      root,
      size: junk.length,
      deal: encodeDealRef('shard', first!.dealId!),
    }),
  ).rejects.toThrow(/another root or size/);
  // A second file record on the same deal.
  await expect(
    putShard(client, await addrsOf(first!.host), junk, {
      root,
      size: junk.length,
      deal: encodeDealRef('record', first!.dealId!),
    }),
  ).rejects.toThrow(/already carried a file record/);
}, 120_000);

it('a deal whose put fails after it opened is ended at once and its escrow refunded', async () => {
  const file = crypto.getRandomValues(new Uint8Array(20_000));
  const balance0 = await marketBalance(f.reader, f.client.account);
  const from = await f.reader.publicClient.getBlockNumber();
  failAfterDeal = 1;
  const result = await putFile(await network(), () => file, {
    k: 1,
    m: 1,
    paid: { signer: f.client, duration: 5 },
  });
  expect(failAfterDeal).toBe(0);
  const opened = await marketEvents(f.reader, { eventName: 'DealOpened', fromBlock: from + 1n });
  const ended = await marketEvents(f.reader, { eventName: 'DealEnded', fromBlock: from + 1n });
  // Three deals: two in the first pass, one for the shard that moved; the unused one ended.
  expect(opened).toHaveLength(3);
  expect(ended).toHaveLength(1);
  const gone = ended[0]!.args;
  expect(gone.reason).toBe(EndReason.ClientEnded);
  const deal = opened.find((e) => e.args.dealId === gone.dealId)!.args;
  expect(gone.refund).toBe(deal.price);
  expect(result.placements.map((p) => p.dealId)).not.toContain(gone.dealId);
  expect((await getDeal(f.reader, gone.dealId!)).status).toBe(DealStatus.Ended);
  expect(await marketBalance(f.reader, f.client.account)).toBe(balance0 + deal.price);
}, 120_000);

it('a host that walks away: the repair takes over its failed slot with a new deal and collects the bounty', async () => {
  const file = crypto.getRandomValues(new Uint8Array(30_000));
  const net = await network();
  const put = await putFile(net, () => file, {
    k: 1,
    m: 1,
    paid: { signer: f.client, duration: 5 },
  });
  const gone = put.placements[0]!;
  const quitter = hostOf(gone.host);
  await abandonDeal(quitter.signer, gone.dealId!);
  const bounty = await repairBounty(f.reader, gone.dealId!);
  expect(bounty).toBeGreaterThan(0n);
  const balance0 = await marketBalance(f.reader, f.client.account);
  const from = await f.reader.publicClient.getBlockNumber();

  const repaired = await repairFile(await network(), put.link, {
    paid: { signer: f.client, duration: 5 },
  });
  expect(repaired.health.shards[0]!.state).toBe('deal-ended');
  expect(repaired.health.healthy).toBe(1);
  const fresh = repaired.repaired[0]!;
  expect(fresh.shard).toBe(0);
  expect(put.placements.map((p) => p.host)).not.toContain(fresh.host);
  const deal = await getDeal(f.reader, fresh.dealId!);
  expect(deal.status).toBe(DealStatus.Active);
  expect(deal.root).toBe(`0x${toHex(put.manifest.roots[0]!)}`);
  const slot = await marketEvents(f.reader, { eventName: 'SlotRepaired', fromBlock: from + 1n });
  expect(slot.map((e) => [e.args.failedDealId, e.args.newDealId, e.args.bounty])).toEqual([
    [gone.dealId, fresh.dealId, bounty],
  ]);
  expect((await getDeal(f.reader, gone.dealId!)).status).toBe(DealStatus.Repaired);
  expect(await marketBalance(f.reader, f.client.account)).toBe(balance0 + bounty);

  expect(await download(repaired.link)).toEqual(Buffer.from(file));
}, 120_000);

describe('a repair cut short is finished or undone by the keeper', () => {
  /** An in-memory journal that outlives the "crashed" repair (as IndexedDB would). */
  function journal(): KeeperStore & { data: Map<string, string> } {
    const data = new Map<string, string>();
    return {
      data,
      get: async (k) => data.get(k),
      set: async (k, v) => void (v === undefined ? data.delete(k) : data.set(k, v)),
    };
  }

  /** A paid file whose shard 0's host walked away (its deal failed). */
  async function damagedFile() {
    const file = crypto.getRandomValues(new Uint8Array(25_000));
    const put = await putFile(await network(), () => file, {
      k: 1,
      m: 1,
      paid: { signer: f.client, duration: 5 },
    });
    const gone = put.placements[0]!;
    const quitter = hostOf(gone.host);
    await abandonDeal(quitter.signer, gone.dealId!);
    return { file, put, failedDeal: gone.dealId! };
  }

  /** The owner's keeper for one file, recording its events and the file's latest link. */
  async function keeperFor(id: string, link: string, store: KeeperStore) {
    const events: KeeperEvent[] = [];
    const file = { id, link };
    const keeper = new DurabilityKeeper({
      network: await network(),
      files: () => [file],
      journal: store,
      paid: { signer: f.client, duration: 5 },
      onLinkChanged: (_id, l) => void (file.link = l),
      onEvent: (e) => events.push(e),
      check: { timeoutMs: 8000 },
    });
    return { keeper, events, file };
  }

  it('deals opened but no byte sent: the keeper ends them, then repairs afresh', async () => {
    const { file, put, failedDeal } = await damagedFile();
    const store = journal();
    const record = journalDeals(store, 'photo', put.link);
    const net = await network();
    const err = await repairShards(net, shardSetOf(put.manifest), put.placements, {
      lost: [0],
      paid: { signer: f.client, duration: 5, repairOf: new Map([[0, failedDeal]]) },
      onDeals: async (...args) => {
        await record(...args);
        throw new Error('the tab closed');
      },
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe('the tab closed');
    const orphan = BigInt(JSON.parse(store.data.get('cairn/repair/photo')!).deals[0].dealId);
    expect((await getDeal(f.reader, orphan)).status).toBe(DealStatus.Active);

    const { keeper, events, file: kept } = await keeperFor('photo', put.link, store);
    await keeper.runOnce();
    expect(events.map((e) => e.type)).toEqual(['resumed', 'checked', 'repaired']);
    expect(events[0]).toMatchObject({ adopted: [], ended: [orphan] });
    expect((await getDeal(f.reader, orphan)).status).toBe(DealStatus.Ended);
    expect(store.data.size).toBe(0);
    expect(kept.link).not.toBe(put.link);
    expect(await download(kept.link)).toEqual(Buffer.from(file));
  }, 180_000);

  it('shards stored but the new link never published: the keeper adopts them', async () => {
    const { file, put, failedDeal } = await damagedFile();
    const store = journal();
    const done = await repairShards(await network(), shardSetOf(put.manifest), put.placements, {
      lost: [0],
      paid: { signer: f.client, duration: 5, repairOf: new Map([[0, failedDeal]]) },
      onDeals: journalDeals(store, 'notes', put.link),
    });
    // ...and the tab closed before the record was published.
    const { keeper, events, file: kept } = await keeperFor('notes', put.link, store);
    await keeper.runOnce();
    expect(events.map((e) => e.type)).toEqual(['resumed', 'checked']);
    expect(events[0]).toMatchObject({
      adopted: done.repaired.map(({ shard, host, dealId }) => ({ shard, host, dealId })),
      ended: [],
    });
    expect((events[1] as { health: { healthy: number } }).health.healthy).toBe(2);
    expect(await download(kept.link)).toEqual(Buffer.from(file));
    // A second keeper on the same file at the same time is refused, not run twice.
    const again = keeper.keep(kept);
    await expect(keeper.keep(kept)).rejects.toBeInstanceOf(RepairBusyError);
    await again;
  }, 180_000);
});

it('the journal was lost too: the keeper finds the repair on chain and adopts it', async () => {
  const file = crypto.getRandomValues(new Uint8Array(20_000));
  const put = await putFile(await network(), () => file, {
    k: 1,
    m: 1,
    paid: { signer: f.client, duration: 5 },
  });
  const gone = put.placements[1]!;
  await abandonDeal(signerOf(gone.host), gone.dealId!);
  // A repair by someone else (a mediator, another device) that published no record.
  const done = await repairShards(await network(), shardSetOf(put.manifest), put.placements, {
    lost: [1],
    paid: { signer: f.client, duration: 5, repairOf: new Map([[1, gone.dealId!]]) },
  });
  const events: KeeperEvent[] = [];
  const kept = { id: 'lost-journal', link: put.link };
  const keeper = new DurabilityKeeper({
    network: await network(),
    files: () => [kept],
    paid: { signer: f.client, duration: 5 },
    onLinkChanged: (_id, l) => void (kept.link = l),
    onEvent: (e) => events.push(e),
  });
  await keeper.runOnce();
  expect(events.map((e) => e.type)).toEqual(['resumed', 'checked']);
  expect(events[0]).toMatchObject({
    adopted: [{ shard: 1, host: done.repaired[0]!.host, dealId: done.repaired[0]!.dealId }],
    ended: [],
  });
  expect(kept.link).not.toBe(put.link);
  expect(await download(kept.link)).toEqual(Buffer.from(file));
}, 180_000);

/**
 * A paid k = 1, m = 1 file delegated to the mediator `account` (a mandate of `budget`, the
 * market allowed that much), and a Mediator service holding it whose events land in `events`.
 */
async function delegatedFile(id: string, size: number, account: number) {
  const file = crypto.getRandomValues(new Uint8Array(size));
  const put = await putFile(await network(), () => file, {
    k: 1,
    m: 1,
    paid: { signer: f.client, duration: 5 },
  });
  const mediator = f.signer(devAccount(account));
  const budget = 10n ** 9n;
  const expiry = (await f.blockTimestamp()) + 86_400n;
  await setMandate(f.client, mediator.account, { budget, expiry });
  await approveMarket(f.client, budget);
  const delegated: DelegatedFile = {
    id,
    client: f.client.account,
    set: shardSetOf(put.manifest),
    placements: put.placements.map(({ shard, host, dealId }) => ({ shard, host, dealId: dealId! })),
  };
  const events: MediatorEvent[] = [];
  const service = new Mediator({
    network: await network(),
    signer: mediator,
    duration: 5,
    files: () => [delegated],
    onEvent: (e) => events.push(e),
  });
  return { file, put, mediator, budget, delegated, events, service };
}

it("the owner's browser is closed: a mediator under a mandate repairs the failed slot in the owner's name; the owner's keeper adopts it", async () => {
  // The owner delegates: a budget on chain, an allowance for it, and the file's public shape.
  const { file, put, mediator, budget, delegated, events, service } = await delegatedFile(
    'thesis',
    22_000,
    2,
  );
  await service.runOnce();
  expect(events).toEqual([]); // nothing failed yet

  const gone = put.placements[0]!;
  await abandonDeal(signerOf(gone.host), gone.dealId!);
  const owner0 = await tokenBalance(f.reader, f.client.account);
  await service.runOnce();
  expect(events.map((e) => e.type)).toEqual(['deals-opened', 'repaired']);
  const fresh = (events[1] as { repaired: Placement[] }).repaired[0]!;
  expect(fresh).toMatchObject((events[0] as { deals: Placement[] }).deals[0]!);
  const deal = await getDeal(f.reader, fresh.dealId!);
  expect(deal.client).toBe(f.client.account);
  expect((await getDeal(f.reader, gone.dealId!)).status).toBe(DealStatus.Repaired);
  expect(await tokenBalance(f.reader, f.client.account)).toBe(owner0 - deal.price);
  expect((await getMandate(f.reader, f.client.account, mediator.account)).budget).toBe(
    budget - deal.price,
  );
  expect(await tokenBalance(f.reader, mediator.account)).toBe(0n);
  expect(delegated.placements.find((p) => p.shard === 0)!.dealId).toBe(fresh.dealId);

  // The owner comes back: its keeper finds the mediator's deal on chain and adopts it.
  const kept = { id: 'thesis', link: put.link };
  const seen: KeeperEvent[] = [];
  await new DurabilityKeeper({
    network: await network(),
    files: () => [kept],
    paid: { signer: f.client, duration: 5 },
    onLinkChanged: (_id, l) => void (kept.link = l),
    onEvent: (e) => seen.push(e),
  }).runOnce();
  expect(seen.map((e) => e.type)).toEqual(['resumed', 'checked']);
  expect(kept.link).not.toBe(put.link);
  expect(await download(kept.link)).toEqual(Buffer.from(file));
}, 180_000);

it("a mediator's repair whose shard never arrives: the new deal is in the delegation at once, and once it fails a later round repairs that slot", async () => {
  const { put, delegated, events, service } = await delegatedFile('letters', 18_000, 3);
  const gone = put.placements[0]!;
  await abandonDeal(signerOf(gone.host), gone.dealId!);

  // The host admits the repair deal, then refuses the bytes (its disk filled up meanwhile).
  failAfterDeal = 1;
  await service.runOnce();
  expect(failAfterDeal).toBe(0);
  expect(events.map((e) => e.type)).toEqual(['deals-opened', 'error']);
  const opened = (events[0] as { deals: Placement[] }).deals[0]!;
  // Recorded at once: the slot it took over is no longer the file's; the new deal is.
  expect(delegated.placements.find((p) => p.shard === 0)).toEqual(opened);
  expect((await getDeal(f.reader, gone.dealId!)).status).toBe(DealStatus.Repaired);
  const unsent = await getDeal(f.reader, opened.dealId!);
  expect(unsent.client).toBe(f.client.account);
  expect(unsent.status).toBe(DealStatus.Active);

  // That deal fails (its host cannot prove what it never received): the next round repairs it.
  await abandonDeal(signerOf(opened.host), opened.dealId!);
  await service.runOnce();
  expect(events.slice(2).map((e) => e.type)).toEqual(['deals-opened', 'repaired']);
  const fresh = (events[3] as { repaired: Placement[] }).repaired[0]!;
  expect(fresh.shard).toBe(0);
  expect((await getDeal(f.reader, opened.dealId!)).status).toBe(DealStatus.Repaired);
  expect((await getDeal(f.reader, fresh.dealId!)).client).toBe(f.client.account);
  expect(delegated.placements.find((p) => p.shard === 0)).toEqual(fresh);
}, 180_000);
