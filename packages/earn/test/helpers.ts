// Test fixture: a fresh anvil with the contracts deployed (long periods crossed by time travel),
// anvil's dev accounts as signers, hosts registered, deals opened by a client with quotes the
// hosts signed, and shards whose proofs come from codec Merkle trees.
import { MerkleTree, toHex as bytesToHex } from '@cairn/codec';
import {
  createChainReader,
  createChainSigner,
  currentPeriod,
  marketGenesis,
  openDeals,
  openedDealIds,
  register,
  signPermit,
  signQuote,
  storageMarketAbi,
  tokenBalance,
  transferToken,
  type CairnChainConfig,
  type ChainReader,
  type ChainSigner,
  type DealRequest,
  type MarketParams,
  type Quote,
} from '@cairn/contracts';
import { TOKEN, deploy, startAnvil, type Anvil } from '@cairn/contracts/node';
import { createTestClient, http, toHex, type Address } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import type { ProveFn } from '../src/index.ts';

export { TOKEN };

const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
export const POLL = { pollingInterval: 20 };
/** Fast polling for the daemons in tests. */
export const FAST = {
  pollIntervalMs: 40,
  retry: { attempts: 3, baseDelayMs: 50, timeoutMs: 5000 },
};

export interface Fixture {
  anvil: Anvil;
  config: CairnChainConfig;
  reader: ChainReader;
  deployer: ChainSigner;
  hosts: ChainSigner[];
  client: ChainSigner;
  reporter: ChainSigner;
  genesis: bigint;
  increaseTime(seconds: bigint): Promise<void>;
  stop(): Promise<void>;
}

export async function setup(params: Partial<MarketParams> = {}): Promise<Fixture> {
  const anvil = await startAnvil();
  try {
    const config = await deploy({
      rpcUrl: anvil.rpcUrl,
      params: {
        periodSeconds: 3600,
        maxMisses: 3,
        reporterBps: 2000,
        collateralBps: 10_000,
        startBps: 10_000,
        floorBps: 5000,
        halfLife: 8,
        ...params,
      },
      pollingInterval: 20,
    });
    const reader = createChainReader(config, POLL);
    const signer = (i: number) =>
      createChainSigner(config, mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }), {
        ...POLL,
        reader,
      });
    const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) });
    return {
      anvil,
      config,
      reader,
      deployer: signer(0),
      hosts: [1, 2, 3].map(signer),
      client: signer(4),
      reporter: signer(5),
      genesis: await marketGenesis(reader),
      increaseTime: async (seconds) => {
        await testClient.increaseTime({ seconds: Number(seconds) });
        await testClient.mine({ blocks: 1 });
      },
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** Jumps to `offset` seconds into `period` (evm_increaseTime + one mined block, no market tx). */
export async function gotoPeriod(f: Fixture, period: bigint, offset = 60n): Promise<void> {
  const target = f.genesis + period * BigInt(f.config.periodSeconds) + offset;
  const now = (await f.reader.publicClient.getBlock()).timestamp;
  if (target > now) await f.increaseTime(target - now);
}

export const period = (f: Fixture) => currentPeriod(f.reader);

export async function registerHost(f: Fixture, host: ChainSigner, stake: bigint): Promise<void> {
  await transferToken(f.deployer, host.account, stake);
  const permit = await signPermit(host, stake, 2n ** 40n);
  await register(host, {
    peerId: new TextEncoder().encode(`peer-${host.account}`),
    pricePerBytePeriod: 1n,
    stake,
    permit,
  });
}

/** A shard held by a test host: its bytes and codec tree (1 KiB leaves). */
export interface Shard {
  data: Uint8Array;
  tree: MerkleTree;
  rootHex: string;
}

export function makeShard(seed: number, length: number): Shard {
  const data = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  const tree = MerkleTree.build(data, 1024);
  return { data, tree, rootHex: bytesToHex(tree.root) };
}

/**
 * A host's shard store as `prove` sees it: the leaf (unpadded, like HostService.proveLeaf) and
 * its siblings. `broken` roots throw like a deleted shard; `corrupt` ones return a flipped byte.
 */
export class TestStore {
  readonly shards = new Map<string, Shard>();
  readonly broken = new Set<string>();
  readonly corrupt = new Set<string>();
  calls = 0;
  add(shard: Shard): void {
    this.shards.set(shard.rootHex, shard);
  }
  prove: ProveFn = async (rootHex, index) => {
    this.calls++;
    const shard = this.shards.get(rootHex);
    if (!shard || this.broken.has(rootHex)) {
      const err = new Error(`no shard ${rootHex}`);
      err.name = 'ShardNotFoundError';
      throw err;
    }
    const leaf = shard.data.slice(index * 1024, (index + 1) * 1024);
    if (this.corrupt.has(rootHex)) leaf[0]! ^= 1;
    return { leaf, proof: shard.tree.proof(index) };
  };
}

let nonce = 1n;

/** Opens one deal per shard on `host` for the fixture's client (price per deal), by permit. */
export async function openFor(
  f: Fixture,
  host: ChainSigner,
  shards: Shard[],
  duration: number,
  price: bigint,
): Promise<bigint[]> {
  const expiry = (await f.reader.publicClient.getBlock()).timestamp + 86_400n;
  const requests: DealRequest[] = [];
  for (const s of shards) {
    const quote: Quote = {
      host: host.account,
      root: toHex(s.tree.root),
      size: BigInt(s.data.length),
      leafCount: BigInt(s.tree.leafCount),
      leafSize: 1024,
      duration,
      price,
      expiry,
      nonce: nonce++,
    };
    requests.push({
      ...quote,
      repairOf: 0n,
      signature: await signQuote(host, f.client.account, quote),
    });
  }
  const total = price * BigInt(shards.length);
  await transferToken(f.deployer, f.client.account, total);
  const permit = await signPermit(f.client, total, 2n ** 40n);
  return openedDealIds(await openDeals(f.client, requests, permit));
}

/** Period `i` of a deal's share of its price, exactly as the market computes it. */
export function share(price: bigint, duration: number, i: bigint): bigint {
  const d = BigInt(duration);
  return (price * (i + 1n)) / d - (price * i) / d;
}

export async function seeded(f: Fixture, p: bigint): Promise<boolean> {
  const seed = await f.reader.publicClient.readContract({
    address: f.config.market,
    abi: storageMarketAbi,
    functionName: 'seeds',
    args: [p],
  });
  return BigInt(seed) !== 0n;
}

export const balance = (f: Fixture, a: Address) => tokenBalance(f.reader, a);

/** Collects a loop's events; `next` waits for one matching (bounded). */
export class Events<E extends { type: string }> {
  readonly all: E[] = [];
  #waiters: { pred: (e: E) => boolean; resolve: (e: E) => void }[] = [];
  push = (e: E): void => {
    this.all.push(e);
    this.#waiters = this.#waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
  };
  of<T extends E['type']>(type: T): Extract<E, { type: T }>[] {
    return this.all.filter((e) => e.type === type) as Extract<E, { type: T }>[];
  }
  /** The first event (already seen or coming) matching `pred`, within `ms`. */
  wait(pred: (e: E) => boolean, what: string, ms = 15_000): Promise<E> {
    const seen = this.all.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.#waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
}

/** Polls `check` until it returns true (bounded). */
export async function until(check: () => Promise<boolean> | boolean, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}
