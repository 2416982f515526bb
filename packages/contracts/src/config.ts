import type { Hex } from './abi.ts';

/** Where the contracts live; written by the deploy script, read by the app, relay and CLI. */
export interface CairnChainConfig {
  chainId: number;
  rpcUrl: string;
  token: Hex;
  market: Hex;
  /** Only on local chains. */
  faucet?: Hex;
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
