// Earning end to end, for real: anvil with the contracts, a relay running the watcher (it reports
// missed proofs with a dev account's key), one browser host (a Chromium page running
// startPaidHost over OPFS/IndexedDB, its daemon state in localStorage) and four Node hosts
// (startPaidHost over filesystem or memory stores). A Node client puts a file with paid deals over
// WebRTC, then time travels through the deals' whole duration, waiting each period for the hosts'
// proofs and the watcher's reports, and checks every token exactly:
// - the honest hosts (the browser among them) answer every challenge and are paid exactly the
//   deals' prices, even the browser reloading its page mid-window;
// - a host that corrupts its shard, one that deletes it, and one asked to prove a root it never
//   received are slashed on every challenge, the relay's reporter is paid its share, the deals end
//   after maxMisses and the client gets its unspent escrow (and compensation) back;
// - a host offline across one window is slashed for it and paid for the rest;
// - a host cannot store unpaid bytes, nor get a proof of another root accepted.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeProof, MerkleTree } from '@cairn/codec';
import {
  ContractRevertError,
  DealStatus,
  approveMarket,
  challengeFor,
  getDeal,
  getHost,
  marketBalance,
  marketEvents,
  openDeals,
  openedDealIds,
  repairBounty,
  submitProof,
  tokenBalance,
  withdraw,
  type ChainSigner,
  type Deal,
} from '@cairn/contracts';
import { CairnNetwork, encodeDealRef, putFile } from '@cairn/drive';
import { startPaidHost, type HostEvent, type PaidHost, type StateStore } from '@cairn/earn';
import { FileState } from '@cairn/earn/node';
import { PutRefusedError, createCairnNode, putShard, type CairnNode } from '@cairn/peer';
import { MemoryShardStore, type ShardStore } from '@cairn/store';
import { FsShardStore } from '@cairn/store/fs';
import { FaultyShardStore } from '@cairn/store/testing';
import { startRelay, type Relay } from '@cairn/relay';
import { toHex } from 'viem';
import {
  TOKEN,
  devAccount,
  fund,
  gotoPeriod,
  makeShard,
  quoteFor,
  setup,
  type Fixture,
} from '../packages/contracts/test/helpers.ts';
import { Events, share, until } from '../packages/earn/test/helpers.ts';
import { startChromiumHarness, type ChromiumHarness } from '../scripts/chromium-harness.ts';
import { openPaidHostPage, type PaidHostPageHandle } from './e2e/paid-host-driver.ts';
import { toWire, type WireHostEvent } from './e2e/paid-host-wire.ts';
import type { ReadCounts } from '../packages/earn/bench/counting-store.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const DURATION = 5; // periods of every deal
const PPB = 1n; // price per byte per period
const STAKE = 10n * TOKEN;
const MAX_MISSES = 3;
const REPORTER_BPS = 2000n;
const WAIT = 60_000;

/** Who plays what, and with which of anvil's dev accounts. */
const ROLES = {
  browser: 8,
  honest: 1,
  corrupt: 2,
  deleted: 3,
  offline: 6,
} as const;
type Role = keyof typeof ROLES;
const REPORTER = 7;

type Ev = WireHostEvent;

let f: Fixture;
let relay: Relay;
let directory: string;
let harness: ChromiumHarness;
let dir: string;
const nodes: CairnNode[] = [];
const paidHosts = new Map<Role, PaidHost>();
const nodeOf = new Map<Role, CairnNode>();
const events = new Events<Ev>();

const hex = (b: Uint8Array) => toHex(b).slice(2);
const privateKeyOf = (i: number) => toHex(devAccount(i).getHdKey().privateKey!);
/** A host's libp2p identity seed: the same across restarts. */
const peerSeed = (role: string) => hex(new TextEncoder().encode(role.padEnd(32, '.')));
const signerOf = (role: Role): ChainSigner => f.signer(devAccount(ROLES[role]));
const accountOf = (role: Role) => devAccount(ROLES[role]).address;

beforeAll(async () => {
  // Every deal is challenged every period (misses are certain, not probable); 1-hour periods
  // crossed by time travel.
  f = await setup({ startBps: 10_000, floorBps: 10_000, maxMisses: MAX_MISSES });
  dir = await mkdtemp(join(tmpdir(), 'cairn-earning-'));
  const keyFile = join(dir, 'reporter.key');
  await writeFile(keyFile, privateKeyOf(REPORTER) + '\n');
  await chmod(keyFile, 0o600);
  relay = await startRelay({
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    httpPort: 0,
    appDir: null,
    chain: { ...f.config },
    reporterKeyFile: keyFile,
  });
  directory = relay.multiaddrs[0]!.toString();
  harness = await startChromiumHarness({ entries: ['tests/e2e/paid-host.html'], cache: 'earning' });
}, 180_000);

afterAll(async () => {
  await harness?.close();
  await Promise.allSettled([...paidHosts.values()].map((h) => h.stop()));
  await Promise.allSettled(nodes.map((n) => n.stop()));
  await relay?.stop();
  await f?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts (or restarts) a Node host: its node (same identity), the paid host over `store`. */
async function startNodeHost(role: Role, store: ShardStore, state: StateStore): Promise<PaidHost> {
  const node = await createCairnNode({
    relays: [directory],
    allowPrivateAddresses: true,
    privateKey: Uint8Array.from(Buffer.from(peerSeed(role), 'hex')),
  });
  nodes.push(node);
  nodeOf.set(role, node);
  const host = await startPaidHost({
    node,
    store,
    directories: [directory],
    signer: signerOf(role),
    pricePerBytePeriod: PPB,
    stake: STAKE,
    useFaucet: false,
    state,
    onEvent: (e: HostEvent) => {
      const { error: _error, ...rest } = e as HostEvent & { error?: unknown };
      events.push({ ...rest, at: Date.now(), host: role } as Ev);
    },
    daemon: {
      pollIntervalMs: 100,
      claimEveryPeriods: 0,
      retry: { attempts: 3, baseDelayMs: 50, timeoutMs: 10_000 },
    },
  });
  paidHosts.set(role, host);
  return host;
}

async function stopNodeHost(role: Role): Promise<void> {
  const host = paidHosts.get(role)!;
  paidHosts.delete(role);
  await host.stop();
  await nodeOf.get(role)!.stop();
}

/** Each listed host has reported period `p` done (every challenged deal proven or given up). */
async function periodDone(roles: Role[], p: bigint): Promise<void> {
  await Promise.all(
    roles.map((r) =>
      events
        .wait(
          (e) => e.host === r && e.type === 'period' && e.period === p,
          `${r} period ${p}`,
          WAIT,
        )
        .catch((err: unknown) => {
          // Say what the host was doing instead.
          const last = events.all.filter((e) => e.host === r).slice(-8);
          throw new Error(`${(err as Error).message}; its last events: ${toWire(last)}`);
        }),
    ),
  );
}

/** The watcher (on the relay) has slashed `dealId` for `p`. */
async function slashedFor(dealId: bigint, p: bigint): Promise<void> {
  await until(
    async () =>
      (await marketEvents(f.reader, { eventName: 'Slashed' })).some(
        (e) => e.args.dealId === dealId && e.args.period === p,
      ),
    `deal ${dealId} slashed for period ${p}`,
    WAIT,
  );
}

type SlashedLog = Awaited<ReturnType<typeof marketEvents<'Slashed'>>>[number];

/** A deal's slashes as the chain recorded them (period relative to the deals' start). */
function slashesFor(slashed: SlashedLog[], id: bigint, start: bigint) {
  return slashed
    .filter((e) => e.args.dealId === id)
    .map((e) => ({
      period: e.args.period - start,
      reward: e.args.reward,
      compensation: e.args.compensation,
    }));
}

/** The market's slashes of a deal with collateral `c` missing every challenge (exact). */
function slashesOf(c: bigint, misses: number) {
  const out: { amount: bigint; reward: bigint; compensation: bigint }[] = [];
  let left = c;
  for (let m = 1; m <= misses; m++) {
    const amount = left / BigInt(MAX_MISSES - m + 1);
    left -= amount;
    const reward = (amount * REPORTER_BPS) / 10_000n;
    out.push({ amount, reward, compensation: amount - reward });
  }
  return out;
}

/** What the scenario recorded, for the checks below. */
interface Run {
  start: bigint;
  dealOf: Map<Role, bigint>;
  unheld: bigint;
  /** every deal by role, and 'unheld', as opened */
  deal: Map<string, Deal>;
  /** token balances once registered (stakes deposited) */
  before: Map<Role, bigint>;
  clientBefore: bigint;
  clientPaid: bigint;
  browserReads: ReadCounts[];
  /** a proof of the honest host's real shard sent for the unheld root */
  foreignProof: unknown;
  /** the client's puts to the browser host without a deal of its own */
  unpaid: PromiseSettledResult<unknown>[];
}
let run: Run | undefined;
const scenario = (): Run => {
  if (!run) throw new Error('the scenario did not complete (see the first test)');
  return run;
};
const honest: Role[] = ['browser', 'honest', 'offline'];
const faulty = ['corrupt', 'deleted', 'unheld'] as const;

it('runs: five paid hosts (one a browser) take a paid put over WebRTC, then the deals run their course by time travel', async () => {
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  // ---- hosts: wallets funded with twice the stake (a restarted host tops its stake up)
  for (const role of Object.keys(ROLES) as Role[]) await fund(f, accountOf(role), 2n * STAKE);
  const stores = {
    honest: await FsShardStore.open({ dir: join(dir, 'honest'), quota: 64 * MiB }),
    corrupt: new FaultyShardStore(new MemoryShardStore({ quota: 64 * MiB })),
    deleted: new MemoryShardStore({ quota: 64 * MiB }),
  };
  const openOfflineStore = () => FsShardStore.open({ dir: join(dir, 'offline'), quota: 64 * MiB });
  const offlineState = () => new FileState(join(dir, 'offline-state.json'));
  await startNodeHost('honest', stores.honest, new FileState(join(dir, 'honest-state.json')));
  await startNodeHost('corrupt', stores.corrupt, new FileState(join(dir, 'corrupt-state.json')));
  await startNodeHost('deleted', stores.deleted, new FileState(join(dir, 'deleted-state.json')));
  let offlineStore = await openOfflineStore();
  await startNodeHost('offline', offlineStore, offlineState());

  const browserInit = {
    relay: directory,
    name: 'earning-browser-host',
    quota: 64 * MiB,
    peerSeed: peerSeed('browser'),
    key: privateKeyOf(ROLES.browser),
    chain: f.config,
    pricePerBytePeriod: PPB,
    stake: STAKE,
    pollIntervalMs: 100,
    chainPollingMs: 50,
  };
  const browser: PaidHostPageHandle = await openPaidHostPage(harness, (e) =>
    events.push({ ...e, host: 'browser' }),
  );
  const started = await browser.start(browserInit);
  expect(started.registration).toBe('registered');
  expect(started.account).toBe(accountOf('browser'));
  expect(['opfs', 'indexeddb']).toContain(started.store);
  const peers = new Map<string, Role>([[started.peerId, 'browser']]);
  for (const [role, node] of nodeOf) peers.set(node.peerId.toString(), role);
  await until(() => relay.directory.size >= 5, 'five hosts in the directory', WAIT);
  const before = new Map<Role, bigint>();
  for (const role of Object.keys(ROLES) as Role[])
    before.set(role, await tokenBalance(f.reader, accountOf(role)));
  console.info(`hosts up (${elapsed()})`);

  // ---- a client puts a file with paid deals over WebRTC: one shard on each host
  const clientNode = await createCairnNode({ allowPrivateAddresses: true });
  nodes.push(clientNode);
  const net = new CairnNetwork({ node: clientNode, directories: [directory] });
  await fund(f, f.client.account, 100n * TOKEN);
  const clientBefore = await tokenBalance(f.reader, f.client.account);
  const file = new Uint8Array(randomBytes(512 * KiB));
  const put = await putFile(net, () => file, {
    k: 3,
    m: 2,
    size: file.byteLength,
    paid: { signer: f.client, duration: DURATION },
  });
  const dealOf = new Map<Role, bigint>();
  const rootOf = new Map<Role, string>();
  for (const p of put.placements) {
    const role = peers.get(p.host);
    expect(role).toBeDefined();
    expect(dealOf.has(role!)).toBe(false);
    dealOf.set(role!, p.dealId!);
    rootOf.set(role!, hex(put.manifest.roots[p.shard]!));
  }
  expect([...dealOf.keys()].sort()).toEqual(Object.keys(ROLES).sort());
  console.info(`paid put on 5 hosts (${elapsed()})`);

  // ---- the client tries to make the browser host store bytes no deal of its own pays for
  const junk = crypto.getRandomValues(new Uint8Array(4 * KiB));
  const junkRoot = MerkleTree.build(junk, KiB).root;
  const browserAddrs = await net.addressesOf(started.peerId);
  const unpaid = await Promise.allSettled(
    [undefined, dealOf.get('honest')!, dealOf.get('browser')!].map((id) =>
      putShard(clientNode, browserAddrs, junk, {
        root: junkRoot,
        size: junk.length,
        ...(id === undefined ? {} : { deal: encodeDealRef('shard', id) }),
      }),
    ),
  );

  // ---- a deal on the honest host for a root it never receives (the client pays, sends nothing)
  const first = await getDeal(f.reader, dealOf.get('honest')!);
  const unheldShard = makeShard(77, Number(first.size), first.leafSize);
  await approveMarket(f.client, 2n ** 255n);
  const [unheld] = openedDealIds(
    await openDeals(f.client, [
      await quoteFor(f, signerOf('honest'), unheldShard, DURATION, first.price),
    ]),
  );
  const deal = new Map<string, Deal>();
  for (const [name, id] of [...dealOf, ['unheld', unheld!] as const])
    deal.set(name, await getDeal(f.reader, id));
  const start = first.start;
  const clientPaid = [...deal.values()].reduce((s, d) => s + d.price, 0n);
  expect(await tokenBalance(f.reader, f.client.account)).toBe(clientBefore - clientPaid);

  // The faulty hosts break their copies now: one corrupts its shard, one deletes it.
  stores.corrupt.faults = { corrupt: new Set([rootOf.get('corrupt')!]) };
  expect(await stores.deleted.delete(rootOf.get('deleted')!)).toBe(true);
  await browser.resetReads();
  const idOf = (r: string): bigint => (r === 'unheld' ? unheld! : dealOf.get(r as Role)!);

  // ---- period 0: everyone is challenged; the faulty ones fail
  await gotoPeriod(f, start);
  await periodDone(['browser', 'honest', 'corrupt', 'deleted', 'offline'], start);
  // The honest host's real leaf and path, sent for the root it does not hold.
  const c = await challengeFor(f.reader, unheld!, start);
  expect(c.challenged).toBe(true);
  const real = await paidHosts
    .get('honest')!
    .hosting.service.proveLeaf(rootOf.get('honest')!, Number(c.leafIndex));
  const leaf = new Uint8Array(first.leafSize);
  leaf.set(real.leaf);
  const foreignProof = await submitProof(
    signerOf('honest'),
    unheld!,
    leaf,
    encodeProof(real.proof),
  ).catch((err: unknown) => err);
  console.info(`period 0 (${elapsed()})`);

  // ---- period 1: the offline host is down (daemon, node and store) across the whole window
  await stopNodeHost('offline');
  await offlineStore.close();
  await gotoPeriod(f, start + 1n);
  await periodDone(['browser', 'honest', 'corrupt', 'deleted'], start + 1n);
  for (const r of faulty) await slashedFor(idOf(r), start);
  console.info(`period 1 (${elapsed()})`);

  // ---- period 2: the browser reloads its page (its daemon dies) before the window opens and
  // comes back within it; the offline host comes back too, once the watcher reported its miss.
  const readsBefore = await browser.reads();
  await browser.reload();
  await gotoPeriod(f, start + 2n);
  await periodDone(['honest'], start + 2n);
  for (const r of [...faulty, 'offline']) await slashedFor(idOf(r), start + 1n);
  const again = await browser.start(browserInit);
  expect(again.peerId).toBe(started.peerId);
  expect(again.registration).toBe('unchanged');
  offlineStore = await openOfflineStore();
  const back = await startNodeHost('offline', offlineStore, offlineState());
  expect(back.registration.action).toBe('topped-up'); // its stake, less the slash, made whole
  await periodDone(['browser', 'offline'], start + 2n);
  console.info(`period 2 (${elapsed()})`);

  // ---- periods 3, 4: the third misses end the faulty deals; the others are proven
  await gotoPeriod(f, start + 3n);
  await periodDone(honest, start + 3n);
  for (const r of faulty) await slashedFor(idOf(r), start + 2n);
  await gotoPeriod(f, start + 4n);
  await periodDone(honest, start + 4n);
  console.info(`periods 3-4 (${elapsed()})`);

  // ---- the deals are over: the hosts claim (and withdraw) what they earned
  await gotoPeriod(f, start + BigInt(DURATION));
  for (const r of honest)
    await events
      .wait((e) => e.host === r && e.type === 'claimed' && e.amount > 0n, `${r} claimed`, WAIT)
      .catch(() => {}); // the exact balance checks say what is missing
  run = {
    start,
    dealOf,
    unheld: unheld!,
    deal,
    before,
    clientBefore,
    clientPaid,
    browserReads: [readsBefore, await browser.reads()],
    foreignProof,
    unpaid,
  };
  console.info(`deals over (${elapsed()})`);
}, 240_000);

it('honest browser and Node hosts store shards, answer every challenge over many periods, and their balances grow by exactly what the deals promised', async () => {
  const { start, dealOf, deal, before, browserReads } = scenario();
  for (const d of deal.values()) {
    expect(d.start).toBe(start);
    expect(d.duration).toBe(DURATION);
    expect(d.price).toBe(d.size * PPB * BigInt(DURATION)); // what the hosts quoted
    expect(d.collateral).toBe(d.price); // collateralBps 100 %
  }
  const accepted = await marketEvents(f.reader, { eventName: 'ProofAccepted' });
  const provenPeriods = (id: bigint) =>
    accepted.filter((e) => e.args.dealId === id).map((e) => e.args.period - start);
  const every = Array.from({ length: DURATION }, (_, i) => BigInt(i));
  for (const r of ['browser', 'honest'] as const) {
    expect(provenPeriods(dealOf.get(r)!)).toEqual(every); // once each
    expect((await getDeal(f.reader, dealOf.get(r)!)).status).toBe(DealStatus.Completed);
    const gain = (await tokenBalance(f.reader, accountOf(r))) - before.get(r)!;
    expect({ role: r, gain }).toEqual({ role: r, gain: deal.get(r)!.price });
  }
  const browserEvents = events.all.filter((e) => e.host === 'browser');
  expect(browserEvents.filter((e) => e.type === 'proof-failed')).toEqual([]);
  expect(browserEvents.filter((e) => e.type === 'missed')).toEqual([]);
  expect(
    browserEvents.filter((e) => e.type === 'proof-submitted').map((e) => e.period - start),
  ).toEqual(every);
  // Its proofs read a leaf and one 64 KiB block each, never a whole shard (before and after the
  // reload).
  for (const reads of browserReads) {
    expect(reads.calls).toBeGreaterThan(0);
    expect(reads.wholeShard).toBe(0);
    expect(reads.largest).toBeLessThanOrEqual(64 * KiB);
  }
  expect((await getHost(f.reader, accountOf('browser'))).stake).toBe(STAKE);
});

it('a host that corrupts or deletes its shard is slashed on each challenge, the reporter is rewarded, the deal ends after maxMisses and the client gets its unspent escrow back', async () => {
  const { start, dealOf, unheld, deal, before, clientBefore, clientPaid } = scenario();
  const idOf = (r: (typeof faulty)[number]) => (r === 'unheld' ? unheld : dealOf.get(r)!);
  // The hosts saw why: a corrupt leaf is caught before any gas is spent, a deleted shard (or a
  // root never received) cannot be read.
  const failures = (r: Role, id: bigint) =>
    events.all.filter((e) => e.host === r && e.type === 'proof-failed' && e.dealId === id);
  expect(failures('corrupt', dealOf.get('corrupt')!)[0]).toMatchObject({ reason: 'invalid' });
  expect(failures('deleted', dealOf.get('deleted')!)[0]).toMatchObject({ reason: 'prove' });
  expect(failures('honest', unheld)[0]).toMatchObject({ reason: 'prove' });
  expect(failures('honest', dealOf.get('honest')!)).toEqual([]);

  const reporter = devAccount(REPORTER).address;
  const slashed = await marketEvents(f.reader, { eventName: 'Slashed' });
  expect(slashed.every((e) => e.args.reporter === reporter)).toBe(true); // the relay's watcher
  let rewards = 0n;
  let refunds = 0n;
  for (const r of faulty) {
    const d = deal.get(r)!;
    const want = slashesOf(d.collateral, MAX_MISSES);
    expect(slashesFor(slashed, idOf(r), start)).toEqual(
      want.map((x, i) => ({ period: BigInt(i), reward: x.reward, compensation: x.compensation })),
    );
    const after = await getDeal(f.reader, idOf(r));
    expect(after.status).toBe(DealStatus.Failed);
    expect(after.earned).toBe(0n);
    expect(after.escrow).toBe(0n);
    // The last miss's compensation is the slot's repair bounty; the client gets the whole price
    // back (the missed periods' shares and the unspent escrow) and the first two compensations.
    expect(await repairBounty(f.reader, idOf(r))).toBe(want[2]!.compensation);
    rewards += want.reduce((s, x) => s + x.reward, 0n);
    refunds += d.price + want[0]!.compensation + want[1]!.compensation;
  }
  // The offline host's one miss (checked in the next test) adds to both.
  const offline = deal.get('offline')!;
  const offlineSlash = slashesOf(offline.collateral, 1)[0]!;
  rewards += offlineSlash.reward;
  refunds += share(offline.price, DURATION, 1n) + offlineSlash.compensation;

  // The corrupt and deleting hosts earned nothing and lost their deals' whole collateral.
  for (const r of ['corrupt', 'deleted'] as const) {
    expect(await tokenBalance(f.reader, accountOf(r))).toBe(before.get(r)!);
    expect((await getHost(f.reader, accountOf(r))).stake).toBe(STAKE - deal.get(r)!.collateral);
  }
  // The relay's reporter collected exactly its share, withdrawn to its wallet.
  await until(
    async () => (await tokenBalance(f.reader, reporter)) === rewards,
    'the reporter withdrew its rewards',
    WAIT,
  ).catch(() => {});
  expect(await tokenBalance(f.reader, reporter)).toBe(rewards);
  expect(await marketBalance(f.reader, reporter)).toBe(0n);
  // The client: its unspent escrow and the compensation come back, to the unit.
  expect(await marketBalance(f.reader, f.client.account)).toBe(refunds);
  await withdraw(f.client);
  expect(await tokenBalance(f.reader, f.client.account)).toBe(clientBefore - clientPaid + refunds);
});

it('a host offline across a challenge window is slashed for it; one that comes back within the window is not', async () => {
  const { start, dealOf, deal, before } = scenario();
  const offline = deal.get('offline')!;
  const slash = slashesOf(offline.collateral, 1)[0]!;
  const slashed = await marketEvents(f.reader, { eventName: 'Slashed' });
  expect(slashesFor(slashed, dealOf.get('offline')!, start)).toEqual([
    { period: 1n, reward: slash.reward, compensation: slash.compensation },
  ]);
  const accepted = await marketEvents(f.reader, { eventName: 'ProofAccepted' });
  expect(
    accepted
      .filter((e) => e.args.dealId === dealOf.get('offline'))
      .map((e) => e.args.period - start),
  ).toEqual([0n, 2n, 3n, 4n]);
  // Its daemon, back, learnt of the miss: no attempt was made, so 'offline'.
  expect(
    events.all
      .filter((e) => e.host === 'offline' && e.type === 'missed')
      .map((e) => e.type === 'missed' && [e.period - start, e.cause]),
  ).toEqual([[1n, 'offline']]);
  // Paid for every period but the missed one, less the stake it topped back up on its return.
  const gain = (await tokenBalance(f.reader, accountOf('offline'))) - before.get('offline')!;
  expect(gain).toBe(offline.price - share(offline.price, DURATION, 1n) - slash.amount);
  expect((await getHost(f.reader, accountOf('offline'))).stake).toBe(STAKE);
  expect((await getDeal(f.reader, dealOf.get('offline')!)).status).toBe(DealStatus.Completed);
  // The browser was down at the start of period 2 (page reloaded) and back within it: no slash.
  expect(slashesFor(slashed, dealOf.get('browser')!, start)).toEqual([]);
  expect(slashesFor(slashed, dealOf.get('honest')!, start)).toEqual([]);
});

it('a client cannot make a host store unpaid data; a host cannot get paid for a root it does not hold', async () => {
  const { start, unheld, deal, before, unpaid, foreignProof } = scenario();
  // The browser host refused: no deal, another host's deal, its own deal for another root.
  expect(unpaid.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  const reasons = unpaid.map((r) => (r.status === 'rejected' ? (r.reason as Error) : undefined));
  expect(reasons[0]).toBeInstanceOf(PutRefusedError);
  expect(reasons[1]!.message).toMatch(/another host/);
  expect(reasons[2]!.message).toMatch(/another root or size/);
  // A real leaf and path of the shard it holds, sent for the root it does not: reverted.
  expect(foreignProof).toBeInstanceOf(ContractRevertError);
  // The unheld deal: never proven, slashed to failure, never paid; the honest host got exactly its
  // real deal's price and lost the unheld deal's collateral.
  const accepted = await marketEvents(f.reader, { eventName: 'ProofAccepted' });
  expect(accepted.filter((e) => e.args.dealId === unheld)).toEqual([]);
  const after = await getDeal(f.reader, unheld);
  expect([after.status, after.earned, after.misses]).toEqual([DealStatus.Failed, 0n, MAX_MISSES]);
  const slashed = await marketEvents(f.reader, { eventName: 'Slashed' });
  expect(slashesFor(slashed, unheld, start).map((x) => x.period)).toEqual([0n, 1n, 2n]);
  const gain = (await tokenBalance(f.reader, accountOf('honest'))) - before.get('honest')!;
  expect(gain).toBe(deal.get('honest')!.price);
  expect((await getHost(f.reader, accountOf('honest'))).stake).toBe(
    STAKE - deal.get('unheld')!.collateral,
  );
});
