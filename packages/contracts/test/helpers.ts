// Shared test fixture: a fresh anvil with the contracts deployed, named accounts, time travel.
import { MerkleTree, encodeProof } from '@cairn/codec';
import {
  ChainClient,
  cairnTokenAbi,
  faucetAbi,
  storageMarketAbi,
  toHex,
  type CairnChainConfig,
  type DealRequest,
  type Hex,
  type MarketParams,
  type Quote,
} from '../src/index.ts';
import { signPermit, signQuote, storageMarketAbi as marketAbi } from '../src/index.ts';
import { deploy, startAnvil, TOKEN, type Anvil } from '../src/node.ts';

export { TOKEN };

export const TEST_PARAMS: Partial<MarketParams> = {
  // Long periods: wall-clock drift during a test never crosses a boundary by accident; time
  // travel makes their length free.
  periodSeconds: 3600,
  maxMisses: 3,
  reporterBps: 2000,
  collateralBps: 10_000,
  startBps: 5000,
  floorBps: 500,
  halfLife: 8,
};

export interface Fixture {
  anvil: Anvil;
  chain: ChainClient;
  config: CairnChainConfig;
  deployer: Hex;
  hosts: Hex[];
  client: Hex;
  reporter: Hex;
  genesis: bigint;
  stop(): Promise<void>;
}

export async function setup(params: Partial<MarketParams> = {}): Promise<Fixture> {
  const anvil = await startAnvil();
  try {
    const config = await deploy({ rpcUrl: anvil.rpcUrl, params: { ...TEST_PARAMS, ...params } });
    const chain = new ChainClient({
      rpcUrl: anvil.rpcUrl,
      abis: [storageMarketAbi, cairnTokenAbi, faucetAbi],
    });
    const accounts = await chain.accounts();
    const genesis = await chain.read<bigint>(config.market, storageMarketAbi, 'genesis');
    return {
      anvil,
      chain,
      config,
      deployer: accounts[0]!,
      hosts: accounts.slice(1, 4),
      client: accounts[4]!,
      reporter: accounts[5]!,
      genesis,
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** Jumps to `offset` seconds into `period` (evm_increaseTime + one mined block). */
export async function gotoPeriod(f: Fixture, period: bigint, offset = 60n): Promise<void> {
  const target = f.genesis + period * BigInt(f.config.periodSeconds) + offset;
  const now = await f.chain.blockTimestamp();
  if (target > now) await f.chain.increaseTime(target - now);
}

export async function period(f: Fixture): Promise<bigint> {
  return f.chain.read(f.config.market, marketAbi, 'currentPeriod');
}

export async function fund(f: Fixture, account: Hex, amount: bigint): Promise<void> {
  await f.chain.write(f.deployer, f.config.token, cairnTokenAbi, 'transfer', [account, amount]);
}

/** Registers a host with `stake`, depositing through a permit. */
export async function registerHost(
  f: Fixture,
  host: Hex,
  stake: bigint,
  pricePerBytePeriod = 1n,
): Promise<void> {
  await fund(f, host, stake);
  const permit = await signPermit(f.chain, f.config, host, stake, 2n ** 40n);
  await f.chain.write(host, f.config.market, storageMarketAbi, 'register', [
    toHex(new TextEncoder().encode(`peer-${host}`)),
    pricePerBytePeriod,
    stake,
    permit,
  ]);
}

/** Deterministic shard bytes. */
export function shardBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export interface Shard {
  data: Uint8Array;
  tree: MerkleTree;
  leafSize: number;
}

export function makeShard(seed: number, length: number, leafSize = 256): Shard {
  const data = shardBytes(seed, length);
  return { data, tree: MerkleTree.build(data, leafSize), leafSize };
}

/** The leaf (zero-padded) and its proof in calldata form. */
export function proofOf(shard: Shard, index: number): { leaf: Uint8Array; proof: Uint8Array } {
  const leaf = new Uint8Array(shard.leafSize);
  leaf.set(shard.data.subarray(index * shard.leafSize, (index + 1) * shard.leafSize));
  return { leaf, proof: encodeProof(shard.tree.proof(index)) };
}

let nonce = 1n;

export async function quoteFor(
  f: Fixture,
  host: Hex,
  shard: Shard,
  duration: number,
  price: bigint,
  extra: Partial<Quote> & { repairOf?: bigint; client?: Hex } = {},
): Promise<DealRequest> {
  const quote: Quote = {
    host,
    root: toHex(shard.tree.root),
    size: BigInt(shard.data.length),
    leafCount: BigInt(shard.tree.leafCount),
    leafSize: shard.leafSize,
    duration,
    price,
    expiry: (await f.chain.blockTimestamp()) + 86_400n,
    nonce: nonce++,
    ...extra,
  };
  const signature = await signQuote(f.chain, f.config, extra.client ?? f.client, quote);
  return { ...quote, repairOf: extra.repairOf ?? 0n, signature };
}
