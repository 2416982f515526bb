// Shared test fixture: a fresh anvil with the contracts deployed, named signers (anvil's dev
// accounts as viem local accounts, so transactions are signed here as the app signs them), time
// travel.
import { MerkleTree, encodeProof } from '@cairn/codec';
import { createTestClient, http, toHex, type Address, type Hex } from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import {
  createChainReader,
  createChainSigner,
  currentPeriod,
  marketGenesis,
  register,
  signPermit,
  signQuote,
  transferToken,
  type CairnChainConfig,
  type ChainReader,
  type ChainSigner,
  type DealRequest,
  type MarketParams,
  type Quote,
} from '../src/index.ts';
import { deploy, startAnvil, TOKEN, type Anvil } from '../src/node.ts';

export { TOKEN };

/** anvil's default dev mnemonic: its accounts are funded with ETH. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

const devAccounts: HDAccount[] = [];
/** anvil's dev account `i` as a viem local account. */
export function devAccount(i: number): HDAccount {
  return (devAccounts[i] ??= mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i }));
}

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

export const POLL = { pollingInterval: 20 };

export interface Fixture {
  anvil: Anvil;
  config: CairnChainConfig;
  reader: ChainReader;
  deployer: ChainSigner;
  hosts: ChainSigner[];
  client: ChainSigner;
  reporter: ChainSigner;
  genesis: bigint;
  /** a signer for any account */
  signer(account: Parameters<typeof createChainSigner>[1]): ChainSigner;
  /** moves the chain's clock forward and mines a block */
  increaseTime(seconds: bigint): Promise<void>;
  blockTimestamp(): Promise<bigint>;
  stop(): Promise<void>;
}

export async function setup(params: Partial<MarketParams> = {}): Promise<Fixture> {
  const anvil = await startAnvil();
  try {
    const config = await deploy({
      rpcUrl: anvil.rpcUrl,
      params: { ...TEST_PARAMS, ...params },
      pollingInterval: 20,
    });
    const reader = createChainReader(config, POLL);
    const signer = (account: Parameters<typeof createChainSigner>[1]) =>
      createChainSigner(config, account, { ...POLL, reader });
    const testClient = createTestClient({ mode: 'anvil', transport: http(anvil.rpcUrl) });
    const blockTimestamp = async () => (await reader.publicClient.getBlock()).timestamp;
    return {
      anvil,
      config,
      reader,
      deployer: signer(devAccount(0)),
      hosts: [1, 2, 3].map((i) => signer(devAccount(i))),
      client: signer(devAccount(4)),
      reporter: signer(devAccount(5)),
      genesis: await marketGenesis(reader),
      signer,
      increaseTime: async (seconds) => {
        await testClient.increaseTime({ seconds: Number(seconds) });
        await testClient.mine({ blocks: 1 });
      },
      blockTimestamp,
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
  const now = await f.blockTimestamp();
  if (target > now) await f.increaseTime(target - now);
}

export function period(f: Fixture): Promise<bigint> {
  return currentPeriod(f.reader);
}

export async function fund(f: Fixture, account: Address, amount: bigint): Promise<void> {
  await transferToken(f.deployer, account, amount);
}

/** Registers a host with `stake`, depositing through a permit. */
export async function registerHost(
  f: Fixture,
  host: ChainSigner,
  stake: bigint,
  pricePerBytePeriod = 1n,
): Promise<void> {
  await fund(f, host.account, stake);
  const permit = await signPermit(host, stake, 2n ** 40n);
  await register(host, {
    peerId: new TextEncoder().encode(`peer-${host.account}`),
    pricePerBytePeriod,
    stake,
    permit,
  });
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

/** The host signs a quote for the client (default: the fixture's client). */
export async function quoteFor(
  f: Fixture,
  host: ChainSigner,
  shard: Shard,
  duration: number,
  price: bigint,
  extra: Partial<Quote> & { repairOf?: bigint; client?: Address } = {},
): Promise<DealRequest> {
  const { repairOf, client, ...overrides } = extra;
  const quote: Quote = {
    host: host.account,
    root: toHex(shard.tree.root),
    size: BigInt(shard.data.length),
    leafCount: BigInt(shard.tree.leafCount),
    leafSize: shard.leafSize,
    duration,
    price,
    expiry: (await f.blockTimestamp()) + 86_400n,
    nonce: nonce++,
    ...overrides,
  };
  const signature = await signQuote(host, client ?? f.client.account, quote);
  return { ...quote, repairOf: repairOf ?? 0n, signature };
}

export type { Hex };
