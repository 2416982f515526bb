// Actions on the token and the storage market, one function per contract call. Each takes the
// client, the deployment's config and, for writes, the sending account.
import type { Hex } from './abi.ts';
import type { ChainClient, Receipt } from './client.ts';
import type { CairnChainConfig } from './config.ts';
import { WrongChainError } from './errors.ts';
import { cairnTokenAbi, faucetAbi, storageMarketAbi } from './generated/abis.ts';
import {
  NO_PERMIT,
  permitArg,
  permitTypedData,
  quoteTypedData,
  type DealRequest,
  type PermitArg,
  type Quote,
} from './typed-data.ts';

type Config = Pick<CairnChainConfig, 'chainId' | 'token' | 'market'> & Partial<CairnChainConfig>;

export interface Deal {
  client: Hex;
  start: bigint;
  duration: bigint;
  host: Hex;
  settled: bigint;
  misses: bigint;
  status: bigint;
  root: Hex;
  size: bigint;
  leafCount: bigint;
  leafSize: bigint;
  successes: bigint;
  lastProof: bigint;
  price: bigint;
  collateral: bigint;
  escrow: bigint;
  earned: bigint;
}

export interface HostRecord {
  stake: bigint;
  locked: bigint;
  pricePerBytePeriod: bigint;
  activeDeals: bigint;
  registered: boolean;
  peerId: Hex;
}

export interface Challenge {
  seeded: boolean;
  challenged: boolean;
  leafIndex: bigint;
  probabilityBps: bigint;
}

/** Deal status values of `Deal.status`. */
export const DealStatus = {
  None: 0n,
  Active: 1n,
  Completed: 2n,
  Ended: 3n,
  Failed: 4n,
  Repaired: 5n,
} as const;

export async function assertChain(chain: ChainClient, config: Config): Promise<void> {
  const actual = await chain.chainId();
  if (actual !== config.chainId) throw new WrongChainError(config.chainId, actual);
}

export function tokenBalance(chain: ChainClient, config: Config, account: Hex): Promise<bigint> {
  return chain.read(config.token, cairnTokenAbi, 'balanceOf', [account]);
}

export function drip(
  chain: ChainClient,
  config: Config,
  from: Hex,
  to: Hex = from,
): Promise<Receipt> {
  if (!config.faucet) throw new TypeError('this deployment has no faucet');
  return chain.write(from, config.faucet, faucetAbi, 'drip', [to]);
}

/** Signs an EIP-2612 permit letting the market pull `value` from `owner`. */
export async function signPermit(
  chain: ChainClient,
  config: Config,
  owner: Hex,
  value: bigint,
  deadline: bigint,
): Promise<PermitArg> {
  const nonce = await chain.read<bigint>(config.token, cairnTokenAbi, 'nonces', [owner]);
  const sig = await chain.signTypedData(
    owner,
    permitTypedData(config.chainId, config.token, {
      owner,
      spender: config.market,
      value,
      nonce,
      deadline,
    }),
  );
  return permitArg(value, deadline, sig);
}

/** The host signs a quote for `client` (EIP-712); the client presents it to `openDeals`. */
export async function signQuote(
  chain: ChainClient,
  config: Config,
  client: Hex,
  quote: Quote,
): Promise<Hex> {
  return chain.signTypedData(
    quote.host,
    quoteTypedData(config.chainId, config.market, client, quote),
  );
}

export function register(
  chain: ChainClient,
  config: Config,
  host: Hex,
  args: { peerId: Hex; pricePerBytePeriod: bigint; stake: bigint; permit?: PermitArg },
): Promise<Receipt> {
  return chain.write(host, config.market, storageMarketAbi, 'register', [
    args.peerId,
    args.pricePerBytePeriod,
    args.stake,
    args.permit ?? NO_PERMIT,
  ]);
}

export function openDeals(
  chain: ChainClient,
  config: Config,
  client: Hex,
  requests: readonly DealRequest[],
  permit: PermitArg = NO_PERMIT,
): Promise<Receipt> {
  return chain.write(client, config.market, storageMarketAbi, 'openDeals', [requests, permit]);
}

export function submitProof(
  chain: ChainClient,
  config: Config,
  host: Hex,
  dealId: bigint,
  leaf: Hex | Uint8Array,
  proof: Hex | Uint8Array,
): Promise<Receipt> {
  return chain.write(host, config.market, storageMarketAbi, 'submitProof', [dealId, leaf, proof]);
}

export async function challengeFor(
  chain: ChainClient,
  config: Config,
  dealId: bigint,
  period: bigint,
): Promise<Challenge> {
  const [seeded, challenged, leafIndex, probabilityBps] = await chain.read<
    [boolean, boolean, bigint, bigint]
  >(config.market, storageMarketAbi, 'challengeFor', [dealId, period]);
  return { seeded, challenged, leafIndex, probabilityBps };
}

export function getDeal(chain: ChainClient, config: Config, dealId: bigint): Promise<Deal> {
  return chain.read(config.market, storageMarketAbi, 'getDeal', [dealId]);
}

export function getHost(chain: ChainClient, config: Config, host: Hex): Promise<HostRecord> {
  return chain.read(config.market, storageMarketAbi, 'getHost', [host]);
}

export function currentPeriod(chain: ChainClient, config: Config): Promise<bigint> {
  return chain.read(config.market, storageMarketAbi, 'currentPeriod');
}

export function poke(chain: ChainClient, config: Config, from: Hex): Promise<Receipt> {
  return chain.write(from, config.market, storageMarketAbi, 'poke');
}

export function claim(
  chain: ChainClient,
  config: Config,
  host: Hex,
  dealIds: readonly bigint[],
): Promise<Receipt> {
  return chain.write(host, config.market, storageMarketAbi, 'claim', [dealIds]);
}

export function withdraw(chain: ChainClient, config: Config, account: Hex): Promise<Receipt> {
  return chain.write(account, config.market, storageMarketAbi, 'withdraw');
}

export function reportMiss(
  chain: ChainClient,
  config: Config,
  reporter: Hex,
  dealId: bigint,
  period: bigint,
): Promise<Receipt> {
  return chain.write(reporter, config.market, storageMarketAbi, 'reportMiss', [dealId, period]);
}

export function endDeal(
  chain: ChainClient,
  config: Config,
  client: Hex,
  dealId: bigint,
): Promise<Receipt> {
  return chain.write(client, config.market, storageMarketAbi, 'endDeal', [dealId]);
}

export function abandonDeal(
  chain: ChainClient,
  config: Config,
  host: Hex,
  dealId: bigint,
): Promise<Receipt> {
  return chain.write(host, config.market, storageMarketAbi, 'abandonDeal', [dealId]);
}
