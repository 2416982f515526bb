import { defineChain, isAddress, type Address, type Chain } from 'viem';

/** Where the contracts live; written by the deploy script, read by the app, relay and CLI. */
export interface CairnChainConfig {
  chainId: number;
  rpcUrl: string;
  token: Address;
  market: Address;
  /** Only on local chains. */
  faucet?: Address;
  deployBlock: number;
  periodSeconds: number;
}

/** The market's constructor parameters (see contracts/StorageMarket.sol). */
export interface MarketParams {
  periodSeconds: number;
  maxMisses: number;
  reporterBps: number;
  collateralBps: number;
  startBps: number;
  floorBps: number;
  halfLife: number;
}

/** Production defaults: hour-long periods, three misses end a deal. */
export const DEFAULT_MARKET_PARAMS: MarketParams = {
  periodSeconds: 3600,
  maxMisses: 3,
  reporterBps: 2000,
  collateralBps: 10_000,
  startBps: 5000,
  floorBps: 500,
  halfLife: 8,
};

export const LOCAL_CHAIN_ID = 31337;

/** The local chain's RPC URL (anvil's default port): the default when nothing is configured. */
export const LOCAL_RPC_URL = 'http://127.0.0.1:8545';

/** Checks a parsed config JSON and returns it typed; throws a TypeError naming the bad field. */
export function parseChainConfig(value: unknown): CairnChainConfig {
  if (typeof value !== 'object' || value === null)
    throw new TypeError('chain config must be a JSON object');
  const v = value as Record<string, unknown>;
  const int = (k: string) => {
    if (!Number.isSafeInteger(v[k]) || (v[k] as number) < 0)
      throw new TypeError(`chain config: ${k} must be a non-negative integer`);
    return v[k] as number;
  };
  const address = (k: string) => {
    if (typeof v[k] !== 'string' || !isAddress(v[k], { strict: false }))
      throw new TypeError(`chain config: ${k} must be a 0x address`);
    return v[k] as Address;
  };
  if (typeof v.rpcUrl !== 'string' || !/^(https?|wss?):\/\//.test(v.rpcUrl))
    throw new TypeError('chain config: rpcUrl must be an http(s) or ws(s) URL');
  const config: CairnChainConfig = {
    chainId: int('chainId'),
    rpcUrl: v.rpcUrl,
    token: address('token'),
    market: address('market'),
    deployBlock: int('deployBlock'),
    periodSeconds: int('periodSeconds'),
  };
  if (v.faucet !== undefined) config.faucet = address('faucet');
  return config;
}

/** viem's chain object for a deployment (native currency: ETH, 18 decimals). */
export function cairnChain(config: Pick<CairnChainConfig, 'chainId' | 'rpcUrl'>): Chain {
  return defineChain({
    id: config.chainId,
    name: config.chainId === LOCAL_CHAIN_ID ? 'Cairn local chain' : `chain ${config.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
}
