// Durability with the owner away, end to end: a file put with the default redundancy on paid
// hosts that prove their deals (startPaidHost daemons on anvil) is delegated to a mediator; the
// owner's node is gone. Hosts die one by one; a watcher reports their missed proofs until their
// deals fail; the mediator waits for the threshold, then regenerates exactly the lost shards on
// new hosts in the owner's name under the mandate. The owner comes back, its keeper adopts the
// new deals; with most of the original hosts gone, the old link downloads identically by
// following the repairs on chain, and the owner's new link without it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { shardSetOf } from '@cairn/codec';
import {
  DealStatus,
  approveMarket,
  getDeal,
  getMandate,
  setMandate,
  tokenBalance,
  type ChainSigner,
} from '@cairn/contracts';
import {
  CairnNetwork,
  DurabilityKeeper,
  Mediator,
  getFile,
  putFile,
  redundancyFor,
  type DelegatedFile,
  type KeeperEvent,
  type MediatorEvent,
  type Placement,
} from '@cairn/drive';
import { Watcher, startPaidHost, type PaidHost } from '@cairn/earn';
import { createCairnNode, type CairnNode } from '@cairn/peer';
import { startRelay, type Relay } from '@cairn/relay';
import { MemoryShardStore } from '@cairn/store';
import {
  TOKEN,
  devAccount,
  fund,
  gotoPeriod,
  period,
  setup,
  type Fixture,
} from '../packages/contracts/test/helpers.ts';
import { collect, randomFile, sha } from './net-fixture.ts';

const MiB = 1024 * 1024;
/** Seven hosts take the file (RS(3,4) by the default rule); two more stay free for repairs. */
const HOSTS = 9;
const DURATION = 40;

let f: Fixture;
let relay: Relay;
let directory: string;
let watcher: Watcher;
const hosts: { node: CairnNode; paid: PaidHost; signer: ChainSigner; alive: boolean }[] = [];
const clients: CairnNode[] = [];

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  // Every live deal is challenged every period, and one miss fails a deal: a dead host's deal
  // fails within two periods, not by chance.
  f = await setup({ startBps: 10_000, floorBps: 10_000, maxMisses: 1 });
  relay = await startRelay({ listen: ['/ip4/127.0.0.1/tcp/0/ws'], httpPort: 0, appDir: null });
  directory = relay.multiaddrs[0]!.toString();
  for (let i = 0; i < HOSTS; i++) {
    // anvil funds accounts 0..9 with ether; the hosts use 10.. and get gas money here.
    const account = devAccount(10 + i);
    await fetch(f.config.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'anvil_setBalance',
        params: [account.address, `0x${(10n ** 20n).toString(16)}`],
      }),
    });
    const signer = f.signer(account);
    await fund(f, signer.account, 1000n * TOKEN);
    const node = await createCairnNode({ relays: [directory], allowPrivateAddresses: true });
    const paid = await startPaidHost({
      node,
      store: new MemoryShardStore({ quota: 64 * MiB }),
      directories: [directory],
      signer,
      pricePerBytePeriod: 1n,
      stake: 100n * TOKEN,
      useFaucet: false,
      daemon: { pollIntervalMs: 100, claimEveryPeriods: 0 },
    });
    hosts.push({ node, paid, signer, alive: true });
  }
  watcher = new Watcher({ reader: f.reader, signer: f.reporter, pollIntervalMs: 100 });
  await watcher.start();
  await fund(f, f.client.account, 100n * TOKEN);
  await until('the hosts to be listed', async () => relay.directory.size >= HOSTS);
}, 180_000);

afterAll(async () => {
  await watcher?.stop();
  await Promise.allSettled(hosts.filter((h) => h.alive).map((h) => h.paid.stop()));
  await Promise.allSettled([...hosts.map((h) => h.node.stop()), ...clients.map((c) => c.stop())]);
  await relay?.stop();
  await f?.stop();
});

async function network(): Promise<CairnNetwork> {
  const node = await createCairnNode({ allowPrivateAddresses: true });
  clients.push(node);
  return new CairnNetwork({ node, directories: [directory] });
}

const hostOf = (peer: string) => hosts.find((h) => h.node.peerId.toString() === peer)!;

async function kill(peer: string): Promise<void> {
  const h = hostOf(peer);
  h.alive = false;
  await h.paid.stop();
  await h.node.stop();
}

/**
 * Moves to the next period and waits until every live host proved each of its active deals
 * there (so only the dead miss), then lets the watcher report the closed period's misses.
 */
async function nextPeriod(deals: () => bigint[]): Promise<void> {
  const p = (await period(f)) + 1n;
  await gotoPeriod(f, p);
  await until(`the live hosts' proofs for period ${p}`, async () => {
    for (const id of deals()) {
      const d = await getDeal(f.reader, id);
      if (d.status !== DealStatus.Active) continue;
      const host = hosts.find((h) => h.signer.account.toLowerCase() === d.host.toLowerCase())!;
      // lastProof is the last proven period + 1 (0: never).
      if (host.alive && d.start <= p && d.lastProof < p + 1n) return false;
    }
    return true;
  });
}

/** Periods go by until the deal has failed (its miss reported by the watcher). */
async function untilFailed(dealId: bigint, deals: () => bigint[]): Promise<void> {
  const failed = async () => (await getDeal(f.reader, dealId)).status === DealStatus.Failed;
  for (let i = 0; i < 4; i++) {
    await nextPeriod(deals);
    // A closed period's miss is reported once the next one has begun.
    if (
      i >= 1 &&
      (await until(`deal ${dealId} to fail`, failed, 15_000).then(
        () => true,
        () => false,
      ))
    )
      return;
  }
  throw new Error(`deal ${dealId} did not fail`);
}

it('hosts die one by one; at the threshold a mediator repairs in the owner’s name; the owner adopts the repair', async () => {
  const { k, m, threshold } = redundancyFor(7);
  expect({ k, m, threshold }).toEqual({ k: 3, m: 4, threshold: 6 });
  const data = randomFile(2 * MiB + 333);
  const owner = await network();
  const put = await putFile(owner, () => data, {
    k,
    m,
    paid: { signer: f.client, duration: DURATION },
  });
  expect(put.placements).toHaveLength(7);

  // The owner delegates repairs: a budget on chain and the file's public shape, then leaves.
  const mediatorSigner = f.signer(devAccount(9));
  const budget = 10n ** 12n;
  await setMandate(f.client, mediatorSigner.account, {
    budget,
    expiry: (await f.blockTimestamp()) + 30n * 86_400n,
  });
  await approveMarket(f.client, budget);
  const delegated: DelegatedFile = {
    id: 'archive',
    client: f.client.account,
    set: shardSetOf(put.manifest),
    placements: put.placements.map(({ shard, host, dealId }) => ({ shard, host, dealId: dealId! })),
  };
  await owner.node.stop();
  const events: MediatorEvent[] = [];
  const mediator = new Mediator({
    network: await network(),
    signer: mediatorSigner,
    duration: DURATION,
    files: () => [delegated],
    onEvent: (e) => events.push(e),
  });
  const deals = () => delegated.placements.map((p) => p.dealId!);
  const owner0 = await tokenBalance(f.reader, f.client.account);

  // One host dies: its deal fails, 6 of 7 deals are active, not below the threshold (6).
  const first = put.placements[6]!;
  await kill(first.host);
  await untilFailed(first.dealId!, deals);
  await mediator.runOnce();
  expect(events).toEqual([]);

  // A second one dies: 5 of 7, below the threshold: both lost shards are regenerated.
  const second = put.placements[2]!;
  await kill(second.host);
  await untilFailed(second.dealId!, deals);
  await mediator.runOnce();
  expect(
    events.map((e) => e.type),
    events
      .map((e) => (e.type === 'error' ? String((e.error as Error).stack ?? e.error) : e.type))
      .join('\n'),
  ).toEqual(['deals-opened', 'repaired']);
  const repaired = (events[1] as { repaired: Placement[] }).repaired;
  expect(repaired.map((p) => p.shard)).toEqual([2, 6]);
  const originals = new Set(put.placements.map((p) => p.host));
  let paidForRepairs = 0n;
  for (const p of repaired) {
    expect(originals.has(p.host)).toBe(false); // a spare host
    const deal = await getDeal(f.reader, p.dealId!);
    expect(deal.client).toBe(f.client.account);
    expect(deal.status).toBe(DealStatus.Active);
    paidForRepairs += deal.price;
  }
  for (const gone of [first, second])
    expect((await getDeal(f.reader, gone.dealId!)).status).toBe(DealStatus.Repaired);
  expect((await getMandate(f.reader, f.client.account, mediatorSigner.account)).budget).toBe(
    budget - paidForRepairs,
  );
  expect(await tokenBalance(f.reader, mediatorSigner.account)).toBe(0n);
  // The failed deals' bounties went to the owner, so the owner paid at most the repairs.
  expect(await tokenBalance(f.reader, f.client.account)).toBeGreaterThanOrEqual(
    owner0 - paidForRepairs,
  );
  // The new hosts prove their shards like the others.
  await nextPeriod(deals);
  for (const p of repaired)
    expect((await getDeal(f.reader, p.dealId!)).lastProof).toBe((await period(f)) + 1n);

  // Four more original hosts go: one original and the two new hosts are left, exactly k = 3.
  for (const p of put.placements.filter((q) => ![2, 6].includes(q.shard)).slice(0, 4))
    await kill(p.host);
  // The old link names the dead hosts: alone it cannot be read; with the chain, the download
  // follows the repairs to the new hosts.
  await expect(
    getFile(await network(), put.link, { signal: AbortSignal.timeout(60_000) }).then((g) =>
      collect(g.body),
    ),
  ).rejects.toThrow();
  const followed = await getFile(await network(), put.link, { reader: f.reader });
  expect(followed.placements.filter((p) => [2, 6].includes(p.shard))).toEqual(
    repaired.map(({ shard, host, dealId }) => ({ shard, host, dealId })),
  );
  expect(sha(await collect(followed.body))).toBe(sha(data));

  // The owner comes back: its keeper adopts the mediator's deals into the file's record (then
  // finds too few shards alive and no free host to repair onto: an error event, not a throw).
  let link = put.link;
  const seen: KeeperEvent[] = [];
  await new DurabilityKeeper({
    network: await network(),
    files: () => [{ id: 'archive', link }],
    paid: { signer: f.client, duration: DURATION },
    check: { timeoutMs: 5000 },
    onLinkChanged: (_id, l) => void (link = l),
    onEvent: (e) => seen.push(e),
  }).runOnce();
  const resumed = seen.find((e) => e.type === 'resumed');
  expect(resumed?.type === 'resumed' && resumed.adopted.map((p) => p.shard).sort()).toEqual([2, 6]);
  expect(link).not.toBe(put.link);
  // The new link names the new hosts: it downloads without the chain.
  const got = await getFile(await network(), link);
  expect(sha(await collect(got.body))).toBe(sha(data));
}, 400_000);
