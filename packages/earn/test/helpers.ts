// Test fixture for the earning loops: deals opened by a client with quotes the hosts signed, and
// shards whose proofs come from codec Merkle trees, on the contracts package's chain fixture.
import { MerkleTree, toHex as bytesToHex } from '@cairn/codec';
import {
  openDeals,
  openedDealIds,
  signPermit,
  signQuote,
  storageMarketAbi,
  tokenBalance,
  transferToken,
  type ChainSigner,
  type DealRequest,
  type Quote,
} from '@cairn/contracts';
import { toHex, type Address } from 'viem';
import type { ProveFn } from '../src/index.ts';
import { shardBytes, type Fixture } from '../../contracts/test/helpers.ts';

// The chain fixture is the contracts package's own (anvil, deployment, dev-account signers, time
// travel); this file adds what the earning loops need on top.
export {
  POLL,
  TOKEN,
  gotoPeriod,
  period,
  registerHost,
  setup,
  type Fixture,
} from '../../contracts/test/helpers.ts';

/** Fast polling for the daemons in tests. */
export const FAST = {
  pollIntervalMs: 40,
  retry: { attempts: 3, baseDelayMs: 50, timeoutMs: 5000 },
};

/** A shard held by a test host: its bytes and codec tree (1 KiB leaves). */
export interface Shard {
  data: Uint8Array;
  tree: MerkleTree;
  rootHex: string;
}

export function makeShard(seed: number, length: number): Shard {
  const data = shardBytes(seed, length);
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
